"""A growable (channels, samples) buffer on the absolute sample timeline, trimmed from the front."""

from __future__ import annotations

import numpy as np


class TimelineBuffer:
    """Holds samples ``start .. stop`` of every channel; appends are amortised O(1)."""

    def __init__(self, n_channels: int, start: int, capacity: int = 1 << 16) -> None:
        self._data = np.empty((n_channels, capacity))  # only held columns are ever read
        self._lo = 0  # column of sample ``start``
        self._hi = 0
        self.start = start

    @property
    def stop(self) -> int:
        """One past the last sample held."""
        return self.start + self._hi - self._lo

    def append(self, x: np.ndarray) -> None:
        """Append samples ``stop .. stop + x.shape[1]``."""
        self.extend(x.shape[1])[...] = x

    def extend(self, n: int) -> np.ndarray:
        """Make room for samples ``stop .. stop + n`` and return them as a view to be written."""
        if self._hi + n > self._data.shape[1]:
            held = self._hi - self._lo
            if held + n > self._data.shape[1] // 2:
                grown = np.empty((self._data.shape[0], 2 * (held + n)))
                grown[:, :held] = self._data[:, self._lo : self._hi]
                self._data = grown
            else:
                self._data[:, :held] = self._data[:, self._lo : self._hi]
            self._lo, self._hi = 0, held
        self._hi += n
        return self._data[:, self._hi - n : self._hi]

    def view(self, a: int, b: int) -> np.ndarray:
        """Samples ``a .. b`` (must be held)."""
        if a < self.start or b > self.stop:
            raise IndexError(f"samples {a}..{b} not in buffer {self.start}..{self.stop}")
        return self._data[:, self._lo + a - self.start : self._lo + b - self.start]

    def discard_before(self, sample: int) -> None:
        """Forget samples before ``sample``."""
        sample = min(max(sample, self.start), self.stop)
        self._lo += sample - self.start
        self.start = sample
