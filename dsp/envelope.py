"""Streaming envelopes: Teager-Kaiser energy and trailing moving RMS (float64 arithmetic).

Both accept float32 or float64 chunks of shape (n_channels, n) and give the same result for any
chunking as for one call on the whole signal.
"""

from __future__ import annotations

import numpy as np

from dsp import _envelope_numba


def _as_2d(x: np.ndarray, n_channels: int) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 2 or x.shape[0] != n_channels:
        raise ValueError(f"expected shape ({n_channels}, n), got {x.shape}")
    if x.dtype != np.float32 and x.dtype != np.float64:
        x = x.astype(np.float64)
    return np.ascontiguousarray(x)


class TeagerKaiser:
    """Teager-Kaiser energy psi[n] = x[n]^2 - x[n-1] x[n+1], with x = 0 outside the signal.

    ``process`` returns psi of every sample whose successor has arrived (one sample of latency);
    ``flush`` returns the last one. NaN input gives NaN at that sample and its neighbours.
    """

    def __init__(self, n_channels: int) -> None:
        self.n_channels = int(n_channels)
        self._prev = np.zeros((self.n_channels, 2))
        self._started = False

    def process(self, x: np.ndarray) -> np.ndarray:
        """Feed a chunk; returns psi for the samples up to the one before its last."""
        x = _as_2d(x, self.n_channels)
        out = np.empty(x.shape)
        _envelope_numba.tkeo(x, self._prev, out)
        if not self._started and x.shape[1]:
            self._started = True
            return out[:, 1:]
        return out

    def flush(self) -> np.ndarray:
        """psi of the last sample (its successor taken as 0)."""
        if not self._started:
            return np.zeros((self.n_channels, 0))
        return _flush_tail(self._prev)


def _flush_tail(prev: np.ndarray) -> np.ndarray:
    out = np.empty((prev.shape[0], 1))
    _envelope_numba.tkeo(np.zeros((prev.shape[0], 1)), prev, out)
    return out


def teager_kaiser(x: np.ndarray) -> np.ndarray:
    """Teager-Kaiser energy of a 1-D or (n_channels, n) signal in one call (same shape, float64)."""
    x = np.asarray(x)
    x2 = np.atleast_2d(x)
    op = TeagerKaiser(x2.shape[0])
    y = np.concatenate([op.process(x2), op.flush()], axis=1)
    return y[0] if x.ndim == 1 else y


class MovingRms:
    """Trailing RMS over ``window`` samples, NaN samples skipped (NaN when none is valid).

    The window starts empty: the first outputs average over the samples seen so far.
    """

    def __init__(self, n_channels: int, window: int) -> None:
        if window < 1:
            raise ValueError(f"window must be >= 1 sample, got {window}")
        self.n_channels = int(n_channels)
        self._ring = np.zeros((self.n_channels, int(window)))
        self._count = np.zeros((self.n_channels, int(window)))
        self._acc = np.zeros((self.n_channels, 2))
        self._pos = 0

    def process(self, x: np.ndarray) -> np.ndarray:
        """RMS at every sample of the chunk (float64, same shape)."""
        x = _as_2d(x, self.n_channels)
        out = np.empty(x.shape)
        _envelope_numba.moving_rms(x, self._ring, self._count, self._acc, self._pos, out)
        self._pos += x.shape[1]
        return out


def moving_rms(x: np.ndarray, window: int) -> np.ndarray:
    """Trailing moving RMS of a 1-D or (n_channels, n) signal in one call."""
    x = np.asarray(x)
    x2 = np.atleast_2d(x)
    y = MovingRms(x2.shape[0], window).process(x2)
    return y[0] if x.ndim == 1 else y
