"""Motor units of each channel and how they discharge in bursts.

Each channel has a fasciculating pool (units that twitch at rest, each an irregular Poisson-like train)
and a motor pool recruited in order of size (Henneman) by voluntary activity, PLMs, cramps and jerks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from calfwatch.simulator.muap import UnitBank, make_units
from calfwatch.simulator.params import SimulationParams

#: Time step of the firing-rate integration inside bursts.
RATE_STEP_S = 1e-3
COMPLEX_MIN_DURATION_S = 0.010


@dataclass
class ChannelUnits:
    """The two unit banks of one channel."""

    fasc: UnitBank
    pool: UnitBank
    thresholds: np.ndarray  # recruitment threshold of each pool unit (0 for the first)


def _lognormal(rng, n, median, sigma, lo, hi) -> np.ndarray:
    return np.clip(median * np.exp(sigma * rng.standard_normal(n)), lo, hi)


def make_channel_units(rng: np.random.Generator, p: SimulationParams) -> ChannelUnits:
    """Draw the fasciculating pool and the motor pool of one channel."""
    n = p.fasc_units
    ptp = _lognormal(rng, n, p.fasc_ptp_median_uv, p.fasc_ptp_sigma, *p.fasc_ptp_range_uv)
    mean_ms, sd_ms = p.fasc_duration_ms
    dur_s = np.clip(rng.normal(mean_ms, sd_ms, n), *p.fasc_duration_range_ms) * 1e-3
    complex_mask = rng.random(n) < p.fasc_complex_fraction
    # Polyphasic potentials are longer (de Carvalho & Swash 2013): complex units last >= 10 ms,
    # which also keeps their 5+ phases resolvable at 500-4000 Hz.
    dur_s = np.where(complex_mask, np.maximum(dur_s, COMPLEX_MIN_DURATION_S), dur_s)
    unstable_mask = complex_mask & (rng.random(n) < p.fasc_unstable_fraction)
    fasc = make_units(
        rng, ptp, dur_s, complex_mask, unstable_mask, p.time_jitter_ms * 1e-3,
        p.unstable_jitter_ms * 1e-3, p.unstable_block_prob,
    )
    m = p.pool_units
    pool_ptp = np.sort(_lognormal(rng, m, p.pool_ptp_median_uv, p.pool_ptp_sigma, 10.0, 400.0))
    pool_dur = rng.uniform(5e-3, 15e-3, m)
    none = np.zeros(m, dtype=bool)
    pool = make_units(rng, pool_ptp, pool_dur, none, none, p.time_jitter_ms * 1e-3, 0.0, 0.0)
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
