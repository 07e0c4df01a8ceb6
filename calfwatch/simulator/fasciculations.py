"""Fasciculations: isolated discharges of a small pool of units, only at rest.

On each channel the discharges form one renewal process on the channel's *rest axis* (rest time
joined end to end, minus 250 ms around myoclonic jerks): each interval is a dead time of 250 ms (the
isolation of Sleutjes et al. 2016, plus the doublet delay when the previous discharge had one) and an
exponential remainder, with the mean chosen so that the rate is ``fasc_rate_per_min`` per minute of
rest. Each discharge is given to a unit of the pool with fixed random weights, so every unit fires
irregularly and the rates of the units sum to the configured rate. A doublet is the same unit again
30-36 ms later (an F-wave: Kleine et al. 2012).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from calfwatch.simulator.muap import UnitBank, discharge_waves
from calfwatch.simulator.params import DOUBLET_DELAY_S, ISOLATION_S, SimulationParams
from calfwatch.simulator.truth import TruthEvent, merge_spans, rest_spans
from classifier.kinds import FASCICULATION, MYOCLONUS


@dataclass
class FascTable:
    """Fasciculation discharges of one channel, sorted by onset."""

    onset_s: np.ndarray
    unit: np.ndarray
    gain: np.ndarray
    comp_shift_s: np.ndarray  # (D, K)
    comp_keep: np.ndarray  # (D, K) bool
    doublet: np.ndarray  # (D,) bool: second potential of a doublet


def placement_spans(p: SimulationParams, channel: str, truth: list[TruthEvent], tail_s: float):
    """Spans where a fasciculation (and its doublet) may start: rest minus jerks, minus the tail."""
    rest = rest_spans(truth, channel, p.rest_margin_s, p.duration_s)
    jerks = merge_spans([(e.onset_s - ISOLATION_S, e.stop_s + ISOLATION_S) for e in truth
                         if e.channel == channel and e.kind == MYOCLONUS], 0.0, p.duration_s)
    spans = []
    for a, b in rest:
        cuts = [(max(a, ja), min(b, jb)) for ja, jb in jerks if ja < b and jb > a]
        t = a
        for ja, jb in cuts:
            spans.append((t, ja))
            t = jb
        spans.append((t, b))
    return [(a, b - tail_s) for a, b in spans if b - tail_s > a]


def _renewal(rng, p: SimulationParams, length_s: float):
    """Onsets on the rest axis and doublet delays (0 when none)."""
    rate_hz = p.fasc_rate_per_min / 60.0
    if rate_hz <= 0 or length_s <= 0:
        return np.zeros(0), np.zeros(0)
    mean_delay = p.fasc_doublet_prob * np.mean(DOUBLET_DELAY_S)
    rest_mean = 1.0 / rate_hz - ISOLATION_S - mean_delay
    n = int(length_s * rate_hz + 10 * np.sqrt(length_s * rate_hz) + 20)
    doublet = rng.random(n) < p.fasc_doublet_prob
    delay = np.where(doublet, rng.uniform(*DOUBLET_DELAY_S, n), 0.0)
    dead = ISOLATION_S + np.concatenate([[0.0], delay[:-1]])
    gaps = dead + rng.exponential(rest_mean, n)
    gaps[0] = rng.uniform(0.0, 1.0 / rate_hz)
    onsets = np.cumsum(gaps)
    keep = onsets < length_s
    if keep.all():
        raise RuntimeError("fasciculation draw too short")  # cannot happen with 10 sigma headroom
    return onsets[keep], delay[keep]


def _to_real_time(pos_s: np.ndarray, spans) -> np.ndarray:
    starts = np.array([a for a, _ in spans])
    lengths = np.array([b - a for a, b in spans])
    cum = np.concatenate([[0.0], np.cumsum(lengths)])
    idx = np.clip(np.searchsorted(cum, pos_s, side="right") - 1, 0, len(spans) - 1)
    return starts[idx] + (pos_s - cum[idx])


def place_fasciculations(
    rng: np.random.Generator, p: SimulationParams, channel: str, bank: UnitBank,
    truth: list[TruthEvent],
) -> tuple[FascTable, list[TruthEvent]]:
    """Draw the fasciculations of one channel and their truth events."""
    tail_s = DOUBLET_DELAY_S[1] + float(bank.post_s.max()) + 1e-3
    spans = placement_spans(p, channel, truth, tail_s)
    length = sum(b - a for a, b in spans)
    pos, delay = _renewal(rng, p, length)
    first = _to_real_time(pos, spans) if pos.size else pos
    weights = rng.dirichlet(np.full(bank.n_units, 2.0))
    unit = rng.choice(bank.n_units, size=first.size, p=weights)
    has = delay > 0
    onset = np.concatenate([first, first[has] + delay[has]])
    unit = np.concatenate([unit, unit[has]]).astype(np.int64)
    doublet = np.concatenate([np.zeros(first.size, bool), np.ones(int(has.sum()), bool)])
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
    return FascTable(onset, unit, gain, shift, keep, doublet)


def _truth(t: FascTable, bank: UnitBank, channel: str, sfreq_hz: float) -> list[TruthEvent]:
    ptp = np.zeros(t.onset_s.size)
    for lo in range(0, t.onset_s.size, 4096):
        sl = slice(lo, lo + 4096)
        _, waves = discharge_waves(bank, t.unit[sl], t.onset_s[sl], t.gain[sl], sfreq_hz,
                                   t.comp_shift_s[sl], t.comp_keep[sl])
        ptp[sl] = waves.max(axis=1) - waves.min(axis=1)
    events = []
    for i in range(t.onset_s.size):
        u = int(t.unit[i])
        detail = "doublet" if t.doublet[i] else ("complex" if bank.complex[u] else "")
        events.append(TruthEvent(float(t.onset_s[i]), float(bank.duration_s[u]), FASCICULATION,
                                 channel, u, float(ptp[i]), detail))
    return events
