"""The chain's input: chunks checked against the timeline and gathered into batches."""

from __future__ import annotations

import numpy as np


class ChunkStager:
    """Checks that chunks follow each other on the timeline and holds them until a batch is full.

    The first chunk fixes the timeline's origin: the start of its quality window, so that frames,
    blocks and windows start at multiples of their lengths; the samples from the origin to the
    first chunk are staged as lost (NaN).

    Parameters
    ----------
    n_channels : int
    window_samples : int
        Samples per quality window (the origin is a multiple of it).
    """

    def __init__(self, n_channels: int, window_samples: int) -> None:
        self.n_channels = n_channels
        self.window_samples = window_samples
        self.first_sample: int | None = None  # of the first chunk
        self.origin_sample: int | None = None
        self.next_sample: int | None = None  # expected start of the next chunk
        self.n_staged = 0
        self._staged: list[np.ndarray] = []

    def accept(self, data_uv: np.ndarray, start_sample: int) -> np.ndarray:
        """Check a chunk's shape and start, move the timeline on; return it as an array."""
        data = np.asarray(data_uv)
        if data.ndim != 2 or data.shape[0] != self.n_channels:
            raise ValueError(f"expected data of shape ({self.n_channels}, n), got {data.shape}")
        if self.next_sample is None:
            self._start(int(start_sample))
        elif start_sample != self.next_sample:
            raise ValueError(f"chunk starts at sample {start_sample}, expected {self.next_sample}")
        self.next_sample += data.shape[1]
        return data

    def _start(self, start: int) -> None:
        self.first_sample = self.next_sample = start
        self.origin_sample = (start // self.window_samples) * self.window_samples
        if start > self.origin_sample:
            self.stage(np.full((self.n_channels, start - self.origin_sample), np.nan))

    def stage(self, x: np.ndarray) -> None:
        """Hold ``x`` (not copied) for the next batch."""
        self._staged.append(x)
        self.n_staged += x.shape[1]

    def copy_last(self) -> None:
        """Replace the chunk staged last by a float64 copy (the caller may reuse its array)."""
        self._staged[-1] = np.array(self._staged[-1], dtype=np.float64)

    def take(self) -> np.ndarray:
        """Everything staged, as one array; nothing is held afterwards."""
        x = self._staged[0] if len(self._staged) == 1 else np.concatenate(self._staged, axis=1)
        self._staged, self.n_staged = [], 0
        return x

    def head(self, n_samples: int) -> np.ndarray:
        """Up to ``n_samples`` staged from the first chunk on (the lost lead left out)."""
        lead = self.first_sample - self.origin_sample
        need = lead + n_samples
        parts, held = [], 0
        for part in self._staged:  # only the first seconds (not a whole night passed at once)
            parts.append(part[:, : need - held])
            held += parts[-1].shape[1]
            if held >= need:
                break
        return np.concatenate(parts, axis=1)[:, lead:]
