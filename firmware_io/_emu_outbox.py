"""Bytes an emulated device has produced but not yet written, and the frames written but not yet read."""

from __future__ import annotations

import collections
from collections.abc import Callable

from firmware_io._emu_ledger import FaultLedger

#: bytes allowed unread in the pty: what the host's read queue holds, so that what an unplug loses is known
PIPE_BYTES = 4000


class Outbox:
    """The device's send queue, with each frame's samples tracked until the host can have read them.

    Parameters
    ----------
    ledger : FaultLedger
        Where overflow is logged.
    max_pending_bytes : int
        Bytes the queue holds before new frames are lost to ``overflow``.
    """

    def __init__(self, ledger: FaultLedger, max_pending_bytes: int) -> None:
        self.ledger = ledger
        self.max_pending_bytes = max_pending_bytes
        self.pending: collections.deque = collections.deque()  # [bytes, frames(list)]
        self.pending_bytes = 0
        self.written = 0
        self._in_pipe: collections.deque = collections.deque()  # (end_offset, first, n)

    def put_raw(self, data: bytes) -> None:
        """Queue bytes that carry no samples (boot banner, replies, garbage)."""
        if data:
            self.pending.append([data, []])
            self.pending_bytes += len(data)

    def put_frames(self, data: bytes, meta: list) -> None:
        """Queue frames with their (size, first, n, lost_cause) metadata, or lose them to overflow."""
        sent = [m for m in meta if m[3] is None]
        if self.pending_bytes + len(data) > self.max_pending_bytes:
            self.ledger.lose_runs("overflow", [(first, n) for _size, first, n, _ in sent])
            return
        self.pending.append([data, meta])
        self.pending_bytes += len(data)

    def pending_samples(self) -> int:
        """Samples queued and not yet written."""
        return sum(f[2] for _, frames in self.pending for f in frames)

    def flush(self, write: Callable[[bytes], int], budget: int) -> None:
        """Write up to ``budget`` bytes with ``write`` (which returns how many it took)."""
        while self.pending and budget > 0:
            entry = self.pending[0]
            data, meta = entry
            done = write(data[:budget])
            budget -= done
            self.pending_bytes -= done
            start = self.written
            self.written += done
            self._track(meta, start, done)
            entry[0] = data[self.written - start :]
            if entry[0]:
                break
            self.pending.popleft()
        while len(self._in_pipe) > 4096:
            self._in_pipe.popleft()

    def _track(self, meta: list, pos: int, done: int) -> None:
        while meta and done >= meta[0][0]:
            size, first, n, lost = meta.pop(0)
            pos += size
            done -= size
            if lost is None:
                self._in_pipe.append((pos, first, n))
        if meta:  # part of the first frame went out
            size, first, n, lost = meta[0]
            meta[0] = (size - done, first, n, lost)

    def _queued_spans(self) -> list[tuple[int, int]]:
        return [(first, n) for _d, meta in self.pending for _z, first, n, lost in meta
                if lost is None]

    def drop_all(self, unread: int) -> list[tuple[int, int]]:
        """Empty the queue and the pipe (the port vanished); the (first, n) spans never read.

        ``unread`` is how many of the bytes written the host had not read.
        """
        limit = self.written - unread
        gone = [(first, n) for end, first, n in self._in_pipe if end > limit]
        gone += self._queued_spans()
        self._in_pipe.clear()
        self.pending.clear()
        self.pending_bytes = 0
        return gone

    def drop_frames(self) -> list[tuple[int, int]]:
        """Drop the queued frames, keeping raw bytes; the (first, n) spans dropped."""
        held = self._queued_spans()
        self.pending = collections.deque(e for e in self.pending if not e[1])  # raw bytes stay
        self.pending_bytes = sum(len(e[0]) for e in self.pending)
        return held
