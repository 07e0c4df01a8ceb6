"""The channel's resting noise: the noise RMS behind the stated detection floor.

The floor is ``detectable_ptp_k`` x the noise RMS of the band-passed signal (on a channel the
heartbeat reaches, at least ``cardiac_floor_k`` x: :func:`channel_floor_k`). Measured on windows
that twitching falls into, the noise reads high, and the more so the more the calf twitches: the
median over 10-s windows of the chain's 0.5-s MAD blocks read 7-25 % high at 80-120 independent
potentials per minute at 500 Hz-1 kHz (94 % at 2 kHz and 120 per minute), which raised the floor
and undercounted exactly when twitching was heavy. The potentials themselves and what the filters do
after them are what raises it:

- each candidate's own samples, from ``noise_guard_s`` before its onset;
- the band-pass's response after it, ``noise_tail_s`` (the 20-Hz high-pass rings for about two of
  its periods);
- the mains notch's ringing, a few % of the potential's size decaying with the notch's time
  constant Q / (pi f0) = 0.38 s (Q 60 at 50 Hz): the ringing is below ``noise_ring_level_k`` x the
  local noise after ``noise_ring_s`` x ln(``noise_ring_fraction`` x size / local noise /
  ``noise_ring_level_k``).

The resting noise is the RMS of the 50-ms envelope frames clear of all of those (and finite),
less the frames above ``[events] active_off_k`` x their median: activity without candidates of its
own, such as the fading end of a cramp, is not rest (an AASM burst lasts until the RMS falls below
that multiple of rest; a 50-ms frame of Gaussian noise exceeds 1.6 x the median RMS with a chance
of 3e-4 at 500 Hz, about 20 degrees of freedom, and under 1e-6 from 1 kHz).

Measured on independent scenes (``tests/independent_scenes.py``, coloured Gaussian noise, random
band-limited potentials of 15-2000 µV, 3 min, 2 seeds) against the background's own RMS in
20-450 Hz:

======================  ========  =========  =========  ==========
rate (per min)              0         20         80        120
======================  ========  =========  =========  ==========
window median, 500 Hz     0.995     1.021      1.068      1.225
window median, 1 kHz      0.996     1.007      1.124      1.253
window median, 2 kHz      1.014     1.030      1.089      1.937
resting noise, 500 Hz     0.993     0.995      1.005      1.004
resting noise, 1 kHz      0.992     0.993      0.998      1.002
resting noise, 2 kHz      1.011     1.013      1.013      1.023
======================  ========  =========  =========  ==========

With fewer than ``noise_min_quiet_s`` of such frames (a short or very busy recording) the noise
falls back to the median of the chain's quality windows, the figure it was before.

The noise around a potential (:func:`local_noise_uv`) is the same measurement over seconds: the
median RMS of the quiet frames within ``local_noise_s``, for a sensor whose noise changes over the
night faster than the chain's floor follows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from classifier._rows import row_nanmedian
from classifier.config import ClassifierConfig, DetectionRules
from classifier.potentials import median_noise_uv

if TYPE_CHECKING:
    from classifier.night_data import NightData


def channel_floor_k(rules: DetectionRules, heartbeats: int) -> float:
    """The multiple of a channel's noise its fasciculations are counted from: ``detectable_ptp_k``,
    or the higher of it and ``cardiac_floor_k`` on a channel with ``heartbeats`` (a QRS the
    band-pass leaves near the floor is told apart only where enough of its beats are found).

    Parameters
    ----------
    rules : DetectionRules
    heartbeats : int
        The heartbeats found on the channel (:func:`classifier.cardiac.heartbeat_mask`).

    Returns
    -------
    float

    Examples
    --------
    >>> from classifier.config import default_config
    >>> rules = default_config().detection
    >>> channel_floor_k(rules, 0) == rules.detectable_ptp_k
    True
    >>> channel_floor_k(rules, 40) == max(rules.detectable_ptp_k, rules.cardiac_floor_k)
    True
    """
    if heartbeats > 0:
        return float(max(rules.detectable_ptp_k, rules.cardiac_floor_k))
    return float(rules.detectable_ptp_k)


#: A noise floor below this (µV) is no sensor's: the quietest amplifiers and electrodes give tenths
#: of a µV in 20-450 Hz, and a flat stretch (a lead off, a rail, zeros sent for lost data), and the
#: chain's rolling floor still full of one, 1e-5 to 1e-3 or exactly 0 (calfwatch choice, a tenth
#: of the quietest sensor's noise).
FLAT_FLOOR_UV = 0.05


def flat_frames(noise_uv: np.ndarray) -> np.ndarray:
    """Which frames of a noise floor (the chain's, per envelope frame, µV) are flat: below
    ``FLAT_FLOOR_UV``, no sensor's noise. They carry no resting noise; NaN frames are not flat.

    Examples
    --------
    >>> flat_frames(np.array([0.0, 1e-5, 0.3, 4.0, np.nan])).tolist()
    [True, True, False, False, False]
    """
    with np.errstate(invalid="ignore"):
        return noise_uv < FLAT_FLOOR_UV


def unmeasured_frames(noise_uv: np.ndarray, unmeasured_k: float) -> np.ndarray:
    """Which frames of one channel's noise floor (the chain's, per envelope frame) the chain could
    not measure: NaN, flat (:func:`flat_frames`), or below ``unmeasured_k`` x the channel's median
    floor (a floor read far below the channel's usual one).
    The flat bound holds where a flat stretch takes half the night or more and the median with it.

    Parameters
    ----------
    noise_uv : ndarray, shape (n_frames,)
        The chain's noise floor (µV).
    unmeasured_k : float
        ``[rest] unmeasured_k``; 0 takes only NaN frames.

    Returns
    -------
    ndarray of bool, shape (n_frames,)

    Examples
    --------
    >>> floor = np.concatenate([np.zeros(300), np.full(700, 4.0), [0.5, np.nan]])
    >>> bad = unmeasured_frames(floor, 0.25)
    >>> int(bad[:300].sum()), int(bad[300:1000].sum()), bool(bad[-2]), bool(bad[-1])
    (300, 0, True, True)
    """
    bad = ~np.isfinite(noise_uv)
    if unmeasured_k > 0 and not bad.all():
        with np.errstate(invalid="ignore"):
            bad |= flat_frames(noise_uv) | (noise_uv < unmeasured_k * np.nanmedian(noise_uv))
    return bad


def quiet_frames(night: NightData, ch: int, rules: DetectionRules) -> np.ndarray:
    """Which envelope frames of channel ``ch`` no candidate, nor the filters' response to it,
    reaches (see the module docstring); NaN frames are not quiet.

    Parameters
    ----------
    night : NightData
    ch : int
        Channel index.
    rules : DetectionRules
        ``noise_guard_s``, ``noise_tail_s``, ``noise_ring_s``, ``noise_ring_fraction`` and
        ``noise_ring_level_k``.

    Returns
    -------
    ndarray of bool, shape (n_frames,)
    """
    env = night.envelope_uv[ch]
    n = len(env)
    cand = night.candidates[night.candidates["channel"] == ch]
    hop_s, sf = night.hop_s, night.sfreq_hz
    size_k = cand["ptp_uv"] / np.maximum(cand["noise_uv"], 1e-12)
    ring_s = rules.noise_ring_s * np.log(np.maximum(
        rules.noise_ring_fraction * size_k / rules.noise_ring_level_k, 1.0))
    after_s = np.maximum(rules.noise_tail_s, ring_s)
    first = np.floor((cand["onset"] / sf - rules.noise_guard_s) / hop_s).astype(np.int64)
    last = np.ceil((cand["offset"] / sf + after_s) / hop_s).astype(np.int64)
    first = np.clip(first - night.envelope_start_frame, 0, n)
    last = np.clip(last - night.envelope_start_frame, 0, n)
    cover = np.zeros(n + 1, np.int64)
    np.add.at(cover, first, 1)
    np.add.at(cover, last, -1)
    return (np.cumsum(cover)[:n] == 0) & np.isfinite(env)


def resting_noise_uv(night: NightData, ch: int, config: ClassifierConfig) -> float | None:
    """The channel's resting noise RMS (µV): the RMS of its quiet envelope frames
    (:func:`quiet_frames`) at rest level, or the median of its quality windows' noise when fewer
    than ``noise_min_quiet_s`` of frames are; None without either.

    Parameters
    ----------
    night : NightData
    ch : int
        Channel index.
    config : ClassifierConfig
        ``detection`` (see :func:`quiet_frames`) and ``events.active_off_k``. Flat frames
        (:func:`flat_frames`) are not quiet: they carry no sensor noise.

    Returns
    -------
    float or None

    Examples
    --------
    >>> import numpy as np
    >>> from classifier.config import default_config
    >>> from classifier.night_data import NightData
    >>> from dsp.types import CANDIDATE_DTYPE, FEATURE_DTYPE, QUALITY_DTYPE, SNIPPET_LEN
    >>> env = np.full((1, 1200), 4.0)  # 60 s of 50-ms frames at 4 µV RMS
    >>> env[0, 100:110] = 40.0  # a potential's frames, and its candidate
    >>> cand = np.zeros(1, CANDIDATE_DTYPE)
    >>> cand[["onset", "offset", "ptp_uv", "noise_uv"]] = (5000, 5400, 400.0, 4.0)
    >>> night = NightData(cand, np.zeros(1, FEATURE_DTYPE), np.zeros((1, SNIPPET_LEN), "f4"),
    ...                   env, env.copy(), 0, np.zeros(0, QUALITY_DTYPE), 1000.0, ["calf"],
    ...                   60000)
    >>> round(resting_noise_uv(night, 0, default_config()), 3)
    4.0
    """
    rules = config.detection
    env = night.envelope_uv[ch] if len(night.envelope_uv) > ch else np.zeros(0)
    quiet = (env[quiet_frames(night, ch, rules) & ~flat_frames(night.noise_uv[ch])] if len(env)
             else np.zeros(0))
    if len(quiet):
        quiet = quiet[quiet <= config.events.active_off_k * np.median(quiet)]
    if len(quiet) * night.hop_s >= rules.noise_min_quiet_s:
        return float(np.sqrt(np.mean(quiet**2)))
    return median_noise_uv(night.quality, ch)


def local_noise_uv(night: NightData, ch: int, rules: DetectionRules) -> np.ndarray:
    """The noise RMS around each envelope frame of channel ``ch`` (µV): the median RMS of the quiet
    frames (:func:`quiet_frames`) within ``local_noise_s`` of it, NaN where fewer than
    ``local_noise_min_s`` of them are.

    The median is taken per second of frames, then over the seconds of the window (a median of
    medians: robust to a minority of frames holding activity, and one sort per second, not per
    frame).

    Parameters
    ----------
    night : NightData
    ch : int
        Channel index.
    rules : DetectionRules
        ``local_noise_s``, ``local_noise_min_s`` and the settings of :func:`quiet_frames`.

    Returns
    -------
    ndarray, shape (n_frames,)

    Examples
    --------
    >>> import numpy as np
    >>> from classifier.config import default_config
    >>> from classifier.night_data import NightData
    >>> from dsp.types import CANDIDATE_DTYPE, FEATURE_DTYPE, QUALITY_DTYPE, SNIPPET_LEN
    >>> env = np.full((1, 2400), 4.0)  # 120 s of 50-ms frames: 4 µV, then 8 µV
    >>> env[0, 1200:] = 8.0
    >>> night = NightData(np.zeros(0, CANDIDATE_DTYPE), np.zeros(0, FEATURE_DTYPE),
    ...                   np.zeros((0, SNIPPET_LEN), "f4"), env, env.copy(), 0,
    ...                   np.zeros(0, QUALITY_DTYPE), 1000.0, ["calf"], 120000)
    >>> noise = local_noise_uv(night, 0, default_config().detection)
    >>> float(noise[600]), float(noise[1800])
    (4.0, 8.0)
    """
    env = night.envelope_uv[ch] if len(night.envelope_uv) > ch else np.zeros(0)
    n = len(env)
    if n == 0:
        return np.zeros(0)
    per = max(1, round(1.0 / night.hop_s))
    nb = -(-n // per)
    quiet = np.full(nb * per, np.nan)
    mask = quiet_frames(night, ch, rules)
    quiet[:n][mask] = env[mask]
    blocks = quiet.reshape(nb, per)
    count = np.sum(np.isfinite(blocks), axis=1)
    half = max(1, round(rules.local_noise_s))
    wide = np.pad(row_nanmedian(blocks), (half, half), constant_values=np.nan)
    local = row_nanmedian(np.lib.stride_tricks.sliding_window_view(wide, 2 * half + 1))
    frames = np.convolve(np.pad(count, (half, half)), np.ones(2 * half + 1), "valid")
    local[frames * night.hop_s < rules.local_noise_min_s] = np.nan
    return np.repeat(local, per)[:n]

