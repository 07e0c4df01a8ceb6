"""Numba kernels of the robust noise floor: per-block MAD sigma and its rolling lower quantile.

The block median is exact (:func:`update_blocks_serial`): one counting pass against a band of
+-10 % around the previous block's median followed by a selection among the few values in the band,
or a bisection by branch-free counting (:func:`upper_median`) on the side it is on when it is
outside, and when there is no previous median. The guess only decides how fast it is found.
"""

from __future__ import annotations

import numpy as np
from numba import njit

MAD_TO_SIGMA = 1.0 / 0.6744897501960817
BISECT_STEPS = 12
#: Half-width (relative) of the band around the previous block's median searched first.
NEAR = 0.1
#: The bits of +inf read as an int64 (:func:`block_steps_serial`).
INF_BITS = np.int64(0x7FF0000000000000)
#: Arguments of the chain's kernels with a leading channel axis; the others are shared by every
#: channel (callers split the channels over threads, :class:`dsp._threads.SplitKernel`).
PER_CHANNEL = {
    "blank_after_restart": ("y", "countdown"),
    "update_blocks_serial": ("y", "hist", "med", "stats", "sig", "env"),
    "block_steps_serial": ("raw", "last", "step", "out"),
}


@njit(cache=True, boundscheck=False, nogil=True)
def _select(a, n, k):
    """Put the k-th smallest of ``a[:n]`` at ``a[k]`` (quickselect, median-of-3 pivot); return it."""
    lo = 0
    hi = n - 1
    while hi > lo:
        mid = (lo + hi) // 2
        if a[mid] < a[lo]:
            a[mid], a[lo] = a[lo], a[mid]
        if a[hi] < a[lo]:
            a[hi], a[lo] = a[lo], a[hi]
        if a[hi] < a[mid]:
            a[hi], a[mid] = a[mid], a[hi]
        pivot = a[mid]
        i = lo
        j = hi
        while i <= j:
            while a[i] < pivot:
                i += 1
            while a[j] > pivot:
                j -= 1
            if i <= j:
                a[i], a[j] = a[j], a[i]
                i += 1
                j -= 1
        if k <= j:
            hi = j
        elif k >= i:
            lo = i
        else:
            break
    return a[k]


@njit(cache=True, boundscheck=False, nogil=True, fastmath={"reassoc"})
def _count_below(a, n, t):
    c = 0
    for i in range(n):
        c += 1 if a[i] < t else 0
    return c


@njit(cache=True, boundscheck=False, nogil=True)
def _kth(a, n, k, lo, hi, scratch):
    """k-th smallest of ``a[:n]`` (all within [lo, hi]): bisection by branch-free counting, then
    quickselect of the few values left in the bracket (copied to ``scratch``)."""
    for _ in range(BISECT_STEPS):
        mid = 0.5 * (lo + hi)
        if not (lo < mid < hi):
            break
        if _count_below(a, n, mid) <= k:
            lo = mid
        else:
            hi = mid
    below = 0
    m = np.int64(0)  # not the literal 0: a callee would compile for that type too
    for i in range(n):
        v = a[i]
        if v < lo:
            below += 1
        elif v <= hi:
            scratch[m] = v
            m += 1
    return _select(scratch, m, k - below)


# Compiled inside its caller (numba inlines it): one function less to compile on a cold cache.
@njit(cache=True, boundscheck=False, nogil=True, inline="always")
def upper_median(a, n, lo, hi, scratch):
    """Upper median (the (n//2)-th smallest) of ``a[:n]``, all within [lo, hi]."""
    return _kth(a, n, n // 2, lo, hi, scratch)


@njit(cache=True, boundscheck=False, nogil=True)
def blank_after_restart(y, countdown, settle):
    """Set ``settle`` samples to NaN after the start and after every NaN stretch (filter transient)."""
    for c in range(y.shape[0]):
        left = countdown[c]
        for i in range(y.shape[1]):
            if y[c, i] != y[c, i]:
                left = settle
            elif left > 0:
                y[c, i] = np.nan
                left -= 1
        countdown[c] = left


@njit(cache=True, boundscheck=False, nogil=True)
def block_steps_serial(raw, block_len, last, step, out):
    """Smallest non-zero step between successive samples of each channel up to the end of each
    block of ``block_len`` samples: ``out[c, b]`` (inf while there is none).

    ``last`` (channels, 1) holds the sample before ``raw`` (NaN when none) and ``step``
    (channels, 1) the smallest step before it; both are updated, so that blocks fed in any
    chunking give the same steps. A step to or from a missing sample (NaN) is no step. The
    minimum is taken over the steps' bits as integers: non-negative doubles order as their bits
    do, a NaN's bits lie above infinity's and a zero's are 0, and an integer minimum vectorises
    where a floating one that must skip NaN does not (4-5 x faster).
    """
    steps = np.empty(block_len)
    bits = steps.view(np.int64)
    for c in range(raw.shape[0]):
        x = raw[c]
        prev = last[c, 0]
        least = step[c, 0]
        for b in range(out.shape[1]):
            a = b * block_len
            steps[0] = abs(x[a] - prev)
            for k in range(1, block_len):
                steps[k] = abs(x[a + k] - x[a + k - 1])
            smallest = INF_BITS
            for k in range(block_len):
                v = bits[k] if bits[k] > 0 else INF_BITS
                smallest = v if v < smallest else smallest
            bits[0] = smallest
            least = min(least, steps[0])
            out[c, b] = least
            prev = x[a + block_len - 1]
        last[c, 0] = prev
        step[c, 0] = least


# Compiled inside its caller (numba inlines it): one function less to compile on a cold cache.
@njit(cache=True, boundscheck=False, nogil=True, inline="always")
def _count_two(a, n, t1, t2):
    """Values of ``a[:n]`` below ``t1`` and below ``t2`` (branch-free, one pass)."""
    c1 = 0
    c2 = 0
    for i in range(n):
        v = a[i]
        c1 += 1 if v < t1 else 0
        c2 += 1 if v < t2 else 0
    return c1, c2


# Compiled inside its caller (numba inlines it): one function less to compile on a cold cache.
@njit(cache=True, boundscheck=False, nogil=True, inline="always")
def _kth_near(a, n, k, guess, top, scratch):
    """k-th smallest of the non-negative ``a[:n]`` (at most ``top``), looked for first within
    ``guess`` +- NEAR: one counting pass and a selection among the values of that band."""
    lo = guess * (1.0 - NEAR)
    hi = guess * (1.0 + NEAR)
    n_lo, n_hi = _count_two(a, n, lo, hi)
    if k < n_lo:
        return _kth(a, n, k, 0.0, lo, scratch)
    if k >= n_hi:
        return _kth(a, n, k, hi, top, scratch)
    m = np.int64(0)
    for i in range(n):
        v = a[i]
        scratch[m] = v
        m += 1 if lo <= v < hi else 0
    return _select(scratch, m, k - n_lo)


# Compiled inside its caller (numba inlines it): one function less to compile on a cold cache.
@njit(cache=True, boundscheck=False, nogil=True, inline="always")
def _block_sigma_frames(x, guess, hop, tmp, scratch, env):
    """Upper median of |x| over the valid samples of the block (NaN when under half is valid),
    looked for near ``guess`` (a previous median); RMS of each frame of ``hop`` samples in ``env``
    (NaN when under half of it is valid), in the same pass."""
    count = np.int64(0)
    top = 0.0
    for f in range(env.shape[0]):
        acc = 0.0
        n_ok = 0
        for i in range(f * hop, (f + 1) * hop):
            v = x[i]
            if v == v:
                a = abs(v)
                tmp[count] = a
                top = max(top, a)
                count += 1
                acc += v * v
                n_ok += 1
        env[f] = np.sqrt(acc / n_ok) if 2 * n_ok >= hop and n_ok > 0 else np.nan
    if 2 * count < x.shape[0] or count == 0:
        return np.nan
    if guess > 0.0 and guess < np.inf:
        return _kth_near(tmp, count, count // 2, guess, top, scratch)
    return upper_median(tmp, count, 0.0, top, scratch)


# Compiled inside its caller (numba inlines it): one function less to compile on a cold cache.
@njit(cache=True, boundscheck=False, nogil=True, inline="always")
def _order_stat(hist, q, tmp):
    count = np.int64(0)
    for j in range(hist.shape[0]):
        v = hist[j]
        if v == v:
            tmp[count] = v
            count += 1
    if count == 0:
        return np.nan
    # builtin round: the rint np.round uses, without compiling np.round's ndigits path as well
    # (a quarter of a second on a cold cache)
    return _select(tmp, count, round(q * (count - 1)))


# Compiled inside its caller (numba inlines it): one function less to compile on a cold cache.
@njit(cache=True, boundscheck=False, nogil=True, inline="always")
def _update_channel(y, block_len, hop, hist, block0, q, med, stats, sig, env):
    tmp = np.empty(block_len)
    scratch = np.empty(max(block_len, hist.shape[0]))
    per = block_len // hop
    window = hist.shape[0]
    for b in range(stats.shape[0]):
        seg = y[b * block_len : (b + 1) * block_len]
        m = _block_sigma_frames(seg, med[0], hop, tmp, scratch, env[b * per : (b + 1) * per])
        if m == m:
            med[0] = m
        stats[b] = m * MAD_TO_SIGMA
        # a flat block (the signal constant: its filtered samples exactly 0) holds no noise to
        # measure: it stays out of the window, and its own floor is 0
        hist[(block0 + b) % window] = stats[b] if stats[b] != 0.0 else np.nan
        sig[b] = _order_stat(hist, q, scratch) if stats[b] != 0.0 else 0.0


@njit(cache=True, boundscheck=False, nogil=True)
def update_blocks_serial(y, block_len, hop, hist, block0, q, med, stats, sig, env):
    """Complete blocks ``block0 ..`` of every channel in one pass over their samples.

    ``y`` (channels, n_blocks * block_len): the blocks' samples; ``hist`` (channels, window) the
    ring of past statistics; ``med`` (channels, 1) the last valid block median (a guess, updated).
    Writes ``stats`` (block MAD sigma: upper median of |y| / 0.6745 over the valid samples, NaN
    when under half is valid), ``sig`` (the order statistic ``round(q * (m - 1))`` of the m valid
    stats of the window, the block included) and
    ``env`` (RMS of the valid samples of each frame of ``hop`` samples; NaN when under half is
    valid). Channels are independent (callers split them over threads).
    """
    for c in range(y.shape[0]):
        _update_channel(y[c], block_len, hop, hist[c], block0, q, med[c], stats[c], sig[c], env[c])
