"""Samples pulled from an iterable of arrays in any chunk sizes, as an emulated device samples them."""

from __future__ import annotations

import collections
from collections.abc import Iterable

import numpy as np


class SampleSource:
    """Pull samples from an iterable of (n_channels, n) arrays, any chunk sizes."""

    def __init__(self, chunks: Iterable) -> None:
        self._it = iter(chunks)
        self._parts: collections.deque = collections.deque()
        self._avail = 0
        self.exhausted = False
        self.n_channels = self._fill(1) and self._parts[0].shape[0]

    def _fill(self, n: int) -> bool:
        while self._avail < n and not self.exhausted:
            try:
                chunk = next(self._it)
            except StopIteration:
                self.exhausted = True
                break
            chunk = np.atleast_2d(np.asarray(getattr(chunk, "data_uv", chunk), dtype=np.float64))
            if chunk.shape[1]:
                self._parts.append(chunk)
                self._avail += chunk.shape[1]
        return self._avail > 0

    def take(self, n: int) -> np.ndarray:
        """Up to ``n`` samples (fewer only when the source has ended)."""
        self._fill(n)
        out = []
        need = n
        while need and self._parts:
            head = self._parts[0]
            if head.shape[1] <= need:
                out.append(self._parts.popleft())
                need -= head.shape[1]
            else:
                out.append(head[:, :need])
                self._parts[0] = head[:, need:]
                need = 0
        got = n - need
        self._avail -= got
        if not out:
            return np.zeros((self.n_channels or 1, 0))
        return np.concatenate(out, axis=1)

    @property
    def done(self) -> bool:
        """True when nothing is left."""
        return self.exhausted and self._avail == 0
