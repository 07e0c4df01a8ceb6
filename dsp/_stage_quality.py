"""The chain's quality windows: mains fraction, saturation, flat runs, pops, lost samples, noise
and floor ratio per channel and window (``QUALITY_WINDOW_S`` by default) on the absolute timeline
(:mod:`dsp._quality_numba`)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from dsp import _quality_numba
from dsp._buffer import TimelineBuffer
from dsp._grid import ChainGrid
from dsp._threads import SplitKernel
from dsp.config import ChainConfig
from dsp.types import QUALITY_DTYPE

_WINDOWS = SplitKernel(_quality_numba, "window_quality_serial",
                       _quality_numba.PER_CHANNEL["window_quality_serial"])
#: Samples below the pop level before another pop counts (s).
POP_REARM_S = 0.05
#: Blocks of the floor ratio (s): a quarter of a second holds a few hundred samples at 1-2 kHz,
#: short enough that a movement's slow wave is a straight line in most of them (which reads 1).
FLOOR_BLOCK_S = 0.25


def mains_tables(mains_hz: float, sfreq_hz: float, n_samples: int) -> tuple[np.ndarray, np.ndarray]:
    """Cosine and sine of the mains line and its 2nd and 3rd harmonics over ``n_samples``
    (shape (3, n_samples)); a line at or above Nyquist has tables of zeros."""
    lines_hz = np.array([h * mains_hz for h in (1, 2, 3)])
    phase = 2 * np.pi * np.outer(lines_hz, np.arange(n_samples)) / sfreq_hz
    below = (lines_hz < sfreq_hz / 2)[:, None]
    return np.cos(phase) * below, np.sin(phase) * below


class QualityWindows:
    """Quality rows of each window once its samples and noise blocks are in.

    Parameters
    ----------
    grid : ChainGrid
    n_channels : int
    mains_hz : float
    config : ChainConfig
        ``flat_run_s``, ``rail_run`` and ``pop_k``.
    origin_sample : int
        Timeline sample where the signal starts (a multiple of the window length).
    threaded : callable(int) -> bool
        Given the samples of a call (all channels), says whether to split channels over threads.
    """

    def __init__(self, grid: ChainGrid, n_channels: int, mains_hz: float, config: ChainConfig,
                 origin_sample: int, threaded: Callable[[int], bool]) -> None:
        self.grid = grid
        self.n_channels = n_channels
        self.windows_done = origin_sample // grid.window_samples
        self._cos, self._sin = mains_tables(mains_hz, grid.sfreq_hz, grid.window_samples)
        self._switch: tuple[int, np.ndarray, np.ndarray] | None = None  # (window start, tables)
        self._flat_run_samples = grid.samples(config.flat_run_s)
        self._rail_run_samples = config.rail_run
        self._pop_k = config.pop_k
        self._threaded = threaded

    def switch_mains(self, mains_hz: float, from_sample: int) -> None:
        """Measure the line at ``mains_hz`` in the windows that start at timeline sample
        ``from_sample`` or later (the notches moved to the other grid there)."""
        win = self.grid.window_samples
        self._switch = (-(-from_sample // win) * win,
                        *mains_tables(mains_hz, self.grid.sfreq_hz, win))

    @property
    def done_until(self) -> int:
        """Timeline sample where the windows returned so far end."""
        return self.windows_done * self.grid.window_samples

    def take(self, end: int | None, raw: TimelineBuffer, filtered: TimelineBuffer,
             block_sigmas: TimelineBuffer) -> np.ndarray:
        """Rows of the windows whose noise blocks are all done; with ``end`` (the end of the
        stream) also the last, partial window."""
        win, q0 = self.grid.window_samples, self.windows_done
        q_end = block_sigmas.stop * self.grid.block_samples // win
        if end is not None:
            q_end = min(q_end, -(-end // win))
        if q_end <= q0:
            return np.zeros(0, QUALITY_DTYPE)
        n_full = q_end - q0
        if end is not None and q_end * win > end:
            n_full -= 1
        rows = []
        if n_full:
            a, b = q0 * win, (q0 + n_full) * win
            cut = self._switch[0] if self._switch is not None else b
            for lo, hi in ((a, min(max(cut, a), b)), (min(max(cut, a), b), b)):
                if hi > lo:  # the windows before the notches moved, and after
                    rows.append(self._rows(lo, hi, win, raw, filtered, block_sigmas))
        if n_full < q_end - q0:
            a = (q_end - 1) * win
            rows.append(self._rows(a, end, end - a, raw, filtered, block_sigmas))
        self.windows_done = q_end
        return np.concatenate(rows)

    def _rows(self, a: int, b: int, win: int, raw: TimelineBuffer, filtered: TimelineBuffer,
              block_sigmas: TimelineBuffer) -> np.ndarray:
        """Rows of the windows of ``win`` samples between samples ``a`` and ``b``."""
        block = self.grid.block_samples
        n_win = (b - a) // win
        out = np.empty((self.n_channels, n_win, len(_quality_numba.COLUMNS)))
        stats = block_sigmas.view(a // block, -(-b // block))
        cos_t, sin_t = self._cos, self._sin
        if self._switch is not None and a >= self._switch[0]:
            cos_t, sin_t = self._switch[1:]
        _WINDOWS(self._threaded(self.n_channels * n_win * win), raw=raw.view(a, b),
                 y=filtered.view(a, b), win=win, stats=stats, per=-(-win // block),
                 cos_t=cos_t, sin_t=sin_t,
                 flat_run=self._flat_run_samples, rail_run=self._rail_run_samples,
                 pop_k=self._pop_k, rearm=self.grid.samples(POP_REARM_S),
                 floor_block=self.grid.samples(FLOOR_BLOCK_S), out=out)
        rows = np.zeros((n_win, self.n_channels), QUALITY_DTYPE)
        rows["channel"] = np.arange(self.n_channels)
        rows["start"] = (a + win * np.arange(n_win))[:, None]
        rows["stop"] = rows["start"] + win
        for k, name in enumerate(_quality_numba.COLUMNS):
            rows[name] = out[:, :, k].T
        return rows.ravel()
