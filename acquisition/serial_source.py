"""A live device on a serial port as a :class:`~acquisition.stream.SampleStream` that survives unplugging.

A background thread reads with ``read(in_waiting or 1)`` and a timeout (never a busy poll), decodes
through the device's firmware_io decoder and places the samples on the timeline
(:class:`~acquisition.timeline.Timeline`). When the port fails (unplugged: ``SerialException``/EIO) it
closes it and tries again with back-off, on the same path or on any port with the same USB serial
number, re-sends the start command and resumes; the samples missed meanwhile become one gap chunk.
When no byte arrives for ``stall_s`` it re-sends the start command, and reconnects after another
``stall_s``. The consumer reads from a bounded queue; what does not fit is counted and becomes an
``overflow`` gap, never a silent loss.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import serial

from acquisition._backoff import Backoff
from acquisition._chunk_queue import ChunkQueue, gap_chunk
from acquisition._device_spec import device_spec, with_device_info
from acquisition.errors import RecordingError
from acquisition.ports import (
    SerialPortError,
    find_by_serial_number,
    normalize_port,
    open_serial,
    usb_serial_number,
)
from acquisition.stream import SampleChunk, StreamInfo
from acquisition.timeline import EXACT_COUNTER_MODULUS, Gap, Run, Timeline
from firmware_io.devices import DeviceSpec
from firmware_io.frames import concat_batches

_PORT_ERRORS = (serial.SerialException, OSError, TypeError, AttributeError)
#: Longest wait, after a reconnection, for the reads to show the device clock.
_MAX_HOLD_S = 10.0


class SerialSource:
    """Samples from a device on a serial port, with reconnection, gap and stall handling.

    Parameters
    ----------
    port : str
        Serial port path (``/dev/ttyUSB0``, ``COM3``, a pseudo-terminal or its symbolic link).
    device : str or DeviceSpec
        Device kind known to ``firmware_io.devices`` (``"cyton"``, ``"calfwatch"``...) or a spec.
    ch_names : list of str or callable, optional
        Channel names, or a function of the channel count that returns them (the count is known
        only once the device described itself); default ``emg1``...
    stall_s : float
        No byte for this long is a stall: the start command is re-sent, then after another
        ``stall_s`` the port is reopened.
    queue_s : float
        Seconds (of wall time) of data the queue holds before new data overflow (counted,
        become gaps).
    chunk_s : float
        Data are handed on at least this often (and at every gap).
    first_data_timeout_s : float
        The constructor fails with a one-line error when no sample arrives within this time.
    read_timeout_s : float
        Serial read timeout (how fast the thread notices ``close``).
    backoff : Backoff, optional
        Reconnection schedule (default 0.1 s doubling to 1 s).
    site : str
        Recording site stored in the device facts (``"left calf"``).
    settle_s : float
        After a reconnection, reads are collected this long before the gap is measured.
    clock_speed : float
        The device clock against real time (N for an emulated device at N x real time); host time
        measures gaps across reconnections with it.

    Raises
    ------
    SerialPortError
        The port does not exist, is busy, or the device sends nothing.
    """

    def __init__(
        self,
        port: str,
        device: str | DeviceSpec,
        *,
        ch_names: list[str] | None = None,
        stall_s: float = 5.0,
        queue_s: float = 60.0,
        chunk_s: float = 0.1,
        first_data_timeout_s: float = 5.0,
        read_timeout_s: float = 0.1,
        backoff: Backoff | None = None,
        site: str = "",
        settle_s: float = 1.0,
        clock_speed: float = 1.0,
    ) -> None:
        self.port = normalize_port(port)
        self.spec = device_spec(device)
        self._ch_names = ch_names
        self.ch_names = self._names_for(self.spec.n_channels)
        self.stall_s = float(stall_s)
        self.chunk_s = float(chunk_s)
        self.read_timeout_s = float(read_timeout_s)
        self.site = site
        self._backoff = backoff or Backoff()
        self._queue_s, self._clock_speed = float(queue_s), float(clock_speed)
        self._configure()
        self._decoder = self.spec.make_decoder()
        # batches decoded before the stream's shape is known (the device's info frame, a text
        # stream's columns): placed once it is, with the arrival times they had
        self._starting: list = []
        self._device_info = None
        self._info_asked_s = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._first_data = threading.Event()
        self._error: BaseException | None = None
        self._acc: list[tuple[int, np.ndarray]] = []
        self._held: list = []
        self.settle_s = float(settle_s)
        self._acc_since_s = 0.0
        self._info: StreamInfo | None = None
        self._device_facts: dict = {}
        self.counters = {
            "samples_received": 0,
            "samples_lost": {},
            "gaps": 0,
            "gaps_estimated": 0,
            "reconnects": 0,
            "disconnects": 0,
            "stalls": 0,
            "overflow_samples": 0,
            "samples_undated": 0,
        }
        self.events: list[dict] = []
        self.spec.warm_up()
        self._t0 = time.monotonic()
        self._ser = open_serial(self.port, self.spec.baudrate, timeout_s=self.read_timeout_s)
        self._serial_number = usb_serial_number(self.port)
        self._connected_at = time.monotonic()
        self._last_byte_s = self._connected_at
        self._stall_resent_s: float | None = None
        self._next_attempt_s = 0.0
        if self.spec.info_command:
            self._ser.write(self.spec.info_command)
        self._send_start()
        self._thread = threading.Thread(target=self._run, name=f"serial {self.port}", daemon=True)
        self._thread.start()
        if not self._first_data.wait(first_data_timeout_s) or self._error is not None:
            self.close()
            if self._error is not None:
                raise self._error
            if self._starting and self.spec.describes_itself:
                raise SerialPortError(
                    self.port,
                    f"the device sends data but never described itself (no info frame within "
                    f"{first_data_timeout_s:g} s): its rate, channels and scale are unknown",
                )
            raise SerialPortError(
                self.port,
                f"no data from the device within {first_data_timeout_s:g} s of the start command; "
                f"is it a {self.spec.kind}, switched on and streaming?",
            )

    # ------------------------------------------------------------------------------ stream API
    @property
    def info(self) -> StreamInfo:
        """What the device is (known once the first samples arrived, i.e. after construction)."""
        assert self._info is not None
        return self._info

    def chunks(self) -> Iterator[SampleChunk]:
        """Yield chunks in timeline order until :meth:`close`; raises what stopped the reader."""
        while True:
            chunk = self._queue.get(timeout_s=0.2)
            if chunk is not None:
                yield chunk
                continue
            if not self._thread.is_alive() and len(self._queue) == 0:
                if self._error is not None:
                    raise self._error
                return

    def close(self) -> None:
        """Stop the reader thread, send the stop command and close the port. Safe to call twice."""
        self._stop.set()
        if threading.current_thread() is not self._thread and self._thread.is_alive():
            self._thread.join(timeout=5.0)

    def request_stop(self) -> None:
        """Ask the reader to stop without waiting (safe from a signal handler); chunks() then ends."""
        self._stop.set()

    def stop_requested(self) -> bool:
        """True once :meth:`close` was called."""
        return self._stop.is_set()

    @property
    def connected(self) -> bool:
        """True while the port is open."""
        return self._ser is not None

    def stats(self) -> dict:
        """Counters so far: source counters, decoder statistics and device facts (a copy)."""
        with self._lock:
            out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in self.counters.items()}
            out["gaps_estimated"] = self._timeline.estimated_gaps
            out["decoder"] = self._decoder_stats()
            out["device"] = dict(self._device_facts)
            out["connected"] = self._ser is not None
            out["events"] = list(self.events)
        return out

    # ------------------------------------------------------------------------------ the thread
    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                if self._ser is None:
                    self._reconnect_step()
                    continue
                self._read_once()
        except BaseException as exc:  # surfaced to the consumer by chunks()
            self._error = exc
            self._first_data.set()
        finally:
            if self._error is None:
                self._flush_decoder()
                self._release_held()
            self._flush_acc()
            self._shutdown_port()

    def _read_once(self) -> None:
        ser = self._ser
        try:
            data = ser.read(ser.in_waiting or 1)
        except _PORT_ERRORS as exc:
            self._disconnect("unplugged", str(exc))
            return
        now = time.monotonic()
        if data:
            self._last_byte_s = now
            self._stall_resent_s = None
            self._on_bytes(data, now)
        else:
            self._check_stall(now)
        if self._held and self._held_settled(now):
            self._release_held(settled=True)
        if self._acc and now - self._acc_since_s >= self.chunk_s:
            self._flush_acc()

    def _on_bytes(self, data: bytes, now: float) -> None:
        self._on_batch(self._decoder.feed(data), now)

    def _flush_decoder(self) -> None:
        """At the end of a connection: decode the frames the decoder still holds, drop the torn tail."""
        self._on_batch(self._decoder.flush(), self._last_byte_s)

    def _on_batch(self, batch, now: float) -> None:
        for event in batch.events:
            if event.get("kind") == "info":
                self._note_device_info(event.get("info"))
        if self._info is None:
            for early, t in self._start_batches(batch, now):
                self._on_data(early, t)
            return
        self._on_data(batch, now)

    def _start_batches(self, batch, now: float) -> list:
        """Hold the first batches until the stream's shape is known, then return them.

        A device that describes itself is waited for (its info command re-sent each second):
        its rate, channel count and scale replace the registry's defaults. Otherwise the channel
        count is the decoder's (a text stream's columns).
        """
        if batch.n_samples:
            self._starting.append((batch, now))
        if not self._starting:
            return []
        if self.spec.describes_itself and self._device_info is None:
            if now - self._info_asked_s >= 1.0 and self._ser is not None and self.spec.info_command:
                self._info_asked_s = now
                self._ser.write(self.spec.info_command)
            return []
        if self.spec.describes_itself:
            self.spec = with_device_info(self.spec, self._device_info, self.port)
        n_channels = int(self._starting[0][0].counts.shape[0])
        if n_channels != self.spec.n_channels:
            self.spec = replace(self.spec, n_channels=n_channels)
        self.ch_names = self._names_for(self.spec.n_channels)
        self._configure()
        started, self._starting = self._starting, []
        return started

    def _configure(self) -> None:
        """Queue and timeline for the spec's rate (the queue holds queue_s of wall time; an
        emulated device at N x fills it N times faster)."""
        rate_hz = self.spec.sfreq_hz
        self._queue = ChunkQueue(int(self._queue_s * rate_hz * max(1.0, self._clock_speed)))
        self._timeline = Timeline(rate_hz, self.spec.counter_modulus, self._clock_speed)

    def _names_for(self, n_channels: int) -> list[str]:
        names = self._ch_names
        if callable(names):
            names = names(n_channels)
        names = list(names) if names else [f"emg{i + 1}" for i in range(n_channels)]
        if len(names) != n_channels:
            raise RecordingError(self.port, f"the {self.spec.kind} device has {n_channels} channels, "
                                            f"{len(names)} names were given")
        return names

    def _on_data(self, batch, now: float) -> None:
        if self._held or (self._timeline.boundary_pending and batch.n_samples):
            # after a reconnection, collect reads for a moment: the lower envelope of several
            # arrival times dates the first new sample far better than the first read alone
            self._held.append((batch, now))
            if self._held_settled(now):
                self._release_held(settled=True)
            return
        self._place(batch, now)

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
        expected = self._timeline.rate_hz() * self.settle_s
        return window_n <= 1.25 * expected + 0.02 * self._timeline.rate_hz() + 8

    def _release_held(self, settled: bool = False) -> None:
        """Place the reads held after a reconnection, segment by segment (cut at device resets).

        A segment the reads could not date (cut short by a reset or a disconnection while its
        reads still came as a backlog, see :func:`_datable`) is not placed when only host time
        could place it or measure what follows it (a short or no counter): its arrival times are
        those of a backlog, tens of milliseconds late, and would move every later sample. Its
        samples stay in the gap, counted lost (``samples_undated``), rather than guessed.
        """
        held, self._held = self._held, []
        segments = _split_at_resets([(b, t) for b, t in held if b.n_samples])
        rate = self._timeline.rate_hz()
        for k, segment in enumerate(segments):
            cut_short = k + 1 < len(segments) or not settled
            if cut_short and self._host_dated() and not _datable(segment, rate):
                with self._lock:
                    self.counters["samples_undated"] += sum(b.n_samples for b, _ in segment)
                continue
            self._place_segment(segment)

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
        rate = self._timeline.rate_hz()
        arrivals = [(int(b.sample_index[-1]), t) for b, t in held]
        offset_s = min(t - i / rate for i, t in arrivals)
        first_time_s = offset_s + int(merged.sample_index[0]) / rate
        self._place(merged, held[-1][1], first_time_s=first_time_s, arrivals=arrivals)

    def _place(self, batch, now: float, first_time_s=None, arrivals=None) -> None:
        if batch.n_samples == 0:
            return
        resets = [int(e["at_sample"]) for e in batch.events if e.get("kind") == "reset"]
        data_uv = self.spec.to_uv(self._decoder, batch.counts)
        pieces = self._timeline.place(
            batch.sample_index, now, resets, first_time_s=first_time_s, arrivals=arrivals
        )
        for piece in pieces:
            if isinstance(piece, Gap):
                self._flush_acc()
                self._emit_gap(piece.start_sample, piece.n_samples, piece.reason, piece.estimated)
            elif isinstance(piece, Run):
                if not self._acc:
                    self._acc_since_s = now
                self._acc.append((piece.start_sample, data_uv[:, piece.col0 : piece.col1]))
        with self._lock:
            self.counters["samples_received"] += batch.n_samples
        if self._info is None:
            self._make_info(now, batch.n_samples)
            self._first_data.set()
        acc_n = sum(block.shape[1] for _, block in self._acc)
        if acc_n >= self.chunk_s * self.spec.sfreq_hz:
            self._flush_acc()

    def _flush_acc(self) -> None:
        if not self._acc:
            return
        start = self._acc[0][0]
        data = np.concatenate([block for _, block in self._acc], axis=1)
        self._acc = []
        chunk = SampleChunk(start_sample=start, data_uv=np.ascontiguousarray(data))
        if not self._queue.put(chunk):
            with self._lock:
                self.counters["overflow_samples"] += chunk.n_samples
            self._emit_gap(start, chunk.n_samples, "overflow", False)

    def _emit_gap(self, start: int, n: int, reason: str, estimated: bool) -> None:
        with self._lock:
            lost = self.counters["samples_lost"]
            lost[reason] = lost.get(reason, 0) + int(n)
            self.counters["gaps"] += 1
            self.counters["gaps_estimated"] += int(estimated)
        self._queue.put(gap_chunk(start, self.spec.n_channels, n, reason))

    # -------------------------------------------------------------------- stalls and reconnects
    def _check_stall(self, now: float) -> None:
        if now - self._last_byte_s < self.stall_s:
            return
        if self._stall_resent_s is None:
            self._event("stall", f"no data for {now - self._last_byte_s:.1f} s; start re-sent")
            with self._lock:
                self.counters["stalls"] += 1
            self._stall_resent_s = now
            try:
                self._send_start()
            except _PORT_ERRORS as exc:
                self._disconnect("unplugged", str(exc))
        elif now - self._stall_resent_s >= self.stall_s:
            self._disconnect("stall", "still no data after re-sending start; reopening the port")

    def _disconnect(self, reason: str, detail: str) -> None:
        self._flush_decoder()
        self._release_held()
        self._flush_acc()
        self._shutdown_port(send_stop=False)
        self._timeline.begin_session(reason)
        self._backoff.reset()
        self._next_attempt_s = time.monotonic()
        with self._lock:
            self.counters["disconnects"] += 1
        self._event("disconnected", f"{reason}: {detail}")

    def _reconnect_step(self) -> None:
        wait_s = self._next_attempt_s - time.monotonic()
        if wait_s > 0 and self._stop.wait(wait_s):
            return
        path = self._candidate_path()
        try:
            ser = open_serial(path, self.spec.baudrate, timeout_s=self.read_timeout_s)
        except SerialPortError:
            self._next_attempt_s = time.monotonic() + self._backoff.next_delay_s()
            return
        self._ser = ser
        self._decoder.new_connection()
        now = time.monotonic()
        self._last_byte_s = now
        self._stall_resent_s = None
        try:
            self._send_start()
        except _PORT_ERRORS as exc:
            self._disconnect("unplugged", str(exc))
            return
        with self._lock:
            self.counters["reconnects"] += 1
        self._event("reconnected", path)

    def _candidate_path(self) -> str:
        if self._serial_number and not _exists(self.port):
            other = find_by_serial_number(self._serial_number)
            if other:
                return other
        return self.port

    def _send_start(self) -> None:
        if self.spec.start_command:
            self._ser.write(self.spec.start_command)
            self._ser.flush()

    def _shutdown_port(self, send_stop: bool = True) -> None:
        ser, self._ser = self._ser, None
        if ser is None:
            return
        try:
            if send_stop and self.spec.stop_command:
                ser.write(self.spec.stop_command)
                ser.flush()
        except _PORT_ERRORS:
            pass
        try:
            ser.close()
        except _PORT_ERRORS:
            pass

    # ---------------------------------------------------------------------------- bookkeeping
    def _event(self, kind: str, detail: str) -> None:
        now = time.monotonic()
        with self._lock:
            self.events.append(
                {
                    "kind": kind,
                    "at_s": round(now - self._t0, 3),
                    "t_monotonic": now,
                    "detail": detail,
                }
            )

    def _decoder_stats(self) -> dict:
        return self._decoder.stats.as_dict()

    def _note_device_info(self, info: object) -> None:
        if info is None:
            return
        facts = info.as_dict() if hasattr(info, "as_dict") else dict(getattr(info, "__dict__", {}))
        if isinstance(facts.get("firmware"), tuple | list):
            facts["firmware"] = ".".join(str(v) for v in facts["firmware"])
        with self._lock:
            self._device_facts.update({k: v for k, v in facts.items() if v not in (None, "")})
        if self.spec.describes_itself and self._info is None:
            with_device_info(self.spec, info, self.port)  # refuse what cannot be right, now
            self._device_info = info

    def _make_info(self, now: float, n_first: int) -> None:
        first_sample_s = (n_first - 1) / self.spec.sfreq_hz + (time.monotonic() - now)
        meas_date = datetime.now(UTC) - timedelta(seconds=first_sample_s)
        device = {
            "kind": self.spec.kind,
            "port": self.port,
            "serial_number": self._serial_number,
            "site": self.site,
            "baudrate": self.spec.baudrate,
        }
        device.update(self._device_facts)
        self._info = StreamInfo(
            sfreq_hz=self.spec.sfreq_hz,
            ch_names=list(self.ch_names),
            meas_date=meas_date,
            resolution_bits=self.spec.resolution_bits,
            uv_per_count=self.spec.uv_per_count,
            device=device,
        )


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


#: Host seconds of reads at the lower envelope that date a segment cut short (see _datable).
_DATING_S = 0.05
#: How close (host seconds) to the envelope a read arriving as the data are made comes.
_ON_TIME_S = 0.002


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


def _exists(path: str) -> bool:
    return os.path.exists(path)
