"""The notches follow the mains line's frequency through the night.

A grid's frequency follows its load: the European grid's standard range is +-50 mHz (ENTSO-E), and
EN 50160 allows +-1 %. A Q 60 notch is 0.83 Hz wide at every harmonic, so a line 0.05 Hz from its
centre passes 12 % of the fundamental's hum and 34 % of the third harmonic's (which moves three
times as far). Centred once, at the start of a night, on the line measured then, the notches let a
strong hum through as the grid drifts; the hum then raises the noise floor and hides the
potentials (on independent scenes with 50 uV of hum wandering +-0.05 Hz and real units' shapes,
recall fell to 0.75).

:class:`TrackingFilter` is the chain's cascade with its notches re-centred every ``retune_s`` on
the line measured over the ``window_s`` before. The line is measured by its phase: the raw signal
(summed over channels, lost samples left out) is demodulated at the line measured at the start in
blocks of one second, and the frequency offset is the mean phase step between consecutive blocks
(the pulse-pair estimator: unambiguous up to +-0.5 Hz, and it needs no spectrum), followed along
its trend to halfway to the next re-centring. Blocks are left out where the line does not stand
``LINE_RATIO`` above the background 3 Hz beside it, or where its phasor is off the window's
typical size (activity's own 50-Hz content). The notches stay where they are when fewer than
``MIN_BLOCK_SHARE`` of the window's blocks are left, when the phase steps do not agree
(``MIN_COHERENCE``), or when the line is weaker than ``MIN_LINE_UV`` (too weak to hurt). The
cascade's coefficients change between two samples and its state is kept: for a few hundredths of
a hertz the step is far below the noise.

When no hum stood out at the start the grid was assumed (:class:`dsp.chain.DetectionChain`), and
a hum that comes later may be at the other grid's frequency: 60 Hz where 50 was assumed. Its line
then passes the notches at full strength and its time is lost to "mains artifacts". While the grid
is assumed, each block is demodulated at the other grid's nominal line too; at a re-centring the
notches move to it (the cascade designed on its line, measured by the same pulse-pair estimator)
when it stood out in ``MIN_BLOCK_SHARE`` of the blocks since the last one, at ``MIN_LINE_UV`` or
more and stronger than the assumed grid's line there. The cascade is given room for either grid's
notches from the start, so its latency does not change. Once the assumed grid's own line has
stood out so, the grid is known (a place has one) and the other is no longer watched.

Everything is decided at absolute sample positions, from whole blocks, so the output does not depend
on how the input is split.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from dsp.filters import StreamingFilter, _coefficients

#: Length of one demodulated block (s): the phase step between blocks is unambiguous for lines
#: within +-1 / (2 x this) Hz of the demodulation frequency.
BLOCK_S = 1.0
#: The phase steps of a steady line agree: |mean of the unit steps| at least this.
MIN_COHERENCE = 0.8
#: Notches are re-centred only for a change of at least this (Hz).
MIN_CHANGE_HZ = 0.005
#: The trend followed past the measured window moves the line by at most this (Hz).
MAX_TREND_HZ = 0.02
#: Phase steps further than this (Hz), or 3 robust SDs, from their median are left out.
STEP_SPREAD_HZ = 0.005
#: A block's phasor this far from the median size (either way) is not the line's.
SIZE_RATIO = 2.0
#: A block holds the line when its power at the line is at least ``LINE_RATIO`` x that
#: ``SIDE_HZ`` above it (a 1-s block's bins are 1 Hz apart): movement, a cramp or a large potential
#: spread their power over the band, and such a block says nothing of the line's phase.
LINE_RATIO = 100.0
SIDE_HZ = 3.0
#: The line is measured only where it stood out in this share of the window's blocks (and of the
#: steps between them) at least.
MIN_BLOCK_SHARE = 0.6
#: A line weaker than this (µV, summed over channels) is left where the notches are: 0.05 Hz off a
#: Q 60 notch it passes 12 % of itself, under 1.2 µV, below any sensor's noise.
MIN_LINE_UV = 10.0


class TrackingFilter(StreamingFilter):
    """:class:`dsp.filters.StreamingFilter` whose notches follow the mains line.

    Parameters
    ----------
    design : callable(float) -> ndarray
        The cascade (second-order sections) with its notches at a given line frequency.
    line_hz : float
        The line at the start (the cascade's first centre, and the demodulation frequency).
    sfreq_hz : float
    n_channels : int
    retune_s : float
        How often the notches are re-centred.
    window_s : float
        How much signal before each re-centring measures the line.
    """

    def __init__(self, design: Callable[[float], np.ndarray], line_hz: float, sfreq_hz: float,
                 n_channels: int, retune_s: float, window_s: float,
                 watch_hz: float | None = None) -> None:
        room = 0 if watch_hz is None else len(design(watch_hz))
        super().__init__(design(line_hz), n_channels, min_sections=room)
        self.design = design
        self.line_hz = float(line_hz)
        self.start_line_hz = float(line_hz)
        self.sfreq_hz = float(sfreq_hz)
        self._block = max(2, round(BLOCK_S * sfreq_hz))
        self._retune = max(1, round(retune_s / BLOCK_S)) * self._block
        self._window_blocks = max(2, round(window_s / BLOCK_S))
        self._pending = np.zeros(0)  # the channel sum of the block being filled
        self._phasors: list[complex] = []  # the last blocks' (NaN where samples were lost)
        self._blocks_done = 0
        n = np.arange(self._block) / sfreq_hz
        self._line_wave = _Demodulator(self.start_line_hz, n)
        self._side_wave = _Demodulator(self.start_line_hz + SIDE_HZ, n)
        #: The other grid's line, watched for while the grid was assumed (None once decided).
        self.watch_hz = None if watch_hz is None else float(watch_hz)
        #: Input sample from which the notches sit on the other grid (None: they never moved).
        self.switched_at: int | None = None
        if self.watch_hz is not None:
            self._watch_wave = _Demodulator(self.watch_hz, n)
            self._watch_side = _Demodulator(self.watch_hz + SIDE_HZ, n)
        self._watched: list[complex] = []  # the last blocks' phasors at the other grid's line
        self._own_sizes: list[float] = []  # and the size of the start's line in them (NaN: none)
        #: (input sample from which it applies, cascade): the cascades run so far, in order; the
        #: detector predicts a large potential's ringing with the one in effect, and forgets those
        #: before what it has scanned.
        self.history: list[tuple[int, np.ndarray]] = [(0, np.asarray(design(line_hz)))]

    def advance_into(self, x: np.ndarray, y: np.ndarray, kept: np.ndarray | None = None) -> None:
        """As :meth:`StreamingFilter.advance_into`, re-centring the notches at every
        ``retune_s`` of input.

        The line is measured on the raw input alone, so where the notches move within ``x`` is
        known before it is filtered: the cascade runs over ``x`` in one kernel call, its
        coefficients changing at those samples.
        """
        start, n = self.n_in, x.shape[1]
        coefs, bounds = [self.coef.copy()], [0]
        a = 0
        while a < n:
            b = min(n, a + self._retune - (start + a) % self._retune)
            self._measure(x[:, a:b])
            if (start + b) % self._retune == 0 and self._retune_at(start + b) and b < n:
                coefs.append(self.coef.copy())
                bounds.append(b)
            a = b
        bounds.append(n)
        if kept is None:  # the pipeline's flush: the copy is not wanted
            kept = np.empty(x.shape)
        self.advance_pieces_into(x, y, kept, np.stack(coefs), np.array(bounds))

    def _measure(self, x: np.ndarray) -> None:
        """Add ``x`` to the blocks; demodulate each block as it completes."""
        buf = np.concatenate([self._pending, np.sum(x, axis=0, dtype=np.float64)])
        n_blocks = buf.size // self._block
        for block in buf[:n_blocks * self._block].reshape(n_blocks, self._block):
            self._phasors.append(self._phasor(block))  # one block at a time: any split alike
        self._pending = buf[n_blocks * self._block:]
        del self._phasors[:-self._window_blocks]

    def _phasor(self, block: np.ndarray) -> complex:
        """The next block demodulated at the start's line (NaN when a sample was lost); while
        the other grid is watched, its line's phasor in the block is kept too."""
        k, self._blocks_done = self._blocks_done, self._blocks_done + 1
        mean = float(np.sum(block)) / block.size  # the offset is no part of the line
        z = _line_phasor(block, mean, self._line_wave, self._side_wave,
                         self.start_line_hz * k * self._block / self.sfreq_hz)
        if self.watch_hz is not None:
            self._own_sizes.append(abs(z))
            self._watched.append(_line_phasor(block, mean, self._watch_wave, self._watch_side,
                                              self.watch_hz * k * self._block / self.sfreq_hz))
            del self._own_sizes[:-self._window_blocks], self._watched[:-self._window_blocks]
        return z

    def _retune_at(self, at_sample: int) -> bool:
        """Move the notches from input sample ``at_sample`` on, to the other grid
        (:meth:`_switch_grid`) or to where the line went (:meth:`_recentre`); True when they
        moved."""
        return self._switch_grid(at_sample) or self._recentre(at_sample)

    def _switch_grid(self, at_sample: int) -> bool:
        """Move the notches to the other grid's line when it stood out (``LINE_RATIO``) in at
        least ``MIN_BLOCK_SHARE`` of the blocks since the last re-centring, at ``MIN_LINE_UV`` or
        more and above the start's line there; stop watching once the start's line did so (a
        place has one grid). True when they moved."""
        if self.watch_hz is None:
            return False
        n_last = self._retune // self._block
        own, other = np.array(self._own_sizes[-n_last:]), np.array(self._watched[-n_last:])
        if _line_stands(own, n_last, self._block):
            self.watch_hz = None  # the grid assumed is the grid here
            return False
        if not _line_stands(np.abs(other), n_last, self._block) or not (
                np.nanmedian(np.abs(other)) > np.nanmedian(np.where(np.isnan(own), 0.0, own))):
            return False
        watched = np.array(self._watched)
        line = measured_line_hz(watched, self.watch_hz, BLOCK_S, min_steps=2) or self.watch_hz
        sos = np.asarray(self.design(line))
        self.coef[...] = _coefficients(sos, self.coef.shape[1])
        self._line_wave, self._side_wave = self._watch_wave, self._watch_side
        self.start_line_hz, self.line_hz = self.watch_hz, line
        self._phasors = list(self._watched)  # the line's blocks so far, for the re-centring
        self.watch_hz, self.switched_at = None, at_sample
        self.history.append((at_sample, sos))
        return True

    def _recentre(self, at_sample: int) -> bool:
        """Re-centre the notches on the line measured over the last ``window_s``, from input
        sample ``at_sample`` on; True when they moved."""
        # the notches stay until the next re-centring: the line wanted is the one halfway there
        ahead = len(self._phasors) + 0.5 * self._retune / self._block
        phasors = np.array(self._phasors)
        size = np.abs(phasors)
        size = size[np.isfinite(size)]
        if (len(size) < MIN_BLOCK_SHARE * self._window_blocks
                or 2.0 * float(np.median(size)) / self._block < MIN_LINE_UV):
            return False
        line = measured_line_hz(phasors, self.start_line_hz, BLOCK_S, ahead,
                                min_steps=int(np.ceil(MIN_BLOCK_SHARE * (self._window_blocks - 1))))
        if line is None or abs(line - self.line_hz) < MIN_CHANGE_HZ:
            return False
        sos = np.asarray(self.design(line))
        coef = _coefficients(sos, self.coef.shape[1])
        if coef.shape != self.coef.shape:  # a harmonic crossed the top of the band: keep them
            return False
        self.coef[...] = coef
        self.line_hz = line
        self.history.append((at_sample, sos))
        return True


def _line_phasor(block: np.ndarray, mean: float, line: _Demodulator, side: _Demodulator,
                 cycles: float) -> complex:
    """``block``'s phasor at ``line``, its phase taken back ``cycles`` (to the night's start);
    NaN when the line does not stand ``LINE_RATIO`` above the power at ``side`` (or a sample was
    lost)."""
    z = line.phasor(block, mean)
    if not abs(z) ** 2 >= LINE_RATIO * abs(side.phasor(block, mean)) ** 2:
        return complex(np.nan, np.nan)  # no line above the background beside it
    return z * complex(np.exp(-2j * np.pi * (cycles % 1.0)))


def _line_stands(sizes: np.ndarray, n_blocks: int, block_samples: int) -> bool:
    """Whether a line stood out in at least ``MIN_BLOCK_SHARE`` of ``n_blocks`` blocks (its
    phasors' ``sizes``, NaN where it did not) with a median amplitude of ``MIN_LINE_UV`` or more."""
    size = sizes[np.isfinite(sizes)]
    return bool(n_blocks and len(size) >= MIN_BLOCK_SHARE * n_blocks
                and 2.0 * float(np.median(size)) / block_samples >= MIN_LINE_UV)


class _Demodulator:
    """One block's phasor at one frequency (``n_s``: the block's sample times from its start)."""

    def __init__(self, freq_hz: float, n_s: np.ndarray) -> None:
        self.cos, self.sin = np.cos(2 * np.pi * freq_hz * n_s), np.sin(2 * np.pi * freq_hz * n_s)
        self.cos_sum, self.sin_sum = float(np.sum(self.cos)), float(np.sum(self.sin))

    def phasor(self, block: np.ndarray, mean: float) -> complex:
        return complex(float(np.dot(block, self.cos)) - mean * self.cos_sum,
                       mean * self.sin_sum - float(np.dot(block, self.sin)))


def measured_line_hz(phasors: np.ndarray, demod_hz: float, block_s: float,
                     at_blocks: float | None = None, min_steps: int = 1) -> float | None:
    """The line's frequency from its phasors in consecutive blocks demodulated at ``demod_hz``:
    ``demod_hz`` + the mean phase step per block / (2 pi ``block_s``). A line's phasor keeps its
    size from block to block; a block whose phasor is off the median size by more than
    ``SIZE_RATIO`` holds something else (a large potential's own 50-Hz content) and its steps are
    left out. With ``at_blocks`` (time in blocks from the first block's start) the steps' trend, a
    straight line through them, is followed to that time (the line keeps moving while the notches
    wait for the next re-centring), by at most ``MAX_TREND_HZ``. None when fewer than
    ``min_steps`` steps are left or the unit steps agree less than ``MIN_COHERENCE``.

    Examples
    --------
    >>> t = np.arange(10)
    >>> z = 40.0 * np.exp(2j * np.pi * 0.03 * t)  # a line 0.03 Hz above the demodulation
    >>> round(measured_line_hz(z, 50.0, 1.0), 3)
    50.03
    >>> z = 40.0 * np.exp(2j * np.pi * 0.001 * (t + 0.5) ** 2)  # blocks' centres; +0.002 Hz/s
    >>> round(measured_line_hz(z, 50.0, 1.0, at_blocks=15.0), 3)
    50.03
    """
    size = np.abs(phasors)
    known = np.isfinite(size)
    typical = float(np.median(size[known])) if known.any() else np.nan
    line_like = np.isfinite(size) & (size >= typical / SIZE_RATIO) & (size <= typical * SIZE_RATIO)
    ok = line_like[1:] & line_like[:-1]
    steps = (phasors[1:] * np.conj(phasors[:-1]))[ok]
    when = np.arange(1, len(phasors), dtype=np.float64)[ok]  # a step: the line at a boundary
    if len(steps) < max(1, min_steps) or abs(np.mean(steps / np.abs(steps))) < MIN_COHERENCE:
        return None
    offset_hz = np.angle(steps) / (2 * np.pi * block_s)
    # a step the activity in one of its blocks bent is off the others: left out
    middle = np.median(offset_hz)
    spread = max(STEP_SPREAD_HZ, 3.0 * 1.4826 * float(np.median(np.abs(offset_hz - middle))))
    near = np.abs(offset_hz - middle) <= spread
    offset_hz, when = offset_hz[near], when[near]
    mean_hz = float(np.mean(offset_hz))
    if at_blocks is None or len(steps) < 3 or np.ptp(when) == 0:
        return float(demod_hz + mean_hz)
    centred = when - np.mean(when)
    slope = float(np.dot(centred, offset_hz) / np.dot(centred, centred))  # least squares
    trend = float(np.clip(slope * (at_blocks - np.mean(when)), -MAX_TREND_HZ, MAX_TREND_HZ))
    return float(demod_hz + mean_hz + trend)
