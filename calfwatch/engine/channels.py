"""Which channels of a night carry raw EMG, and the chain output restricted to them.

A channel is left out when it carries no signal (flat or lost throughout), a rectified signal
(:mod:`dsp.quality`), or nothing in the detection band (an envelope output, or a signal low-passed
before it came): :func:`usable_channels`. The reasons are named by :data:`NO_SIGNAL`,
:data:`RECTIFIED` and :data:`NO_BAND`, which the summary and the BIDS export state.
"""

from __future__ import annotations

import numpy as np

from classifier.noise import FLAT_FLOOR_UV
from dsp.output import ChainOutput
from dsp.quality import channel_floor_ratio, is_rectified

#: A channel whose windows are all at least this flat or lost carries no signal.
UNUSABLE_FRACTION = 0.99
#: Why a channel was left out (:func:`usable_channels`): no signal at all (flat or lost
#: throughout); a rectified signal (:mod:`dsp.quality`); nothing in the detection band (its
#: median noise there, over the windows neither flat nor lost, below any sensor's,
#: :data:`NO_SENSOR_NOISE_UV`: an envelope output, or a signal low-passed before it came).
NO_SIGNAL, RECTIFIED, NO_BAND = "no-signal", "rectified", "no-emg-band"
#: Noise in the 20-450 Hz band (µV RMS, median over a channel's windows) below that of any
#: electrodes on skin. The thermal (Johnson-Nyquist) noise of the electrode-skin impedance alone,
#: sqrt(4 k T R B), is 0.1 µV for R = 1.4 kΩ over B = 430 Hz at 310 K (0.19 µV for 5 kΩ), and a
#: skin contact is several kΩ or more in this band. A sensor's envelope output written to a file
#: with a converter step s reads s / 2 here (the noise floor's lower bound,
#: :mod:`dsp._stage_noise`): 0.076 µV in a 16-bit EDF over +-5 mV, where it had been taken for
#: raw EMG; the quietest raw scene of the benchmarks reads 1.5 µV. Steps over 0.2 µV (16 bits
#: over more than +-6.5 mV) leave such an envelope undetected. Calfwatch choice; at least
#: :data:`classifier.noise.FLAT_FLOOR_UV` (no sensor's noise, as a flat stretch reads).
NO_SENSOR_NOISE_UV = max(0.1, FLAT_FLOOR_UV)
#: The error when no channel is left: for a rectified channel if any, else for one without the
#: band if any, else for no signal.
NO_CHANNEL_LEFT = {
    NO_SIGNAL: "no usable signal: every channel is flat or missing ({channels})",
    RECTIFIED: "the signal is rectified, not raw EMG ({channels}): it never goes below its "
               "baseline; record the sensor's raw output (RAW on a MyoWare 2.0, not RECT or ENV)",
    NO_BAND: "no EMG in the 20-450 Hz band ({channels}), though the signal moves: it looks like "
             "an envelope (ENV) or a low-passed output; record the sensor's raw output (RAW on a "
             "MyoWare 2.0)",
}


def usable_channels(out: ChainOutput,
                    ch_names: list[str]) -> tuple[list[int], dict[str, str]]:
    """Channels with raw EMG somewhere, and why each of the others is left out (``NO_SIGNAL``,
    ``RECTIFIED`` or ``NO_BAND``, by name)."""
    left_out = left_out_channels(out.quality, len(ch_names))
    keep = [ch for ch in range(len(ch_names)) if ch not in left_out]
    return keep, {ch_names[ch]: reason for ch, reason in left_out.items()}


def left_out_channels(quality: np.ndarray, n_channels: int) -> dict[int, str]:
    """Why each channel the quality rows (``dsp.types.QUALITY_DTYPE``) say carries no raw EMG
    is left out, by channel index.

    Examples
    --------
    >>> from dsp.types import QUALITY_DTYPE
    >>> q = np.zeros(6, QUALITY_DTYPE)
    >>> q["channel"] = [0, 0, 0, 1, 1, 1]
    >>> q["noise_rms_uv"] = 4.0
    >>> q["floor_ratio"] = [1.0, 0.9, 1.1, 0.3, 0.35, 0.3]
    >>> left_out_channels(q, 2)
    {1: 'rectified'}
    """
    reasons = {}
    for ch in range(n_channels):
        reason = _left_out_for(quality[quality["channel"] == ch], ch)
        if reason is not None:
            reasons[ch] = reason
    return reasons


def _left_out_for(rows: np.ndarray, ch: int) -> str | None:
    """Why channel ``ch`` (its quality ``rows``) carries no raw EMG; None when it does."""
    if not len(rows):
        return None
    bad = np.maximum(np.nan_to_num(rows["flat_fraction"], nan=1.0),
                     np.nan_to_num(rows["nan_fraction"], nan=1.0))
    if np.all(bad >= UNUSABLE_FRACTION):
        return NO_SIGNAL
    if is_rectified(channel_floor_ratio(rows, ch)):
        return RECTIFIED
    noise_uv = rows["noise_rms_uv"][(bad < UNUSABLE_FRACTION) & np.isfinite(rows["noise_rms_uv"])]
    if noise_uv.size and np.median(noise_uv) < NO_SENSOR_NOISE_UV:
        return NO_BAND
    return None


def select_channels(out: ChainOutput, keep: list[int]) -> ChainOutput:
    """The chain output restricted to channels ``keep``, renumbered 0..len(keep)-1."""
    n_all = out.envelope_uv.shape[0]
    if keep == list(range(n_all)):
        return out
    new_index = np.full(n_all, -1, np.int32)
    new_index[keep] = np.arange(len(keep), dtype=np.int32)
    rows = np.isin(out.candidates["channel"], keep)
    cand = out.candidates[rows].copy()
    cand["channel"] = new_index[cand["channel"]]
    qrows = np.isin(out.quality["channel"], keep)
    quality = out.quality[qrows].copy()
    quality["channel"] = new_index[quality["channel"]]
    return ChainOutput(
        cand, out.features[rows], out.snippets[rows], out.envelope_uv[keep],
        out.envelope_start_frame, out.noise_uv[keep], quality,
    )
