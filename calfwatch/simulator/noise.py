"""Background: amplifier/electrode noise, mains interference and baseline wander.

Noise is white Gaussian noise shaped by a 1st-order 5 Hz high-pass and a 2nd-order low-pass at
``min(500 Hz, 0.45 sfreq)`` (a broad amplifier-like spectrum), scaled so that its RMS **in the
surface-EMG band** ``noise_band_hz`` (20-450 Hz by default, upper edge capped at 0.45 sfreq) equals
``noise_rms_uv``. It is drawn in fixed blocks seeded by (seed, channel, block) and filtered with
continuous state, so the samples do not depend on how the night is chunked.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

from calfwatch.simulator.params import SimulationParams

_NOISE_TAG = 0x6E6F  # separates the noise streams from other uses of the seed


def noise_band_hz(p: SimulationParams) -> tuple[float, float]:
    """The band in which ``noise_rms_uv`` holds."""
    return p.noise_band_hz[0], min(p.noise_band_hz[1], 0.45 * p.sfreq_hz)


def _shaping_sos(sfreq_hz: float) -> np.ndarray:
    hp = signal.butter(1, 5.0, btype="highpass", fs=sfreq_hz, output="sos")
    lp = signal.butter(2, min(500.0, 0.45 * sfreq_hz), btype="lowpass", fs=sfreq_hz, output="sos")
    return np.vstack([hp, lp])


def _band_gain(sos: np.ndarray, sfreq_hz: float, band: tuple[float, float]) -> float:
    """RMS in ``band`` of the filter's output for unit-variance white input."""
    f_hz = np.linspace(band[0], band[1], 20001)
    _, h = signal.sosfreqz(sos, worN=f_hz, fs=sfreq_hz)
    power = np.trapezoid(np.abs(h) ** 2, f_hz) * 2.0 / sfreq_hz
    return float(np.sqrt(power))


class NoiseSource:
    """Shaped noise for one channel, produced block after block with continuous filter state."""

    def __init__(self, p: SimulationParams, seed: int, channel: int) -> None:
        self.seed, self.channel = seed, channel
        self.sos = _shaping_sos(p.sfreq_hz)
        self.scale = p.noise_rms_uv / _band_gain(self.sos, p.sfreq_hz, noise_band_hz(p))
        self.zi = np.zeros((self.sos.shape[0], 2))
        self.next_block = 0

    def block(self, index: int, n: int) -> np.ndarray:
        """Noise of block ``index`` (blocks must be asked for in order from 0)."""
        if index != self.next_block:
            raise RuntimeError("noise blocks must be rendered in order")
        rng = np.random.default_rng([self.seed, _NOISE_TAG, self.channel, index])
        white = rng.standard_normal(n) * self.scale
        out, self.zi = signal.sosfilt(self.sos, white, zi=self.zi)
        self.next_block += 1
        return out


class Periodic:
    """Mains (fundamental + harmonics below Nyquist) and baseline wander (< 1 Hz) of one channel."""

    def __init__(self, p: SimulationParams, rng: np.random.Generator) -> None:
        harmonics = np.concatenate([[1.0], np.asarray(p.mains_harmonics, dtype=float)])
        freqs = p.mains_hz * np.arange(1, harmonics.size + 1)
        keep = freqs < 0.5 * p.sfreq_hz
        wander_f = rng.uniform(0.03, 0.8, 4)
        wander_a = rng.dirichlet(np.ones(4)) * p.wander_uv
        self.freqs_hz = np.concatenate([freqs[keep], wander_f])
        self.amps_uv = np.concatenate([p.mains_uv * harmonics[keep], wander_a])
        self.phases = rng.uniform(0, 2 * np.pi, self.freqs_hz.size)
        self.sfreq_hz = p.sfreq_hz

    def block(self, start_sample: int, n: int) -> np.ndarray:
        """Samples ``start_sample .. start_sample + n``."""
        t_s = (start_sample + np.arange(n)) / self.sfreq_hz
        out = np.zeros(n)
        for f, a, ph in zip(self.freqs_hz, self.amps_uv, self.phases, strict=True):
            if a:
                out += a * np.sin(2 * np.pi * f * t_s + ph)
        return out
