"""Robust rolling noise floor: MAD sigma per block, rolling lower quartile over tens of seconds.

Block b covers samples [b*B, (b+1)*B) of the absolute timeline; its statistic is
median(|x|)/0.6745 over the valid samples (the upper median when their count is even) (NaN when under half are valid). The floor at block b is the
lower quartile (``quantile``) of the valid statistics of blocks b-M+1..b. Potentials and the ringing
they leave in the notches raise the blocks they fall in; the lower quartile of 60 blocks picks the
quiet ones (a median of block medians read 10-20 % high with 60 potentials/min of 200 µV over 3 µV
noise; the lower quartile stays within 6 %). A fall of the noise is followed after a quarter of the
window, a rise after three quarters.
"""

from __future__ import annotations

import numpy as np

from dsp import _noise_numba


def noise_floor(
    y: np.ndarray,
    sfreq_hz: float,
    block_s: float = 0.5,
    window_s: float = 30.0,
    quantile: float = 0.25,
) -> tuple[np.ndarray, int]:
    """Noise sigma (µV) per block of a band-passed signal, in one call.

    Parameters
    ----------
    y : ndarray, shape (n_samples,) or (n_channels, n_samples)
        Band-passed signal starting at sample 0 of the timeline; NaN = lost.
    sfreq_hz : float
        Sampling rate.
    block_s, window_s : float
        Block length and rolling span.
    quantile : float
        Quantile of the block statistics taken over the span (0.5 = median).

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
    _noise_numba.rolling_quantile(stats, hist, 0, quantile, sigma)
    return (sigma[0] if y.ndim == 1 else sigma), block_len
