"""The counters and event log a serial source keeps for the recording's sidecar."""

from __future__ import annotations

import threading
import time


class SourceCounters:
    """Counters and events of a live source, shared by its reader thread and its consumer.

    Every update takes the lock: the reader thread counts, the consumer reads a copy.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counters = {
            "samples_received": 0,
            "samples_lost": {},
            "gaps": 0,
            "gaps_estimated": 0,
            "reconnects": 0,
            "disconnects": 0,
            "stalls": 0,
            "overflow_samples": 0,
            "samples_undated": 0,
            "samples_lost_at_stop": 0,
        }
        self.events: list[dict] = []
        self.device_facts: dict = {}
        self.t0_s = time.monotonic()

    def add(self, name: str, n: int = 1) -> None:
        """Add ``n`` to the counter ``name``."""
        with self.lock:
            self.counters[name] += n

    def lost(self, reason: str, n_samples: int, estimated: bool) -> None:
        """Count one gap of ``n_samples`` lost for ``reason``."""
        with self.lock:
            lost = self.counters["samples_lost"]
            lost[reason] = lost.get(reason, 0) + int(n_samples)
            self.counters["gaps"] += 1
            self.counters["gaps_estimated"] += int(estimated)

    def event(self, kind: str, detail: str) -> None:
        """Log a connection event (disconnection, reconnection, stall) at the host time."""
        now = time.monotonic()
        with self.lock:
            self.events.append(
                {
                    "kind": kind,
                    "at_s": round(now - self.t0_s, 3),
                    "t_monotonic": now,
                    "detail": detail,
                }
            )

    def note_device_facts(self, facts: dict) -> None:
        """Keep what the device said about itself (empty values left out)."""
        with self.lock:
            self.device_facts.update({k: v for k, v in facts.items() if v not in (None, "")})

    def device_facts_copy(self) -> dict:
        """The device facts so far (a copy)."""
        with self.lock:
            return dict(self.device_facts)

    def snapshot(self) -> dict:
        """Counters, device facts and events (copies), taken under the lock."""
        with self.lock:
            out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in self.counters.items()}
            out["device"] = dict(self.device_facts)
            out["events"] = list(self.events)
        return out
