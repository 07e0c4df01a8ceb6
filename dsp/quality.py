"""What the quality windows say of a channel's signal as a whole: whether it is rectified.

A surface-EMG sensor may give its signal raw, full-wave rectified or as an envelope (MyoWare 2.0 has
RAW, RECT and ENV outputs). Raw EMG swings to both sides of its baseline: its noise is symmetric,
so within a quarter of a second the signal reaches about as far below its mean as above it, and
the floor ratio of a quality window ((mean - min) / (max - mean) per 0.25-s block, median over its
quiet blocks, those without a potential, a QRS or a movement: :func:`dsp._quality_numba.floor_ratio`)
is about 1. A rectified signal has a hard floor
at its baseline and half-normal noise above it: the ratio falls to about 0.3 (0.4 at 500 Hz,
where a block holds fewer samples and its maximum is lower). Rectification
doubles the phases of every potential, so its shapes would be misread (polyphasic) and its sizes
measured on a different waveform; such a channel is not analysed as EMG.

Measured medians (blocks of 0.25 s, whole recordings): raw 0.79-2.8 on six public recordings
(needle records of PhysioNet's EMG database at 4 kHz, BioSPPy's surface examples, a surface
synergy recording) and 1.0-1.2 on the accuracy benchmark's scenes (hum, a 200-µV ECG, 300-µV
drift, movement, cramps); the same signals high-passed at 20 Hz and rectified 0.04-0.54 (0.45
with a 50-Hz hum, 0.54 during a strong contraction). A rectified signal whose hum dominates its
noise can read above the limit: the test misses it rather than refuse a raw signal. Over all its
blocks, raw EMG with an upright QRS at 120 beats a minute would read 0.4-0.55 (a QRS in most
blocks); over its quiet blocks it reads 1.0 up to 150 beats a minute.

A converter's steps: a block spanning fewer than four steps says nothing (its few levels read
one-sided or not by where they fall: raw noise of a fifth of a step read 0.3). Raw noise of
0.5-10 steps reads 0.96-1.03 at any offset; rectified noise of one step or more reads 0.08-0.45,
and finer than that gives no verdict (the channel is analysed as it is).
"""

from __future__ import annotations

import numpy as np

#: A channel whose windows' median floor ratio is below this is rectified (module docstring).
RECTIFIED_FLOOR_RATIO = 0.6
#: Fewest windows with a floor ratio before a channel can be called rectified.
MIN_FLOOR_WINDOWS = 3
#: Smallest share of a channel's windows with a floor ratio (the others quantised, lost or flat).
MIN_FLOOR_SHARE = 0.5


def channel_floor_ratio(quality: np.ndarray, channel: int) -> float:
    """Median floor ratio of a channel's quality windows (``dsp.types.QUALITY_DTYPE`` rows);
    NaN when fewer than ``MIN_FLOOR_WINDOWS`` windows, or under ``MIN_FLOOR_SHARE`` of them,
    have one.

    Examples
    --------
    >>> from dsp.types import QUALITY_DTYPE
    >>> q = np.zeros(4, QUALITY_DTYPE)
    >>> q["floor_ratio"] = [0.3, 0.35, np.nan, 0.28]
    >>> float(channel_floor_ratio(q, 0))
    0.3
    """
    ratios = quality["floor_ratio"][quality["channel"] == channel]
    measured = ratios[np.isfinite(ratios)]
    if measured.size < max(MIN_FLOOR_WINDOWS, MIN_FLOOR_SHARE * ratios.size):
        return float("nan")
    return float(np.median(measured))


def is_rectified(floor_ratio: float) -> bool:
    """Whether a channel's floor ratio (:func:`channel_floor_ratio`) says its signal is
    rectified; False when it is NaN (nothing to tell).

    Examples
    --------
    >>> is_rectified(0.3), is_rectified(1.0), is_rectified(float("nan"))
    (True, False, False)
    """
    return bool(floor_ratio < RECTIFIED_FLOOR_RATIO)
