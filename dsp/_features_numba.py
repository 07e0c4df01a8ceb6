"""Numba kernel of per-candidate measurements on the filtered waveform."""

from __future__ import annotations

import numpy as np
from numba import njit

#: Arguments of :func:`measure_serial` with a leading axis over the candidates; the others are
#: shared by every candidate (callers split the candidates over threads,
#: :class:`dsp._threads.SplitKernel`).
PER_CANDIDATE = {
    "measure_serial": ("chan", "onset_f", "offset_f", "peak_f", "band", "snip", "segs", "scal",
                       "ints"),
}


@njit(cache=True, boundscheck=False, nogil=True)
def _phases_turns(seg, band):
    """Phases (sign changes beyond +-band, plus one) and turns (reversals larger than band)."""
    sign = 0
    changes = 0
    for v in seg:
        if v > band or v < -band:
            s = 1 if v > 0 else -1
            if sign != 0 and s != sign:
                changes += 1
            sign = s
    turns = 0
    direction = 0
    lo = seg[0]
    hi = seg[0]
    ext = seg[0]
    for v in seg:
        if direction == 0:
            lo = min(lo, v)
            hi = max(hi, v)
            if v - lo > band:
                direction = 1
                ext = v
            elif hi - v > band:
                direction = -1
                ext = v
        elif direction == 1:
            if v > ext:
                ext = v
            elif ext - v > band:
                turns += 1
                direction = -1
                ext = v
        else:
            if v < ext:
                ext = v
            elif v - ext > band:
                turns += 1
                direction = 1
                ext = v
    return changes + 1, turns


# Compiled inside its caller (numba inlines it): one function less to compile on a cold cache.
@njit(cache=True, boundscheck=False, nogil=True, inline="always")
def _measure_one(r, y, y0, chan, onset_f, offset_f, peak_f, band, snip, segs, scal, ints):
    half = snip.shape[1] // 2
    n_y = y.shape[1]
    row = y[chan[r]]
    for i in range(snip.shape[1]):
        j = peak_f[r] - half + i - y0
        snip[r, i] = row[j] if 0 <= j < n_y else np.nan
    seg = row[onset_f[r] - y0 : offset_f[r] - y0]
    hi = -np.inf
    lo = np.inf
    area = 0.0
    for k in range(seg.shape[0]):
        v = seg[k]
        hi = max(hi, v)
        lo = min(lo, v)
        area += abs(v)
        if k < segs.shape[1]:
            segs[r, k] = v
    for k in range(seg.shape[0], segs.shape[1]):
        segs[r, k] = 0.0
    scal[r, 0] = row[peak_f[r] - y0]
    scal[r, 1] = hi - lo
    scal[r, 2] = area
    ph, tu = _phases_turns(seg, band[r])
    ints[r, 0] = ph
    ints[r, 1] = tu


@njit(cache=True, boundscheck=False, nogil=True)
def measure_serial(y, y0, chan, onset_f, offset_f, peak_f, band, snip, segs, scal, ints):
    """Fill snippets, zero-padded segments, float features and integer features of each candidate.

    ``y`` (channels, n) holds samples ``y0..``; ``scal`` columns: peak_uv, ptp_uv, area_uv_samples;
    ``ints`` columns: phases, turns. Candidates are independent (callers may split them over threads).
    """
    for r in range(chan.shape[0]):
        _measure_one(r, y, y0, chan, onset_f, offset_f, peak_f, band, snip, segs, scal, ints)
