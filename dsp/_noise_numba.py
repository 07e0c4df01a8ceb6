"""Numba kernels of the robust noise floor: per-block MAD sigma and its rolling median."""

from __future__ import annotations

import numpy as np
from numba import njit, prange

MAD_TO_SIGMA = 1.0 / 0.6744897501960817


@njit(cache=True, boundscheck=False, parallel=True)
def block_sigmas(y, block_len, out):
    """``out[c, b]`` = median(|y|)/0.6745 of block b of channel c; NaN when under half is valid."""
    n_blocks = out.shape[1]
    for c in prange(y.shape[0]):
        tmp = np.empty(block_len)
        for b in range(n_blocks):
            count = 0
            for i in range(b * block_len, (b + 1) * block_len):
                v = y[c, i]
                if v == v:
                    tmp[count] = abs(v)
                    count += 1
            if 2 * count < block_len or count == 0:
                out[c, b] = np.nan
            else:
                out[c, b] = np.median(tmp[:count]) * MAD_TO_SIGMA


@njit(cache=True, boundscheck=False)
def rolling_median(stats, hist, block0, out):
    """Median of the valid values among the last ``hist.shape[1]`` block stats, block included.

    ``hist`` (channels, window) is the ring of past stats indexed by absolute block number.
    """
    window = hist.shape[1]
    tmp = np.empty(window)
    for c in range(stats.shape[0]):
        for b in range(stats.shape[1]):
            hist[c, (block0 + b) % window] = stats[c, b]
            count = 0
            for j in range(window):
                v = hist[c, j]
                if v == v:
                    tmp[count] = v
                    count += 1
            out[c, b] = np.median(tmp[:count]) if count > 0 else np.nan


@njit(cache=True, boundscheck=False)
def frame_rms(y, hop, out):
    """RMS of the valid samples of each frame of ``hop`` samples; NaN when under half is valid."""
    for c in range(y.shape[0]):
        for f in range(out.shape[1]):
            acc = 0.0
            count = 0
            for i in range(f * hop, (f + 1) * hop):
                v = y[c, i]
                if v == v:
                    acc += v * v
                    count += 1
            out[c, f] = np.sqrt(acc / count) if 2 * count >= hop and count > 0 else np.nan


@njit(cache=True, boundscheck=False)
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
