"""The result of a night: the final classification of what the chain returned, and its summary.

:class:`NightSnapshot` holds what a result will cover (the chain outputs, the timeline length, the
gaps, the settings); calling it leaves out the channels without signal, classifies the night
(:func:`classifier.night.classify_night`), and builds the summary with the assessment
(:func:`calfwatch.summary_doc.build_summary`). It reads only what it holds, so it may run on
another thread while the engine streams on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC
from typing import TYPE_CHECKING, Any

import numpy as np

from acquisition.errors import RecordingError
from acquisition.stream import StreamInfo
from classifier.noise import FLAT_FLOOR_UV
from dsp.output import ChainOutput, concat_outputs
from dsp.quality import channel_floor_ratio, is_rectified

if TYPE_CHECKING:
    from classifier.config import ClassifierConfig
    from classifier.night import ClassifiedNight

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


class NoRawEmgError(RecordingError):
    """No channel of a recording carries raw EMG (each is flat, missing, rectified or without the
    detection band, :data:`NO_CHANNEL_LEFT`): analysing the file again would say the same."""


#: One output row (see :mod:`calfwatch.outputs`).
EventRow = dict[str, Any]


@dataclass
class NightResult:
    """What the engine found over a night.

    Attributes
    ----------
    info : StreamInfo
        The stream analysed.
    events : list of dict
        Output rows (see :mod:`calfwatch.outputs`), sorted by onset then channel.
    summary : dict
        The summary document written to summary.json.
    classified : classifier.night.ClassifiedNight
        The night's classified events, rest, rates and persistence.
    n_samples : int
        Samples per channel on the timeline.
    unusable_channels : list of str
        Channels left out (see ``unusable_reasons``).
    unusable_reasons : dict of str to str
        Why each was left out: ``NO_SIGNAL``, ``RECTIFIED`` or ``NO_BAND``.
    """

    info: StreamInfo
    events: list[EventRow]
    summary: dict[str, Any]
    classified: ClassifiedNight
    n_samples: int
    unusable_channels: list[str] = field(default_factory=list)
    unusable_reasons: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class NightSnapshot:
    """What a night result covers; call it to classify, summarise and assess.

    Attributes
    ----------
    outputs : list of ChainOutput
        The chain outputs, in timeline order.
    n_samples : int
        Samples per channel on the timeline covered.
    gaps : list of (int, int, int)
        Lost stretches ``(-1, start, stop)`` (samples).
    info : StreamInfo
        The stream analysed.
    config : ClassifierConfig
        Classifier configuration.
    chain_settings : dict
        The detection chain's settings and its mains frequency, for the summary.
    label : str
        Names the source in error messages.
    """

    outputs: list[ChainOutput]
    n_samples: int
    gaps: list[tuple[int, int, int]]
    info: StreamInfo
    config: ClassifierConfig
    chain_settings: dict[str, Any]
    label: str

    def __call__(
        self,
        *,
        history_nights: Iterable[Any] = (),
        symptoms: Iterable[str] = (),
        meta: dict[str, Any] | None = None,
    ) -> NightResult:
        """Classify the night, summarise it and assess it with the wearer's history.

        Raises
        ------
        NoRawEmgError
            No channel carries raw EMG (each is flat, missing, rectified or without the band).
        """
        from calfwatch.summary_doc import build_summary
        from classifier.night import classify_night
        from classifier.night_data import NightData

        whole, names, unusable = self._usable_output()
        start = self.info.meas_date
        meta = {"meas_date": None if start is None else start.astimezone(UTC).isoformat(),
                **(meta or {})}
        sfreq_hz = self.info.sfreq_hz
        night = NightData.from_chain_output(whole, sfreq_hz, names, self.n_samples, self.gaps,
                                            meta)
        classified = classify_night(night, self.config)
        summary = build_summary(
            classified, night, info=self.info, config=self.config,
            chain_settings=self.chain_settings, unusable=unusable,
            history_nights=history_nights, symptoms=symptoms)
        events = event_rows(classified.events, names, sfreq_hz)
        return NightResult(self.info, events, summary, classified, self.n_samples,
                           list(unusable), unusable)

    def _usable_output(self) -> tuple[ChainOutput, list[str], dict[str, str]]:
        """The outputs joined and cut to the channels with raw EMG, their names, and why each
        of the others was left out."""
        outs, ch_names = self.outputs, self.info.ch_names
        whole = outs[0] if len(outs) == 1 else concat_outputs(outs, self.info.n_channels)
        keep, unusable = usable_channels(whole, ch_names)
        if not keep:
            reasons = set(unusable.values())
            reason = next((r for r in (RECTIFIED, NO_BAND) if r in reasons), NO_SIGNAL)
            raise NoRawEmgError(self.label,
                                NO_CHANNEL_LEFT[reason].format(channels=", ".join(ch_names)))
        return select_channels(whole, keep), [ch_names[i] for i in keep], unusable


def event_rows(events: np.ndarray, ch_names: list[str], sfreq_hz: float) -> list[EventRow]:
    """Classifier events (``EVENT_DTYPE``) as output rows for :mod:`calfwatch.outputs`.

    Examples
    --------
    >>> from classifier.events import EVENT_DTYPE
    >>> event_rows(np.zeros(0, EVENT_DTYPE), ["EMG L"], 2000.0)
    []
    """
    rows = []
    for e in events:
        detail = str(e["detail"])
        if e["doublet"] and "doublet" not in detail:
            detail = f"doublet {detail}".strip()
        rows.append({
            "onset_s": float(e["onset_s"]),
            "duration_s": float(e["duration_s"]),
            "kind": str(e["kind"]),
            "channel": ch_names[int(e["channel"])],
            "peak_to_peak_uv": float(e["peak_to_peak_uv"]),
            "phases": int(e["phases"]),
            "sample": int(round(float(e["onset_s"]) * sfreq_hz)),
            "detail": detail,
        })
    return rows


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
