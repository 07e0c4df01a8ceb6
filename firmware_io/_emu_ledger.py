"""The emulated device's fault log and loss counts: every sample lost is logged with its cause."""

from __future__ import annotations

import collections
import time


def merge_runs(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Merge (first, n) spans into contiguous runs."""
    out: list[list[int]] = []
    for first, n in sorted(spans):
        if out and out[-1][0] + out[-1][1] == first:
            out[-1][1] += n
        else:
            out.append([first, n])
    return [(a, b) for a, b in out]


class FaultLedger:
    """The fault log of one emulated device, with the samples lost per cause.

    Parameters
    ----------
    sfreq_hz : float
        Sampling rate, to date each record in device time.
    """

    def __init__(self, sfreq_hz: float) -> None:
        self.sfreq_hz = float(sfreq_hz)
        self.records: list[dict] = []
        self.lost: dict[str, int] = collections.Counter()
        #: samples delivered with damage the protocol's check does not see
        self.undetected = 0
        self.t0 = 0.0
        self._open_record: dict[str, dict] = {}

    def log(self, fault: str, first: int, n: int, lost: int, **extra) -> dict:
        """Append one record and return it."""
        rec = {
            "wall_s": round(time.monotonic() - self.t0, 6),
            "time_s": int(first) / self.sfreq_hz,
            "fault": fault,
            "first_sample": int(first),
            "n_samples": int(n),
            "samples_lost": int(lost),
            **extra,
        }
        self.records.append(rec)
        return rec

    def lose(self, cause: str, first: int, n: int, **extra) -> None:
        """Log ``n`` samples from ``first`` as lost to ``cause`` and count them."""
        self.log(cause, first, n, n, **extra)
        self.lost[cause] += n

    def lose_runs(self, cause: str, spans: list[tuple[int, int]], **extra) -> None:
        """Log the (first, n) ``spans`` lost to ``cause``, one record per contiguous run."""
        for first, n in merge_runs(spans):
            self.lose(cause, first, n, **extra)

    def lose_span(self, cause: str, s: int, n: int) -> None:
        """Count ``n`` samples from ``s`` lost to ``cause``, extending the open record if contiguous."""
        rec = self._open_record.get(cause)
        if rec is None or rec["first_sample"] + rec["n_samples"] != s:
            self._open_record.clear()
            rec = self.log(cause, s, 0, 0)
            self._open_record[cause] = rec
        rec["n_samples"] += n
        rec["samples_lost"] += n
        self.lost[cause] += n

    def close_span(self) -> None:
        """Samples were sent: the next loss starts a new record."""
        self._open_record.clear()
