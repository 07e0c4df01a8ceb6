"""The chain's noise tracker: robust noise per block, its rolling lower quantile (the floor the
detector compares with), and the envelope frames, all from one pass over each complete block.

Block b covers samples [b*B, (b+1)*B) of the absolute timeline; its statistic is median(|x|)/0.6745
over the valid samples (the upper median when their count is even; NaN when under half are valid).
The floor at block b is the order statistic ``round(quantile * (m - 1))`` of the m valid statistics
of the last ``noise_window_s`` of blocks, b included. Potentials and the ringing they leave in the
notches raise the blocks they fall in; the lower quartile of 60 blocks picks the quiet ones (a
median of block medians read 10-20 % high with 60 potentials/min of 200 µV over 3 µV noise; the
lower quartile stays within 6 %). A fall of the noise is followed after a quarter of the window, a
rise after three quarters.

A flat block (a constant signal: electrodes not yet on, or a sensor that sends its last level
while a lead is off) has a statistic of exactly 0 and no noise to measure: it stays out of the
window (as a lost block does) and its own floor is 0. Kept in, a minute of flat signal held the
lower quartile at 0 until three quarters of the window were signal again, and for those 22 s the
detector took every noise peak for a candidate (on independent scenes whose first minute was flat,
recall of the potentials >= 10 x the noise 0.84 and 0.80 at two seeds, the rest of the scene
0.96 and above).

Neither a block's statistic nor the floor is taken below half the recording's converter step, the
largest error of a rounding quantizer (Widrow & Kollar, *Quantization Noise*, Cambridge University
Press 2008, ch. 4): ``step`` is the smallest non-zero difference of two successive raw samples up
to the block's end (:func:`resolution_sigmas`). A sensor whose noise is below its converter's step
(a 10-bit converter's 3.2 µV on BITalino's EMG channel) records a level that stays put and moves
by whole steps; the median of the filtered signal then reads near zero, and each step crosses a
threshold set from it. The bound puts the counting floor (8.5 sigma, classifier) at 4.25 steps.
Why half a step and not the RMS of a busy quantizer's error (``step / sqrt(12)``): where the
noise is a third of a step the steps come one by one, a sparse, heavy-tailed signal whose median
reads low; on independent scenes of 1 µV noise on 3.2-µV steps (and 2 µV on 6.4), the lower bound
left 1.9-2.9 false twitches a minute, half a step none (recall at 20 a minute 0.99-1.00). Where
the noise spans a step or more (all the recordings of the sample data: 1.7 steps and more) the
bound is below the measured noise and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from dsp import _noise_numba
from dsp._buffer import TimelineBuffer
from dsp._grid import ChainGrid
from dsp._threads import SplitKernel

_UPDATE = SplitKernel(_noise_numba, "update_blocks_serial",
                      _noise_numba.PER_CHANNEL["update_blocks_serial"])
_STEPS = SplitKernel(_noise_numba, "block_steps_serial",
                     _noise_numba.PER_CHANNEL["block_steps_serial"])


class NoiseTracker:
    """Noise statistics of the complete blocks of a filtered signal, and the frames returned.

    Parameters
    ----------
    n_channels : int
    grid : ChainGrid
    window_s : float
        Span of the rolling quantile (s).
    quantile : float
        Quantile of the block statistics over the span (0.5: the median).
    origin_sample : int
        Timeline sample where the filtered signal starts (a multiple of the block length).
    threaded : callable(int) -> bool
        Given the samples of a call (all channels), says whether to split channels over threads.

    Attributes
    ----------
    floors : TimelineBuffer
        The floor (sigma, µV) per block, indexed by absolute block number.
    block_sigmas : TimelineBuffer
        Each block's own statistic (sigma, µV), indexed by absolute block number.
    frames_done : int
        Absolute index of the next frame :meth:`take_frames` returns.
    """

    def __init__(self, n_channels: int, grid: ChainGrid, window_s: float, quantile: float,
                 origin_sample: int, threaded: Callable[[int], bool]) -> None:
        self.grid = grid
        self.quantile = quantile
        first_block = origin_sample // grid.block_samples
        self.floors = TimelineBuffer(n_channels, first_block, 1 << 10)
        self.block_sigmas = TimelineBuffer(n_channels, first_block, 1 << 10)
        self._frames = TimelineBuffer(n_channels, origin_sample // grid.hop_samples, 1 << 12)
        self.frames_done = origin_sample // grid.hop_samples
        window_blocks = max(1, round(window_s * grid.sfreq_hz / grid.block_samples))
        self._history = np.full((n_channels, window_blocks), np.nan)
        self._last_median = np.full((n_channels, 1), np.nan)  # a guess for the next block's
        self._last_raw = np.full((n_channels, 1), np.nan)  # the raw sample before the next block
        self._step_uv = np.full((n_channels, 1), np.inf)  # smallest raw step so far
        self._threaded = threaded

    @property
    def blocks_done(self) -> int:
        """Absolute index of the next block to process."""
        return self.floors.stop

    def update(self, filtered: TimelineBuffer, raw: TimelineBuffer) -> bool:
        """Process the blocks of ``filtered`` completed since the last call (``raw``: the samples
        they were filtered from, on the same timeline); False when none."""
        block = self.grid.block_samples
        b_done, b_end = self.blocks_done, filtered.stop // block
        if b_end <= b_done:
            return False
        n_channels, n_blocks = self._history.shape[0], b_end - b_done
        stats = np.empty((n_channels, n_blocks))
        floors = np.empty_like(stats)
        frames = np.empty((n_channels, n_blocks * self.grid.hops_per_block))
        y = filtered.view(b_done * block, b_end * block)
        _UPDATE(self._threaded(y.size), y=y, block_len=block, hop=self.grid.hop_samples,
                hist=self._history, block0=b_done, q=self.quantile, med=self._last_median,
                stats=stats, sig=floors, env=frames)
        least = self._resolution(raw.view(b_done * block, b_end * block), block)
        np.copyto(stats, least, where=stats < least)  # NaN (too few valid samples) stays NaN
        np.copyto(floors, least, where=floors < least)
        self.block_sigmas.append(stats)
        self.floors.append(floors)
        self._frames.append(frames)
        return True

    def _resolution(self, raw: np.ndarray, block: int) -> np.ndarray:
        """The least noise (µV) of each block of ``raw`` (:func:`resolution_sigmas`), the
        smallest step and last sample carried over from the blocks before."""
        least, self._step_uv, self._last_raw = resolution_sigmas(
            raw, block, self._last_raw, self._step_uv, self._threaded(raw.size))
        return least

    def take_frames(self, end: int | None) -> tuple[np.ndarray, np.ndarray, int]:
        """Envelope and floor of the frames of the blocks done since the last call (up to the
        frame holding sample ``end - 1`` when ``end`` is given), and the first frame's index."""
        hop, frame0 = self.grid.hop_samples, self.frames_done
        f_end = self.blocks_done * self.grid.hops_per_block
        if end is not None:
            f_end = min(f_end, -(-end // hop))
        n_channels = self._history.shape[0]
        if f_end <= frame0:
            return np.zeros((n_channels, 0)), np.zeros((n_channels, 0)), frame0
        env = self._frames.view(frame0, f_end).copy()
        blocks = np.arange(frame0, f_end) // self.grid.hops_per_block
        noise = self.floors.view(blocks[0], blocks[-1] + 1)[:, blocks - blocks[0]]
        self.frames_done = f_end
        return env, noise, frame0

    def peekable_frames(self, filtered: TimelineBuffer) -> int:
        """Complete frames of ``filtered`` after the last frame taken (none before a block is
        done)."""
        if self.floors.stop == self.floors.start:
            return 0
        hop = self.grid.hop_samples
        return max(0, (filtered.stop - self.frames_done * hop) // hop)

    def peek_frames(self, filtered: TimelineBuffer) -> tuple[np.ndarray, np.ndarray, int]:
        """Provisional frames of ``filtered`` after the last frame taken: the RMS of the valid
        samples of each hop (NaN when under half is valid), and the floor of the last block done."""
        frame0, n = self.frames_done, self.peekable_frames(filtered)
        n_channels, hop = self._history.shape[0], self.grid.hop_samples
        if not n:
            return np.zeros((n_channels, 0)), np.zeros((n_channels, 0)), frame0
        a = frame0 * hop
        y = filtered.view(a, a + n * hop).reshape(n_channels, n, hop)
        valid = np.isfinite(y)
        n_ok = valid.sum(axis=2)
        power = np.where(valid, y, 0.0) ** 2
        with np.errstate(invalid="ignore", divide="ignore"):
            env = np.sqrt(power.sum(axis=2) / n_ok)
        env[2 * n_ok < hop] = np.nan
        last = self.floors.view(self.floors.stop - 1, self.floors.stop)
        return env, np.repeat(last, n, axis=1), frame0

    def discard_before(self, block: int, stats_block: int) -> None:
        """Forget floors before ``block``, statistics before ``stats_block``, frames taken."""
        self.floors.discard_before(block)
        self._frames.discard_before(self.frames_done)
        self.block_sigmas.discard_before(stats_block)


def resolution_sigmas(raw: np.ndarray, block: int, last_raw: np.ndarray, step_uv: np.ndarray,
                      threaded: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The least noise (sigma, µV) each block can be said to hold: half the converter's step, where
    ``step`` is the smallest non-zero difference of successive samples up to the block's end.

    Parameters
    ----------
    raw : ndarray, shape (n_channels, n_blocks * block)
        Raw samples (µV) of whole blocks; NaN where missing.
    block : int
        Samples per block.
    last_raw : ndarray, shape (n_channels, 1)
        The sample before ``raw`` (NaN when none).
    step_uv : ndarray, shape (n_channels, 1)
        The smallest step before ``raw`` (inf when none).
    threaded : bool
        Split the channels over threads.

    Returns
    -------
    sigma_uv : ndarray, shape (n_channels, n_blocks)
        0 where no step has been seen.
    step_uv, last_raw : ndarray, shape (n_channels, 1)
        The smallest step up to the end of ``raw``, and its last sample.

    Examples
    --------
    >>> raw = np.round(np.linspace(0.0, 3.0, 8) / 0.5)[None, :] * 0.5  # a 0.5-µV step
    >>> sigma, step, last = resolution_sigmas(raw, 4, np.full((1, 1), np.nan),
    ...                                       np.full((1, 1), np.inf))
    >>> step.item(), sigma.tolist()
    (0.5, [[0.25, 0.25]])
    """
    steps = np.empty((raw.shape[0], raw.shape[1] // block))
    step, last = np.array(step_uv, np.float64), np.array(last_raw, np.float64)
    _STEPS(threaded, raw=raw, block_len=block, last=last, step=step, out=steps)
    return np.where(np.isfinite(steps), steps / 2.0, 0.0), step, last
