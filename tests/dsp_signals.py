"""Synthetic test signals with known answers for the dsp tests: MUAP-like potentials over noise."""

from __future__ import annotations

import numpy as np


def muap(duration_s: float, sfreq_hz: float, phases: int = 2, ptp_uv: float = 1.0) -> np.ndarray:
    """A MUAP-like potential: Gaussian derivative (2 phases) or second derivative (3 phases).

    The waveform spans ``duration_s`` (+-3 Gaussian widths) and is scaled to ``ptp_uv`` peak to
    peak; its first sample is the potential's true onset.
    """
    n = max(3, int(round(duration_s * sfreq_hz)))
    t = np.linspace(-3.0, 3.0, n)
    g = np.exp(-0.5 * t**2)
    wave = -t * g if phases == 2 else (1.0 - t**2) * g
    wave = wave - np.linspace(wave[0], wave[-1], n)
    return wave * (ptp_uv / np.ptp(wave))


def white_noise(n: int, sigma_uv: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian white noise."""
    return rng.normal(0.0, sigma_uv, n)


def pink_noise(n: int, sigma_uv: float, rng: np.random.Generator) -> np.ndarray:
    """1/f noise scaled to ``sigma_uv`` RMS (spectral shaping of white noise)."""
    spec = np.fft.rfft(rng.normal(size=n))
    f = np.arange(spec.size, dtype=float)
    f[0] = 1.0
    x = np.fft.irfft(spec / np.sqrt(f), n)
    return x * (sigma_uv / x.std())


def scene(
    duration_s: float,
    sfreq_hz: float,
    rate_per_min: float,
    ptp_uv: float | tuple[float, float],
    noise_uv: float,
    seed: int,
    min_gap_s: float = 0.2,
    durations_s: tuple[float, float] = (0.005, 0.02),
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """White noise plus potentials at random times at least ``min_gap_s`` apart.

    Returns
    -------
    x : ndarray, float64 (n_samples,)
    onsets : ndarray of int, true first sample of each potential
    ptps : ndarray, peak-to-peak of each potential as added (µV)
    """
    rng = np.random.default_rng(seed)
    n = int(round(duration_s * sfreq_hz))
    x = white_noise(n, noise_uv, rng)
    count = rng.poisson(rate_per_min * duration_s / 60.0)
    gap = int(min_gap_s * sfreq_hz)
    span = int(durations_s[1] * sfreq_hz) + 1
    slots = rng.choice(max(1, (n - 2 * gap - span) // gap), size=min(count, (n - 2 * gap) // gap), replace=False)
    onsets = np.sort(slots) * gap + gap
    lo, hi = (ptp_uv, ptp_uv) if np.isscalar(ptp_uv) else ptp_uv
    ptps = rng.uniform(lo, hi, onsets.size)
    for onset, ptp in zip(onsets, ptps, strict=True):
        wave = muap(rng.uniform(*durations_s), sfreq_hz, int(rng.integers(2, 4)), ptp)
        wave *= rng.choice([-1.0, 1.0])
        x[onset : onset + wave.size] += wave
    return x, onsets, ptps
