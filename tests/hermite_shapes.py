"""Motor-unit potentials as Hermite-Rodriguez functions, a fifth family of test shapes.

The other families come from random band-limited waves (:mod:`independent_scenes`), real needle
templates seen through tissue (:mod:`needle_shapes`), real potentials averaged at the skin
(:mod:`surface_averages`) and the physics of a discharge (:mod:`volume_conductor_shapes`). These
come from an analytic description: Lo Conte, Merletti and Sandri (IEEE Trans Biomed Eng
1994;41:1147) expand surface motor-unit potentials in Hermite-Rodriguez functions, the derivatives
of a Gaussian of width ``lambda``:

- first order, ``(t / lambda) exp(-(t / lambda)^2)``: a biphasic potential, spectral peak at
  ``1 / (pi sqrt(2) lambda)``;
- second order, ``(1 - 2 (t / lambda)^2) exp(-(t / lambda)^2)``: a triphasic one, spectral peak at
  ``1 / (pi lambda)``.

Each unit takes one of the two, its width set by a spectral peak drawn uniformly over 40-150 Hz
(what bipolar surface pairs record: the issue's 30-150 Hz, the surface averages' 44-66 Hz); half of
the units add a component of the other order 2-8 ms later at 20-60 % of the first's amplitude
(complex potentials of 3-5 phases: fibres whose end-plates or conduction differ). No part of this
is calfwatch's simulator or its rules: it is the textbook waveform of surface-EMG models.

The templates are sampled at :data:`surface_averages.SOURCE_HZ`, so that scenes take them as they
take the surface averages (``SceneSpec.surface_bank``: resampled, trimmed at 10 % of the peak,
either sign). The 40 templates of :func:`hermite_templates` at 2 kHz last 6-33 ms, have 2-4
phases and spectral peaks in 20-450 Hz of 61 / 104 / 158 Hz (10th / 50th / 90th percentile), and
the band keeps 96-102 % of their peak-to-peak.
"""

from __future__ import annotations

import numpy as np
from surface_averages import SOURCE_HZ

#: Spectral peaks (Hz) the units' widths are drawn from.
PEAK_RANGE_HZ = (40.0, 150.0)
#: Delay (s) and relative amplitude of the second component of a complex unit.
SECOND_DELAY_S = (0.002, 0.008)
SECOND_AMPLITUDE = (0.2, 0.6)


def hermite_rodriguez(t_s: np.ndarray, order: int, width_s: float) -> np.ndarray:
    """The Hermite-Rodriguez function of ``order`` 1 or 2 and width ``width_s`` at ``t_s``.

    Examples
    --------
    >>> t = np.linspace(-0.01, 0.01, 5)
    >>> np.round(hermite_rodriguez(t, 1, 0.005), 3)
    array([-0.037, -0.368,  0.   ,  0.368,  0.037])
    """
    z = t_s / width_s
    gauss = np.exp(-z**2)
    if order == 1:
        return z * gauss
    if order == 2:
        return (1.0 - 2.0 * z**2) * gauss
    raise ValueError(f"order must be 1 or 2, not {order}")


def width_for_peak_s(order: int, peak_hz: float) -> float:
    """The width whose Hermite-Rodriguez function of ``order`` has its spectral peak at
    ``peak_hz``."""
    return 1.0 / (np.pi * np.sqrt(2.0) * peak_hz) if order == 1 else 1.0 / (np.pi * peak_hz)


def hermite_unit(rng: np.random.Generator) -> np.ndarray:
    """One unit's potential (arbitrary scale) at :data:`SOURCE_HZ` (see the module docstring)."""
    order = int(rng.integers(1, 3))
    width = width_for_peak_s(order, rng.uniform(*PEAK_RANGE_HZ))
    t = np.arange(-4 * width, 4 * width + SECOND_DELAY_S[1] + 8 * width, 1 / SOURCE_HZ)
    w = hermite_rodriguez(t, order, width)
    if rng.random() < 0.5:
        other = 3 - order
        w2 = width_for_peak_s(other, rng.uniform(*PEAK_RANGE_HZ))
        delay = rng.uniform(*SECOND_DELAY_S)
        w = w + rng.choice([-1.0, 1.0]) * rng.uniform(*SECOND_AMPLITUDE) * np.abs(w).max() / (
            np.abs(hermite_rodriguez(np.linspace(-3, 3, 601) * w2, other, w2)).max()
        ) * hermite_rodriguez(t - delay, other, w2)
    return w


def hermite_templates(n_units: int = 40, seed: int = 0) -> list[np.ndarray]:
    """``n_units`` templates of :func:`hermite_unit` at :data:`SOURCE_HZ`.

    Examples
    --------
    >>> bank = hermite_templates(3)
    >>> len(bank), bank[0].ndim
    (3, 1)
    """
    rng = np.random.default_rng(seed)
    return [hermite_unit(rng) for _ in range(n_units)]
