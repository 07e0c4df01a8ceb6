"""Reconnection back-off: short first waits, doubling up to a ceiling, so a returning port is found fast."""

from __future__ import annotations


class Backoff:
    """Delays for successive reconnection attempts: ``first_s``, doubled each time, capped at ``max_s``.

    With the defaults (0.1 s doubling to 1 s) a port that comes back is opened within about one second
    of its return however long it was away.

    Parameters
    ----------
    first_s : float
        Wait before the second attempt (the first attempt is immediate).
    max_s : float
        Longest wait between attempts.
    """

    def __init__(self, first_s: float = 0.1, max_s: float = 1.0) -> None:
        if first_s <= 0 or max_s < first_s:
            raise ValueError(f"back-off needs 0 < first_s <= max_s, got {first_s}, {max_s}")
        self.first_s = float(first_s)
        self.max_s = float(max_s)
        self._next_s = self.first_s
        self.attempts = 0

    def next_delay_s(self) -> float:
        """Return the wait before the next attempt and advance the schedule."""
        delay = self._next_s
        self._next_s = min(self._next_s * 2.0, self.max_s)
        self.attempts += 1
        return delay

    def reset(self) -> None:
        """Start again from ``first_s`` (after a successful connection)."""
        self._next_s = self.first_s
        self.attempts = 0
