"""Motor-unit action potential templates on the sample grid, and their rendering.

Each unit has a shape from :mod:`calfwatch.simulator.shapes` (Hermite-Rodriguez and Rosenfalck
components) scaled to its duration and peak-to-peak. Time 0 of a template is its onset: the first
instant where ``|w|`` reaches 2 % of its peak; ``duration_s`` ends where it last does. Discharges are
evaluated analytically at their exact (sub-sample) onsets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from calfwatch.simulator.shapes import (
    MAIN_FRACTION,
    Sampled,
    count_phases,
    draw_shape,
    evaluate,
)

RENDER_FRACTION = 1e-4  # tails below this are not rendered
MAX_COMPONENTS = 10

__all__ = ["UnitBank", "add_discharges", "count_phases", "discharge_waves", "make_units"]


@dataclass
class UnitBank:
    """Shapes of a set of units, padded to the largest number of components (unused: amp 0).

    Times are seconds relative to the onset of the template.
    """

    coef: np.ndarray  # (U, K, 4) polynomial coefficients times amplitude
    centre_s: np.ndarray  # (U, K)
    width_s: np.ndarray  # (U, K), negative: mirrored Rosenfalck component
    expo: np.ndarray  # (U, K) bool: Rosenfalck (exponential) envelope
    pre_s: np.ndarray  # (U,) start of the rendered extent (<= 0)
    post_s: np.ndarray  # (U,) end of the rendered extent
    duration_s: np.ndarray  # (U,) onset to offset (2 % support)
    main_s: np.ndarray  # (U, 2) first and last instant at 50 % of the peak (the main phases)
    ptp_uv: np.ndarray  # (U,) nominal peak-to-peak (continuous time)
    peak_hz: np.ndarray  # (U,) spectral peak in 20-450 Hz
    phases: np.ndarray  # (U,) int
    family: np.ndarray  # (U,) str: simple, polyphasic or slow
    complex: np.ndarray  # (U,) bool: polyphasic
    unstable: np.ndarray  # (U,) bool
    jitter_s: np.ndarray  # (U,) sd of component timing per discharge
    block_prob: np.ndarray  # (U,) chance of blocking each secondary component

    @property
    def n_units(self) -> int:
        """Number of units."""
        return int(self.ptp_uv.size)

    def table(self) -> list[dict]:
        """One dict per unit (for the truth file)."""
        return [
            {
                "unit": i,
                "family": str(self.family[i]),
                "ptp_uv": round(float(self.ptp_uv[i]), 3),
                "duration_ms": round(float(self.duration_s[i]) * 1e3, 3),
                "peak_hz": round(float(self.peak_hz[i]), 1),
                "phases": int(self.phases[i]),
                "complex": bool(self.complex[i]),
                "unstable": bool(self.unstable[i]),
            }
            for i in range(self.n_units)
        ]


def make_units(
    rng: np.random.Generator,
    ptp_uv: np.ndarray,
    duration_s: np.ndarray,
    family: np.ndarray,
    unstable_mask: np.ndarray,
    jitter_s: float,
    unstable_jitter_s: float,
    block_prob: float,
    duration_range_s: tuple[float, float] = (0.005, 0.030),
) -> UnitBank:
    """Draw one template per unit with the given family, peak-to-peak and duration.

    Parameters
    ----------
    rng : numpy.random.Generator
    ptp_uv, duration_s : ndarray
        Target peak-to-peak (µV) and onset-to-offset duration (s) per unit. A duration at which
        the drawn shape's spectral peak leaves its family's band is moved to the nearest one that
        fits within ``duration_range_s`` (see :func:`calfwatch.simulator.shapes.draw_shape`).
    family : ndarray of str
        ``"simple"``, ``"polyphasic"`` or ``"slow"`` per unit.
    unstable_mask : ndarray of bool
        Which polyphasic units are unstable (jitter, blocking).
    jitter_s, unstable_jitter_s : float
        Per-discharge sd of component timing for stable and unstable units.
    block_prob : float
        Chance that an unstable unit's secondary component is blocked in one discharge.
    duration_range_s : tuple of float
        Durations allowed when a drawn duration does not fit the shape.

    Returns
    -------
    UnitBank
    """
    n = len(ptp_uv)
    bank = _empty_bank(n)
    for i in range(n):
        sampled, dur = draw_shape(rng, str(family[i]), float(duration_s[i]), duration_range_s)
        _fill_unit(bank, i, sampled, float(ptp_uv[i]), dur)
    bank.family[:] = family
    bank.complex[:] = bank.family == "polyphasic"
    bank.unstable[:] = unstable_mask & bank.complex
    bank.jitter_s[:] = np.where(bank.unstable, unstable_jitter_s, jitter_s)
    bank.block_prob[:] = np.where(bank.unstable, block_prob, 0.0)
    return _trim(bank)


def _trim(bank: UnitBank) -> UnitBank:
    """Drop component columns no unit uses (fewer operations when rendering)."""
    used = np.flatnonzero(np.any(bank.coef != 0.0, axis=(0, 2)))
    k = int(used.max()) + 1 if used.size else 1
    bank.coef, bank.centre_s, bank.width_s = bank.coef[:, :k], bank.centre_s[:, :k], bank.width_s[:, :k]
    bank.expo = bank.expo[:, :k]
    return bank


def _empty_bank(n: int) -> UnitBank:
    k = MAX_COMPONENTS
    return UnitBank(
        coef=np.zeros((n, k, 4)), centre_s=np.zeros((n, k)), width_s=np.ones((n, k)),
        expo=np.zeros((n, k), dtype=bool), pre_s=np.zeros(n), post_s=np.zeros(n),
        duration_s=np.zeros(n), main_s=np.zeros((n, 2)), ptp_uv=np.zeros(n), peak_hz=np.zeros(n),
        phases=np.zeros(n, dtype=np.int32), family=np.full(n, "simple", dtype=object),
        complex=np.zeros(n, dtype=bool), unstable=np.zeros(n, dtype=bool), jitter_s=np.zeros(n),
        block_prob=np.zeros(n),
    )


def _fill_unit(bank: UnitBank, i: int, s: Sampled, ptp_uv: float, duration_s: float) -> None:
    x, wave = s.x, s.wave
    peak = np.abs(wave).max()
    render = np.flatnonzero(np.abs(wave) >= RENDER_FRACTION * peak)
    main = np.flatnonzero(np.abs(wave) >= MAIN_FRACTION * peak)
    scale_s = duration_s / (s.offset - s.onset)
    gain = ptp_uv / (wave.max() - wave.min())
    k = s.shape.coef.shape[0]
    bank.coef[i, :k] = s.shape.coef * gain
    bank.centre_s[i, :k] = (s.shape.centre - s.onset) * scale_s
    bank.width_s[i, :k] = s.shape.width * scale_s
    bank.expo[i, :k] = s.shape.expo
    bank.pre_s[i] = (x[render[0]] - s.onset) * scale_s
    bank.post_s[i] = (x[render[-1]] - s.onset) * scale_s
    bank.main_s[i] = (x[main[0]] - s.onset) * scale_s, (x[main[-1]] - s.onset) * scale_s
    bank.duration_s[i] = duration_s
    bank.ptp_uv[i] = ptp_uv
    bank.peak_hz[i] = s.peak_hz(duration_s)
    bank.phases[i] = s.phases


def discharge_waves(
    bank: UnitBank,
    unit: np.ndarray,
    onset_s: np.ndarray,
    gain: np.ndarray,
    sfreq_hz: float,
    comp_shift_s: np.ndarray | None = None,
    comp_keep: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Sample each discharge on the absolute sample grid.

    Parameters
    ----------
    bank : UnitBank
    unit : ndarray of int, shape (D,)
    onset_s : ndarray, shape (D,)
        Template onsets (seconds from the recording start).
    gain : ndarray, shape (D,)
        Amplitude factor per discharge.
    sfreq_hz : float
    comp_shift_s, comp_keep : ndarray, shape (D, K), optional
        Per-discharge component timing shift and blocking mask (unstable units).

    Returns
    -------
    first : ndarray of int64, shape (D,)
        Absolute index of the first sample of each wave.
    waves : ndarray, shape (D, L)
        Samples in µV (zero beyond each unit's rendered extent).
    """
    first = np.ceil((onset_s + bank.pre_s[unit]) * sfreq_hz).astype(np.int64)
    length = int(np.ceil((bank.post_s - bank.pre_s).max() * sfreq_hz)) + 2
    t_s = (first[:, None] + np.arange(length)[None, :]) / sfreq_hz - onset_s[:, None]  # (D, L)
    centre = bank.centre_s[unit]
    if comp_shift_s is not None:
        centre = centre + comp_shift_s
    coef = bank.coef[unit]  # (D, K, 4)
    if comp_keep is not None:
        coef = coef * comp_keep[:, :, None]
    waves = evaluate(coef[:, None], centre[:, None], bank.width_s[unit][:, None],
                     bank.expo[unit][:, None], t_s[:, :, None]) * gain[:, None]
    waves[t_s > bank.post_s[unit][:, None]] = 0.0
    return first, waves


def add_discharges(
    out: np.ndarray, start_sample: int, bank: UnitBank, unit, onset_s, gain, sfreq_hz,
    comp_shift_s=None, comp_keep=None, batch: int = 512,
) -> None:
    """Add discharges to ``out`` (samples ``start_sample .. start_sample + len(out)``)."""
    for lo in range(0, len(unit), batch):
        sl = slice(lo, lo + batch)
        first, waves = discharge_waves(
            bank, unit[sl], onset_s[sl], gain[sl], sfreq_hz,
            None if comp_shift_s is None else comp_shift_s[sl],
            None if comp_keep is None else comp_keep[sl],
        )
        idx = first[:, None] - start_sample + np.arange(waves.shape[1])[None, :]
        inside = (idx >= 0) & (idx < out.size)
        out += np.bincount(idx[inside], weights=waves[inside], minlength=out.size)
