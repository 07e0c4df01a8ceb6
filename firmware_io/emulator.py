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
"""

from __future__ import annotations

import array
import collections
import contextlib
import fcntl
import os
import select
import termios
import threading
import time
from collections.abc import Iterable

import numpy as np

from firmware_io._emu_source import SampleSource
from firmware_io.errors import ProtocolError
from firmware_io.faults import FaultPlan
from firmware_io.firmware import Encoded, make_firmware
from firmware_io.pty_port import PtyPort

RESET_GAP_S = 0.02
CONNECT_DELAY_S = 0.05
MAX_BATCH_S = 0.25
#: bytes allowed unread in the pty: what the host's read queue holds, so that what an unplug loses is known
PIPE_BYTES = 4000
#: an unplug waits up to this long for the host to read what was written (see _settled_unread)
SETTLE_MAX_S = 1.0
#: ... or for this long of an unread count that does not change (a host that is not reading)
SETTLE_STILL_S = 0.1


def _runs(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Merge (first, n) spans into contiguous runs."""
    out: list[list[int]] = []
    for first, n in sorted(spans):
        if out and out[-1][0] + out[-1][1] == first:
            out[-1][1] += n
        else:
            out.append([first, n])
    return [(a, b) for a, b in out]


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
        # one generator per fault kind, each drawn per frame or per byte of the stream, so the faults
        # depend on the seed only, not on how the emulator's clock slices the stream into blocks
        streams = np.random.SeedSequence(self.faults.seed).spawn(4)
        self._rng = dict(zip(("drop_frames", "corrupt", "drop_bytes", "garbage"),
                             map(np.random.default_rng, streams), strict=True))
        self._byte_rate = {"corrupt": self.faults.corrupt_rate, "drop_bytes": self.faults.drop_byte_rate}
        self._next_hit = {cause: self._gap(cause) for cause in self._byte_rate}
        self.port = PtyPort(port_path)
        self.batch_s = batch_s
        self.max_pending_bytes = max_pending_bytes
        self.fault_log: list[dict] = []
        self.finished = threading.Event()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._produced = 0
        self._lost: dict[str, int] = collections.Counter()
        self._undetected = 0
        self._pending: collections.deque = collections.deque()  # [bytes, frames(list)]
        self._pending_bytes = 0
        self._written = 0
        self._in_pipe: collections.deque = collections.deque()  # (end_offset, first, n, cause)
        self._poison: str | None = None
        self._clock: float | None = None
        self._clock_base = 0
        self._connected_since: float | None = None
        self._hold_until = -1
        self._state = {"unplug": False, "reset": False, "stall": False, "no_reader": False}
        self._open_record: dict[str, dict] = {}
        self._resets_done: set[int] = set()
        self._t0 = 0.0
        #: the exception that stopped the firmware thread, if any
        self.error: Exception | None = None

    # -- public -------------------------------------------------------------------------------
    @property
    def port_path(self) -> str:
        """The stable path of the port."""
        return self.port.path

    def start(self) -> EmulatedDevice:
        """Create the port and start the firmware thread."""
        self.port.open()
        self._t0 = time.monotonic()
        self._enqueue_raw(self._startup_bytes())
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
            lost = dict(self._lost)
            pending = sum(f[2] for _, frames in self._pending for f in frames)
            total_lost = sum(lost.values())
            return {
                "samples_produced": self._produced,
                "samples_delivered": self._produced - total_lost - pending,
                "samples_pending": pending,
                "samples_lost": total_lost,
                "lost_by_cause": lost,
                "samples_corrupted_undetected": self._undetected,
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
            now = time.monotonic()
            ready = False
            if self.port.is_open:
                readable, connected = self.port.wait(wait_s)
                now = time.monotonic()
                if not connected:
                    self._connected_since = None
                elif self._connected_since is None:
                    self._connected_since = now
                # write only once the host's open() has flushed its input (pyserial does)
                ready = connected and now - self._connected_since >= CONNECT_DELAY_S
                if readable:
                    self._enqueue_raw(self.firmware.handle(self.port.read()))
                if self.firmware.autostart and ready:
                    # a sketch that waits for its first host, then prints whether or not anyone
                    # reads: its samples keep their time while nobody listens (lost, not paused)
                    self.firmware.streaming = True
            else:
                connected = False
                time.sleep(wait_s)
            with self._lock:
                if not connected and not self._state["no_reader"]:
                    self._reader_left()
                self._state["no_reader"] = not connected
                self._advance(now)
                if ready:
                    self._flush()
                if self._source.done and not self._pending:
                    self.finished.set()

    def _advance(self, now: float) -> None:
        fw = self.firmware
        if not fw.streaming or self._source.done:
            self._clock = None
            return
        if self._clock is None:
            self._clock, self._clock_base = now, self._produced
        due = self._clock_base + int((now - self._clock) * self.sfreq_hz * self.speed)
        cap = max(int(MAX_BATCH_S * self.sfreq_hz * self.speed) + 1, fw.samples_per_frame)
        due = min(due, self._produced + cap)
        n = due - due % fw.samples_per_frame - self._produced  # whole frames, as a device sends them
        if n > 0:
            self._produce(n)

    # -- schedule -------------------------------------------------------------------------------
    def _spans(self, until: int) -> dict[str, list[tuple[int, int]]]:
        sf = self.sfreq_hz
        until_s = until / sf
        out: dict[str, list[tuple[int, int]]] = {"unplug": [], "stall": [], "reset": []}
        for key, items in (("unplug", self.faults.unplugs), ("stall", self.faults.stalls)):
            for item in items:
                for at, dur in item.occurrences(until_s):
                    out[key].append((round(at * sf), round((at + dur) * sf)))
        for item in self.faults.resets:
            for at, _ in item.occurrences(until_s):
                out["reset"].append((round(at * sf), round((at + RESET_GAP_S) * sf)))
        return out

    def _produce(self, n: int) -> None:
        s = self._produced
        end = s + n
        spans = self._spans(end)
        while s < end and not self._source.done:
            bounds = [b for lst in spans.values() for span in lst for b in span if s < b < end]
            stop = min([end, *bounds])
            self._transitions(s, spans)
            data = self._source.take(stop - s)
            m = data.shape[1]
            if m == 0:
                break
            self._emit(s, data)
            s += m
            self._produced = s

    def _transitions(self, s: int, spans: dict) -> None:
        inside = {k: any(a <= s < b for a, b in v) for k, v in spans.items()}
        if inside["unplug"] != self._state["unplug"]:
            self._unplug(s) if inside["unplug"] else self._replug(s)
        for a, _b in spans["reset"]:
            if a <= s and a not in self._resets_done:
                self._resets_done.add(a)
                self._enqueue_raw(self.firmware.boot())
        if inside["stall"] and not self._state["stall"]:
            b = max(b for a, b in spans["stall"] if a <= s < b)
            self._hold_until = b
            self._log("stall", s, 0, 0, duration_s=(b - s) / self.sfreq_hz)
        self._state.update(unplug=inside["unplug"], reset=inside["reset"], stall=inside["stall"])

    # -- emitting ---------------------------------------------------------------------------
    def _emit(self, s: int, data: np.ndarray) -> None:
        n = data.shape[1]
        for cause in ("unplug", "reset", "no_reader"):
            if self._state[cause]:
                if cause != "reset":
                    self.firmware.counter += n  # the device keeps sampling
                self._lose_span(cause, s, n)
                return
        self._open_record.clear()
        counts = self.firmware.quantise(data[: self.firmware.n_channels])
        self._inject(self.firmware.encode(counts, s))

    def _lose_span(self, cause: str, s: int, n: int) -> None:
        rec = self._open_record.get(cause)
        if rec is None or rec["first_sample"] + rec["n_samples"] != s:
            self._open_record.clear()
            rec = self._log(cause, s, 0, 0)
            self._open_record[cause] = rec
        rec["n_samples"] += n
        rec["samples_lost"] += n
        self._lost[cause] += n

    def _inject(self, enc: Encoded) -> None:
        """Apply frame drops and byte damage to one encoded block and queue what is sent."""
        nf = len(enc.first)
        frames = [enc.data[enc.offsets[k] : enc.offsets[k + 1]] for k in range(nf)]
        idx = self._drop_frames(enc)
        damage = self._draw_damage([len(frames[k]) for k in idx])
        out, frame_meta = [], []
        for j, k in enumerate(idx):
            raw, lost_cause = frames[k], None
            if j in damage:
                raw, lost_cause = self._damage(enc, k, raw, damage[j])
            merged_by = self._poison if j == 0 else None
            if j - 1 in damage and damage[j - 1]["split"]:
                merged_by = damage[j - 1]["cause"]
            if merged_by is not None and lost_cause is None:  # its delimiter-side neighbour broke
                lost_cause = merged_by
                n = int(enc.n_samples[k])
                self._undetected -= n if j in damage else 0
                self._log(merged_by, enc.first[k], n, n, counter=int(enc.counters[k]), merged=True)
                self._lost[merged_by] += n
            out.append(raw)
            frame_meta.append((len(raw), int(enc.first[k]), int(enc.n_samples[k]), lost_cause))
        if idx.size:
            self._poison = None
            last = damage.get(len(idx) - 1)
            if last is not None and last["split"]:
                self._poison = last["cause"]
        self._enqueue_frames(b"".join(out), frame_meta)

    def _drop_frames(self, enc: Encoded) -> np.ndarray:
        """Indices of the frames sent; the others are logged as dropped."""
        nf = len(enc.first)
        if not self.faults.drop_frame_rate:
            return np.arange(nf)
        keep = self._rng["drop_frames"].random(nf) >= self.faults.drop_frame_rate
        for k in np.flatnonzero(~keep):
            n = int(enc.n_samples[k])
            self._log("drop_frames", enc.first[k], n, n, counter=int(enc.counters[k]))
            self._lost["drop_frames"] += n
        return np.flatnonzero(keep)

    def _draw_damage(self, sizes: list[int]) -> dict[int, dict]:
        """Byte faults per sent frame: {frame: {"corrupt": {offset: xor}, "drop_bytes": {offset}}}."""
        starts = np.concatenate([[0], np.cumsum(np.asarray(sizes, np.int64))])
        total = int(starts[-1])
        damage: dict[int, dict] = {}
        for cause in self._byte_rate:
            for p, xor in self._hits(cause, total):
                j = int(np.searchsorted(starts, p, side="right") - 1)
                d = damage.setdefault(j, {"corrupt": {}, "drop_bytes": set()})
                off = int(p - starts[j])
                if cause == "corrupt":
                    d["corrupt"][off] = xor
                else:
                    d["drop_bytes"].add(off)
        return damage

    def _gap(self, cause: str) -> float:
        """Bytes from one fault of ``cause`` to the next (a Bernoulli process per byte sent)."""
        rate = self._byte_rate[cause]
        return float(self._rng[cause].geometric(rate)) if rate > 0 else float("inf")

    def _hits(self, cause: str, total: int) -> list[tuple[int, int]]:
        """(offset, xor) of each byte hit by ``cause`` among the next ``total`` bytes sent (xor 0 for
        a deletion); a hit draws its xor, then the gap to the next, so the draws follow the stream,
        not the blocks."""
        hits = []
        while self._next_hit[cause] <= total:
            xor = int(self._rng[cause].integers(1, 256)) if cause == "corrupt" else 0
            hits.append((int(self._next_hit[cause]) - 1, xor))
            self._next_hit[cause] += self._gap(cause)
        self._next_hit[cause] -= total
        return hits

    def _damage(self, enc: Encoded, k: int, raw: bytes, d: dict) -> tuple[bytes, str | None]:
        buf = bytearray(raw)
        for off, x in d["corrupt"].items():
            buf[off] ^= x
        for off in sorted(d["drop_bytes"], reverse=True):
            del buf[off]
        cause = "drop_bytes" if d["drop_bytes"] else "corrupt"
        delim = self.firmware.delimiter
        last = len(raw) - 1
        d["cause"] = cause
        d["split"] = delim is not None and (last in d["corrupt"] or last in d["drop_bytes"])
        outcome = "lost" if d["split"] else self.firmware.damage(raw, bytes(buf))
        n = int(enc.n_samples[k])
        lost = n if outcome == "lost" else 0
        self._log(cause, enc.first[k], n, lost, counter=int(enc.counters[k]),
                  detected=outcome == "lost",
                  bytes=sorted(set(d["corrupt"]) | d["drop_bytes"]))
        if lost:
            self._lost[cause] += lost
        else:
            self._undetected += n
        return bytes(buf), (cause if lost else None)

    # -- output -----------------------------------------------------------------------------
    def _startup_bytes(self, power_on: bool = True) -> bytes:
        garbage = b""
        if self.faults.garbage_bytes:
            draw = self._rng["garbage"].integers(0, 256, self.faults.garbage_bytes, dtype=np.uint8)
            garbage = draw.tobytes()
            self._log("garbage", self._produced, 0, 0, bytes_affected=len(garbage))
        return garbage + (self.firmware.boot() if power_on else self.firmware.resync)

    def _enqueue_raw(self, data: bytes) -> None:
        if data:
            self._pending.append([data, []])
            self._pending_bytes += len(data)

    def _enqueue_frames(self, data: bytes, meta: list) -> None:
        sent = [m for m in meta if m[3] is None]
        if self._pending_bytes + len(data) > self.max_pending_bytes:
            for first, n in _runs([(first, n) for _size, first, n, _ in sent]):
                self._lose_counted("overflow", first, n)
            return
        self._pending.append([data, meta])
        self._pending_bytes += len(data)

    def _lose_counted(self, cause: str, first: int, n: int, **extra) -> None:
        self._log(cause, first, n, n, **extra)
        self._lost[cause] += n

    def _flush(self) -> None:
        if self._produced < self._hold_until:
            return
        budget = PIPE_BYTES - self._unread_bytes()
        while self._pending and budget > 0:
            entry = self._pending[0]
            data, meta = entry
            done = self.port.write(data[:budget])
            budget -= done
            self._pending_bytes -= done
            start = self._written
            self._written += done
            pos = start
            while meta and done >= meta[0][0]:
                size, first, n, lost = meta.pop(0)
                pos += size
                done -= size
                if lost is None:
                    self._in_pipe.append((pos, first, n))
            if meta:  # part of the first frame went out
                size, first, n, lost = meta[0]
                meta[0] = (size - done, first, n, lost)
            entry[0] = data[self._written - start :]
            if entry[0]:
                break
            self._pending.popleft()
        while len(self._in_pipe) > 4096:
            self._in_pipe.popleft()

    def _unplug(self, s: int) -> None:
        limit = self._written - self._settled_unread()
        gone = [(first, n) for end, first, n in self._in_pipe if end > limit]
        gone += [(first, n) for _d, meta in self._pending for _z, first, n, lost in meta
                 if lost is None]
        for first, n in _runs(gone):
            self._lose_counted("unplug", first, n, in_flight=True)
        self._in_pipe.clear()
        self._pending.clear()
        self._pending_bytes = 0
        self._poison = None
        self.port.close()
        self._connected_since = None

    def _reader_left(self) -> None:
        """The host closed the port: the frames the device still held for it are lost.

        A serial adapter keeps at most a small FIFO while nobody reads; the data a stall held
        back do not wait for the next host. Without this they arrived after a reconnection as a
        burst older than the host's clock could date.
        """
        held = [(first, n) for _d, meta in self._pending for _z, first, n, lost in meta
                if lost is None]
        for first, n in _runs(held):
            self._lose_counted("no_reader", first, n, held_back=True)
        self._pending = collections.deque(e for e in self._pending if not e[1])  # raw bytes stay
        self._pending_bytes = sum(len(e[0]) for e in self._pending)
        self._poison = None

    def _replug(self, s: int) -> None:
        self.port.open()
        self._enqueue_raw(self._startup_bytes(power_on=False))  # the device kept running

    def _settled_unread(self) -> int:
        """Unread bytes once the pty has moved everything written into the host's read queue.

        What the master writes reaches the slave's read queue through a kernel work item that may
        run milliseconds later on a loaded machine, and FIONREAD does not count it until then. A
        poll of the slave runs that work when the read queue is empty, so "empty after a poll" is
        exact: everything written was read. A host that is reading gets the time to finish (a cable
        pulled just after the host's last read); a host that is not reading leaves a count that
        stays still, and that count is what the unplug loses.
        """
        deadline = time.monotonic() + SETTLE_MAX_S
        last, still_since = -1, time.monotonic()
        while True:
            now_n = self._unread_bytes(flush=True)
            t = time.monotonic()
            if now_n == 0:
                return 0
            if now_n != last:
                last, still_since = now_n, t
            elif t - still_since >= SETTLE_STILL_S or t >= deadline:
                return now_n
            time.sleep(0.002)

    def _unread_bytes(self, flush: bool = False) -> int:
        if not self.port.slave_name or not self.port.is_open:
            return 0
        buf = array.array("i", [0])
        with contextlib.suppress(OSError):
            fd = os.open(self.port.slave_name, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
            try:
                if flush:  # runs the pending master-to-slave work when the read queue is empty
                    poller = select.poll()
                    poller.register(fd, select.POLLIN)
                    poller.poll(0)
                fcntl.ioctl(fd, termios.FIONREAD, buf)
            finally:
                os.close(fd)
        return int(buf[0])

    def _log(self, fault: str, first: int, n: int, lost: int, **extra) -> dict:
        rec = {
            "wall_s": round(time.monotonic() - self._t0, 6),
            "time_s": int(first) / self.sfreq_hz,
            "fault": fault,
            "first_sample": int(first),
            "n_samples": int(n),
            "samples_lost": int(lost),
            **extra,
        }
        self.fault_log.append(rec)
        return rec
