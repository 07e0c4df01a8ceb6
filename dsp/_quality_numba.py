"""Numba kernel of per-window signal quality on the raw and the filtered signal.

One pass over the raw window gives the valid count, mean, variance and the correlation with the
cosine and sine tables of each mains line (power at the line); another finds runs of equal values
(flat: any value, saturated: at the window's extremes); a third counts pops on the filtered signal;
a fourth measures how far the signal reaches below its mean against above it (the floor ratio: a
rectified signal never goes below its baseline).
Reassociation (not the no-NaN assumption) is allowed only here: these sums need no fixed order.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: Arguments of :func:`window_quality_serial` with a leading channel axis; the others are shared by
#: every channel (callers split the channels over threads, :class:`dsp._threads.SplitKernel`).
PER_CHANNEL = {"window_quality_serial": ("raw", "y", "stats", "out")}
#: What :func:`window_quality_serial` writes along the last axis of ``out``, in order.
COLUMNS = ("mains_fraction", "saturated_fraction", "flat_fraction", "pops", "nan_fraction",
           "noise_rms_uv", "floor_ratio")
#: Fewest converter steps a floor block must span: a coarser block (noise under a step or two, a
#: few levels) reads one-sided or not by where its levels fall, not by the signal (raw noise of a
#: fifth of a step read 0.3, as rectified). A block's step is the smallest change between its
#: successive samples.
FLOOR_MIN_STEPS = 4.0


@njit(cache=True, boundscheck=False, nogil=True, fastmath={"reassoc", "contract", "arcp"})
def _moments(x, cos_t, sin_t, acc):
    """acc = [n, sum, sum of squares, then per line: sum x*cos, sum x*sin, sum cos, sum sin].

    Sums run over the valid samples of ``x``, shifted by its first valid value. Exactly three lines
    (tables of zeros stand for missing ones), accumulated in registers.
    """
    ref = 0.0
    for v in x:
        if v == v:
            ref = v
            break
    n = 0.0
    s1 = 0.0
    s2 = 0.0
    xc0 = xs0 = wc0 = ws0 = 0.0
    xc1 = xs1 = wc1 = ws1 = 0.0
    xc2 = xs2 = wc2 = ws2 = 0.0
    c0, c1, c2 = cos_t[0], cos_t[1], cos_t[2]
    n0, n1, n2 = sin_t[0], sin_t[1], sin_t[2]
    for i in range(x.shape[0]):
        v = x[i]
        ok = v == v
        u = v - ref if ok else 0.0
        w = 1.0 if ok else 0.0
        n += w
        s1 += u
        s2 += u * u
        xc0 += u * c0[i]
        xs0 += u * n0[i]
        wc0 += w * c0[i]
        ws0 += w * n0[i]
        xc1 += u * c1[i]
        xs1 += u * n1[i]
        wc1 += w * c1[i]
        ws1 += w * n1[i]
        xc2 += u * c2[i]
        xs2 += u * n2[i]
        wc2 += w * c2[i]
        ws2 += w * n2[i]
    acc[0] = n  # element by element: a slice assignment compiles numba's broadcasting
    acc[1] = s1
    acc[2] = s2
    acc[3] = xc0
    acc[4] = xs0
    acc[5] = wc0
    acc[6] = ws0
    acc[7] = xc1
    acc[8] = xs1
    acc[9] = wc1
    acc[10] = ws1
    acc[11] = xc2
    acc[12] = xs2
    acc[13] = wc2
    acc[14] = ws2


@njit(cache=True, boundscheck=False, nogil=True)
def _mains_fraction(x, cos_t, sin_t, acc):
    _moments(x, cos_t, sin_t, acc)
    n = acc[0]
    if n < 2:
        return np.nan
    mean = acc[1] / n
    var = acc[2] / n - mean * mean
    if var <= 0.0:
        return 0.0
    line = 0.0
    for h in range(cos_t.shape[0]):
        # remove the mean's contribution to each correlation
        c = acc[3 + 4 * h] - mean * acc[5 + 4 * h]
        s = acc[4 + 4 * h] - mean * acc[6 + 4 * h]
        line += 2.0 * (c * c + s * s) / (n * n)
    return min(1.0, line / var)


#: Samples checked at once for equal neighbours before the run-length scan.
RUN_SCAN = 64


@njit(cache=True, boundscheck=False, nogil=True)
def _has_equal_pair(x, a, b):
    """True when x[i] == x[i - 1] for some i in [a, b) (branch-free, vectorises)."""
    found = 0
    for i in range(a, b):
        found |= x[i] == x[i - 1]
    return found != 0


@njit(cache=True, boundscheck=False, nogil=True)
def _runs(x, flat_run, rail_run):
    """(flat fraction, saturated fraction): samples in runs of equal values (at the extremes).

    Stretches of ``RUN_SCAN`` samples without equal neighbours hold only runs of one sample,
    which count for neither (when both minimum runs exceed one), and are skipped; a stretch that
    has some is walked sample by sample, and checked once only (quantised signals have equal
    neighbours every few dozen samples).
    """
    hi = -np.inf
    lo = np.inf
    for v in x:  # NaN compares false: skipped
        hi = v if v > hi else hi
        lo = v if v < lo else lo
    flat = 0
    rail = 0
    run = 1
    n = x.shape[0]
    skip = flat_run > 1 and rail_run > 1
    checked = 0  # samples before this one are known to be in a stretch with equal neighbours
    i = np.int64(1)  # not the literal 1: _has_equal_pair would compile for that type too
    while i <= n:
        if skip and run == 1 and i >= checked and i + RUN_SCAN <= n:
            if not _has_equal_pair(x, i, i + RUN_SCAN):
                i += RUN_SCAN
                continue
            checked = i + RUN_SCAN
        if i < n and x[i] == x[i - 1]:
            run += 1
            i += 1
            continue
        v = x[i - 1]
        if v == v:
            if run >= flat_run:
                flat += run
            if run >= rail_run and hi > lo and (v == hi or v == lo):
                rail += run
        run = 1
        i += 1
    return flat / n, rail / n


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


@njit(cache=True, boundscheck=False, nogil=True)
def nan_median(x, tmp):
    """Median of the non-NaN values of ``x`` (mean of the two middle ones when their count is
    even), NaN when there is none: :func:`numpy.nanmedian` of a short 1-d array. Leaves those
    values sorted in ``tmp[:m]``, m their count."""
    m = 0
    for v in x:
        if v == v:  # insertion sort: a few dozen values, and np.sort compiles for seconds
            j = m
            while j > 0 and tmp[j - 1] > v:
                tmp[j] = tmp[j - 1]
                j -= 1
            tmp[j] = v
            m += 1
    if m == 0:
        return np.nan
    h = m // 2
    if m % 2:
        return tmp[h]
    return (tmp[h - 1] + tmp[h]) / 2.0


#: Blocks whose range exceeds this multiple of the window's quiet range (``FLOOR_QUIET_QUANTILE``
#: of its blocks' ranges) hold a potential, a QRS or a movement: they are left out of the floor
#: ratio, so that a heart at up to 150 beats a minute (a QRS in most blocks) does not decide it.
FLOOR_QUIET_K = 1.5
#: Quantile of the blocks' ranges taken as the window's quiet range (numpy's "lower" method).
FLOOR_QUIET_QUANTILE = 0.2


@njit(cache=True, boundscheck=False, nogil=True)
def floor_ratio(x, block, ratios, ranges, tmp):
    """Median over the quiet ``block``-sample blocks of ``x`` of (mean - min) / (max - mean):
    about 1 for raw EMG, whose noise is symmetric about its baseline, and about 0.3 once the
    signal is rectified (half-normal noise above a hard floor).

    Quiet blocks have a range (max - min) of at most ``FLOOR_QUIET_K`` x the
    ``FLOOR_QUIET_QUANTILE`` quantile of the blocks' ranges (numpy's "lower" method: the value
    at index floor(q * (m - 1)) of the m sorted ranges). Blocks that say nothing are left
    out: with a NaN, with the mean at an extreme, or spanning fewer than ``FLOOR_MIN_STEPS`` of
    the converter's steps (the smallest change between successive samples of the block). NaN
    when none is left, or ``block`` < 2.

    ``ratios``, ``ranges`` and ``tmp`` are scratch arrays of at least ``x.shape[0] // block``
    values.
    """
    n = x.shape[0] // block if block >= 2 else 0
    for b in range(n):
        a = b * block
        lo = x[a]
        hi = x[a]
        total = x[a]
        step = np.inf
        for i in range(a + 1, a + block):
            v = x[i]
            lo = v if v < lo else lo  # NaN compares false: caught by the total below
            hi = v if v > hi else hi
            total += v
            d = abs(v - x[i - 1])
            step = d if 0.0 < d < step else step
        mean = total / block
        ok = hi > mean > lo and hi - lo >= FLOOR_MIN_STEPS * step  # False when total is NaN
        ratios[b] = (mean - lo) / (hi - mean) if ok else np.nan
        ranges[b] = hi - lo if ok else np.nan
    m = 0
    for b in range(n):
        m += ranges[b] == ranges[b]
    if m == 0:
        return np.nan
    nan_median(ranges[:n], tmp)  # sorts the valid ranges into tmp[:m]
    quiet = FLOOR_QUIET_K * tmp[int(np.floor(FLOOR_QUIET_QUANTILE * (m - 1)))]
    for b in range(n):
        if not ranges[b] <= quiet:
            ratios[b] = np.nan
    return nan_median(ratios[:n], tmp)


# Compiled inside its caller (numba inlines it): one function less to compile on a cold cache.
@njit(cache=True, boundscheck=False, nogil=True, inline="always")
def _one(raw, y, cos_t, sin_t, flat_run, rail_run, pop_level, rearm, floor_block, ratios, ranges,
         tmp, out):
    acc = np.empty(3 + 4 * cos_t.shape[0])
    out[0] = _mains_fraction(raw, cos_t, sin_t, acc)
    flat, rail = _runs(raw, flat_run, rail_run)
    out[1] = rail
    out[2] = flat
    out[3] = _pops(y, pop_level, rearm)
    out[4] = 1.0 - acc[0] / raw.shape[0]
    out[6] = floor_ratio(raw, floor_block, ratios, ranges, tmp)


@njit(cache=True, boundscheck=False, nogil=True)
def window_quality_serial(raw, y, win, stats, per, cos_t, sin_t, flat_run, rail_run, pop_k, rearm,
                          floor_block, out):
    """``out[c, w]`` = mains fraction, saturated, flat, pops, NaN fraction, noise and floor ratio
    (:func:`floor_ratio`, blocks of ``floor_block`` samples) of window w of channel c.

    The noise of a window is the median of the valid block statistics ``stats[c, w * per :
    (w + 1) * per]`` (as :func:`numpy.nanmedian`; fewer at the end of ``stats``), and a pop a
    rising crossing of ``pop_k`` x that noise. ``cos_t``/``sin_t`` (n_lines, >= win) are cos/sin
    of each mains line over one window. Channels are independent (callers split them over
    threads).
    """
    tmp = np.empty(max(per, win // max(floor_block, 1)))
    ratios = np.empty(win // max(floor_block, 1))
    ranges = np.empty(win // max(floor_block, 1))
    for c in range(raw.shape[0]):
        for w in range(out.shape[1]):
            a = w * win
            noise = nan_median(stats[c, w * per : min((w + 1) * per, stats.shape[1])], tmp)
            out[c, w, 5] = noise
            _one(raw[c, a : a + win], y[c, a : a + win], cos_t, sin_t, flat_run, rail_run,
                 pop_k * noise, rearm, floor_block, ratios, ranges, tmp, out[c, w])
