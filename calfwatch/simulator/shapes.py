"""Shape families of surface motor-unit potentials, in dimensionless time.

A shape is a sum of components ``a_k f_k((x - c_k) / w_k)`` from two analytic families:

- **Hermite-Rodriguez** (Gaussian envelope), ``HR_n(x) = H_n(x) exp(-x^2)``, orders 0-3: symmetric
  2-4 phase shapes; Lo Conte et al. (IEEE Trans Biomed Eng 1994;41:1052) fitted surface MUAPs with
  them. A tissue (volume-conductor) low-pass with a Gaussian kernel maps an HR component onto an HR
  component of larger width, so the low-pass of deeper units is the width of the component.
- **Rosenfalck** (exponential envelope), derivatives of the intracellular action potential
  ``V(z) = z^3 exp(-z)`` for ``z >= 0`` (Rosenfalck, Acta Physiol Scand Suppl 1969;321; the source
  profile of the surface-EMG models of Merletti, Lo Conte et al. 1999 and Farina & Merletti 2001):
  ``R_0 = z^3 e^-z``, ``R_1 = (3z^2 - z^3) e^-z``, ``R_2 = (6z - 6z^2 + z^3) e^-z``. A fast rise and a
  slow exponential tail; a negative width mirrors it (slow lead-in, fast end).

Surface potentials are low-pass filtered by tissue: 8-30 ms, 2-4 phases (more when complex), the
spectral peak in the 20-450 Hz band at roughly 40-140 Hz (De Luca, J Appl Biomech 1997;13:135; Merletti
& Parker, Electromyography, 2004). Slow lead-ins and tails are the non-propagating components at the
end-plate and fibre ends (end-of-fibre effect: Merletti et al. 1999; Farina & Merletti 2001), small
wide components before and after the main phases here.

Families (drawn by :func:`draw_shape`):

- ``"simple"``: one main component (HR order 1-3 or Rosenfalck R1/R2) and a small asymmetric one,
  2, 3 or 4 phases with chances 0.45/0.40/0.15 (3.25 +- 1.05 phases in needle FPs, de Carvalho &
  Swash, JNNP 2013; fewer on the surface, whose tissue low-pass merges small phases), sometimes a
  slow lead-in or tail.
- ``"polyphasic"``: 3-7 overlapping narrow components, 5-8 phases (10.5 % of FPs in normal and 22.6 %
  in partly denervated muscle are polyphasic, de Carvalho & Swash 2013).
- ``"slow"``: a wide main component with a long tail, 2-4 phases, spectral peak 30-70 Hz: large deep
  units seen through more tissue.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Coefficients of H_0..H_3 in powers of x (x^0..x^3).
HERMITE = np.array(
    [[1.0, 0.0, 0.0, 0.0], [0.0, 2.0, 0.0, 0.0], [-2.0, 0.0, 4.0, 0.0], [0.0, -12.0, 0.0, 8.0]]
)
#: Coefficients of the Rosenfalck derivatives R_0..R_2 in powers of z (times exp(-z), z >= 0).
ROSENFALCK = np.array([[0.0, 0.0, 0.0, 1.0], [0.0, 0.0, 3.0, -1.0], [0.0, 6.0, -6.0, 1.0]])


def _peaks(coefs, envelope, grid) -> np.ndarray:
    return np.array([np.abs(np.polynomial.polynomial.polyval(grid, c) * envelope).max()
                     for c in coefs])


_GRID = np.linspace(-6.0, 6.0, 4001)
_ZGRID = np.linspace(0.0, 30.0, 12001)
#: Peak |f| of each basis function, so that a component's amplitude is its own peak.
HR_PEAK = _peaks(HERMITE, np.exp(-_GRID**2), _GRID)
RF_PEAK = _peaks(ROSENFALCK, np.exp(-_ZGRID), _ZGRID)

SUPPORT_FRACTION = 0.02  # onset/offset at 2 % of the peak
PHASE_DEAD_BAND = 0.05  # a phase must exceed 5 % of the peak
MAIN_FRACTION = 0.5  # main phases: where |w| reaches 50 % of the peak
SPECTRUM_BAND_HZ = (20.0, 450.0)
#: Spectral peak (Hz) accepted per family (surface potentials 30-150 Hz; slow units at the low end).
PEAK_BAND_HZ = {"simple": (30.0, 150.0), "polyphasic": (30.0, 150.0), "slow": (30.0, 70.0)}
#: Phases accepted per family.
PHASE_RANGE = {"simple": (2, 4), "polyphasic": (5, 8), "slow": (2, 4)}
FAMILIES = tuple(PEAK_BAND_HZ)
#: Tissue low-pass: at most this share of a surface potential's power lies above 450 Hz (the
#: surface-EMG band is 20-450 Hz, SENIAM/ISEK; De Luca 1997). Narrow components that would put
#: more there are needle-like, not surface potentials.
MAX_POWER_ABOVE_BAND = 0.02
#: Shapes tried at the drawn duration before a fitting duration is drawn instead.
FIT_TRIES = 5


@dataclass
class Shape:
    """Components of a shape in dimensionless time (``expo``: Rosenfalck envelope)."""

    coef: np.ndarray  # (K, 4) polynomial coefficients times amplitude
    centre: np.ndarray  # (K,)
    width: np.ndarray  # (K,) negative: mirrored
    expo: np.ndarray  # (K,) bool

    def extent(self) -> tuple[float, float]:
        """A span of x outside which every component is negligible."""
        w = np.abs(self.width)
        lo = np.where(self.expo & (self.width > 0), self.centre, self.centre - 30 * w)
        hi = np.where(self.expo & (self.width < 0), self.centre, self.centre + 30 * w)
        lo = np.where(self.expo, lo, self.centre - 6 * w)
        hi = np.where(self.expo, hi, self.centre + 6 * w)
        return float(lo.min()), float(hi.max())


def evaluate(coef, centre, width, expo, x):
    """Sum of components at ``x``; arrays broadcast over leading axes, components on the last.

    ``x`` has shape ``(..., 1)`` against components ``(..., K)``; returns the sum over K.
    """
    u = (x - centre) / width
    poly = coef[..., 3]
    for j in (2, 1, 0):
        poly = poly * u + coef[..., j]
    arg = np.where(expo, np.where(u >= 0.0, u, np.inf), u * u)
    return (poly * np.exp(-arg)).sum(axis=-1)


def count_phases(wave: np.ndarray, dead_fraction: float = PHASE_DEAD_BAND) -> int:
    """Baseline crossings + 1, counting only excursions beyond ``dead_fraction`` of the peak."""
    band = dead_fraction * np.abs(wave).max()
    signs = np.sign(wave[np.abs(wave) > band])
    return int(np.count_nonzero(np.diff(signs))) + 1


def _component(kind: str, order: int, amp: float, centre: float, width: float):
    table, peak = (ROSENFALCK, RF_PEAK) if kind == "R" else (HERMITE, HR_PEAK)
    return (amp * table[order] / peak[order], centre, width, kind == "R")


def _shape(parts) -> Shape:
    coef, centre, width, expo = zip(*parts, strict=True)
    return Shape(np.array(coef), np.array(centre, float), np.array(width, float),
                 np.array(expo, bool))


def _main(rng, phases: int, width: float = 1.0):
    """A 2-4 phase main component: HR order phases-1, or Rosenfalck R1/R2 (possibly mirrored)."""
    sign = float(rng.choice([-1.0, 1.0]))
    if phases <= 3 and rng.random() < 0.4:
        mirror = -1.0 if rng.random() < 0.3 else 1.0
        # R_1 spans ~6 units of z, R_2 ~8: a width of 0.35-0.45 matches an HR component of width 1.
        return _component("R", phases - 1, sign, 0.0, mirror * width * rng.uniform(0.35, 0.45))
    return _component("H", phases - 1, sign, 0.0, width)


def _slow_parts(rng, p_lead: float, p_tail: float, spread: float):
    """Small wide components before (lead-in) and after (tail) the main phases."""
    parts = []
    if rng.random() < p_lead:
        w = spread * rng.uniform(1.5, 3.0)
        parts.append(_component("H", 0, rng.choice([-1, 1]) * rng.uniform(0.02, 0.06), -1.5 * w, w))
    if rng.random() < p_tail:
        w = spread * rng.uniform(0.6, 1.2)
        parts.append(_component("R", 0, rng.choice([-1, 1]) * rng.uniform(0.02, 0.08), 0.5, w))
    return parts


def _draw_simple(rng):
    phases = int(rng.choice([2, 3, 4], p=[0.45, 0.4, 0.15]))
    parts = [_main(rng, phases),
             _component("H", int(rng.integers(0, 2)), rng.choice([-1, 1]) * rng.uniform(0.05, 0.25),
                        rng.uniform(-1.0, 1.0), rng.uniform(0.7, 1.5))]
    return _shape(parts + _slow_parts(rng, 0.3, 0.3, 1.0))


def _draw_polyphasic(rng):
    k = int(rng.integers(3, 8))
    widths = rng.uniform(0.35, 0.7, size=k)
    centres = np.concatenate([[0.0], np.cumsum(rng.uniform(0.9, 1.6, size=k - 1) * widths[1:])])
    amps = rng.choice([-1.0, 1.0], size=k) * rng.uniform(0.4, 1.0, size=k)
    parts = []
    for i in range(k):
        if rng.random() < 0.25:  # R_1: smooth onset (R_2's kink would be too sharp this narrow)
            parts.append(_component("R", 1, amps[i], centres[i] - widths[i], widths[i] * 0.5))
        else:
            parts.append(_component("H", int(rng.integers(1, 3)), amps[i], centres[i], widths[i]))
    return _shape(parts + _slow_parts(rng, 0.3, 0.3, 1.0))


def _draw_slow(rng):
    phases = int(rng.choice([2, 3], p=[0.6, 0.4]))
    return _shape([_main(rng, phases)] + _slow_parts(rng, 0.5, 0.7, 1.5))


_DRAW = {"simple": _draw_simple, "polyphasic": _draw_polyphasic, "slow": _draw_slow}


@dataclass
class Sampled:
    """A shape on a fine grid with what follows from it."""

    shape: Shape
    x: np.ndarray
    wave: np.ndarray
    onset: float  # first x at SUPPORT_FRACTION of the peak
    offset: float
    phases: int
    spectrum_x: np.ndarray | None = None  # |FFT| over frequency in cycles per x-unit
    freq_x: np.ndarray | None = None

    def with_spectrum(self, n_fft: int = 1 << 14) -> Sampled:
        """Compute the spectrum (once)."""
        if self.spectrum_x is None:
            self.spectrum_x = np.abs(np.fft.rfft(self.wave, n_fft))
            self.freq_x = np.fft.rfftfreq(n_fft, self.x[1] - self.x[0])
        return self

    def peak_hz(self, duration_s: float) -> float:
        """Spectral peak in :data:`SPECTRUM_BAND_HZ` when the support lasts ``duration_s``."""
        self.with_spectrum()
        f_hz = self.freq_x * (self.offset - self.onset) / duration_s
        band = (f_hz >= SPECTRUM_BAND_HZ[0]) & (f_hz <= SPECTRUM_BAND_HZ[1])
        return float(f_hz[band][np.argmax(self.spectrum_x[band])])

    def peak_within(self, duration_s: float, lo_hz: float, hi_hz: float) -> bool:
        """Whether the spectral peak lies in ``lo_hz``-``hi_hz`` with a margin (everything else in
        :data:`SPECTRUM_BAND_HZ` stays 3 % below it, so jitter or sampling cannot move it out) and
        at most :data:`MAX_POWER_ABOVE_BAND` of the power lies above the band."""
        self.with_spectrum()
        f_hz = self.freq_x * (self.offset - self.onset) / duration_s
        band = (f_hz >= SPECTRUM_BAND_HZ[0]) & (f_hz <= SPECTRUM_BAND_HZ[1])
        inside = band & (f_hz >= lo_hz) & (f_hz <= hi_hz)
        if not inside.any():
            return False
        outside = band & ~inside
        if outside.any() and self.spectrum_x[inside].max() <= 1.03 * self.spectrum_x[outside].max():
            return False
        power = self.spectrum_x**2
        return power[f_hz > SPECTRUM_BAND_HZ[1]].sum() <= MAX_POWER_ABOVE_BAND * power.sum()


def sample(shape: Shape, n: int = 3001) -> Sampled:
    """Sample a shape on a grid spanning its extent; its support and phases."""
    lo, hi = shape.extent()
    x = np.linspace(lo, hi, n)
    wave = evaluate(shape.coef, shape.centre, shape.width, shape.expo, x[:, None])
    peak = np.abs(wave).max()
    support = np.flatnonzero(np.abs(wave) >= SUPPORT_FRACTION * peak)
    return Sampled(shape, x, wave, float(x[support[0]]), float(x[support[-1]]), count_phases(wave))


def _phases_clear(wave: np.ndarray) -> bool:
    """No phase close to the dead band: the count is the same at 3 % and 10 % of the peak
    (so that sampling and per-discharge jitter do not change it)."""
    return count_phases(wave, 0.03) == count_phases(wave, 0.10)


def draw_shape(rng: np.random.Generator, family: str, duration_s: float,
               duration_range_s: tuple[float, float], max_tries: int = 200):
    """A shape of ``family`` and a duration whose spectral peak and phases fit the family.

    Shapes whose phase count depends on the dead band (a phase between 3 % and 10 % of the peak)
    are redrawn, so that the count holds on any sample grid.

    The drawn ``duration_s`` is kept when the shape's spectral peak at that duration lies in
    :data:`PEAK_BAND_HZ`; after ``FIT_TRIES`` shapes that do not fit, a duration is drawn uniformly among
    those within ``duration_range_s`` that fit (a short potential has its peak above 150 Hz unless
    it has few, broad phases, so short potentials are rarer than the drawn durations alone would
    make them; drawing among all fitting durations, rather than the nearest, keeps the spectral
    peaks from piling up at the band's edge).

    Returns
    -------
    sampled : Sampled
    duration_s : float
    """
    lo_hz, hi_hz = PEAK_BAND_HZ[family]
    lo_ph, hi_ph = PHASE_RANGE[family]
    grid_s = np.arange(duration_range_s[0], duration_range_s[1] + 1e-9, 5e-4)
    misfits = 0
    for _ in range(max_tries):
        s = sample(_DRAW[family](rng))
        if not lo_ph <= s.phases <= hi_ph or not _phases_clear(s.wave):
            continue
        if s.peak_within(duration_s, lo_hz, hi_hz):
            return s, duration_s
        misfits += 1
        if misfits > FIT_TRIES:
            ok = [float(d) for d in grid_s if s.peak_within(float(d), lo_hz, hi_hz)]
            if ok:
                return s, float(rng.choice(ok))
    raise RuntimeError(f"no {family} shape fits {duration_range_s} s")  # not reached in practice
