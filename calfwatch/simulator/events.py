"""The schedule of a night: which events happen where, decided before any sample is made.

Order of placement (each kind avoids what is already placed, with a guard of ``2 x rest_margin + 1 s``):
lead-off and saturation stretches (per channel), PLM series, cramps, voluntary bouts and motion
(per leg, on every channel of that leg), electrode pops (per channel, or per leg when the pop is on
a shared electrode), myoclonic jerks (per leg, in rest only), then fasciculations (per channel, in
rest only, each unit an independent train: see :mod:`calfwatch.simulator.fasciculations`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from calfwatch.simulator import artifacts as art
from calfwatch.simulator.fasciculations import FascTable, place_fasciculations
from calfwatch.simulator.muap import UnitBank, add_discharges
from calfwatch.simulator.noise import Periodic
from calfwatch.simulator.params import SimulationParams
from calfwatch.simulator.truth import TruthEvent, channel_names, leg_of
from calfwatch.simulator.units import (
    ChannelUnits,
    Discharges,
    burst_discharges,
    jerk_discharges,
    make_channel_units,
)
from classifier.kinds import ARTIFACT, CRAMP, MYOCLONUS, PLM, VOLUNTARY

MAX_TRIES = 40
#: A jerk is placed this far (beyond the rest margin) from other non-rest events, so that it is a
#: burst of its own in rest rather than the edge of a movement.
JERK_GUARD_S = 0.3


@dataclass
class ChannelPlan:
    """Everything one channel will contain."""

    name: str
    units: ChannelUnits
    periodic: Periodic
    fasc: FascTable | None = None
    pool: Discharges | None = None
    pool_parts: list[Discharges] = field(default_factory=list)
    artifacts: list[art.Artifact] = field(default_factory=list)
    busy: list[tuple[float, float]] = field(default_factory=list)  # reserved spans


@dataclass
class Schedule:
    """The plan of every channel and the ground truth."""

    channels: list[ChannelPlan]
    truth: list[TruthEvent]


class _Builder:
    def __init__(self, p: SimulationParams, seed: int) -> None:
        self.p = p
        seqs = np.random.SeedSequence(seed).spawn(4)
        rng_units, self.rng, self.rng_fasc, rng_periodic = (np.random.default_rng(s) for s in seqs)
        names = channel_names(p.n_channels)
        self.plans = [ChannelPlan(n, make_channel_units(rng_units, p), Periodic(p, rng_periodic))
                      for n in names]
        self.legs: dict[str, list[ChannelPlan]] = {}
        for plan in self.plans:
            self.legs.setdefault(leg_of(plan.name), []).append(plan)
        self.truth: list[TruthEvent] = []
        self.hours = p.duration_s / 3600.0
        self.guard_s = 2 * p.rest_margin_s + 1.0

    def count(self, per_h: float) -> int:
        return int(self.rng.poisson(per_h * self.hours))

    def place(self, plans: list[ChannelPlan], length_s: float, guard_s: float) -> float | None:
        """A start where ``length_s`` fits on all ``plans`` (reserving it), or None."""
        room = self.p.duration_s - length_s - 1.0
        if room <= 0.5:
            return None
        for _ in range(MAX_TRIES):
            start = float(self.rng.uniform(0.5, room))
            stop = start + length_s
            if not any(start < b + guard_s and stop > a - guard_s
                       for plan in plans for a, b in plan.busy):
                for plan in plans:
                    plan.busy.append((start, stop))
                return start
        return None

    def add(self, kind, plan, onset_s, duration_s, ptp_uv, detail="", unit=-1) -> None:
        self.truth.append(TruthEvent(float(onset_s), float(duration_s), kind, plan.name, int(unit),
                                     float(ptp_uv), detail))

    def burst(self, kind, plans, start_s, dur_s, ramp_s, level, gain=1.0, detail="") -> None:
        for plan in plans:
            d = burst_discharges(self.rng, plan.units, self.p, start_s, dur_s, ramp_s, level, gain)
            plan.pool_parts.append(d)
            self.add(kind, plan, start_s, dur_s, _own_ptp(plan.units.pool, d, self.p.sfreq_hz),
                     detail)


def _own_ptp(bank: UnitBank, d: Discharges, sfreq_hz: float) -> float:
    """Peak-to-peak of a set of discharges rendered alone."""
    lo = int(np.floor((d.onset_s.min() + bank.pre_s.min()) * sfreq_hz)) - 1
    hi = int(np.ceil((d.onset_s.max() + bank.post_s.max()) * sfreq_hz)) + 2
    out = np.zeros(hi - lo)
    add_discharges(out, lo, bank, d.unit, d.onset_s, d.gain, sfreq_hz)
    return float(out.max() - out.min())


def _flat_artifacts(b: _Builder) -> None:
    p = b.p
    for plan in b.plans:
        for detail, per_h, span in (("lead-off", p.leadoff_per_h, p.leadoff_s),
                                    ("saturation", p.saturation_per_h, p.saturation_s)):
            for _ in range(b.count(per_h)):
                dur = float(b.rng.uniform(*span))
                start = b.place([plan], dur, b.guard_s)
                if start is None:
                    continue
                if detail == "lead-off":
                    value = float(b.rng.uniform(-0.3, 0.3) * p.rail_uv)
                else:
                    value = float(b.rng.choice([-1.0, 1.0]) * p.rail_uv)
                plan.artifacts.append(art.Artifact(detail, start, dur, value_uv=value))
                b.add(ARTIFACT, plan, start, dur, 0.0, detail)


def _plm_series(b: _Builder, plans: list[ChannelPlan], series_id: int) -> None:
    p = b.p
    k = int(b.rng.integers(p.plm_per_series[0], p.plm_per_series[1] + 1))
    intervals = b.rng.uniform(*p.plm_interval_s, k - 1)
    durs = b.rng.uniform(*p.plm_s, k)
    durs[:-1] = np.minimum(durs[:-1], intervals - 1.0)
    onsets = np.concatenate([[0.0], np.cumsum(intervals)])
    while k > p.plm_per_series[0] and onsets[k - 1] + durs[k - 1] > p.duration_s - 3.0:
        k -= 1
    start = b.place(plans, float(onsets[k - 1] + durs[k - 1]), b.guard_s)
    if start is None:
        return
    for on, dur in zip(onsets[:k], durs[:k], strict=True):
        ramp = min(0.3, dur / 4)
        b.burst(PLM, plans, start + on, float(dur), (ramp, ramp), float(b.rng.uniform(0.2, 0.6)),
                detail=f"series {series_id}")


def _leg_events(b: _Builder) -> None:
    p = b.p
    series = 0
    for plans in b.legs.values():
        for _ in range(b.count(p.plm_series_per_h)):
            series += 1
            _plm_series(b, plans, series)
        for _ in range(b.count(p.cramp_per_h)):
            dur = float(b.rng.uniform(*p.cramp_s))
            start = b.place(plans, dur, b.guard_s)
            if start is not None:  # sudden onset, slow self-extinguishing decline
                ramp = (float(b.rng.uniform(0.3, 1.5)), dur * float(b.rng.uniform(0.3, 0.6)))
                b.burst(CRAMP, plans, start, dur, ramp, float(b.rng.uniform(0.9, 1.0)), gain=1.5)
        for _ in range(b.count(p.voluntary_per_h)):
            dur = float(b.rng.uniform(*p.voluntary_s))
            start = b.place(plans, dur, b.guard_s)
            if start is not None:
                ramp = tuple(min(float(b.rng.uniform(*p.voluntary_ramp_s)), dur / 2.5)
                             for _ in range(2))
                b.burst(VOLUNTARY, plans, start, dur, ramp, float(b.rng.uniform(0.25, 0.8)))
        for _ in range(b.count(p.motion_per_h)):
            dur = float(b.rng.uniform(*p.motion_s))
            start = b.place(plans, dur, b.guard_s)
            for plan in plans if start is not None else []:
                a = art.make_motion(b.rng, start, dur, p.motion_hz,
                                    float(b.rng.uniform(*p.motion_uv)), p.sfreq_hz)
                plan.artifacts.append(a)
                b.add(ARTIFACT, plan, start, dur, art.sampled_ptp(a, p.sfreq_hz), "motion")


def _pops(b: _Builder) -> None:
    """Pops of one electrode (one channel) and of a shared electrode (every channel of a leg).

    Each channel sees ``pop_per_h`` pops on average: a share ``pop_shared_prob`` of them comes from
    the leg's shared electrode, the rest from its own.
    """
    p = b.p
    own_per_h, shared_per_h = p.pop_per_h * (1 - p.pop_shared_prob), p.pop_per_h * p.pop_shared_prob
    for plan in b.plans:
        for _ in range(b.count(own_per_h)):
            _place_pops(b, [plan], [art.make_pop(b.rng, 0.0, p.pop_uv, p.pop_tau_s)])
    for plans in b.legs.values():
        for _ in range(b.count(shared_per_h)):
            _place_pops(b, plans, art.make_shared_pops(b.rng, len(plans), 0.0, p.pop_uv,
                                                       p.pop_tau_s))


def _place_pops(b: _Builder, plans: list[ChannelPlan], pops: list[art.Artifact]) -> None:
    start = b.place(plans, pops[0].render_stop_s, b.guard_s)
    if start is None:
        return
    onset_s = round(start * b.p.sfreq_hz) / b.p.sfreq_hz  # the step lands on a sample
    for plan, a in zip(plans, pops, strict=True):
        a.onset_s = onset_s
        plan.artifacts.append(a)
        b.add(ARTIFACT, plan, a.onset_s, a.duration_s, abs(a.value_uv), "pop")


def _myoclonus(b: _Builder) -> None:
    p = b.p
    guard = p.rest_margin_s + JERK_GUARD_S
    for plans in b.legs.values():
        for _ in range(b.count(p.myoclonus_per_h)):
            dur = float(b.rng.uniform(*p.myoclonus_ms)) * 1e-3
            start = b.place(plans, dur, guard)
            for plan in plans if start is not None else []:
                d = jerk_discharges(b.rng, plan.units, p, start, dur)
                plan.pool_parts.append(d)
                b.add(MYOCLONUS, plan, start, dur, _own_ptp(plan.units.pool, d, p.sfreq_hz))


def build_schedule(p: SimulationParams, seed: int) -> Schedule:
    """Decide every event of the night (deterministic in ``seed``)."""
    b = _Builder(p, seed)
    _flat_artifacts(b)
    _leg_events(b)
    _pops(b)
    _myoclonus(b)
    for plan in b.plans:
        plan.pool = Discharges.concat(plan.pool_parts)
        plan.pool_parts = []
        plan.fasc, events = place_fasciculations(b.rng_fasc, p, plan.name, plan.units.fasc, b.truth)
        b.truth.extend(events)
    b.truth.sort(key=lambda e: (e.onset_s, e.channel))
    return Schedule(channels=b.plans, truth=b.truth)
