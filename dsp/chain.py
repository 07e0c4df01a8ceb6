"""DetectionChain: the streaming path from raw µV chunks to candidates, envelopes, noise and quality.

Steps per batch: band-pass + notch cascade (:mod:`dsp.filters`); the first ``settle_s`` after the start
and after every NaN stretch are treated as lost (filter transient; by default the time the cascade's
impulse response takes to stay below 1 % of its peak, :func:`dsp.filters.settling_time_s`); per complete block of
``noise_block_s``, in one kernel pass: robust noise (median |x| / 0.6745), its rolling lower quartile
over ``noise_window_s`` and the envelope frames (:mod:`dsp._noise_numba`); detection with hysteresis,
merging and dead time on |x| relative to the noise floor of the blocks before the sample's block
(``causal_noise``), onset by walking back on the waveform (:mod:`dsp._detect_numba`); features
(:mod:`dsp.features`); quality windows.

Every stage keeps its state on the absolute timeline (blocks, frames and windows start at multiples
of their length), so the concatenated outputs are identical for any chunking. Chunks are gathered into
batches of ``batch_s``. A candidate is returned at most ``batch_s`` + :attr:`DetectionChain.lookahead_s`
after its peak sample was fed (about 0.12 s at 2 kHz: filter latency, the snippet's second half and
the time an event may still be open); envelope and noise frames come when their noise block is
complete, quality rows when their window is. With ``mains_hz=None`` the first ``mains_detect_s`` of data are buffered and decide 50 or
60 Hz (:func:`dsp.filters.detect_mains_hz`) before anything is output.
"""

from __future__ import annotations

import numpy as np

from dsp import _detect_numba, _noise_numba, _quality_numba
from dsp._buffer import TimelineBuffer
from dsp._filter_ahead import filter_ahead
from dsp._filter_numba import SKEW
from dsp._threads import n_threads, split_run
from dsp.config import ChainConfig
from dsp.features import measure_candidates
from dsp.filters import (
    SECTION_PAD,
    StreamingFilter,
    design_sos,
    detect_mains_hz,
    group_delay_samples,
    kernel_input,
    settling_time_s,
)
from dsp.output import ChainOutput, concat_outputs
from dsp.types import (
    CANDIDATE_DTYPE,
    ENVELOPE_HOP_S,
    QUALITY_DTYPE,
    QUALITY_WINDOW_S,
    SNIPPET_LEN,
)

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


def _finite_mean(x: np.ndarray) -> float:
    """Mean of the finite values (NaN when there is none)."""
    ok = np.isfinite(x)
    n = int(ok.sum())
    return float(np.sum(x[ok]) / n) if n else float("nan")


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

    Attributes
    ----------
    hop : int
        Samples per envelope/noise frame (``round(ENVELOPE_HOP_S * sfreq_hz)``).
    block : int
        Samples per noise block (a multiple of ``hop``).
    qwin : int
        Samples per quality window (a multiple of ``block``).
    mains_hz : float or None
        The mains frequency in use (decided after ``mains_detect_s`` when it was None).
    delay_samples : int
        Filter delay subtracted from candidate positions.
    lookahead_s : float
        Longest wait, beyond the batch, from a candidate's peak sample to its output.
    """

    def __init__(
        self,
        sfreq_hz: float,
        n_channels: int,
        mains_hz: float | None = None,
        config: ChainConfig | None = None,
    ) -> None:
        if not sfreq_hz > 0 or n_channels < 1:
            raise ValueError(f"need sfreq_hz > 0 and n_channels >= 1, got {sfreq_hz}, {n_channels}")
        self.sfreq_hz = float(sfreq_hz)
        self.n_channels = int(n_channels)
        self.mains_hz = mains_hz
        self.config = cfg = config or ChainConfig()
        self.hop = max(1, round(ENVELOPE_HOP_S * sfreq_hz))
        self.block = self.hop * max(1, round(cfg.noise_block_s / ENVELOPE_HOP_S))
        self.qwin = self.block * max(1, round(QUALITY_WINDOW_S * sfreq_hz / self.block))
        self._samples = lambda s: max(1, round(s * sfreq_hz))
        self._batch = self._samples(cfg.batch_s)
        # Samples needed after a candidate's end: half a snippet, and the window of its step.
        self._post = max(SNIPPET_LEN // 2, self._samples(cfg.step_gap_s + cfg.step_window_s)) + 2
        self._detect_len = self._samples(cfg.mains_detect_s)
        self._lag = 1 if cfg.causal_noise else 0
        self._staged: list[np.ndarray] = []
        self._n_staged = 0
        self._next: int | None = None
        self._first: int | None = None
        self._filter: StreamingFilter | None = None
        self._done = False
        self._blank: ChainOutput | None = None
        self._threads = self.n_channels > 1  # a threaded kernel call costs ~0.1 ms
        self._frames_done = 0

    # ------------------------------------------------------------------ public
    @property
    def delay_samples(self) -> int:
        """Filter delay subtracted from candidate positions (samples)."""
        bp = design_sos(self.sfreq_hz, self.config.band_hz, None, self.config.filter_order)
        return int(round(group_delay_samples(bp, self.sfreq_hz, self.config.delay_hz)))

    @property
    def settle_s(self) -> float:
        """Time treated as lost after the start and after every gap (s): ``config.settle_s``, or
        the filter's measured settling time once the filter is designed (after the mains decision).
        """
        if self.config.settle_s is not None:
            return self._samples(self.config.settle_s) / self.sfreq_hz
        mains = self.mains_hz if self.mains_hz is not None else 50.0
        sos = self.sos if getattr(self, "sos", None) is not None else design_sos(
            self.sfreq_hz, self.config.band_hz, mains, self.config.filter_order,
            self.config.notch_q, self.config.notch_max_hz)
        return round(settling_time_s(sos, self.sfreq_hz) * self.sfreq_hz) / self.sfreq_hz

    @property
    def lookahead_s(self) -> float:
        """Longest wait, beyond ``batch_s``, from a candidate's peak sample to its output (s).

        Filter latency, the second half of the snippet, and the hold that keeps candidates in peak
        order (an event may stay open ``max_duration_s`` + ``merge_gap_s``), plus the filter delay
        by which peaks are moved back; with ``causal_noise=False`` add up to one noise block.
        """
        cfg = self.config
        s = self._samples
        n_sec = -(-len(design_sos(
            self.sfreq_hz, cfg.band_hz, self.mains_hz or 50.0, cfg.filter_order, cfg.notch_q,
            cfg.notch_max_hz)) // SECTION_PAD) * SECTION_PAD
        wait = n_sec * SKEW + self._post + s(cfg.max_duration_s) + s(cfg.merge_gap_s) + 2
        wait += max(0, self.delay_samples)
        return wait / self.sfreq_hz + (0.0 if cfg.causal_noise else self.block / self.sfreq_hz)

    @property
    def released_until(self) -> int:
        """Timeline sample before which every candidate peak has been returned."""
        if self._filter is None:
            return self._first if self._first is not None else 0
        return self._det_pos - self._delay - self._hold

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
        frame0 = self._frames_done
        n = self._peekable_frames()
        if not n:
            return np.zeros((self.n_channels, 0)), np.zeros((self.n_channels, 0)), frame0
        a = frame0 * self.hop
        y = self._ybuf.view(a, a + n * self.hop).reshape(self.n_channels, n, self.hop)
        valid = np.isfinite(y)
        n_ok = valid.sum(axis=2)
        power = np.where(valid, y, 0.0) ** 2
        with np.errstate(invalid="ignore", divide="ignore"):
            env = np.sqrt(power.sum(axis=2) / n_ok)
        env[2 * n_ok < self.hop] = np.nan
        last = self._sigbuf.view(self._sigbuf.stop - 1, self._sigbuf.stop)
        return env, np.repeat(last, n, axis=1), frame0

    @property
    def peek_until(self) -> int:
        """Timeline sample where the frames :meth:`peek_frames` would give end (no work done)."""
        return (self._frames_done + self._peekable_frames()) * self.hop

    def _peekable_frames(self) -> int:
        if self._filter is None or self._sigbuf.stop == self._sigbuf.start:
            return 0
        return max(0, (self._ybuf.stop - self._frames_done * self.hop) // self.hop)

    def process(self, data_uv: np.ndarray, start_sample: int) -> ChainOutput:
        """Feed samples ``start_sample .. start_sample + n`` (shape (n_channels, n), µV, NaN = lost)."""
        if self._done:
            raise ValueError("DetectionChain.process called after flush")
        data = np.asarray(data_uv)
        if data.ndim != 2 or data.shape[0] != self.n_channels:
            raise ValueError(f"expected data of shape ({self.n_channels}, n), got {data.shape}")
        if self._next is None:
            self._start(int(start_sample))
        elif start_sample != self._next:
            raise ValueError(f"chunk starts at sample {start_sample}, expected {self._next}")
        self._next += data.shape[1]
        if self._filter is None:
            self._stage(data)
            if self.mains_hz is None and self._next - self._first < self._detect_len:
                return self._keep_staged()
            self._build_filter()
        elif self._n_staged + data.shape[1] < self._batch:
            self._stage(np.array(data, dtype=np.float64))  # the caller may reuse its array
            return self._empty()
        else:
            self._stage(data)
        return self._run_pieces(self._take())

    def _keep_staged(self) -> ChainOutput:
        """Copy the chunk just staged (the caller may reuse its array) and return nothing yet."""
        self._staged[-1] = np.array(self._staged[-1], dtype=np.float64)
        return self._empty()

    def _run_pieces(self, raw: np.ndarray, end: int | None = None) -> ChainOutput:
        """Run long inputs in pieces of at most MAX_PIECE_S, so buffers stay small; with one
        channel and several cores, the filter runs one piece ahead on a thread of its own."""
        ahead = self.n_channels == 1 and raw.shape[1] >= 2 * self._samples(
            AHEAD_MIN_PIECE_S) and n_threads() > 1  # (asking numba for its threads costs 3 µs)
        piece = self._samples(MAX_PIECE_S)
        if ahead:  # at least two pieces, so that the filter has one to run ahead on
            piece = min(piece, max(self._samples(AHEAD_MIN_PIECE_S), -(-raw.shape[1] // 4)))
        if raw.shape[1] <= piece:
            return self._run(raw, end, final=end is not None)
        pieces = [raw[:, lo : lo + piece] for lo in range(0, raw.shape[1], piece)]
        filtered = filter_ahead(self._filter, pieces) if ahead else iter([None] * len(pieces))
        outs = []
        for i, part in enumerate(pieces):
            final = i == len(pieces) - 1 and end is not None
            outs.append(self._run(part, end, final=final, pre=next(filtered)))
        return concat_outputs(outs)

    def flush(self) -> ChainOutput:
        """Process everything still buffered and close the stream."""
        if self._done or self._next is None:
            self._done = True
            return self._empty() if self._next is not None else ChainOutput.empty(self.n_channels)
        self._done = True
        if self._filter is None:
            self._build_filter()
        end = self._next
        post = self._post
        target = -(-(end + post + self.block) // self.qwin) * self.qwin
        pad = target + self._filter.latency_samples - end
        self._stage(np.full((self.n_channels, pad), np.nan))
        return self._run_pieces(self._take(), end=end)

    # ------------------------------------------------------------------ set-up
    def _start(self, start: int) -> None:
        self._first = start
        origin = (start // self.qwin) * self.qwin
        self._next = start
        self._origin = origin
        self._ybuf = TimelineBuffer(self.n_channels, origin)
        self._rawbuf = TimelineBuffer(self.n_channels, origin)
        self._sigbuf = TimelineBuffer(self.n_channels, origin // self.block, 1 << 10)
        self._statbuf = TimelineBuffer(self.n_channels, origin // self.block, 1 << 10)
        self._envbuf = TimelineBuffer(self.n_channels, origin // self.hop, 1 << 12)
        window = max(1, round(self.config.noise_window_s * self.sfreq_hz / self.block))
        self._hist = np.full((self.n_channels, window), np.nan)
        self._median = np.full((self.n_channels, 1), np.nan)  # last block median (a guess)
        settle_s = self.config.settle_s
        self._settle = self._samples(settle_s) if settle_s is not None else 0  # see _build_filter
        self._countdown = np.full(self.n_channels, self._settle, np.int64)
        self._det_state, self._peak_abs = _detect_numba.new_state(self.n_channels)
        self._rows = np.empty((self.n_channels, 0, 4), np.int64)  # detector output, reused
        self._ring_e = np.empty((self.n_channels, 0))
        self._counts = np.zeros(self.n_channels, np.int64)
        self._det_pos = origin
        self._frames_done = origin // self.hop
        self._q_done = origin // self.qwin
        if start > origin:
            self._stage(np.full((self.n_channels, start - origin), np.nan))

    def _build_filter(self) -> None:
        cfg = self.config
        if self.mains_hz is None:
            lead = self._first - self._origin
            need = lead + self._detect_len
            parts, held = [], 0
            for part in self._staged:  # only the first seconds (not a whole night passed at once)
                parts.append(part[:, : need - held])
                held += parts[-1].shape[1]
                if held >= need:
                    break
            head = np.concatenate(parts, axis=1)[:, lead:]
            self.mains_hz = detect_mains_hz(head, self.sfreq_hz)
        sos = design_sos(
            self.sfreq_hz, cfg.band_hz, self.mains_hz, cfg.filter_order, cfg.notch_q, cfg.notch_max_hz
        )
        self.sos = sos
        if cfg.settle_s is None:  # nothing is blanked before the filter exists: start over
            self._settle = round(settling_time_s(sos, self.sfreq_hz) * self.sfreq_hz)
            self._countdown[:] = self._settle
        self._filter = StreamingFilter(sos, self.n_channels)
        self._delay = self.delay_samples
        s = self._samples
        self._params = np.array(
            [
                cfg.threshold_k,
                cfg.hysteresis_k,
                cfg.onset_k,
                s(cfg.quiet_s),
                s(cfg.walk_back_s),
                s(cfg.merge_gap_s),
                s(cfg.min_duration_s),
                s(cfg.max_duration_s),
                round(cfg.dead_time_s * self.sfreq_hz),
                self._lag,
                cfg.end_fraction,
                cfg.ring_factor,
                cfg.ring_min_k,
                s(cfg.ring_window_s),
                s(0.005),
                s(cfg.ring_near_s),
                cfg.ring_far_factor,
            ]
        )
        self._ring = np.zeros((self.n_channels, _detect_numba.RING_LEN))
        if s(cfg.ring_window_s) >= _detect_numba.RING_LEN // 2:
            raise ValueError(f"ring_window_s={cfg.ring_window_s} is too long at {self.sfreq_hz} Hz")
        lines_hz = np.array([h * self.mains_hz for h in (1, 2, 3)])
        phase = 2 * np.pi * np.outer(lines_hz, np.arange(self.qwin)) / self.sfreq_hz
        below = (lines_hz < self.sfreq_hz / 2)[:, None]  # a missing line has tables of zeros
        self._cos, self._sin = np.cos(phase) * below, np.sin(phase) * below
        self._hold = s(cfg.max_duration_s) + s(cfg.merge_gap_s) + 2
        self._pending = None
        self._back = (s(cfg.max_duration_s) + s(cfg.walk_back_s) + s(cfg.quiet_s) + SNIPPET_LEN + 8
                      + s(cfg.step_gap_s + cfg.step_window_s))

    def _stage(self, x: np.ndarray) -> None:
        self._staged.append(x)
        self._n_staged += x.shape[1]

    def _take(self) -> np.ndarray:
        x = self._staged[0] if len(self._staged) == 1 else np.concatenate(self._staged, axis=1)
        self._staged, self._n_staged = [], 0
        return x

    def _empty(self) -> ChainOutput:
        """An output with nothing in it (one object per frame position: treat it as read-only)."""
        b = self._blank
        if b is None or b.envelope_start_frame != self._frames_done:
            b = self._blank = ChainOutput.empty(self.n_channels, self._frames_done)
        return b

    # ------------------------------------------------------------------ work
    def _run(self, raw: np.ndarray, end: int | None, final: bool, pre=None) -> ChainOutput:
        y = self._filtered(raw) if pre is None else self._prefiltered(*pre)
        self._over_channels(
            _noise_numba.blank_after_restart, (y, self._countdown, self._settle), (0, 1), y.size
        )
        new_blocks = self._update_noise()
        cand, feats, snips = self._release(*self._detect(), final=final)
        if not (new_blocks or final):  # frames and quality move only with complete blocks
            if not len(cand):
                return self._empty()
            b = self._empty()
            return ChainOutput(cand, feats, snips, b.envelope_uv, b.envelope_start_frame,
                               b.noise_uv, b.quality)
        env, noise, frame0 = self._frames(end)
        quality = self._quality(end)
        self._trim()
        return ChainOutput(cand, feats, snips, env, frame0, noise, quality)

    def _filtered(self, raw: np.ndarray) -> np.ndarray:
        """Filter ``raw`` into the end of the filtered buffer (and copy it to the raw buffer);
        return the new filtered samples as a view (to be blanked)."""
        raw = kernel_input(raw)
        filt = self._filter
        skip = max(0, filt.latency_samples - filt.n_in)
        kept = self._rawbuf.extend(raw.shape[1])
        if not skip:
            y = self._ybuf.extend(raw.shape[1])
            filt.advance_into(raw, y, kept)
            return y
        y = np.empty(raw.shape)
        filt.advance_into(raw, y, kept)
        self._ybuf.append(y[:, skip:])
        return self._ybuf.view(self._ybuf.stop - (raw.shape[1] - skip), self._ybuf.stop)

    def _prefiltered(self, y: np.ndarray, kept: np.ndarray, skip: int) -> np.ndarray:
        """Append a piece filtered by :func:`dsp._filter_ahead.filter_ahead`; return the new
        filtered samples as a view (as :meth:`_filtered`)."""
        self._rawbuf.append(kept)
        self._ybuf.append(y[:, skip:])
        n = y.shape[1] - skip
        return self._ybuf.view(self._ybuf.stop - n, self._ybuf.stop)

    def _update_noise(self) -> bool:
        """Process the blocks completed by the last samples; False when there is none."""
        b_done = self._sigbuf.stop
        b_end = self._ybuf.stop // self.block
        if b_end <= b_done:
            return False
        stats = np.empty((self.n_channels, b_end - b_done))
        sig = np.empty_like(stats)
        env = np.empty((self.n_channels, stats.shape[1] * (self.block // self.hop)))
        y = self._ybuf.view(b_done * self.block, b_end * self.block)
        args = (
            y, self.block, self.hop, self._hist, b_done, self.config.noise_quantile, self._median,
            stats, sig, env,
        )
        self._over_channels(
            _noise_numba.update_blocks_serial, args, (0, 3, 6, 7, 8, 9), y.size
        )
        self._statbuf.append(stats)
        self._sigbuf.append(sig)
        self._envbuf.append(env)
        return True

    def _release(self, cand, feats, snips, final: bool):
        """Hold candidates until no channel can still close one with an earlier peak."""
        if not len(cand) and (self._pending is None or not len(self._pending[0])):
            return cand, feats, snips
        if self._pending is not None and len(self._pending[0]):
            cand = np.concatenate([self._pending[0], cand])
            feats = np.concatenate([self._pending[1], feats])
            snips = np.concatenate([self._pending[2], snips])
        order = np.lexsort((cand["channel"], cand["peak"]))
        cand, feats, snips = cand[order], feats[order], snips[order]
        horizon = self._det_pos - self._delay - self._hold
        n = len(cand) if final else int(np.searchsorted(cand["peak"], horizon))
        self._pending = (cand[n:], feats[n:], snips[n:])
        return cand[:n], feats[:n], snips[:n]

    def _detect(self):
        post = self._post
        det_end = min((self._sigbuf.stop + self._lag) * self.block, self._ybuf.stop - post)
        s0 = self._det_pos
        if det_end <= s0:
            return self._no_candidates()
        y0 = self._ybuf.start
        y = self._ybuf.view(y0, self._ybuf.stop)
        b0 = self._sigbuf.start
        sig = self._sigbuf.view(b0, self._sigbuf.stop)
        cap = (det_end - s0) // 2 + 4
        if self._rows.shape[1] < cap:
            self._rows = np.empty((self.n_channels, cap, 4), np.int64)
            self._ring_e = np.empty((self.n_channels, cap))
        rows, counts = self._rows, self._counts
        r0 = self._rawbuf.start
        raw = self._rawbuf.view(r0, self._rawbuf.stop)
        args = (
            y, y0, s0, det_end, sig, b0, self.block, self._det_state, self._peak_abs,
            self._params, rows, counts, raw, r0, self.sos, self._ring, self._ring_e,
        )
        work = self.n_channels * (det_end - s0)
        self._over_channels(_detect_numba.detect_serial, args, (0, 4, 7, 8, 10, 11, 12, 15, 16),
                            work)
        self._det_pos = det_end
        if not counts.any():
            return self._no_candidates()
        chan = np.repeat(np.arange(self.n_channels), counts)
        found = np.concatenate([rows[c, : counts[c]] for c in range(self.n_channels)])
        ring_e = np.concatenate([self._ring_e[c, : counts[c]] for c in range(self.n_channels)])
        order = np.lexsort((chan, found[:, 2]))
        chan, found, ring_e = chan[order], found[order], ring_e[order]
        onset_f, offset_f, peak_f = found[:, 0], found[:, 1], found[:, 2]
        noise = sig[chan, peak_f // self.block - self._lag - b0]
        feats, snips, peak_uv, ptp_uv = measure_candidates(
            y, y0, chan, onset_f, offset_f, peak_f, self._dead_band(y, y0, chan, peak_f, noise),
            self.sfreq_hz,
            threads=self._threads,
        )
        cand = np.zeros(len(chan), CANDIDATE_DTYPE)
        cand["continuous"] = (found[:, 3] & 1) == 1
        cand["joined"] = (found[:, 3] & 2) == 2
        cand["step_uv"] = self._steps(chan, onset_f - self._delay, offset_f - self._delay)
        cand["energy_uv2_s"] = ring_e / self.sfreq_hz
        cand["channel"] = chan
        cand["onset"] = onset_f - self._delay
        cand["offset"] = offset_f - self._delay
        cand["peak"] = peak_f - self._delay
        cand["peak_uv"] = peak_uv
        cand["ptp_uv"] = ptp_uv
        cand["noise_uv"] = noise
        return cand, feats, snips

    def _dead_band(self, y, y0, chan, peak, noise) -> np.ndarray:
        """Dead band of phases and turns: ``onset_k`` x the noise, or ``phase_fraction`` of the
        candidate's peak when larger (a phase is an excursion that matters to the potential: the
        filters' ripple after a large one is not a phase of it)."""
        return np.maximum(self.config.onset_k * noise,
                          self.config.phase_fraction * np.abs(y[chan, peak - y0]))

    def _steps(self, chan, onset, offset) -> np.ndarray:
        """Raw baseline after each candidate minus before it (µV; mean over ``step_window_s``
        ending ``step_gap_s`` before the onset and starting ``step_gap_s`` after the end)."""
        gap = self._samples(self.config.step_gap_s)
        win = self._samples(self.config.step_window_s)
        out = np.zeros(len(chan))
        for i in range(len(chan)):  # a few per second: two means each
            a, b = int(onset[i]) - gap - win, int(offset[i]) + gap + win
            if a < self._rawbuf.start or b > self._rawbuf.stop:
                out[i] = np.nan
                continue
            raw = self._rawbuf.view(a, b)[int(chan[i])]
            out[i] = _finite_mean(raw[-win:]) - _finite_mean(raw[:win])
        return out

    def _no_candidates(self):
        empty = self._blank if self._blank is not None else ChainOutput.empty(self.n_channels)
        return empty.candidates, empty.features, empty.snippets

    def _frames(self, end: int | None):
        frame0 = self._frames_done
        f_end = self._sigbuf.stop * self.block // self.hop
        if end is not None:
            f_end = min(f_end, -(-end // self.hop))
        if f_end <= frame0:
            return np.zeros((self.n_channels, 0)), np.zeros((self.n_channels, 0)), frame0
        env = self._envbuf.view(frame0, f_end).copy()
        per = self.block // self.hop
        blocks = np.arange(frame0, f_end) // per
        noise = self._sigbuf.view(blocks[0], blocks[-1] + 1)[:, blocks - blocks[0]]
        self._frames_done = f_end
        return env, noise, frame0

    def _quality(self, end: int | None) -> np.ndarray:
        q0 = self._q_done
        q_end = self._sigbuf.stop * self.block // self.qwin
        if end is not None:
            q_end = min(q_end, -(-end // self.qwin))
        if q_end <= q0:
            return np.zeros(0, QUALITY_DTYPE)
        n_full = q_end - q0
        if end is not None and q_end * self.qwin > end:
            n_full -= 1
        rows = []
        if n_full:
            rows.append(self._quality_rows(q0 * self.qwin, (q0 + n_full) * self.qwin, self.qwin))
        if n_full < q_end - q0:
            a = (q_end - 1) * self.qwin
            rows.append(self._quality_rows(a, end, end - a))
        self._q_done = q_end
        return np.concatenate(rows)

    def _quality_rows(self, a: int, b: int, win: int) -> np.ndarray:
        """Quality rows of the windows of ``win`` samples between samples ``a`` and ``b``."""
        cfg = self.config
        n_win = (b - a) // win
        raw = self._rawbuf.view(a, b)
        y = self._ybuf.view(a, b)
        stats = self._statbuf.view(a // self.block, -(-b // self.block))
        out = np.empty((self.n_channels, n_win, 6))
        args = (
            raw, y, win, stats, -(-win // self.block), self._cos, self._sin,
            self._samples(cfg.flat_run_s), cfg.rail_run, cfg.pop_k, self._samples(0.05), out,
        )
        work = self.n_channels * n_win * win
        self._over_channels(_quality_numba.window_quality_serial, args, (0, 1, 3, 11), work)
        rows = np.zeros((n_win, self.n_channels), QUALITY_DTYPE)
        rows["channel"] = np.arange(self.n_channels)
        rows["start"] = (a + win * np.arange(n_win))[:, None]
        rows["stop"] = rows["start"] + win
        for k, name in enumerate(
            ("mains_fraction", "saturated_fraction", "flat_fraction", "pops", "nan_fraction",
             "noise_rms_uv")
        ):
            rows[name] = out[:, :, k].T
        return rows.ravel()

    def _over_channels(self, kernel, args, split, work: int) -> None:
        """Run ``kernel`` on groups of channels in threads when there are several channels and
        ``work`` (samples) is worth a threaded call (about 0.05 ms)."""
        if self._threads and work >= THREADED_MIN_ITEMS * self.block:
            split_run(kernel, args, split, self.n_channels)
        else:
            kernel(*args)

    def _trim(self) -> None:
        keep = min(self._det_pos - self._back, self._frames_done * self.hop, self._q_done * self.qwin)
        self._ybuf.discard_before(keep)
        self._rawbuf.discard_before(min(self._q_done * self.qwin, keep - self._delay))
        keep_block = max(0, keep // self.block - 1 - self._lag)
        self._sigbuf.discard_before(keep_block)
        self._envbuf.discard_before(self._frames_done)
        self._statbuf.discard_before(min(keep_block, self._q_done * self.qwin // self.block))
