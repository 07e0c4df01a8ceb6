"""Numba kernel of candidate detection: threshold with hysteresis, merging, dead time, walk-back onset.

Per-channel state (int64 vector, see ``ST_*``) is carried between calls, so the result does not depend
on how the samples are split. ``y[i]`` is sample ``y0 + i``; ``sig[j]`` is the noise sigma of block
``b0 + j`` (``block_len`` samples each). A sample of block ``b`` is compared with the sigma of block
``b - lag`` (``lag`` = 1: the floor as known before the block began, so a candidate is found as soon
as its samples are in; lag = 0 waits for the end of its block).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

ST_IN_EVENT, ST_FIRST, ST_LAST, ST_PEAK, ST_DEAD_UNTIL, ST_TOO_LONG, ST_LAST_BAD, ST_PREV_OFF = range(8)
N_STATE = 8


@njit(cache=True, boundscheck=False, nogil=True)
def _onset(y, y0, first, limit, level, quiet, walk_max):
    """Walk back from ``first`` to the end of the first run of ``quiet`` samples below ``level``."""
    run = 0
    stop = max(limit, first - walk_max)
    for j in range(first - 1, stop - 1, -1):
        if abs(y[j - y0]) <= level:
            run += 1
            if run >= quiet:
                return j + quiet
        else:
            run = 0
    return stop


@njit(cache=True, boundscheck=False, nogil=True)
def _offset(y, y0, last, now, level, quiet):
    """Walk forward from ``last`` to the start of the first run of ``quiet`` samples below ``level``."""
    run = 0
    for j in range(last + 1, now + 1):
        if abs(y[j - y0]) <= level:
            run += 1
            if run >= quiet:
                return j - quiet + 1
        else:
            run = 0
    return last + 1


@njit(cache=True, boundscheck=False, nogil=True)
def detect_channel(y, y0, s0, s1, sig, b0, block_len, st, peak_abs, params, out):
    """Scan samples ``s0..s1`` of one channel; write (onset, offset, peak) rows to ``out``; return count.

    ``params`` = (k_hi, k_lo, k_onset, quiet, walk_max, merge_gap, min_len, max_len, dead, lag).
    """
    k_hi, k_lo, k_on = params[0], params[1], params[2]
    quiet, walk_max, merge_gap = int(params[3]), int(params[4]), int(params[5])
    min_len, max_len, dead = int(params[6]), int(params[7]), int(params[8])
    lag = int(params[9])
    n_out = 0
    for s in range(s0, s1):
        v = y[s - y0]
        j = s // block_len - lag - b0
        sg = sig[j] if j >= 0 else np.nan
        if not (v == v) or not (sg > 0.0):
            st[ST_IN_EVENT] = 0
            st[ST_LAST_BAD] = s
            continue
        a = abs(v)
        if st[ST_IN_EVENT] == 1:
            if a > k_lo * sg:
                st[ST_LAST] = s
                if a > peak_abs[0]:
                    peak_abs[0] = a
                    st[ST_PEAK] = s
                if s - st[ST_FIRST] >= max_len:
                    st[ST_TOO_LONG] = 1
            elif s - st[ST_LAST] > merge_gap:
                st[ST_IN_EVENT] = 0
                first = st[ST_FIRST]
                jf = first // block_len - lag - b0
                sg0 = sig[jf] if jf >= 0 else sg
                level = k_on * sg0
                limit = max(st[ST_LAST_BAD] + 1, st[ST_PREV_OFF])
                onset = _onset(y, y0, first, limit, level, quiet, walk_max)
                offset = _offset(y, y0, st[ST_LAST], s, level, quiet)
                length = offset - onset
                ok = st[ST_TOO_LONG] == 0 and length >= min_len and length <= max_len
                if ok and onset <= st[ST_LAST_BAD]:
                    ok = False
                if ok and onset == st[ST_LAST_BAD] + 1 and first - walk_max < onset:
                    ok = False  # walked back into a gap: the potential straddles it
                if ok:
                    out[n_out, 0] = onset
                    out[n_out, 1] = offset
                    out[n_out, 2] = st[ST_PEAK]
                    n_out += 1
                    st[ST_PREV_OFF] = offset
                st[ST_DEAD_UNTIL] = max(offset, st[ST_LAST] + 1) + dead
        elif s >= st[ST_DEAD_UNTIL] and a > k_hi * sg:
            st[ST_IN_EVENT] = 1
            st[ST_FIRST] = s
            st[ST_LAST] = s
            st[ST_PEAK] = s
            st[ST_TOO_LONG] = 0
            peak_abs[0] = a
    return n_out


@njit(cache=True, boundscheck=False, parallel=True)
def detect(y, y0, s0, s1, sig, b0, block_len, st, peak_abs, params, out, counts):
    """:func:`detect_channel` over every channel (``y``, ``sig``, ``st``, ``out`` have a channel axis)."""
    for c in prange(y.shape[0]):
        counts[c] = detect_channel(
            y[c], y0, s0, s1, sig[c], b0, block_len, st[c], peak_abs[c], params, out[c]
        )


@njit(cache=True, boundscheck=False, nogil=True)
def detect_serial(y, y0, s0, s1, sig, b0, block_len, st, peak_abs, params, out, counts):
    """:func:`detect` without threads."""
    for c in range(y.shape[0]):
        counts[c] = detect_channel(
            y[c], y0, s0, s1, sig[c], b0, block_len, st[c], peak_abs[c], params, out[c]
        )


def new_state(n_channels: int) -> tuple[np.ndarray, np.ndarray]:
    """Fresh detector state: (int64 (n_channels, N_STATE), float64 (n_channels, 1))."""
    st = np.zeros((n_channels, N_STATE), dtype=np.int64)
    st[:, ST_LAST_BAD] = -1
    return st, np.zeros((n_channels, 1))
