"""Numba kernels of the streaming envelopes: Teager-Kaiser energy and trailing moving RMS."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, boundscheck=False, nogil=True)
def tkeo(x, prev, out):
    """psi[n] = x[n]^2 - x[n-1] x[n+1] for the samples whose successor is in ``x``.

    ``prev`` (channels, 2) holds the two samples before ``x`` (state, updated); ``out`` has the same
    shape as ``x`` and ``out[:, i]`` is psi of the sample before ``x[:, i]``.
    """
    for c in range(x.shape[0]):
        a = prev[c, 0]
        b = prev[c, 1]
        for i in range(x.shape[1]):
            v = np.float64(x[c, i])
            out[c, i] = b * b - a * v
            a = b
            b = v
        prev[c, 0] = a
        prev[c, 1] = b


@njit(cache=True, boundscheck=False, nogil=True)
def moving_rms(x, ring, count, acc, pos0, out):
    """Trailing RMS over the valid samples of the last ``ring.shape[1]`` samples.

    ``ring`` (channels, w) holds squares (NaN as 0), ``count`` the valid samples per ring slot (0/1);
    ``acc`` (channels, 2) the running sum and valid count. The sum is recomputed from the ring at
    every absolute index multiple of w, so rounding cannot accumulate over a night.
    """
    w = ring.shape[1]
    for c in range(x.shape[0]):
        s = acc[c, 0]
        k = acc[c, 1]
        for i in range(x.shape[1]):
            t = pos0 + i
            j = t % w
            v = np.float64(x[c, i])
            sq = v * v if v == v else 0.0
            ok = 1.0 if v == v else 0.0
            s += sq - ring[c, j]
            k += ok - count[c, j]
            ring[c, j] = sq
            count[c, j] = ok
            if j == w - 1:
                s = 0.0
                k = 0.0
                for m in range(w):
                    s += ring[c, m]
                    k += count[c, m]
            out[c, i] = np.sqrt(max(s, 0.0) / k) if k > 0 else np.nan
        acc[c, 0] = s
        acc[c, 1] = k
