"""A tiny device on a real pseudo-terminal, for the serial-source tests.

It speaks a minimal framed protocol (``0xA5``, 8-bit counter, 16-bit big-endian samples, 8-bit sum) on
the master side of ``os.openpty`` behind a symbolic link, starts streaming on ``b`` and stops on ``s``,
and keeps the truth: every sample it generated, and which of them it could not deliver (unplugged,
or dropped on purpose). It can be unplugged (master closed, link removed) and plugged back (new pty,
link re-pointed), stall (stop writing) and corrupt bytes.
"""

from __future__ import annotations

import fcntl
import os
import select
import struct
import termios
import threading
import time

import numpy as np

from firmware_io.codec import StreamDecoder
from firmware_io.devices import DeviceSpec
from firmware_io.frames import FrameBatch

HEADER = 0xA5


def sample_values(index: np.ndarray, n_channels: int) -> np.ndarray:
    """Deterministic counts of samples ``index`` (int16 range), shape (n_channels, n)."""
    idx = np.asarray(index, dtype=np.int64)
    ch = np.arange(n_channels, dtype=np.int64)[:, None]
    return ((idx[None, :] * 7919 + ch * 104729) % 20001) - 10000


class TinyDecoder(StreamDecoder):
    """Decoder of the tiny protocol (test side: its own scan, on firmware_io's decoder contract)."""

    modulus = 256

    def __init__(self, n_channels: int) -> None:
        super().__init__(n_channels)
        self.frame_len = 3 + 2 * n_channels

    def feed(self, data: bytes) -> FrameBatch:
        self.stats.bytes_in += len(data)
        self._buf += data
        counters, values = [], []
        i, buf, n = 0, self._buf, self.frame_len
        while len(buf) - i >= n:
            if buf[i] != HEADER or (sum(buf[i + 1 : i + n - 1]) & 0xFF) != buf[i + n - 1]:
                if buf[i] == HEADER:
                    self.stats.crc_failures += 1
                self.stats.bytes_skipped += 1
                i += 1
                continue
            counters.append(buf[i + 1])
            raw = np.frombuffer(bytes(buf[i + 2 : i + n - 1]), dtype=">i2")
            values.append(raw.astype(np.float64))
            i += n
        del self._buf[:i]
        if not counters:
            return FrameBatch.empty(self.n_channels)
        events: list = []
        c = np.array(counters, dtype=np.int64)
        starts = self._tracker.track(c, np.ones_like(c), self.stats, events)
        self.stats.frames_ok += len(c)
        self.stats.samples_ok += len(c)
        return FrameBatch(
            counts=np.array(values).T.copy(),
            sample_index=starts,
            counter=c,
            status=np.zeros(len(c), np.uint8),
            events=events,
        )

    def flush(self) -> FrameBatch:
        self.stats.bytes_skipped += len(self._buf)
        self._buf.clear()
        return FrameBatch.empty(self.n_channels)


def tiny_spec(n_channels: int = 2, sfreq_hz: float = 500.0) -> DeviceSpec:
    """The spec of the tiny device."""
    return DeviceSpec(
        kind="tiny",
        baudrate=115200,
        sfreq_hz=sfreq_hz,
        n_channels=n_channels,
        resolution_bits=16,
        uv_per_count=0.5,
        counter_modulus=256,
        start_command=b"b",
        stop_command=b"s",
        make_decoder=lambda: TinyDecoder(n_channels),
    )


class PtyDevice:
    """Serve the tiny protocol on a pty behind ``link`` from a background thread.

    Attributes
    ----------
    lost : list of (start, stop)
        Device sample indices generated but not delivered, as half-open spans.
    generated : int
        Samples generated since the first start command.
    """

    def __init__(
        self, link: str, n_channels: int = 2, sfreq_hz: float = 500.0, protocol: str = "tiny"
    ) -> None:
        self.link = link
        self.protocol = protocol
        if protocol == "cyton":
            n_channels, sfreq_hz = 8, 250.0
        self.n_channels = n_channels
        self.sfreq_hz = sfreq_hz
        self.lost: list[tuple[int, int]] = []
        self.generated = 0
        self.streaming = False
        self.stalled = False
        self.corrupt_next = 0
        self.stalled_for_unplug = False
        self.plugged_at: list[float] = []
        self.starts_received = 0
        self._lock = threading.Lock()
        self._master: int | None = None
        self._slave: int | None = None
        self._t_start: float | None = None
        self._stop = threading.Event()
        self.plug()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    # -- cable ------------------------------------------------------------------------------------
    def plug(self) -> None:
        master, slave = os.openpty()
        os.set_blocking(master, False)
        tmp = self.link + ".tmp"
        os.symlink(os.ttyname(slave), tmp)
        os.replace(tmp, self.link)
        with self._lock:
            self._master, self._slave = master, slave
            self.plugged_at.append(time.monotonic())

    def unplug(self, drain: bool = True) -> None:
        """Stop writing, let the reader drain what is in flight, then pull the cable.

        Samples generated from then on are lost (and known lost); after plugging back the device
        waits for a start command, as a re-enumerated dongle does.
        """
        with self._lock:
            self.stalled_for_unplug = True
        deadline = time.monotonic() + 5.0
        while drain and self._slave is not None and time.monotonic() < deadline:
            if self._unread() == 0:
                break
            time.sleep(0.005)
        with self._lock:
            master, slave = self._master, self._slave
            self._master = self._slave = None
            self.streaming = False
            self.stalled_for_unplug = False
        if os.path.lexists(self.link):
            os.unlink(self.link)
        for fd in (master, slave):
            if fd is not None:
                os.close(fd)

    def _unread(self) -> int:
        """Bytes written and not yet read by the host, in flight inside the pty included.

        Written bytes reach the slave's read queue through a kernel work item; FIONREAD misses them
        until it has run, but a poll of the slave runs it when the queue is empty.
        """
        poller = select.poll()
        poller.register(self._slave, select.POLLIN)
        poller.poll(0)
        return struct.unpack("i", fcntl.ioctl(self._slave, termios.FIONREAD, b"\0\0\0\0"))[0]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.unplug(drain=False)

    # -- serving ----------------------------------------------------------------------------------
    def _frames(self, first: int, n: int) -> bytes:
        idx = np.arange(first, first + n)
        if self.protocol == "cyton":
            from firmware_io.cyton import encode_packets

            out = bytearray(encode_packets(idx, sample_values(idx, 8)))
            if self.corrupt_next:
                out[-1] = 0x00  # a damaged footer: the packet must be dropped
                self.corrupt_next -= 1
                self.lost.append((first + n - 1, first + n))
            return bytes(out)
        vals = sample_values(idx, self.n_channels).astype(">i2")
        out = bytearray()
        for k in range(n):
            body = bytes([idx[k] % 256]) + vals[:, k].tobytes()
            out += bytes([HEADER]) + body + bytes([sum(body) & 0xFF])
        if self.corrupt_next:
            # flip a checksum byte: that frame must be dropped and counted
            out[-1] ^= 0xFF
            self.corrupt_next -= 1
            self.lost.append((first + n - 1, first + n))
        return bytes(out)

    def _run(self) -> None:
        while not self._stop.is_set():
            time.sleep(0.005)
            with self._lock:
                master = self._master
                if master is None:
                    self._advance(deliver=False)
                    continue
                try:
                    cmd = os.read(master, 64)
                except (BlockingIOError, OSError):
                    cmd = b""
                if b"b" in cmd:
                    self.starts_received += 1
                    if not self.streaming:
                        self.streaming = True
                        if self._t_start is None:
                            self._t_start = time.monotonic()
                if b"s" in cmd:
                    self.streaming = False
                self._advance(
                    deliver=self.streaming and not (self.stalled or self.stalled_for_unplug)
                )

    def _advance(self, deliver: bool) -> None:
        if self._t_start is None:
            return
        due = int((time.monotonic() - self._t_start) * self.sfreq_hz)
        n = due - self.generated
        if n <= 0:
            return
        first = self.generated
        self.generated = due
        if not deliver:
            self._add_lost(first, due)
            return
        data = self._frames(first, n)
        try:
            written = os.write(self._master, data)
        except (BlockingIOError, OSError):
            written = 0
        if written < len(data):  # the pty buffer is full: frames not (wholly) written are lost
            n_full = written // (len(data) // n)
            self._add_lost(first + n_full, due)

    def _add_lost(self, start: int, stop: int) -> None:
        if self.lost and self.lost[-1][1] == start:
            self.lost[-1] = (self.lost[-1][0], stop)
        else:
            self.lost.append((start, stop))
