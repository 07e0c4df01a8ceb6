"""Features of candidate potentials measured on the filtered waveform.

Per candidate: peak-to-peak (µV), duration, phases (sign changes beyond a dead band, plus one),
turns (slope reversals larger than the dead band), area (integral of |x|, µV s), rise time (onset to
peak) and dominant frequency (spectral peak of the zero-padded potential), plus the snippet centred on
the peak for template work.
"""

from __future__ import annotations

import numpy as np

from dsp import _features_numba
from dsp._threads import SplitKernel
from dsp.types import FEATURE_DTYPE, SNIPPET_LEN

#: Zero-padded length of the segment whose spectrum gives ``dominant_hz``.
SPECTRUM_LEN = 256
#: Candidates from which ``threads=True`` measures them in threads (one costs about 2 µs).
THREADED_MIN_CANDIDATES = 64

_MEASURE = SplitKernel(_features_numba, "measure_serial",
                       _features_numba.PER_CANDIDATE["measure_serial"])


def measure_candidates(
    y: np.ndarray,
    y0: int,
    channel: np.ndarray,
    onset: np.ndarray,
    offset: np.ndarray,
    peak: np.ndarray,
    dead_band_uv: np.ndarray,
    sfreq_hz: float,
    threads: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Measure candidates on the filtered signal ``y`` (channels, n) whose column 0 is sample ``y0``.

    Parameters
    ----------
    y : ndarray, float64, shape (n_channels, n)
        Filtered signal, µV.
    y0 : int
        Absolute index of ``y[:, 0]``; ``onset``, ``offset``, ``peak`` index the same timeline.
    channel, onset, offset, peak : ndarray of int
        One entry per candidate; ``offset`` is one past the last sample.
    dead_band_uv : ndarray
        Dead band for phases and turns, per candidate (e.g. 2 x the noise sigma).
    sfreq_hz : float
        Sampling rate.
    threads : bool
        Measure candidates in threads when there are many (:mod:`dsp._threads`).

    Returns
    -------
    features : ndarray of FEATURE_DTYPE
    snippets : ndarray, float32, shape (n, SNIPPET_LEN)
    peak_uv : ndarray, float64
    ptp_uv : ndarray, float64
    """
    n = len(channel)
    snip = np.empty((n, SNIPPET_LEN), np.float32)
    segs = np.empty((n, SPECTRUM_LEN))
    scal = np.empty((n, 3))
    ints = np.empty((n, 2), np.int32)
    if n:
        _MEASURE(
            threads and n >= THREADED_MIN_CANDIDATES,
            y=y,
            y0=int(y0),
            # contiguous: columns of a table would compile the kernel a second time (layout 'A')
            chan=np.ascontiguousarray(channel, np.int64),
            onset_f=np.ascontiguousarray(onset, np.int64),
            offset_f=np.ascontiguousarray(offset, np.int64),
            peak_f=np.ascontiguousarray(peak, np.int64),
            band=np.ascontiguousarray(dead_band_uv, np.float64),
            snip=snip,
            segs=segs,
            scal=scal,
            ints=ints,
        )
    feats = _feature_rows(onset, offset, peak, scal, ints, segs, sfreq_hz)
    return feats, snip, scal[:, 0].copy(), scal[:, 1].copy()


def _feature_rows(onset: np.ndarray, offset: np.ndarray, peak: np.ndarray, scal: np.ndarray,
                  ints: np.ndarray, segs: np.ndarray, sfreq_hz: float) -> np.ndarray:
    """FEATURE_DTYPE rows from the kernel's outputs (``scal``: peak, p-p, area in µV x samples;
    ``ints``: phases, turns; ``segs``: the spectrum segments) and the candidates' sample indices."""
    feats = np.zeros(len(scal), FEATURE_DTYPE)
    feats["ptp_uv"] = scal[:, 1]
    feats["duration_s"] = (np.asarray(offset) - np.asarray(onset)) / sfreq_hz
    feats["phases"] = ints[:, 0]
    feats["turns"] = ints[:, 1]
    feats["area_uv_s"] = scal[:, 2] / sfreq_hz
    feats["rise_time_s"] = (np.asarray(peak) - np.asarray(onset)) / sfreq_hz
    feats["dominant_hz"] = dominant_hz(segs, sfreq_hz)
    return feats


def dominant_hz(segments: np.ndarray, sfreq_hz: float) -> np.ndarray:
    """Frequency of the largest non-DC bin of each zero-padded row of ``segments``."""
    if segments.shape[0] == 0:
        return np.zeros(0)
    spectrum = np.abs(np.fft.rfft(segments, axis=1))
    spectrum[:, 0] = 0.0
    return np.argmax(spectrum, axis=1) * (sfreq_hz / segments.shape[1])
