"""A bounded queue of sample chunks between the serial reader thread and its consumer.

The bound is in samples (e.g. 60 s of data). A data chunk that does not fit is not queued: the caller
turns it into a gap chunk (``reason="overflow"``) and counts it, so an overflow is never silent. Gap
chunks cost no memory (their NaN data are a broadcast view) and are always accepted; a gap that
continues the previous queued gap with the same reason is merged into it.
"""

from __future__ import annotations

import threading
from collections import deque

import numpy as np

from acquisition.stream import SampleChunk


def gap_chunk(start_sample: int, n_channels: int, n_samples: int, reason: str) -> SampleChunk:
    """Return a gap chunk whose NaN data take no memory (a read-only broadcast view)."""
    data = np.broadcast_to(np.float64(np.nan), (n_channels, int(n_samples)))
    return SampleChunk(start_sample=int(start_sample), data_uv=data, gap=True, reason=reason)


class ChunkQueue:
    """Thread-safe FIFO of :class:`SampleChunk` holding at most ``capacity_samples`` data samples.

    Parameters
    ----------
    capacity_samples : int
        Data samples (per channel) the queue may hold; gaps do not count.
    """

    def __init__(self, capacity_samples: int) -> None:
        self.capacity_samples = int(capacity_samples)
        self._items: deque[SampleChunk] = deque()
        self._queued = 0
        self._cond = threading.Condition()

    def __len__(self) -> int:
        with self._cond:
            return len(self._items)

    @property
    def queued_samples(self) -> int:
        """Data samples currently queued."""
        with self._cond:
            return self._queued

    def put(self, chunk: SampleChunk) -> bool:
        """Queue ``chunk``; return False (and queue nothing) when a data chunk does not fit."""
        with self._cond:
            if chunk.gap:
                tail = self._items[-1] if self._items else None
                if (
                    tail is not None
                    and tail.gap
                    and tail.reason == chunk.reason
                    and tail.stop_sample == chunk.start_sample
                ):
                    n_channels = tail.data_uv.shape[0]
                    n = tail.n_samples + chunk.n_samples
                    self._items[-1] = gap_chunk(tail.start_sample, n_channels, n, tail.reason)
                else:
                    self._items.append(chunk)
            else:
                if self._queued + chunk.n_samples > self.capacity_samples:
                    return False
                self._items.append(chunk)
                self._queued += chunk.n_samples
            self._cond.notify_all()
            return True

    def get(self, timeout_s: float) -> SampleChunk | None:
        """Return the oldest chunk, waiting at most ``timeout_s``; None when there is none."""
        with self._cond:
            if not self._items:
                self._cond.wait(timeout_s)
            if not self._items:
                return None
            chunk = self._items.popleft()
            if not chunk.gap:
                self._queued -= chunk.n_samples
            return chunk
