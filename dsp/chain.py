"""DetectionChain: the streaming path from raw µV chunks to candidates, envelopes, noise and quality.

Stages, each in a module of its own, run on every batch in this order:

1. input (:mod:`dsp._stage_input`): chunks checked against the timeline and gathered into batches
   of ``batch_s``;
2. filter (:mod:`dsp._stage_filter`): band-pass + notch cascade (:mod:`dsp.filters`); the first
   ``settle_s`` after the start and after every NaN stretch are treated as lost (filter transient;
   by default the time the cascade's impulse response takes to stay below 1 % of its peak,
   :func:`dsp.filters.settling_time_s`);
3. noise (:mod:`dsp._stage_noise`): per complete block of ``noise_block_s``, in one kernel pass,
   robust noise (median |x| / 0.6745), its rolling lower quartile over ``noise_window_s`` and the
   envelope frames;
4. detection (:mod:`dsp._stage_detect`): hysteresis, merging and dead time on |x| relative to the
   noise floor of the blocks before the sample's block (``causal_noise``), onset by walking back on
   the waveform;
5. measurement (:mod:`dsp._stage_measure`): features, snippets and the baseline step;
6. release (:mod:`dsp._stage_release`): candidates in peak order across channels;
7. quality windows (:mod:`dsp._stage_quality`).

Every stage keeps its state on the absolute timeline (blocks, frames and windows start at multiples
of their length), so the concatenated outputs are identical for any chunking. A candidate is
returned at most ``batch_s`` + :attr:`DetectionChain.lookahead_s` after its peak sample was fed
(about 0.12 s at 2 kHz: filter latency, the snippet's second half and the time an event may still
be open); envelope and noise frames come when their noise block is complete, quality rows when their
window is. With ``mains_hz=None`` the first ``mains_detect_s`` of data are buffered and decide 50 or
60 Hz (:func:`dsp.filters.detect_mains_hz`) before anything is output; the notches are then centred
on the line's measured frequency (:func:`dsp.filters.measure_line_hz`: grids run a few tenths of
a hertz off nominal). A given ``mains_hz`` is used as it is.
"""

from __future__ import annotations

import numpy as np

from dsp._filter_ahead import filter_ahead
from dsp._filter_numba import SKEW
from dsp._grid import ChainGrid
from dsp._stage_detect import Detector, DetectorSettings, open_event_samples, scan_margin_samples
from dsp._stage_filter import (
    FilterStage,
    delay_samples,
    design_cascade,
    settle_samples,
    streaming_filter,
)
from dsp._stage_input import ChunkStager
from dsp._stage_measure import CandidateMeasurer
from dsp._stage_noise import NoiseTracker
from dsp._stage_quality import QualityWindows
from dsp._stage_release import PeakOrderRelease
from dsp._threads import ThreadPolicy, n_threads
from dsp.config import ChainConfig
from dsp.filters import (
    LINE_RATIO,
    SECTION_PAD,
    detect_mains_hz,
    mains_from_scores,
    mains_line_scores,
    measure_line_hz,
)
from dsp.output import ChainOutput, concat_outputs
from dsp.types import QUALITY_WINDOW_S

__all__ = ["ChainOutput", "DetectionChain", "concat_outputs", "detect_mains_hz"]

#: Longest stretch processed at once (s); longer inputs are cut into pieces of this length.
MAX_PIECE_S = 120.0
#: With one channel, inputs of at least two pieces of this length (s) are filtered one piece ahead
#: on a thread of its own (:mod:`dsp._filter_ahead`).
AHEAD_MIN_PIECE_S = 2.0
#: With several channels, noise blocks worth of samples above which a kernel runs on threads over
#: groups of channels (:mod:`dsp._threads`; a threaded call costs about 0.05 ms, a block of samples
#: 5-15 µs). One channel stays on one thread.
THREADED_MIN_ITEMS = 16


def _pieces(raw: np.ndarray, n_channels: int, grid: ChainGrid) -> tuple[list[np.ndarray], bool]:
    """``raw`` cut in pieces of at most MAX_PIECE_S, so buffers stay small, and whether to filter
    them one piece ahead: with one channel and several cores, on a thread of its own."""
    s = grid.samples
    ahead = n_channels == 1 and raw.shape[1] >= 2 * s(
        AHEAD_MIN_PIECE_S) and n_threads() > 1  # (asking numba for its threads costs 3 µs)
    piece = s(MAX_PIECE_S)
    if ahead:  # at least two pieces, so that the filter has one to run ahead on
        piece = min(piece, max(s(AHEAD_MIN_PIECE_S), -(-raw.shape[1] // 4)))
    if raw.shape[1] <= piece:
        return [raw], False
    return [raw[:, lo : lo + piece] for lo in range(0, raw.shape[1], piece)], ahead


class DetectionChain:
    """Filter, detect and measure fasciculation candidates on a stream of µV chunks.

    Parameters
    ----------
    sfreq_hz : float
        Sampling rate.
    n_channels : int
        Channels of every chunk.
    mains_hz : float or None
        50 or 60; None decides from the first ``config.mains_detect_s`` of data.
    config : ChainConfig, optional
        Settings (defaults in :class:`dsp.config.ChainConfig`).
    quality_window_s : float
        Length of the quality windows (rounded to whole noise blocks): ``QUALITY_WINDOW_S`` for a
        night, one second for the placement check (``calfwatch check``).

    Attributes
    ----------
    grid : ChainGrid
        Samples per envelope/noise frame, noise block and quality window.
    mains_hz : float or None
        The nominal mains frequency, 50 or 60 (decided after ``mains_detect_s`` when it was None).
    line_hz : float or None
        The frequency the notches are centred on: the line measured in the first
        ``mains_detect_s`` when ``mains_hz`` was None, else ``mains_hz``.
    mains_assumed : bool
        Whether ``mains_hz`` was decided without a line to go by (no hum stood out in the first
        ``mains_detect_s``: 50 Hz is then assumed, and the notches move to a 60-Hz hum that
        comes later, :class:`dsp._line_track.TrackingFilter`).
    mains_switch_sample : int or None
        Timeline sample from which the notches sit on the other grid's line (``mains_hz`` and
        ``line_hz`` are then that grid's); None when they never moved.

    Examples
    --------
    >>> chain = DetectionChain(2000.0, 1, mains_hz=50.0)
    >>> x = np.random.default_rng(0).normal(0.0, 5.0, (1, 24000))
    >>> out = concat_outputs([chain.process(x, 0), chain.flush()])
    >>> out.n_frames, len(out.quality)
    (240, 2)
    """

    def __init__(self, sfreq_hz: float, n_channels: int, mains_hz: float | None = None,
                 config: ChainConfig | None = None,
                 quality_window_s: float = QUALITY_WINDOW_S) -> None:
        if not sfreq_hz > 0 or n_channels < 1:
            raise ValueError(f"need sfreq_hz > 0 and n_channels >= 1, got {sfreq_hz}, {n_channels}")
        self.sfreq_hz = float(sfreq_hz)
        self.n_channels = int(n_channels)
        self.mains_hz = mains_hz
        self.line_hz = mains_hz
        self.mains_assumed = False
        self.mains_switch_sample: int | None = None
        self.config = cfg = config or ChainConfig()
        self.grid = ChainGrid.at(sfreq_hz, cfg.noise_block_s, quality_window_s)
        self._batch_samples = self.grid.samples(cfg.batch_s)
        self._mains_detect_samples = self.grid.samples(cfg.mains_detect_s)
        self._input = ChunkStager(self.n_channels, self.grid.window_samples)
        self._threaded = ThreadPolicy(self.n_channels, THREADED_MIN_ITEMS * self.grid.block_samples)
        self._measurer = CandidateMeasurer(self.sfreq_hz, cfg, threads=self.n_channels > 1)
        self._noise: NoiseTracker | None = None  # from the first chunk on
        self._filter: FilterStage | None = None  # from the mains decision on
        self._done = False
        self._blank: ChainOutput | None = None

    # ------------------------------------------------------------------ public
    @property
    def delay_samples(self) -> int:
        """Filter delay subtracted from candidate positions (samples)."""
        return delay_samples(self.sfreq_hz, self.config)

    @property
    def settle_s(self) -> float:
        """Time treated as lost after the start and after every gap (s): ``config.settle_s``, or
        the filter's measured settling time once the filter is designed (after the mains decision).
        """
        if self._filter is not None:
            return self._filter.settle_samples / self.sfreq_hz
        mains_hz = 50.0 if self.mains_hz is None else self.mains_hz
        return settle_samples(self.sfreq_hz, self.config, mains_hz) / self.sfreq_hz

    @property
    def lookahead_s(self) -> float:
        """Longest wait, beyond ``batch_s``, from a candidate's peak sample to its output (s).

        Filter latency, the scan's margin (the second half of the snippet, or what a prediction of
        ringing reads after a candidate), and the hold that keeps candidates in peak
        order (an event may stay open ``max_duration_s`` + ``merge_gap_s``), plus the filter delay
        by which peaks are moved back; with ``causal_noise=False`` add up to one noise block.
        """
        if self._filter is not None:
            latency = self._filter.streaming.latency_samples
        else:  # undecided: room for either grid's notches (an assumed grid's filter has it)
            grids = (self.mains_hz,) if self.mains_hz is not None else (50.0, 60.0)
            sections = max(len(design_cascade(self.sfreq_hz, self.config, hz)) for hz in grids)
            latency = -(-sections // SECTION_PAD) * SECTION_PAD * SKEW
        margin = scan_margin_samples(DetectorSettings.from_config(self.config, self.sfreq_hz),
                                     self._measurer.margin_after_samples)
        wait = latency + margin + open_event_samples(self.config, self.sfreq_hz)
        wait += max(0, self.delay_samples)
        block_s = self.grid.block_samples / self.sfreq_hz
        return wait / self.sfreq_hz + (0.0 if self.config.causal_noise else block_s)

    @property
    def released_until(self) -> int:
        """Timeline sample before which every candidate peak has been returned."""
        if self._filter is None:
            first = self._input.first_sample
            return first if first is not None else 0
        return self._detector.scanned_until - self._delay - self._release.hold_samples

    def peek_frames(self) -> tuple[np.ndarray, np.ndarray, int]:
        """Provisional envelope and noise frames of the hops filtered after the last returned frame.

        Frames are returned when their noise block is complete; a live view needs those of the
        incomplete block too. Envelope: RMS of the valid samples of each complete hop, NaN when
        under half is valid (as returned frames). Noise: the floor of the last complete block (the
        one the detector compares this block with), where the returned frames will carry their own
        block's floor. Nothing in the chain changes.

        Returns
        -------
        envelope_uv, noise_uv : ndarray, shape (n_channels, n_frames)
        start_frame : int
            Absolute index of the first frame (the next frame :meth:`process` will return).
        """
        if self._filter is None:
            empty = np.zeros((self.n_channels, 0))
            return empty, empty.copy(), self._frames_done
        return self._noise.peek_frames(self._filter.filtered)

    @property
    def peek_until(self) -> int:
        """Timeline sample where the frames :meth:`peek_frames` would give end (no work done)."""
        n = 0 if self._filter is None else self._noise.peekable_frames(self._filter.filtered)
        return (self._frames_done + n) * self.grid.hop_samples

    def process(self, data_uv: np.ndarray, start_sample: int) -> ChainOutput:
        """Feed samples ``start_sample .. start_sample + n`` (shape (n_channels, n), µV, NaN = lost)."""
        if self._done:
            raise ValueError("DetectionChain.process called after flush")
        started = self._input.next_sample is not None
        data = self._input.accept(data_uv, start_sample)
        if not started:
            self._start()
        if self._filter is None:
            self._input.stage(data)
            if self.mains_hz is None and (self._input.next_sample - self._input.first_sample
                                          < self._mains_detect_samples):
                self._input.copy_last()  # the caller may reuse its array
                return self._empty()
            self._build()
        elif self._input.n_staged + data.shape[1] < self._batch_samples:
            self._input.stage(np.array(data, dtype=np.float64))  # the caller may reuse its array
            return self._empty()
        else:
            self._input.stage(data)
        return self._run_pieces(self._input.take())

    def flush(self) -> ChainOutput:
        """Process everything still buffered and close the stream."""
        end = self._input.next_sample
        if self._done or end is None:
            self._done = True
            return self._empty() if end is not None else ChainOutput.empty(self.n_channels)
        self._done = True
        if self._filter is None:
            self._build()
        win = self.grid.window_samples
        margin = self._measurer.margin_after_samples + self.grid.block_samples
        target = -(-(end + margin) // win) * win
        pad = target + self._filter.latency_samples - end
        self._input.stage(np.full((self.n_channels, pad), np.nan))
        return self._run_pieces(self._input.take(), end=end)

    # ------------------------------------------------------------------ set-up
    def _start(self) -> None:
        """At the first chunk: the noise tracker, on the timeline's origin."""
        cfg = self.config
        self._noise = NoiseTracker(self.n_channels, self.grid, cfg.noise_window_s,
                                   cfg.noise_quantile, self._input.origin_sample, self._threaded)

    def _build(self) -> None:
        """At the mains decision: the filter, detector, release and quality stages."""
        cfg, origin = self.config, self._input.origin_sample
        if self.mains_hz is None:
            head = self._input.head(self._mains_detect_samples)
            scores = mains_line_scores(head, self.sfreq_hz)
            self.mains_hz = mains_from_scores(scores)
            self.mains_assumed = bool(max(scores.values()) <= LINE_RATIO)
            self.line_hz = measure_line_hz(head, self.sfreq_hz, self.mains_hz)
        sos = design_cascade(self.sfreq_hz, cfg, self.line_hz)
        settle = settle_samples(self.sfreq_hz, cfg, self.line_hz, sos)
        watch = (60.0 if self.mains_hz == 50.0 else 50.0) if self.mains_assumed else None
        self._filter = FilterStage(sos, self.n_channels, origin, settle, self._threaded,
                                   streaming_filter(self.sfreq_hz, cfg, self.line_hz,
                                                    self.n_channels, watch_hz=watch))
        self._delay = self.delay_samples
        self._detector = Detector(
            DetectorSettings.from_config(cfg, self.sfreq_hz, sos), self.n_channels,
            self.grid.block_samples, self._measurer.margin_after_samples, origin, sos,
            self._threaded, getattr(self._filter.streaming, "history", None))
        self._release = PeakOrderRelease(open_event_samples(cfg, self.sfreq_hz))
        self._quality = QualityWindows(self.grid, self.n_channels, self.line_hz, cfg, origin,
                                       self._threaded)

    @property
    def _frames_done(self) -> int:
        return self._noise.frames_done if self._noise is not None else 0

    def _empty(self) -> ChainOutput:
        """An output with nothing in it (one object per frame position: treat it as read-only)."""
        b = self._blank
        if b is None or b.envelope_start_frame != self._frames_done:
            b = self._blank = ChainOutput.empty(self.n_channels, self._frames_done)
        return b

    # ------------------------------------------------------------------ work
    def _run_pieces(self, raw: np.ndarray, end: int | None = None) -> ChainOutput:
        """Run long inputs in pieces (:func:`_pieces`), the filter one piece ahead when it pays."""
        pieces, ahead = _pieces(raw, self.n_channels, self.grid)
        if len(pieces) == 1:
            return self._run(raw, end, final=end is not None)
        filtered = (filter_ahead(self._filter.streaming, pieces) if ahead
                    else iter([None] * len(pieces)))
        outs = []
        for i, part in enumerate(pieces):
            final = i == len(pieces) - 1 and end is not None
            outs.append(self._run(part, end, final=final, pre=next(filtered)))
        return concat_outputs(outs)

    def _run(self, raw: np.ndarray, end: int | None, final: bool, pre=None) -> ChainOutput:
        """One batch (or piece) through every stage; ``end`` is the end of the stream at flush."""
        filt, noise = self._filter, self._noise
        if pre is None:
            filt.feed(raw)
        else:
            filt.feed_prefiltered(*pre)
        self._follow_grid()
        new_blocks = noise.update(filt.filtered, filt.raw)
        cand, feats, snips = self._detect()
        cand, feats, snips = self._release.release(cand, feats, snips, self.released_until, final)
        if not (new_blocks or final):  # frames and quality move only with complete blocks
            if not len(cand):
                return self._empty()
            b = self._empty()
            return ChainOutput(cand, feats, snips, b.envelope_uv, b.envelope_start_frame,
                               b.noise_uv, b.quality)
        env, floor, frame0 = noise.take_frames(end)
        quality = self._quality.take(end, filt.raw, filt.filtered, noise.block_sigmas)
        self._trim()
        return ChainOutput(cand, feats, snips, env, frame0, floor, quality)

    def _follow_grid(self) -> None:
        """Once the filter moved its notches to the other grid (a hum at it came after an
        assumed grid), the chain's grid is that one, and so is the quality's mains line."""
        moved = getattr(self._filter.streaming, "switched_at", None)
        if moved is None or self.mains_switch_sample is not None:
            return
        self.mains_switch_sample = self._input.origin_sample + moved
        self.mains_hz = self._filter.streaming.start_line_hz
        self.line_hz = self._filter.streaming.line_hz
        self._quality.switch_mains(self.mains_hz, self.mains_switch_sample)

    def _detect(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Candidates, features and snippets of the samples scanned by this call."""
        filt = self._filter
        found = self._detector.scan(filt.filtered, filt.raw, self._noise.floors)
        if found is None:
            empty = self._blank if self._blank is not None else ChainOutput.empty(self.n_channels)
            return empty.candidates, empty.features, empty.snippets
        return self._measurer.measure(found, filt.filtered, filt.raw, self._delay)

    def _trim(self) -> None:
        """Forget what no later call reads: samples behind the scan (less what an open event and
        the measurements reach back to), frames returned and windows done."""
        block, lag = self.grid.block_samples, self._detector.settings.noise_lag_blocks
        done_until = self._quality.done_until
        reach = self._detector.lookback_samples + self._measurer.reach_before_samples
        keep = min(self._detector.scanned_until - reach,
                   self._noise.frames_done * self.grid.hop_samples, done_until)
        self._filter.discard_before(keep, min(done_until, keep - self._delay))
        keep_block = max(0, keep // block - 1 - lag)
        self._noise.discard_before(keep_block, min(keep_block, done_until // block))
