"""When an emulated device samples, and where the plan's unplugs, stalls and resets fall in its samples."""

from __future__ import annotations

from firmware_io.faults import FaultPlan

RESET_GAP_S = 0.02
MAX_BATCH_S = 0.25


class SampleClock:
    """Device time paced by the monotonic clock at ``speed`` x real time.

    Parameters
    ----------
    sfreq_hz : float
        Sampling rate.
    speed : float
        Multiple of real time.
    """

    def __init__(self, sfreq_hz: float, speed: float) -> None:
        self.sfreq_hz = sfreq_hz
        self.speed = speed
        self._clock: float | None = None
        self._clock_base = 0

    def pause(self) -> None:
        """The device stopped sampling; the next ``due`` starts the clock again."""
        self._clock = None

    def due(self, now: float, produced: int, samples_per_frame: int) -> int:
        """Samples to produce at ``now``: whole frames, at most ``MAX_BATCH_S`` of them at once."""
        if self._clock is None:
            self._clock, self._clock_base = now, produced
        due = self._clock_base + int((now - self._clock) * self.sfreq_hz * self.speed)
        cap = max(int(MAX_BATCH_S * self.sfreq_hz * self.speed) + 1, samples_per_frame)
        due = min(due, produced + cap)
        return due - due % samples_per_frame - produced  # whole frames, as a device sends them


class FaultSchedule:
    """The plan's timed faults as sample spans, and which of them the device is inside.

    Parameters
    ----------
    faults : FaultPlan
        The plan (times in device seconds).
    sfreq_hz : float
        Sampling rate.
    """

    def __init__(self, faults: FaultPlan, sfreq_hz: float) -> None:
        self.faults = faults
        self.sfreq_hz = sfreq_hz
        self.state = {"unplug": False, "reset": False, "stall": False, "no_reader": False}
        self._resets_done: set[int] = set()

    def spans(self, until: int) -> dict[str, list[tuple[int, int]]]:
        """[first, end) sample spans of each unplug, stall and reset starting before ``until``."""
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

    @staticmethod
    def next_bound(spans: dict, s: int, end: int) -> int:
        """The first span edge after ``s``, or ``end``."""
        bounds = [b for lst in spans.values() for span in lst for b in span if s < b < end]
        return min([end, *bounds])

    def inside(self, spans: dict, s: int) -> dict[str, bool]:
        """Whether sample ``s`` falls in an unplug, a stall or a reset."""
        return {k: any(a <= s < b for a, b in v) for k, v in spans.items()}

    def new_resets(self, spans: dict, s: int) -> int:
        """How many resets start at or before ``s`` that have not yet happened (marks them done)."""
        n = 0
        for a, _b in spans["reset"]:
            if a <= s and a not in self._resets_done:
                self._resets_done.add(a)
                n += 1
        return n

    def stall_end(self, spans: dict, s: int) -> int:
        """The end of the stall sample ``s`` is in."""
        return max(b for a, b in spans["stall"] if a <= s < b)
