"""Motor-unit action potential templates: sums of shifted Hermite-Rodriguez functions.

A unit's waveform is ``w(t) = sum_k a_k HR_{n_k}((t - c_k) / s_k)`` with ``HR_n(x) = H_n(x) exp(-x^2)``
(physicists' Hermite polynomials, orders 0-3; Lo Conte et al. 1994 used them for surface MUAPs). Simple
units have one main component (order 1, 2 or 3: 2, 3 or 4 phases) and a small asymmetric one; complex
units add 3-5 narrow components (5+ phases). Time 0 of a template is its onset: the first instant where
``|w|`` reaches 2 % of its peak; ``duration_s`` ends where it last does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Coefficients of H_0..H_3 in powers of x (x^0..x^3).
_HERMITE = np.array(
    [[1.0, 0.0, 0.0, 0.0], [0.0, 2.0, 0.0, 0.0], [-2.0, 0.0, 4.0, 0.0], [0.0, -12.0, 0.0, 8.0]]
)
_GRID = np.linspace(-6.0, 6.0, 4001)
#: Peak |HR_n| so that a component's amplitude is its own peak.
_HR_PEAK = np.array(
    [np.abs(np.polynomial.polynomial.polyval(_GRID, c) * np.exp(-_GRID**2)).max() for c in _HERMITE]
)
SUPPORT_FRACTION = 0.02  # onset/offset at 2 % of the peak
RENDER_FRACTION = 1e-4  # tails below this are not rendered
PHASE_DEAD_BAND = 0.05  # a phase must exceed 5 % of the peak
MAX_COMPONENTS = 6


@dataclass
class UnitBank:
    """Shapes of a set of units, padded to ``MAX_COMPONENTS`` components (unused ones have amp 0).

    Times are seconds relative to the onset of the template.
    """

    coef: np.ndarray  # (U, K, 4) polynomial coefficients times amplitude
    centre_s: np.ndarray  # (U, K)
    width_s: np.ndarray  # (U, K)
    pre_s: np.ndarray  # (U,) start of the rendered extent (<= 0)
    post_s: np.ndarray  # (U,) end of the rendered extent
    duration_s: np.ndarray  # (U,) onset to offset (2 % support)
    ptp_uv: np.ndarray  # (U,) nominal peak-to-peak (continuous time)
    phases: np.ndarray  # (U,) int
    complex: np.ndarray  # (U,) bool
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
                "ptp_uv": round(float(self.ptp_uv[i]), 3),
                "duration_ms": round(float(self.duration_s[i]) * 1e3, 3),
                "phases": int(self.phases[i]),
                "complex": bool(self.complex[i]),
                "unstable": bool(self.unstable[i]),
            }
            for i in range(self.n_units)
        ]


def count_phases(wave: np.ndarray, dead_fraction: float = PHASE_DEAD_BAND) -> int:
    """Baseline crossings + 1, counting only excursions beyond ``dead_fraction`` of the peak."""
    band = dead_fraction * np.abs(wave).max()
    signs = np.sign(wave[np.abs(wave) > band])
    return int(np.count_nonzero(np.diff(signs))) + 1


def _components_wave(orders, amps, centres, widths, x):
    u = (x[:, None] - centres[None, :]) / widths[None, :]
    poly = np.stack([np.polynomial.polynomial.polyval(u[:, k], _HERMITE[o] / _HR_PEAK[o])
                     for k, o in enumerate(orders)], axis=1)
    return (amps[None, :] * poly * np.exp(-(u**2))).sum(axis=1)


def _draw_simple(rng: np.random.Generator):
    phases = int(rng.choice([2, 3, 4], p=[0.25, 0.45, 0.30]))  # 3.25 +- 1.05 phases (needle FPs)
    for _ in range(40):
        orders = np.array([phases - 1, int(rng.integers(0, 2))])
        amps = np.array([rng.choice([-1.0, 1.0]), rng.choice([-1.0, 1.0]) * rng.uniform(0.05, 0.25)])
        centres = np.array([0.0, rng.uniform(-1.0, 1.0)])
        widths = np.array([1.0, rng.uniform(0.7, 1.5)])
        x = np.linspace(-8, 8, 4001)
        if count_phases(_components_wave(orders, amps, centres, widths, x)) == phases:
            return orders, amps, centres, widths
    return orders[:1], amps[:1], centres[:1], widths[:1]


def _draw_complex(rng: np.random.Generator):
    while True:
        k = int(rng.integers(3, MAX_COMPONENTS))
        orders = rng.integers(1, 3, size=k)
        widths = rng.uniform(0.35, 0.7, size=k)
        centres = np.concatenate([[0.0], np.cumsum(rng.uniform(0.9, 1.6, size=k - 1) * widths[1:])])
        amps = rng.choice([-1.0, 1.0], size=k) * rng.uniform(0.4, 1.0, size=k)
        x = np.linspace(centres[0] - 6, centres[-1] + 6, 6001)
        if count_phases(_components_wave(orders, amps, centres, widths, x)) >= 5:
            return orders, amps, centres, widths


def make_units(
    rng: np.random.Generator,
    ptp_uv: np.ndarray,
    duration_s: np.ndarray,
    complex_mask: np.ndarray,
    unstable_mask: np.ndarray,
    jitter_s: float,
    unstable_jitter_s: float,
    block_prob: float,
) -> UnitBank:
    """Draw one template per unit with the given peak-to-peak and duration.

    Parameters
    ----------
    rng : numpy.random.Generator
    ptp_uv, duration_s : ndarray
        Target peak-to-peak (µV) and onset-to-offset duration (s) per unit.
    complex_mask, unstable_mask : ndarray of bool
        Which units are complex (5+ phases) and which of those are unstable.
    jitter_s, unstable_jitter_s : float
        Per-discharge sd of component timing for stable and unstable units.
    block_prob : float
        Chance that an unstable unit's secondary component is blocked in one discharge.

    Returns
    -------
    UnitBank
    """
    n = len(ptp_uv)
    bank = _empty_bank(n)
    for i in range(n):
        draw = _draw_complex if complex_mask[i] else _draw_simple
        orders, amps, centres, widths = draw(rng)
        _fill_unit(bank, i, orders, amps, centres, widths, float(ptp_uv[i]), float(duration_s[i]))
    bank.complex[:] = complex_mask
    bank.unstable[:] = unstable_mask & complex_mask
    bank.jitter_s[:] = np.where(bank.unstable, unstable_jitter_s, jitter_s)
    bank.block_prob[:] = np.where(bank.unstable, block_prob, 0.0)
    return _trim(bank)


def _trim(bank: UnitBank) -> UnitBank:
    """Drop component columns no unit uses (fewer operations when rendering)."""
    used = np.flatnonzero(np.any(bank.coef != 0.0, axis=(0, 2)))
    k = int(used.max()) + 1 if used.size else 1
    bank.coef, bank.centre_s, bank.width_s = bank.coef[:, :k], bank.centre_s[:, :k], bank.width_s[:, :k]
    return bank


def _empty_bank(n: int) -> UnitBank:
    k = MAX_COMPONENTS
    return UnitBank(
        coef=np.zeros((n, k, 4)), centre_s=np.zeros((n, k)), width_s=np.ones((n, k)),
        pre_s=np.zeros(n), post_s=np.zeros(n), duration_s=np.zeros(n), ptp_uv=np.zeros(n),
        phases=np.zeros(n, dtype=np.int32), complex=np.zeros(n, dtype=bool),
        unstable=np.zeros(n, dtype=bool), jitter_s=np.zeros(n), block_prob=np.zeros(n),
    )


def _fill_unit(bank, i, orders, amps, centres, widths, ptp_uv, duration_s) -> None:
    x = np.linspace(centres.min() - 7 * widths.max(), centres.max() + 7 * widths.max(), 8001)
    wave = _components_wave(orders, amps, centres, widths, x)
    peak = np.abs(wave).max()
    support = np.flatnonzero(np.abs(wave) >= SUPPORT_FRACTION * peak)
    render = np.flatnonzero(np.abs(wave) >= RENDER_FRACTION * peak)
    onset, offset = x[support[0]], x[support[-1]]
    scale_s = duration_s / (offset - onset)
    gain = ptp_uv / (wave.max() - wave.min())
    k = len(orders)
    bank.coef[i, :k] = (amps * gain)[:, None] * _HERMITE[orders] / _HR_PEAK[orders][:, None]
    bank.centre_s[i, :k] = (centres - onset) * scale_s
    bank.width_s[i, :k] = widths * scale_s
    bank.pre_s[i] = (x[render[0]] - onset) * scale_s
    bank.post_s[i] = (x[render[-1]] - onset) * scale_s
    bank.duration_s[i] = duration_s
    bank.ptp_uv[i] = ptp_uv
    bank.phases[i] = count_phases(wave)


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
    x = (t_s[:, :, None] - centre[:, None, :]) / bank.width_s[unit][:, None, :]  # (D, L, K)
    coef = bank.coef[unit]  # (D, K, 4)
    if comp_keep is not None:
        coef = coef * comp_keep[:, :, None]
    poly = coef[:, None, :, 3]
    for j in (2, 1, 0):
        poly = poly * x + coef[:, None, :, j]
    waves = (poly * np.exp(-(x * x))).sum(axis=2) * gain[:, None]
    waves[t_s > bank.post_s[unit][:, None]] = 0.0
    return first, waves


def add_discharges(
    out: np.ndarray, start_sample: int, bank: UnitBank, unit, onset_s, gain, sfreq_hz,
    comp_shift_s=None, comp_keep=None, batch: int = 2048,
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
