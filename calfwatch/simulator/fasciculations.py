"""Fasciculations: spontaneous discharges of a pool of units, each unit its own irregular process.

Timing
    Fasciculation potentials fire irregularly, seconds apart (de Carvalho & Swash, Muscle Nerve
    1998;21:336; hand muscles about 0.3 per second in ALS and BFS alike, de Carvalho & Swash 2016),
    and discharges of different units are independent (Sleutjes et al., Muscle Nerve 2016;53:227:
    isolation is judged against the same unit's neighbours only). Each unit is therefore a Poisson
    process with a dead time: after a discharge (and its multiplet, below) the unit stays silent for
    its refractory period ``fasc_refractory_ms`` (a motor neurone cannot fire again within a few ms;
    the shortest doublet intervals are 2.5-5 ms, Bawa & Calancie, J Physiol 1983;339:123), then fires
    again after an exponential wait. The units are independent, so the channel's merged train is
    Poisson-like with no dead time across units: two units may discharge within a millisecond.

Rate
    ``fasc_rate_per_min`` (per minute of rest, per channel) is split over the ``fasc_units`` units
    with Dirichlet(``fasc_unit_alpha``) weights; each unit's mean interval is set so that its rate of
    first potentials is its share. Time runs on the channel's *rest axis* (its rest spans joined end
    to end), so the rate holds per minute of rest.

Where
    Only at rest (voluntary activity, PLMs, cramps and artifacts with their ``rest_margin_s`` are
    excluded, as is the end of each rest span that a potential would overrun). A myoclonic jerk
    excludes only its own span: a potential or multiplet never overlaps a jerk (the potentials of the
    units superimposed within a jerk are the jerk). Nothing else is excluded: no isolation window.

Multiplets
    With probability ``fasc_doublet_prob`` (``fasc_triplet_prob``) a discharge is a doublet
    (triplet): the same unit fires again 5-40 ms (``fasc_multiplet_interval_ms``, uniform) after the
    potential before, spanning short repetitive discharges (doublets of 2.5-20 ms, Bawa & Calancie
    1983) up to the F-wave-like reflex doublet at 30-35 ms (Kleine et al., Clin Neurophysiol
    2012;123:399). The first potential is the fasciculation; the later ones have ``detail="doublet"``
    and are not counted as new fasciculations.

Overlaps
    Two potentials whose main phases (where ``|w|`` reaches 50 % of the unit's peak) overlap in
    time sum into one compound waveform that no detector can split. The later one (by the start of
    its main phases) is marked ``overlaps=True`` in the truth and not counted; the earlier one keeps
    the count. Chains of overlapping potentials count once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from calfwatch.simulator.muap import UnitBank, discharge_waves
from calfwatch.simulator.params import SimulationParams
from calfwatch.simulator.truth import TruthEvent, merge_spans, rest_spans
from classifier.kinds import FASCICULATION, MYOCLONUS

_DETAIL = {"simple": "", "polyphasic": "complex", "slow": "slow"}


@dataclass
class FascTable:
    """Fasciculation discharges of one channel, sorted by onset."""

    onset_s: np.ndarray
    unit: np.ndarray
    gain: np.ndarray
    comp_shift_s: np.ndarray  # (D, K)
    comp_keep: np.ndarray  # (D, K) bool
    doublet: np.ndarray  # (D,) bool: second or third potential of a multiplet
    overlaps: np.ndarray  # (D,) bool: main phases overlap an earlier potential's


def _cut(spans, holes):
    """``spans`` minus the union of ``holes`` (both sorted, disjoint)."""
    out = []
    for a, b in spans:
        t = a
        for ha, hb in holes:
            if ha < b and hb > a:
                if ha > t:
                    out.append((t, ha))
                t = max(t, hb)
        if b > t:
            out.append((t, b))
    return out


def placement_spans(p: SimulationParams, channel: str, truth: list[TruthEvent], tail_s: float):
    """Spans where a first potential may start: rest, not overrunning a jerk or the span's end."""
    rest = rest_spans(truth, channel, p.rest_margin_s, p.duration_s)
    jerks = merge_spans([(e.onset_s - tail_s, e.stop_s) for e in truth
                         if e.channel == channel and e.kind == MYOCLONUS], 0.0, p.duration_s)
    return [(a, b - tail_s) for a, b in _cut(rest, jerks) if b - tail_s > a]


def multiplet_sizes(rng: np.random.Generator, p: SimulationParams, n: int) -> np.ndarray:
    """1, 2 or 3 potentials per discharge."""
    u = rng.random(n)
    return 1 + (u < p.fasc_doublet_prob + p.fasc_triplet_prob) + (u < p.fasc_triplet_prob)


def unit_train(rng: np.random.Generator, p: SimulationParams, rate_hz: float, length_s: float):
    """One unit's discharges on the rest axis: first-potential times and multiplet offsets.

    Returns
    -------
    first_s : ndarray, shape (N,)
    offsets_s : ndarray, shape (N, 2)
        Delay of the second and third potential after the first (NaN when absent).
    """
    if rate_hz * length_s < 1e-9:  # no discharge to expect (and 1 / rate would overflow)
        return np.zeros(0), np.zeros((0, 2))
    lo_ms, hi_ms = p.fasc_multiplet_interval_ms
    refractory_s = p.fasc_refractory_ms * 1e-3
    mean_extent_s = (p.fasc_doublet_prob + 2 * p.fasc_triplet_prob) * 0.5 * (lo_ms + hi_ms) * 1e-3
    wait_s = max(1.0 / rate_hz - refractory_s - mean_extent_s, 1e-3)
    n = int(length_s * rate_hz + 10 * np.sqrt(length_s * rate_hz) + 20)
    size = multiplet_sizes(rng, p, n)
    steps = rng.uniform(lo_ms, hi_ms, (n, 2)) * 1e-3
    steps[size < 2, 0] = np.nan
    steps[size < 3, 1] = np.nan
    offsets = np.cumsum(steps, axis=1)
    extent = np.nan_to_num(np.nanmax(np.column_stack([np.zeros(n), offsets]), axis=1))
    gaps = refractory_s + np.concatenate([[0.0], extent[:-1]]) + rng.exponential(wait_s, n)
    gaps[0] = rng.exponential(1.0 / rate_hz)  # the process is already running at the start
    first = np.cumsum(gaps)
    keep = first < length_s
    if keep.all():
        raise RuntimeError("fasciculation draw too short")  # cannot happen with 10 sigma headroom
    return first[keep], offsets[keep]


def _to_real_time(pos_s: np.ndarray, spans) -> np.ndarray:
    starts = np.array([a for a, _ in spans])
    lengths = np.array([b - a for a, b in spans])
    cum = np.concatenate([[0.0], np.cumsum(lengths)])
    idx = np.clip(np.searchsorted(cum, pos_s, side="right") - 1, 0, len(spans) - 1)
    return starts[idx] + (pos_s - cum[idx])


def mark_overlaps(onset_s: np.ndarray, unit: np.ndarray, bank: UnitBank) -> np.ndarray:
    """True where a potential's main phases start before an earlier one's have ended."""
    start = onset_s + bank.main_s[unit, 0]
    stop = onset_s + bank.main_s[unit, 1]
    order = np.argsort(start, kind="stable")
    running = np.maximum.accumulate(stop[order])
    later = np.zeros(onset_s.size, bool)
    later[order[1:]] = start[order[1:]] < running[:-1]
    return later


def place_fasciculations(
    rng: np.random.Generator, p: SimulationParams, channel: str, bank: UnitBank,
    truth: list[TruthEvent],
) -> tuple[FascTable, list[TruthEvent]]:
    """Draw the fasciculations of one channel and their truth events."""
    tail_s = 2 * p.fasc_multiplet_interval_ms[1] * 1e-3 + float(bank.post_s.max()) + 1e-3
    spans = placement_spans(p, channel, truth, tail_s)
    length = sum(b - a for a, b in spans)
    weights = rng.dirichlet(np.full(bank.n_units, p.fasc_unit_alpha))
    onsets, units, later = [], [], []
    for u in range(bank.n_units):
        first, offsets = unit_train(rng, p, weights[u] * p.fasc_rate_per_min / 60.0, length)
        if not first.size:
            continue
        real = _to_real_time(first, spans)
        extra = real[:, None] + offsets
        has = ~np.isnan(extra)
        onsets += [real, extra[has]]
        units += [np.full(real.size + int(has.sum()), u)]
        later += [np.zeros(real.size, bool), np.ones(int(has.sum()), bool)]
    onset = np.concatenate(onsets) if onsets else np.zeros(0)
    unit = np.concatenate(units).astype(np.int64) if units else np.zeros(0, np.int64)
    doublet = np.concatenate(later) if later else np.zeros(0, bool)
    order = np.argsort(onset, kind="stable")
    onset, unit, doublet = onset[order], unit[order], doublet[order]
    table = _discharge_details(rng, p, bank, onset, unit, doublet)
    return table, _truth(table, bank, channel, p.sfreq_hz)


def _discharge_details(rng, p, bank: UnitBank, onset, unit, doublet) -> FascTable:
    d, k = onset.size, bank.coef.shape[1]
    gain = np.exp(p.amp_jitter * rng.standard_normal(d))
    shift = rng.standard_normal((d, k)) * bank.jitter_s[unit][:, None]
    keep = rng.random((d, k)) >= bank.block_prob[unit][:, None]
    keep[:, 0] = True  # the first component is never blocked
    return FascTable(onset, unit, gain, shift, keep, doublet, mark_overlaps(onset, unit, bank))


def _truth(t: FascTable, bank: UnitBank, channel: str, sfreq_hz: float) -> list[TruthEvent]:
    ptp = np.zeros(t.onset_s.size)
    for lo in range(0, t.onset_s.size, 512):
        sl = slice(lo, lo + 512)
        _, waves = discharge_waves(bank, t.unit[sl], t.onset_s[sl], t.gain[sl], sfreq_hz,
                                   t.comp_shift_s[sl], t.comp_keep[sl])
        ptp[sl] = waves.max(axis=1) - waves.min(axis=1)
    events = []
    for i in range(t.onset_s.size):
        u = int(t.unit[i])
        detail = "doublet" if t.doublet[i] else _DETAIL[str(bank.family[u])]
        events.append(TruthEvent(float(t.onset_s[i]), float(bank.duration_s[u]), FASCICULATION,
                                 channel, u, float(ptp[i]), detail, bool(t.overlaps[i])))
    return events
