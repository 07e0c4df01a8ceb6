"""Fault plans for emulated devices, and the ``--faults`` specification that describes them.

Grammar (comma-separated items, times in stream seconds from the start of streaming, so a schedule is
the same at any ``--speed``; a number without unit is seconds, ``ms`` and ``min`` are accepted)::

    corrupt=RATE            flip a random byte, RATE per byte sent (e.g. 0.001)
    drop_bytes=RATE         delete a byte, RATE per byte sent
    drop_frames=RATE        withhold a whole frame, RATE per frame
    stall=DUR@T[/EVERY]     the link delivers nothing for DUR, then everything at once (nothing lost)
    reset@T[/EVERY]         the firmware restarts: counter back to 0, ~20 ms of samples lost
    unplug=DUR@T[/EVERY]    the port disappears for DUR (samples sampled meanwhile are lost)
    garbage=N               N random bytes before the first frame (and after each replug)

Example: ``corrupt=0.001,drop_frames=0.001,stall=30s@5s,reset@120s,unplug=5s@60s/300s,garbage=64``.
Items may repeat (``stall=1s@10s,stall=2s@40s``). ``/EVERY`` repeats the event every EVERY seconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from firmware_io.errors import FaultSpecError

_UNITS = {"": 1.0, "s": 1.0, "ms": 1e-3, "min": 60.0}
_TIME = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(ms|s|min)?\s*$")


@dataclass(frozen=True)
class Scheduled:
    """An event at ``at_s`` lasting ``duration_s``, repeated every ``every_s`` (None: once)."""

    at_s: float
    duration_s: float = 0.0
    every_s: float | None = None

    def occurrences(self, until_s: float) -> list[tuple[float, float]]:
        """(start_s, duration_s) of every occurrence starting before ``until_s``."""
        if self.every_s is None:
            return [(self.at_s, self.duration_s)] if self.at_s < until_s else []
        out = []
        t = self.at_s
        while t < until_s:
            out.append((t, self.duration_s))
            t += self.every_s
        return out


@dataclass
class FaultPlan:
    """What an emulated device does wrong; deterministic for a given ``seed``."""

    corrupt_rate: float = 0.0
    drop_byte_rate: float = 0.0
    drop_frame_rate: float = 0.0
    stalls: list[Scheduled] = field(default_factory=list)
    resets: list[Scheduled] = field(default_factory=list)
    unplugs: list[Scheduled] = field(default_factory=list)
    garbage_bytes: int = 0
    seed: int = 0

    @property
    def empty(self) -> bool:
        """True when the plan injects nothing."""
        return not (self.corrupt_rate or self.drop_byte_rate or self.drop_frame_rate or self.stalls
                    or self.resets or self.unplugs or self.garbage_bytes)


def parse_seconds(text: str, item: str) -> float:
    """Parse ``5``, ``5s``, ``250ms`` or ``2min`` into seconds."""
    m = _TIME.match(text)
    if not m:
        raise FaultSpecError(f"fault spec item {item!r}: {text!r} is not a time such as 5s or 250ms")
    return float(m.group(1)) * _UNITS[m.group(2) or ""]


def _rate(value: str, item: str) -> float:
    try:
        rate = float(value)
    except ValueError:
        raise FaultSpecError(f"fault spec item {item!r}: rate {value!r} is not a number") from None
    if not 0.0 <= rate <= 1.0:
        raise FaultSpecError(f"fault spec item {item!r}: rate must be between 0 and 1")
    return rate


def _schedule(value: str, item: str, needs_duration: bool) -> Scheduled:
    if "@" not in value:
        raise FaultSpecError(f"fault spec item {item!r}: missing '@TIME' (e.g. stall=30s@5s)")
    dur_text, when = value.split("@", 1)
    every = None
    if "/" in when:
        when, every_text = when.split("/", 1)
        every = parse_seconds(every_text, item)
    at = parse_seconds(when, item)
    duration = parse_seconds(dur_text, item) if needs_duration else 0.0
    if needs_duration and duration <= 0:
        raise FaultSpecError(f"fault spec item {item!r}: duration must be positive")
    if every is not None and every <= duration:
        raise FaultSpecError(f"fault spec item {item!r}: the repeat period must exceed the duration")
    return Scheduled(at, duration, every)


def parse_faults(spec: str | None, seed: int = 0) -> FaultPlan:
    """Parse a ``--faults`` specification (see the module docstring) into a :class:`FaultPlan`.

    Raises
    ------
    FaultSpecError
        Naming the item that cannot be understood.
    """
    plan = FaultPlan(seed=seed)
    if not spec or not spec.strip():
        return plan
    for raw in spec.split(","):
        item = raw.strip()
        if not item:
            continue
        if item.startswith("reset@"):
            plan.resets.append(_schedule(item[len("reset"):], item, needs_duration=False))
            continue
        if "=" not in item:
            raise FaultSpecError(f"fault spec item {item!r}: expected KIND=VALUE or reset@TIME")
        kind, value = (s.strip() for s in item.split("=", 1))
        if kind == "corrupt":
            plan.corrupt_rate = _rate(value, item)
        elif kind == "drop_bytes":
            plan.drop_byte_rate = _rate(value, item)
        elif kind == "drop_frames":
            plan.drop_frame_rate = _rate(value, item)
        elif kind == "stall":
            plan.stalls.append(_schedule(value, item, needs_duration=True))
        elif kind == "unplug":
            plan.unplugs.append(_schedule(value, item, needs_duration=True))
        elif kind == "garbage":
            if not value.isdigit():
                raise FaultSpecError(f"fault spec item {item!r}: garbage takes a byte count")
            plan.garbage_bytes = int(value)
        else:
            raise FaultSpecError(
                f"fault spec item {item!r}: unknown fault {kind!r}; known: corrupt, drop_bytes, "
                "drop_frames, stall, reset, unplug, garbage"
            )
    return plan
