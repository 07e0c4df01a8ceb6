"""Robust rolling noise floor: MAD sigma per block, rolling median over tens of seconds.

Block b covers samples [b*B, (b+1)*B) of the absolute timeline; its statistic is
median(|x|)/0.6745 over the valid samples (the upper median when their count is even) (NaN when under half are valid). The floor at block b is the
median of the valid statistics of blocks b-M+1..b, so sparse potentials (a few % of the samples) barely
move it, and a change of the noise level is followed within about M/2 blocks.
"""

from __future__ import annotations

import numpy as np

from dsp import _noise_numba


def noise_floor(
    y: np.ndarray, sfreq_hz: float, block_s: float = 0.5, window_s: float = 30.0
) -> tuple[np.ndarray, int]:
    """Noise sigma (µV) per block of a band-passed signal, in one call.

    Parameters
    ----------
    y : ndarray, shape (n_samples,) or (n_channels, n_samples)
        Band-passed signal starting at sample 0 of the timeline; NaN = lost.
    sfreq_hz : float
        Sampling rate.
    block_s, window_s : float
        Block length and rolling-median span.

    Returns
    -------
    sigma_uv : ndarray, shape (n_blocks,) or (n_channels, n_blocks)
        Floor per complete block.
    block_len : int
        Samples per block.
    """
    y = np.asarray(y, dtype=np.float64)
    y2 = np.atleast_2d(y)
    block_len = max(1, round(block_s * sfreq_hz))
    n_blocks = y2.shape[1] // block_len
    stats = np.empty((y2.shape[0], n_blocks))
    _noise_numba.block_sigmas(np.ascontiguousarray(y2[:, : n_blocks * block_len]), block_len, stats)
    hist = np.full((y2.shape[0], max(1, round(window_s / block_s))), np.nan)
    sigma = np.empty_like(stats)
    _noise_numba.rolling_median(stats, hist, 0, sigma)
    return (sigma[0] if y.ndim == 1 else sigma), block_len
