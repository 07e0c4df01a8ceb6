"""Digital samples gathered into whole data records, and their bytes in the file."""

from __future__ import annotations

import numpy as np


class RecordBuffer:
    """Samples of the record being filled; hands out every record they complete.

    Parameters
    ----------
    n_channels : int
        Channels of the recording.
    samples_per_record : int
        Samples per channel in one data record.
    """

    def __init__(self, n_channels: int, samples_per_record: int) -> None:
        self.n_channels = n_channels
        self.spr = samples_per_record
        self._pending = np.zeros((n_channels, samples_per_record), dtype=np.int32)
        #: samples per channel in the record being filled
        self.fill = 0

    def feed(self, digital: np.ndarray) -> list[np.ndarray]:
        """Take digital samples ``(n_channels, n)``; return the records they complete, as blocks
        of shape ``(n_records, n_channels, samples_per_record)``."""
        n = digital.shape[1]
        pos = 0
        blocks = []
        if self.fill:
            take = min(self.spr - self.fill, n)
            self._pending[:, self.fill : self.fill + take] = digital[:, :take]
            self.fill += take
            pos = take
            if self.fill == self.spr:
                blocks.append(self._pending[None].copy())
                self.fill = 0
        n_full = (n - pos) // self.spr
        if n_full:
            full = digital[:, pos : pos + n_full * self.spr]
            blocks.append(full.reshape(self.n_channels, n_full, self.spr).transpose(1, 0, 2))
            pos += n_full * self.spr
        if pos < n:
            self._pending[:, : n - pos] = digital[:, pos:]
            self.fill = n - pos
        return blocks

    def pad(self, flat: np.ndarray) -> np.ndarray:
        """Complete the record being filled with ``flat`` (per channel); return it as a block."""
        self._pending[:, self.fill :] = flat[:, None]
        self.fill = 0
        return self._pending[None].copy()


def record_signal_bytes(block: np.ndarray, bdf: bool) -> np.ndarray:
    """Channel bytes of records ``block`` (n_records, n_channels, spr) as (n_records, bytes):
    little-endian 16-bit (EDF) or 24-bit (BDF) samples, channel after channel."""
    k = block.shape[0]
    if bdf:
        raw = np.ascontiguousarray(block, dtype="<i4").view(np.uint8)
        return raw.reshape(k, -1, 4)[:, :, :3].reshape(k, -1)
    return np.ascontiguousarray(block, dtype="<i2").view(np.uint8).reshape(k, -1)
