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

import threading
import time
from collections.abc import Iterator

from acquisition._backoff import Backoff
from acquisition._device_session import DeviceSession
from acquisition._device_spec import device_spec
from acquisition._placement import SamplePlacer
from acquisition._serial_link import PORT_ERRORS, SerialLink
from acquisition._source_stats import SourceCounters
from acquisition.ports import SerialPortError, normalize_port
from acquisition.stream import SampleChunk, StreamInfo
from firmware_io.devices import DeviceSpec


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
        self._session = DeviceSession(self.port, device_spec(device), ch_names, site)
        self.stall_s = float(stall_s)
        self.chunk_s = float(chunk_s)
        self.read_timeout_s = float(read_timeout_s)
        self.site = site
        self.settle_s = float(settle_s)
        self._queue_s, self._clock_speed = float(queue_s), float(clock_speed)
        self._stats = SourceCounters()
        self.counters, self.events = self._stats.counters, self._stats.events
        self._decoder = self.spec.make_decoder()
        self._configure()
        self._stop = threading.Event()
        self._stop_s: float | None = None
        self._first_data = threading.Event()
        self._error: BaseException | None = None
        self.spec.warm_up()
        self._stats.t0_s = time.monotonic()
        self._link = SerialLink(self.port, self.spec, self._stats, stall_s=self.stall_s,
                                read_timeout_s=self.read_timeout_s, backoff=backoff or Backoff(),
                                on_failure=self._disconnect)
        self._start_thread(first_data_timeout_s)

    def _start_thread(self, first_data_timeout_s: float) -> None:
        """Ask the device to describe itself and start, start the reader, wait for the first data."""
        if self.spec.info_command:
            self._link.ser.write(self.spec.info_command)
        self._link.send_start()
        self._thread = threading.Thread(target=self._run, name=f"serial {self.port}", daemon=True)
        self._thread.start()
        if not self._first_data.wait(first_data_timeout_s) or self._error is not None:
            self.close()
            if self._error is not None:
                raise self._error
            if self._session.starting and self.spec.describes_itself:
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
        assert self._session.info is not None
        return self._session.info

    @property
    def spec(self) -> DeviceSpec:
        """The device's spec (with what it said about itself once it did)."""
        return self._session.spec

    @property
    def ch_names(self) -> list[str]:
        """Channel names."""
        return self._session.ch_names

    def chunks(self) -> Iterator[SampleChunk]:
        """Yield chunks in timeline order until :meth:`close`; raises what stopped the reader."""
        while True:
            chunk = self._placer.queue.get(timeout_s=0.2)
            if chunk is not None:
                yield chunk
                continue
            if not self._thread.is_alive() and len(self._placer.queue) == 0:
                if self._error is not None:
                    raise self._error
                return

    def close(self) -> None:
        """Stop the reader thread, send the stop command and close the port. Safe to call twice."""
        self.request_stop()
        if threading.current_thread() is not self._thread and self._thread.is_alive():
            self._thread.join(timeout=5.0)

    def request_stop(self) -> None:
        """Ask the reader to stop without waiting (safe from a signal handler); chunks() then ends.

        The time of the first request is the end of the recording: a disconnection still going
        on then is lost time up to it (see :meth:`_end_disconnected`).
        """
        if self._stop_s is None:
            self._stop_s = time.monotonic()
        self._stop.set()

    def stop_requested(self) -> bool:
        """True once :meth:`close` was called."""
        return self._stop.is_set()

    @property
    def connected(self) -> bool:
        """True while the port is open."""
        return self._link.ser is not None

    def stats(self) -> dict:
        """Counters so far: source counters, decoder statistics and device facts (a copy)."""
        with self._stats.lock:
            out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in self.counters.items()}
            out["gaps_estimated"] = self._placer.timeline.estimated_gaps
            out["decoder"] = self._decoder.stats.as_dict()
            out["device"] = dict(self._stats.device_facts)
            out["connected"] = self._link.ser is not None
            out["events"] = list(self.events)
        return out

    # ------------------------------------------------------------------------------ the thread
    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                if self._link.ser is None:
                    self._reconnect_step()
                    continue
                self._read_once()
        except BaseException as exc:  # surfaced to the consumer by chunks()
            self._error = exc
            self._first_data.set()
        finally:
            if self._error is None:
                self._flush_decoder()
                self._placer.release_held()
                self._end_disconnected()
            self._placer.flush_acc()
            self._link.shutdown()

    def _end_disconnected(self) -> None:
        """A disconnection with no sample after it when the recording stops: the device was away
        from the last sample to the stop. That span is one gap (annotated, counted lost, dated
        by host time), never left out of the file as if the recording had ended earlier."""
        stop_s = self._stop_s if self._stop_s is not None else time.monotonic()
        n = self._placer.end_disconnected(stop_s)
        if n:
            self._stats.add("samples_lost_at_stop", n)
            seconds = n / self.spec.sfreq_hz
            self._stats.event("stopped while disconnected",
                              f"the device was disconnected for the last {seconds:.1f} s of the "
                              f"recording: {n} samples lost, annotated")

    def _read_once(self) -> None:
        ser = self._link.ser
        try:
            data = ser.read(ser.in_waiting or 1)
        except PORT_ERRORS as exc:
            self._disconnect("unplugged", str(exc))
            return
        now = time.monotonic()
        if data:
            self._link.got_bytes(now)
            self._on_batch(self._decoder.feed(data), now)
        else:
            self._link.check_stall(now)
        self._placer.tick(now)

    def _flush_decoder(self) -> None:
        """At the end of a connection: decode the frames the decoder still holds, drop the torn tail."""
        self._on_batch(self._decoder.flush(), self._link.last_byte_s)

    def _on_batch(self, batch, now: float) -> None:
        for event in batch.events:
            if event.get("kind") == "info":
                self._note_device_info(event.get("info"))
        if self._session.info is None:
            self._start(batch, now)
            return
        self._placer.on_data(batch, now)

    def _start(self, batch, now: float) -> None:
        """Before the stream's shape is known: hold batches, then configure and place them."""
        started = self._session.start_batches(batch, now, self._link.ser)
        if started is None:
            return
        self._link.spec = self.spec
        self._configure()
        for early, t in started:
            self._placer.on_data(early, t)

    def _configure(self) -> None:
        """Queue and timeline for the spec's rate (the queue holds queue_s of wall time; an
        emulated device at N x fills it N times faster)."""
        self._placer = SamplePlacer(self.spec, self._decoder, self._stats, queue_s=self._queue_s,
                                    clock_speed=self._clock_speed, chunk_s=self.chunk_s,
                                    settle_s=self.settle_s, on_placed=self._on_placed)

    def _on_placed(self, now: float, n_samples: int) -> None:
        if self._session.info is None:
            self._session.make_info(now, n_samples, self._link.serial_number,
                                    self._stats.device_facts)
            self._first_data.set()

    # -------------------------------------------------------------------- stalls and reconnects
    def _disconnect(self, reason: str, detail: str) -> None:
        self._flush_decoder()
        self._placer.release_held()
        self._placer.flush_acc()
        self._link.shutdown(send_stop=False)
        self._placer.timeline.begin_session(reason)
        self._link.schedule_reconnect()
        self._stats.add("disconnects")
        self._stats.event("disconnected", f"{reason}: {detail}")

    def _reconnect_step(self) -> None:
        path = self._link.try_reopen(self._stop)
        if path is None:
            return
        self._decoder.new_connection()
        self._link.got_bytes(time.monotonic())
        try:
            self._link.send_start()
        except PORT_ERRORS as exc:
            self._disconnect("unplugged", str(exc))
            return
        self._stats.add("reconnects")
        self._stats.event("reconnected", path)

    # ---------------------------------------------------------------------------- bookkeeping
    def _note_device_info(self, info: object) -> None:
        facts = self._session.device_facts(info)
        if facts is None:
            return
        self._stats.note_device_facts(facts)
        self._session.accept_device_info(info)
