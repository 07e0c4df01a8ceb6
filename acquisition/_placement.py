"""Decoded samples placed on the recording timeline, in chunks on the consumer's queue.

:class:`SamplePlacer` dates each decoded batch (:class:`~acquisition.timeline.Timeline`), gathers
the samples into chunks of at least ``chunk_s``, turns what was missed into gap chunks and counts
every sample lost. After a reconnection, and from a device reset on, it holds the reads for a
moment: the lower envelope of several arrival times dates the first new sample far better than the
first read alone, and as the envelope of the reads before dated the last old one (like with like:
a single read's latency is not counted as time the device was away).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from acquisition._chunk_queue import ChunkQueue, gap_chunk
from acquisition._source_stats import SourceCounters
from acquisition.stream import SampleChunk
from acquisition.timeline import EXACT_COUNTER_MODULUS, Gap, Run, Timeline
from firmware_io.devices import DeviceSpec
from firmware_io.frames import concat_batches

#: Longest wait, after a reconnection, for the reads to show the device clock.
_MAX_HOLD_S = 10.0
#: Host seconds of reads at the lower envelope that date a segment cut short (see _datable).
_DATING_S = 0.05
#: How close (host seconds) to the envelope a read arriving as the data are made comes.
_ON_TIME_S = 0.002


class SamplePlacer:
    """Place decoded batches on the timeline and hand them on as chunks (data and gaps).

    Parameters
    ----------
    spec : DeviceSpec
        The device (rate, counter, channels, count-to-microvolt scale).
    decoder : object
        The device's decoder (its scale, for ``spec.to_uv``).
    counters : SourceCounters
        Where samples received, lost, undated and overflowed are counted.
    queue_s : float
        Seconds (of wall time) of data the queue holds before new data overflow.
    clock_speed : float
        The device clock against real time.
    chunk_s : float
        Data are handed on at least this often (and at every gap).
    settle_s : float
        After a reconnection, reads are collected this long before the gap is measured.
    on_placed : callable
        Called with ``(now, n_samples)`` after each non-empty batch was placed.
    """

    def __init__(self, spec: DeviceSpec, decoder, counters: SourceCounters, *, queue_s: float,
                 clock_speed: float, chunk_s: float, settle_s: float,
                 on_placed: Callable[[float, int], None]) -> None:
        self.spec = spec
        self._decoder = decoder
        self._counters = counters
        self.chunk_s = float(chunk_s)
        self.settle_s = float(settle_s)
        self._on_placed = on_placed
        rate_hz = spec.sfreq_hz
        # the queue holds queue_s of wall time; an emulated device at N x fills it N times faster
        self.queue = ChunkQueue(int(queue_s * rate_hz * max(1.0, clock_speed)))
        self.timeline = Timeline(rate_hz, spec.counter_modulus, clock_speed)
        self._acc: list[tuple[int, np.ndarray]] = []
        self._acc_since_s = 0.0
        self._held: list = []

    def on_data(self, batch, now: float) -> None:
        """Place a decoded batch that arrived at host time ``now`` (or hold it after a reconnection
        or a device reset).

        After a reconnection, and from a device reset on (wherever it falls in the read), the
        reads are collected for a moment: the lower envelope of their arrival times dates the
        first new sample as the envelope of the reads before dated the last old one. Comparing
        like with like, the time the device was away is measured without the read latency (a
        single read after the gap arrives late by its own latency, the envelope by the least).
        """
        if not self._held and not (self.timeline.boundary_pending and batch.n_samples):
            col = _first_reset_col(batch)
            if col is None:
                self._place(batch, now)
                return
            if col > 0:  # the samples before the restart continue the old clock
                self._place(_columns(batch, 0, col), now)
                batch = _columns(batch, col, batch.n_samples)
        if batch.n_samples or self._held:
            self._held.append((batch, now))
            if self._held_settled(now):
                self.release_held(settled=True)

    def tick(self, now: float) -> None:
        """After a read: release held reads that settled, hand on data older than ``chunk_s``."""
        if self._held and self._held_settled(now):
            self.release_held(settled=True)
        if self._acc and now - self._acc_since_s >= self.chunk_s:
            self.flush_acc()

    def _held_settled(self, now: float) -> bool:
        """True once the reads held after a reconnection can date the device clock.

        That needs ``settle_s`` of reads and the end of any backlog (data the device or the link
        held while we were away arrive faster than real time; only reads that arrive as the data
        are produced show the clock). Held at most ``_MAX_HOLD_S``.
        """
        first = self._held[0][1]
        if now - first < self.settle_s:
            return False
        if now - first >= _MAX_HOLD_S:
            return True
        window_n = sum(b.n_samples for b, t in self._held if t >= now - self.settle_s)
        expected = self.timeline.rate_hz() * self.settle_s
        return window_n <= 1.25 * expected + 0.02 * self.timeline.rate_hz() + 8

    def release_held(self, settled: bool = False) -> None:
        """Place the reads held after a reconnection, segment by segment (cut at device resets).

        A segment the reads could not date (cut short by a reset or a disconnection while its
        reads still came as a backlog, see :func:`_datable`) is not placed when only host time
        could place it or measure what follows it (a short or no counter): its arrival times are
        those of a backlog, tens of milliseconds late, and would move every later sample. Its
        samples stay in the gap, counted lost (``samples_undated``), rather than guessed. Once
        ``settled``, the segment after the last reset stays held until its own reads settled.
        """
        held, self._held = self._held, []
        segments = _split_at_resets([(b, t) for b, t in held if b.n_samples])
        if settled and len(segments) > 1:
            # a restart late in the hold: its own reads date it once they have settled too
            self._held = segments.pop()
        rate = self.timeline.rate_hz()
        for k, segment in enumerate(segments):
            cut_short = k + 1 < len(segments) or not settled or bool(self._held)
            if cut_short and self._host_dated() and not _datable(segment, rate):
                self._counters.add("samples_undated", sum(b.n_samples for b, _ in segment))
                continue
            self._place_segment(segment)

    def end_disconnected(self, stop_s: float) -> int:
        """At the stop, the gap of a disconnection nothing came after (see
        :meth:`Timeline.end_disconnected`), handed on and counted lost; its samples (0 if none)."""
        gap = self.timeline.end_disconnected(stop_s)
        if gap is None:
            return 0
        self.flush_acc()
        self._emit_gap(gap.start_sample, gap.n_samples, gap.reason, gap.estimated)
        return gap.n_samples

    def _host_dated(self) -> bool:
        """Whether gaps across a reconnection are measured by host time (no exact counter)."""
        modulus = self.spec.counter_modulus
        return modulus is None or modulus < EXACT_COUNTER_MODULUS

    def _place_segment(self, held: list) -> None:
        """Place reads held together, dated by the lower envelope of their arrival times.

        A device reset inside the held reads starts a new segment (see :func:`_split_at_resets`):
        the device was down for a while there, so the reads after it date their own samples, and
        the host clock measures the samples the reset cost.
        """
        batches = [b for b, _ in held]
        merged = concat_batches(batches, batches[0].counts.shape[0])
        rate = self.timeline.rate_hz()
        arrivals = [(int(b.sample_index[-1]), t) for b, t in held]
        offset_s = min(t - i / rate for i, t in arrivals)
        first_time_s = offset_s + int(merged.sample_index[0]) / rate
        self._place(merged, held[-1][1], first_time_s=first_time_s, arrivals=arrivals)

    def _place(self, batch, now: float, first_time_s=None, arrivals=None) -> None:
        if batch.n_samples == 0:
            return
        resets = [int(e["at_sample"]) for e in batch.events if e.get("kind") == "reset"]
        data_uv = self.spec.to_uv(self._decoder, batch.counts)
        pieces = self.timeline.place(
            batch.sample_index, now, resets, first_time_s=first_time_s, arrivals=arrivals
        )
        for piece in pieces:
            if isinstance(piece, Gap):
                self.flush_acc()
                self._emit_gap(piece.start_sample, piece.n_samples, piece.reason, piece.estimated)
            elif isinstance(piece, Run):
                if not self._acc:
                    self._acc_since_s = now
                self._acc.append((piece.start_sample, data_uv[:, piece.col0 : piece.col1]))
        self._counters.add("samples_received", batch.n_samples)
        self._on_placed(now, batch.n_samples)
        acc_n = sum(block.shape[1] for _, block in self._acc)
        if acc_n >= self.chunk_s * self.spec.sfreq_hz:
            self.flush_acc()

    def flush_acc(self) -> None:
        """Hand the samples gathered so far on as one chunk (an ``overflow`` gap if it does not fit)."""
        if not self._acc:
            return
        start = self._acc[0][0]
        data = np.concatenate([block for _, block in self._acc], axis=1)
        self._acc = []
        chunk = SampleChunk(start_sample=start, data_uv=np.ascontiguousarray(data))
        if not self.queue.put(chunk):
            self._counters.add("overflow_samples", chunk.n_samples)
            self._emit_gap(start, chunk.n_samples, "overflow", False)

    def _emit_gap(self, start: int, n: int, reason: str, estimated: bool) -> None:
        self._counters.lost(reason, n, estimated)
        self.queue.put(gap_chunk(start, self.spec.n_channels, n, reason))


def _split_at_resets(held: list) -> list[list]:
    """Held ``(batch, arrival)`` reads cut into segments at each device reset they report.

    The decoder continues its numbering across a reset; dating the samples after it from reads
    before it would ignore the time the device was down (placing the rest of the recording early
    and the lost samples nowhere). A read holding a reset is cut in two there.
    """
    segments: list[list] = [[]]
    for batch, arrival_s in held:
        cuts = sorted({int(e["at_sample"]) for e in batch.events if e.get("kind") == "reset"})
        cols = [int(np.searchsorted(batch.sample_index, c)) for c in cuts]
        bounds = [0, *[c for c in cols if 0 < c < batch.n_samples], batch.n_samples]
        for a, b in zip(bounds[:-1], bounds[1:], strict=True):
            piece = batch if (a, b) == (0, batch.n_samples) else _columns(batch, a, b)
            if int(piece.sample_index[0]) in cuts and segments[-1]:
                segments.append([])
            segments[-1].append((piece, arrival_s))
    return [seg for seg in segments if seg]


def _first_reset_col(batch) -> int | None:
    """Column of the first device reset a batch reports (None without one)."""
    cuts = [int(e["at_sample"]) for e in batch.events if e.get("kind") == "reset"]
    if not cuts or batch.n_samples == 0:
        return None
    return min(int(np.searchsorted(batch.sample_index, min(cuts))), batch.n_samples - 1)


def _datable(segment: list, rate_hz: float) -> bool:
    """Whether the reads of a segment show the device clock: the lower envelope of their
    arrival times (arrival minus the samples' production time at ``rate_hz``) was reached at
    least ``_DATING_S`` before the last read. Reads of a backlog arrive ever less late, so their
    envelope is the last read and tells only an upper bound of when the samples were made."""
    late = [t - int(b.sample_index[-1]) / rate_hz for b, t in segment]
    floor, last_s = min(late), segment[-1][1]
    return any(v <= floor + _ON_TIME_S and t <= last_s - _DATING_S
               for v, (_, t) in zip(late, segment, strict=True))


def _columns(batch, a: int, b: int):
    """Samples ``a:b`` of a batch, with the events that fall among them."""
    from firmware_io.frames import FrameBatch

    first, stop = int(batch.sample_index[a]), int(batch.sample_index[b - 1]) + 1
    events = [e for e in batch.events if "at_sample" not in e or first <= int(e["at_sample"]) < stop]
    return FrameBatch(batch.counts[:, a:b], batch.sample_index[a:b], batch.counter[a:b],
                      batch.status[a:b], events)
