"""The serial port of a live source: open, start and stop commands, stalls, reopening with back-off."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

import serial

from acquisition._backoff import Backoff
from acquisition._source_stats import SourceCounters
from acquisition.ports import SerialPortError, find_by_serial_number, open_serial, usb_serial_number
from firmware_io.devices import DeviceSpec

PORT_ERRORS = (serial.SerialException, OSError, TypeError, AttributeError)


class SerialLink:
    """One device's port, kept open across unplugging: stall detection and reconnection.

    Parameters
    ----------
    port : str
        Normalized port path.
    spec : DeviceSpec
        The device (baud rate, start and stop commands).
    counters : SourceCounters
        Where stalls are counted and logged.
    stall_s : float
        No byte for this long is a stall: the start command is re-sent, then after another
        ``stall_s`` the port is reopened.
    read_timeout_s : float
        Serial read timeout.
    backoff : Backoff
        Reconnection schedule.
    on_failure : callable
        Called with ``(reason, detail)`` when the port fails (the source then disconnects).
    """

    def __init__(self, port: str, spec: DeviceSpec, counters: SourceCounters, *, stall_s: float,
                 read_timeout_s: float, backoff: Backoff,
                 on_failure: Callable[[str, str], None]) -> None:
        self.port = port
        self.spec = spec
        self.stall_s = float(stall_s)
        self.read_timeout_s = float(read_timeout_s)
        self.backoff = backoff
        self._counters = counters
        self._on_failure = on_failure
        self.ser = open_serial(self.port, spec.baudrate, timeout_s=self.read_timeout_s)
        self.serial_number = usb_serial_number(self.port)
        self.connected_at = time.monotonic()
        self.last_byte_s = self.connected_at
        self._stall_resent_s: float | None = None
        self.next_attempt_s = 0.0

    def got_bytes(self, now: float) -> None:
        """Note that bytes arrived at host time ``now`` (no stall)."""
        self.last_byte_s = now
        self._stall_resent_s = None

    def check_stall(self, now: float) -> None:
        """After an empty read: re-send start after ``stall_s``, give up on the port after another."""
        if now - self.last_byte_s < self.stall_s:
            return
        if self._stall_resent_s is None:
            self._counters.event("stall", f"no data for {now - self.last_byte_s:.1f} s; start re-sent")
            self._counters.add("stalls")
            self._stall_resent_s = now
            try:
                self.send_start()
            except PORT_ERRORS as exc:
                self._on_failure("unplugged", str(exc))
        elif now - self._stall_resent_s >= self.stall_s:
            self._on_failure("stall", "still no data after re-sending start; reopening the port")

    def schedule_reconnect(self) -> None:
        """After a disconnection: the first attempt now, then with back-off."""
        self.backoff.reset()
        self.next_attempt_s = time.monotonic()

    def try_reopen(self, stop: threading.Event) -> str | None:
        """Wait for the next attempt and reopen the port; its path, or None (retried later)."""
        wait_s = self.next_attempt_s - time.monotonic()
        if wait_s > 0 and stop.wait(wait_s):
            return None
        path = self._candidate_path()
        try:
            ser = open_serial(path, self.spec.baudrate, timeout_s=self.read_timeout_s)
        except SerialPortError:
            self.next_attempt_s = time.monotonic() + self.backoff.next_delay_s()
            return None
        self.ser = ser
        return path

    def _candidate_path(self) -> str:
        if self.serial_number and not _exists(self.port):
            other = find_by_serial_number(self.serial_number)
            if other:
                return other
        return self.port

    def send_start(self) -> None:
        """Send the device's start command (if it has one)."""
        if self.spec.start_command:
            self.ser.write(self.spec.start_command)
            self.ser.flush()

    def shutdown(self, send_stop: bool = True) -> None:
        """Send the stop command (optionally) and close the port; errors are ignored."""
        ser, self.ser = self.ser, None
        if ser is None:
            return
        try:
            if send_stop and self.spec.stop_command:
                ser.write(self.spec.stop_command)
                ser.flush()
        except PORT_ERRORS:
            pass
        try:
            ser.close()
        except PORT_ERRORS:
            pass


def _exists(path: str) -> bool:
    return os.path.exists(path)
