"""Motor units of each channel and how they discharge in bursts.

Each channel has a fasciculating pool (units that twitch at rest, each an irregular train of its own,
see :mod:`calfwatch.simulator.fasciculations`) with shapes of the families of
:mod:`calfwatch.simulator.shapes`, and a motor pool of simple shapes recruited in order of size
(Henneman) by voluntary activity, PLMs, cramps and jerks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from calfwatch.simulator.muap import UnitBank, make_units
from calfwatch.simulator.params import SimulationParams

#: Time step of the firing-rate integration inside bursts.
RATE_STEP_S = 1e-3
#: Polyphasic potentials are longer (13.7 vs 12.6 ms, de Carvalho & Swash 2013) and need room for
#: their 5-8 phases at 500-4000 Hz: at least 10 ms, 1.3 x the drawn duration.
COMPLEX_MIN_DURATION_S = 0.010
COMPLEX_DURATION_FACTOR = 1.3
#: Slow units: long (>= 15 ms, 1.8 x the drawn duration) and large (median p-p x 2.5): large, deep
#: units whose potentials are low-pass filtered by more tissue (De Luca 1997; Merletti & Parker 2004).
SLOW_MIN_DURATION_S = 0.015
SLOW_DURATION_FACTOR = 1.8
SLOW_PTP_FACTOR = 2.5


@dataclass
class ChannelUnits:
    """The two unit banks of one channel."""

    fasc: UnitBank
    pool: UnitBank
    thresholds: np.ndarray  # recruitment threshold of each pool unit (0 for the first)


def _lognormal(rng, n, median, sigma, lo, hi) -> np.ndarray:
    return np.clip(median * np.exp(sigma * rng.standard_normal(n)), lo, hi)


def fasc_families(rng: np.random.Generator, p: SimulationParams, n: int) -> np.ndarray:
    """The shape family of each fasciculating unit (``"mixed"`` draws one per unit)."""
    if p.fasc_shape != "mixed":
        return np.full(n, p.fasc_shape, dtype=object)
    u = rng.random((2, n))
    family = np.full(n, "simple", dtype=object)
    family[u[1] < p.fasc_slow_fraction] = "slow"
    family[u[0] < p.fasc_complex_fraction] = "polyphasic"
    return family


def _fasc_bank(rng: np.random.Generator, p: SimulationParams) -> UnitBank:
    n = p.fasc_units
    family = fasc_families(rng, p, n)
    slow, poly = family == "slow", family == "polyphasic"
    median = p.fasc_ptp_median_uv * np.where(slow, SLOW_PTP_FACTOR, 1.0)
    ptp = np.clip(median * np.exp(p.fasc_ptp_sigma * rng.standard_normal(n)), *p.fasc_ptp_range_uv)
    mean_ms, sd_ms = p.fasc_duration_ms
    dur_s = rng.normal(mean_ms, sd_ms, n) * 1e-3
    dur_s = np.where(poly, np.maximum(dur_s * COMPLEX_DURATION_FACTOR, COMPLEX_MIN_DURATION_S), dur_s)
    dur_s = np.where(slow, np.maximum(dur_s * SLOW_DURATION_FACTOR, SLOW_MIN_DURATION_S), dur_s)
    range_s = (p.fasc_duration_range_ms[0] * 1e-3, p.fasc_duration_range_ms[1] * 1e-3)
    dur_s = np.clip(dur_s, *range_s)
    unstable_mask = poly & (rng.random(n) < p.fasc_unstable_fraction)
    return make_units(rng, ptp, dur_s, family, unstable_mask, p.time_jitter_ms * 1e-3,
                      p.unstable_jitter_ms * 1e-3, p.unstable_block_prob, range_s)


def make_channel_units(rng: np.random.Generator, p: SimulationParams) -> ChannelUnits:
    """Draw the fasciculating pool and the motor pool of one channel."""
    fasc = _fasc_bank(rng, p)
    m = p.pool_units
    pool_ptp = np.sort(_lognormal(rng, m, p.pool_ptp_median_uv, p.pool_ptp_sigma, 10.0, 400.0))
    pool_dur = rng.uniform(5e-3, 15e-3, m)
    none = np.zeros(m, dtype=bool)
    simple = np.full(m, "simple", dtype=object)
    pool = make_units(rng, pool_ptp, pool_dur, simple, none, p.time_jitter_ms * 1e-3, 0.0, 0.0,
                      (5e-3, 20e-3))
    # Size principle: small units first, thresholds spread exponentially over 0-0.9 of full drive.
    a = 3.0
    thresholds = 0.9 * (np.exp(a * np.arange(m) / m) - 1.0) / (np.exp(a) - 1.0)
    return ChannelUnits(fasc=fasc, pool=pool, thresholds=thresholds)


@dataclass
class Discharges:
    """A set of discharges of one bank, sorted by onset."""

    onset_s: np.ndarray
    unit: np.ndarray
    gain: np.ndarray

    @staticmethod
    def concat(parts: list[Discharges]) -> Discharges:
        """Join and sort by onset (compact dtypes: int16 unit, float32 gain)."""
        parts = sorted((d for d in parts if d.onset_s.size), key=lambda d: d.onset_s[0])
        if not parts:
            return Discharges(np.zeros(0), np.zeros(0, dtype=np.int16), np.zeros(0, np.float32))
        onset = np.concatenate([d.onset_s for d in parts])
        unit = np.concatenate([d.unit for d in parts]).astype(np.int16)
        gain = np.concatenate([d.gain for d in parts]).astype(np.float32)
        if np.any(np.diff(onset) < 0):  # parts overlap in time: a full sort
            order = np.argsort(onset, kind="stable")
            onset, unit, gain = onset[order], unit[order], gain[order]
        return Discharges(onset, unit, gain)


def _envelope(n_steps: int, dur_s: float, ramp_up_s: float, ramp_down_s: float, level: float):
    t = np.arange(n_steps) * RATE_STEP_S
    return level * np.clip(np.minimum(t / ramp_up_s, (dur_s - t) / ramp_down_s), 0.0, 1.0)


def _unit_train(rng, env, thr, dur_unit_s, dur_s, p: SimulationParams, gate: float) -> np.ndarray:
    """Onsets (relative to the burst start) of one unit driven by the envelope."""
    lo_hz, hi_hz = p.firing_hz
    drive = np.clip((env - thr) / max(1.0 - thr, 1e-9), 0.0, 1.0)
    rate = np.where(env > thr + gate, lo_hz + (hi_hz - lo_hz) * drive, 0.0)
    phase = np.cumsum(rate) * RATE_STEP_S + rng.random()
    if phase[-1] < 1.0:
        return np.zeros(0)
    idx = np.searchsorted(phase, np.arange(1, int(phase[-1]) + 1))
    idx = idx[idx < env.size]
    t = idx * RATE_STEP_S
    t = t + rng.normal(0.0, p.firing_cv / np.sqrt(2.0), t.size) / np.maximum(rate[idx], lo_hz)
    return t[(t >= 0.0) & (t <= dur_s - dur_unit_s)]


def burst_discharges(
    rng: np.random.Generator,
    units: ChannelUnits,
    p: SimulationParams,
    start_s: float,
    dur_s: float,
    ramp_s: tuple[float, float],
    level: float,
    gain: float = 1.0,
) -> Discharges:
    """Discharges of the motor pool for a burst with a trapezoidal drive envelope.

    The first unit (threshold 0) is anchored: it discharges at ``start_s`` and its last potential ends
    at ``start_s + dur_s``, so the burst spans exactly ``[start_s, start_s + dur_s]``.
    """
    pool = units.pool
    n_steps = int(dur_s / RATE_STEP_S) + 1
    env = _envelope(n_steps, dur_s, ramp_s[0], ramp_s[1], level)
    onsets, unit_ids = [], []
    for m in np.flatnonzero(units.thresholds < level):
        t = _unit_train(rng, env, units.thresholds[m], pool.duration_s[m], dur_s, p, gate=1e-3)
        onsets.append(t)
        unit_ids.append(np.full(t.size, m))
    onset = np.concatenate(onsets) if onsets else np.zeros(0)
    unit = np.concatenate(unit_ids) if unit_ids else np.zeros(0, dtype=np.int64)
    onset, unit = _anchor(onset, unit, 0, pool.duration_s[0], dur_s, 1.0 / p.firing_hz[1])
    g = gain * np.exp(p.amp_jitter * rng.standard_normal(onset.size))
    return Discharges.concat([Discharges(onset + start_s, unit.astype(np.int64), g)])


def _anchor(onset, unit, m, dur_unit_s, dur_s, min_isi_s):
    """Give unit ``m`` a discharge at 0 and one ending at ``dur_s``; drop its others too close."""
    last = dur_s - dur_unit_s
    mine = unit == m
    clash = mine & ((onset < min_isi_s) | (onset > last - min_isi_s))
    keep = ~clash
    onset = np.concatenate([onset[keep], [0.0, last]])
    unit = np.concatenate([unit[keep], [m, m]])
    return onset, unit


def jerk_discharges(
    rng: np.random.Generator, units: ChannelUnits, p: SimulationParams, start_s: float,
    dur_s: float,
) -> Discharges:
    """A myoclonic jerk: several pool units discharge once, spread over exactly ``dur_s``."""
    pool = units.pool
    k = int(rng.integers(p.myoclonus_units[0], p.myoclonus_units[1] + 1))
    chosen = rng.choice(pool.n_units, size=min(k, pool.n_units), replace=False)
    latest = np.maximum(dur_s - pool.duration_s[chosen], 0.0)
    onset = rng.random(chosen.size) * latest
    onset[0] = 0.0
    onset[-1] = latest[-1]
    gain = 1.5 * np.exp(p.amp_jitter * rng.standard_normal(chosen.size))
    return Discharges.concat([Discharges(onset + start_s, chosen.astype(np.int64), gain)])
