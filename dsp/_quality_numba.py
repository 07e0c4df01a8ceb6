"""Numba kernel of per-window signal quality on the raw and the filtered signal."""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True, boundscheck=False, nogil=True)
def _mains_fraction(x, omegas):
    """Power at the mains lines (Goertzel over the valid samples) over the variance of ``x``."""
    n = 0
    s = 0.0
    for v in x:
        if v == v:
            n += 1
            s += v
    if n < 2:
        return np.nan
    mean = s / n
    var = 0.0
    for v in x:
        if v == v:
            var += (v - mean) * (v - mean)
    var /= n
    if var <= 0.0:
        return 0.0
    line = 0.0
    for w in omegas:
        coeff = 2.0 * np.cos(w)
        s1 = 0.0
        s2 = 0.0
        for v in x:
            u = v - mean if v == v else 0.0
            s0 = u + coeff * s1 - s2
            s2 = s1
            s1 = s0
        power = s1 * s1 + s2 * s2 - coeff * s1 * s2
        line += 2.0 * power / (n * n)
    return min(1.0, line / var)


@njit(cache=True, boundscheck=False, nogil=True)
def _runs(x, min_run, at_rail):
    """Fraction of samples in runs of >= min_run equal consecutive values (at the extremes if at_rail)."""
    hi = -np.inf
    lo = np.inf
    for v in x:
        if v == v:
            hi = max(hi, v)
            lo = min(lo, v)
    if at_rail and not hi > lo:
        return 0.0
    total = 0
    run = 1
    for i in range(1, x.shape[0] + 1):
        same = i < x.shape[0] and x[i] == x[i - 1]
        if same:
            run += 1
            continue
        v = x[i - 1]
        if run >= min_run and v == v and (not at_rail or v == hi or v == lo):
            total += run
        run = 1
    return total / x.shape[0]


@njit(cache=True, boundscheck=False, nogil=True)
def _pops(y, level, rearm):
    """Rising crossings of |y| above ``level``; another needs ``rearm`` samples below first."""
    count = 0
    below = rearm
    for v in y:
        if abs(v) > level:
            if below >= rearm:
                count += 1
            below = 0
        else:
            below += 1
    return count


@njit(cache=True, boundscheck=False, parallel=True)
def window_quality(raw, y, win, omegas, flat_run, rail_run, pop_level, rearm, out):
    """``out[c, w]`` = mains fraction, saturated, flat, pops, NaN fraction of window w of channel c."""
    n_win = out.shape[1]
    for c in prange(raw.shape[0]):
        for w in range(n_win):
            xr = raw[c, w * win : (w + 1) * win]
            yf = y[c, w * win : (w + 1) * win]
            n_nan = 0
            for v in xr:
                if v != v:
                    n_nan += 1
            out[c, w, 0] = _mains_fraction(xr, omegas)
            out[c, w, 1] = _runs(xr, rail_run, True)
            out[c, w, 2] = _runs(xr, flat_run, False)
            out[c, w, 3] = _pops(yf, pop_level[c, w], rearm)
            out[c, w, 4] = n_nan / win
