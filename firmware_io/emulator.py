"""Emulated devices on a virtual serial port, with fault injection and an exact fault log.

``EmulatedDevice(kind, source, sfreq_hz, port_path, speed=..., faults=...)`` runs the firmware model of
``kind`` (:mod:`firmware_io.firmware`) in a thread behind a pseudo-terminal reachable at ``port_path``.
It answers the device's real commands and streams the samples of ``source`` (any iterable of float64
µV arrays shaped (n_channels, n)) at ``speed`` x real time, paced by the monotonic clock.

Accounting: every sample the device produces is either delivered to the host or lost, and every loss is
in ``fault_log`` with its cause: ``drop_frames``, ``corrupt``/``drop_bytes`` (frames the protocol's
check rejects; frames damaged but not detectable are delivered and logged with ``detected: False``),
``unplug`` (sampled while unplugged, or written but not yet read when the port vanished), ``reset``
(the reboot), ``no_reader`` (streaming while no host has the port open, and frames held back for
a host that closed the port), ``overflow`` (the host read
too slowly). Fault schedules run on device time (samples produced / rate), so they do not depend on
``speed``.

The parts, one job each: :class:`~firmware_io._emu_link.HostLink` (the pty and the host on it),
:class:`~firmware_io._emu_schedule.SampleClock` (device time), :class:`~firmware_io._emu_schedule.FaultSchedule`
(the plan's unplugs, stalls and resets in samples), :class:`~firmware_io._emu_damage.LinkDamage` (frame
drops and byte damage), :class:`~firmware_io._emu_outbox.Outbox` (bytes not yet written or read) and
:class:`~firmware_io._emu_ledger.FaultLedger` (the fault log and loss counts); the firmware model
answers commands and encodes frames in its protocol.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

import numpy as np

from firmware_io._emu_damage import LinkDamage
from firmware_io._emu_ledger import FaultLedger
from firmware_io._emu_link import CONNECT_DELAY_S, SETTLE_MAX_S, SETTLE_STILL_S, HostLink
from firmware_io._emu_outbox import PIPE_BYTES, Outbox
from firmware_io._emu_schedule import MAX_BATCH_S, RESET_GAP_S, FaultSchedule, SampleClock
from firmware_io._emu_source import SampleSource
from firmware_io.errors import ProtocolError
from firmware_io.faults import FaultPlan
from firmware_io.firmware import make_firmware

__all__ = ["EmulatedDevice", "CONNECT_DELAY_S", "MAX_BATCH_S", "PIPE_BYTES", "RESET_GAP_S",
           "SETTLE_MAX_S", "SETTLE_STILL_S"]


class EmulatedDevice:
    """A device of ``kind`` served on a pseudo-terminal at ``port_path``.

    Parameters
    ----------
    kind : {"calfwatch", "cyton", "bitalino", "ascii"}
        Firmware to emulate.
    source : iterable of ndarray or objects with ``data_uv``
        Samples in µV, shape (n_channels, n) per item, consumed as the device samples.
    sfreq_hz : float
        Sampling rate of the source.
    port_path : str
        Where the port appears (a symlink to the pty, replaced atomically).
    speed : float
        Multiple of real time.
    faults : FaultPlan, optional
        Faults to inject (deterministic for the plan's seed).
    n_channels : int, optional
        Channels to send (default: the source's).
    **firmware_options
        Passed to the firmware model (e.g. ``counter_column=True`` for ``ascii``).
    """

    def __init__(self, kind: str, source: Iterable, sfreq_hz: float, port_path: str, *,
                 speed: float = 1.0, faults: FaultPlan | None = None, n_channels: int | None = None,
                 batch_s: float = 0.004, max_pending_bytes: int = 1 << 22,
                 **firmware_options) -> None:
        if not speed > 0:
            raise ProtocolError(f"speed must be positive, not {speed}")
        self.kind = kind
        self.sfreq_hz = float(sfreq_hz)
        self.speed = float(speed)
        self._source = SampleSource(source)
        n_channels = n_channels or self._source.n_channels or 1
        self.firmware = make_firmware(kind, sfreq_hz, n_channels, **firmware_options)
        self.firmware.streaming = False  # a sketch that streams by itself starts with its first host
        self.faults = faults or FaultPlan()
        self._ledger = FaultLedger(self.sfreq_hz)
        self._damage = LinkDamage(self.faults, self.firmware, self._ledger)
        self._link = HostLink(port_path)
        self.port = self._link.port
        self.batch_s = batch_s
        self._outbox = Outbox(self._ledger, max_pending_bytes)
        self._clock = SampleClock(self.sfreq_hz, self.speed)
        self._schedule = FaultSchedule(self.faults, self.sfreq_hz)
        self.fault_log: list[dict] = self._ledger.records
        self.finished = threading.Event()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._produced = 0
        self._hold_until = -1
        #: the exception that stopped the firmware thread, if any
        self.error: Exception | None = None

    # -- public -------------------------------------------------------------------------------
    @property
    def port_path(self) -> str:
        """The stable path of the port."""
        return self.port.path

    @property
    def max_pending_bytes(self) -> int:
        """Bytes queued for the host before new frames are lost to ``overflow``."""
        return self._outbox.max_pending_bytes

    def start(self) -> EmulatedDevice:
        """Create the port and start the firmware thread."""
        self.port.open()
        self._ledger.t0 = time.monotonic()
        self._outbox.put_raw(self._startup_bytes())
        self._thread = threading.Thread(target=self._run, name=f"emulated-{self.kind}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the thread and remove the port."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
        self.port.close()

    def __enter__(self) -> EmulatedDevice:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def totals(self) -> dict:
        """Samples produced, delivered, lost by cause, and delivered with undetected damage."""
        with self._lock:
            lost = dict(self._ledger.lost)
            pending = self._outbox.pending_samples()
            total_lost = sum(lost.values())
            return {
                "samples_produced": self._produced,
                "samples_delivered": self._produced - total_lost - pending,
                "samples_pending": pending,
                "samples_lost": total_lost,
                "lost_by_cause": lost,
                "samples_corrupted_undetected": self._ledger.undetected,
                "fault_events": len(self.fault_log),
            }

    # -- thread ---------------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            self._serve()
        except Exception as exc:  # surfaced by stop() and the command; the port must not hang
            self.error = exc
            self.finished.set()

    def _serve(self) -> None:
        wait_s = min(self.batch_s, 0.02)
        while not self._stop.is_set():
            now, received, connected, ready = self._link.poll(wait_s)
            if received is not None:
                self._outbox.put_raw(self.firmware.handle(received))
            if self.firmware.autostart and ready:
                # a sketch that waits for its first host, then prints whether or not anyone
                # reads: its samples keep their time while nobody listens (lost, not paused)
                self.firmware.streaming = True
            with self._lock:
                state = self._schedule.state
                if not connected and not state["no_reader"]:
                    self._reader_left()
                state["no_reader"] = not connected
                self._advance(now)
                if ready:
                    self._flush()
                if self._source.done and not self._outbox.pending:
                    self.finished.set()

    def _advance(self, now: float) -> None:
        fw = self.firmware
        if not fw.streaming or self._source.done:
            self._clock.pause()
            return
        n = self._clock.due(now, self._produced, fw.samples_per_frame)
        if n > 0:
            self._produce(n)

    # -- schedule -------------------------------------------------------------------------------
    def _produce(self, n: int) -> None:
        s = self._produced
        end = s + n
        spans = self._schedule.spans(end)
        while s < end and not self._source.done:
            stop = self._schedule.next_bound(spans, s, end)
            self._transitions(s, spans)
            data = self._source.take(stop - s)
            m = data.shape[1]
            if m == 0:
                break
            self._emit(s, data)
            s += m
            self._produced = s

    def _transitions(self, s: int, spans: dict) -> None:
        schedule = self._schedule
        inside = schedule.inside(spans, s)
        if inside["unplug"] != schedule.state["unplug"]:
            self._unplug(s) if inside["unplug"] else self._replug(s)
        for _ in range(schedule.new_resets(spans, s)):
            self._outbox.put_raw(self.firmware.boot())
        if inside["stall"] and not schedule.state["stall"]:
            b = schedule.stall_end(spans, s)
            self._hold_until = b
            self._ledger.log("stall", s, 0, 0, duration_s=(b - s) / self.sfreq_hz)
        schedule.state.update(unplug=inside["unplug"], reset=inside["reset"], stall=inside["stall"])

    # -- emitting ---------------------------------------------------------------------------
    def _emit(self, s: int, data: np.ndarray) -> None:
        n = data.shape[1]
        for cause in ("unplug", "reset", "no_reader"):
            if self._schedule.state[cause]:
                if cause != "reset":
                    self.firmware.counter += n  # the device keeps sampling
                self._ledger.lose_span(cause, s, n)
                return
        self._ledger.close_span()
        counts = self.firmware.quantise(data[: self.firmware.n_channels])
        self._outbox.put_frames(*self._damage.apply(self.firmware.encode(counts, s)))

    # -- output -----------------------------------------------------------------------------
    def _startup_bytes(self, power_on: bool = True) -> bytes:
        garbage = self._damage.garbage(self._produced)
        return garbage + (self.firmware.boot() if power_on else self.firmware.resync)

    def _flush(self) -> None:
        if self._produced < self._hold_until:
            return
        self._outbox.flush(self.port.write, PIPE_BYTES - self._link.unread_bytes())

    def _unplug(self, s: int) -> None:
        gone = self._outbox.drop_all(self._link.settled_unread())
        self._ledger.lose_runs("unplug", gone, in_flight=True)
        self._damage.poison = None
        self._link.unplug()

    def _reader_left(self) -> None:
        """The host closed the port: the frames the device still held for it are lost.

        A serial adapter keeps at most a small FIFO while nobody reads; the data a stall held
        back do not wait for the next host. Without this they arrived after a reconnection as a
        burst older than the host's clock could date.
        """
        self._ledger.lose_runs("no_reader", self._outbox.drop_frames(), held_back=True)
        self._damage.poison = None

    def _replug(self, s: int) -> None:
        self.port.open()
        self._outbox.put_raw(self._startup_bytes(power_on=False))  # the device kept running
