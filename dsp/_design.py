"""IIR design in numpy (Butterworth band-pass, notch, group delay, averaged spectrum).

The same formulas as scipy.signal (buttap, lp2bp_zpk, bilinear_zpk, iirnotch, welch with a Hann
window), kept here so that importing the chain does not import scipy.signal (about half a second).
"""

from __future__ import annotations

import numpy as np


def butter_bandpass_sos(order: int, low_hz: float, high_hz: float, sfreq_hz: float) -> np.ndarray:
    """Digital Butterworth band-pass of ``2 * order`` poles as second-order sections."""
    fs2 = 4.0  # scipy designs at fs = 2 and maps with 2 * fs
    warped = fs2 * np.tan(np.pi * np.array([low_hz, high_hz]) / sfreq_hz)
    bw = warped[1] - warped[0]
    wo = np.sqrt(warped[0] * warped[1])
    p = -np.exp(1j * np.pi * np.arange(-order + 1, order, 2) / (2 * order))
    p_lp = p * bw / 2
    root = np.sqrt(p_lp**2 - wo**2)
    p_bp = np.concatenate([p_lp + root, p_lp - root])
    gain = bw**order
    p_z = (fs2 + p_bp) / (fs2 - p_bp)
    gain = gain * np.real(fs2**order / np.prod(fs2 - p_bp))  # zeros: order at 0 -> 1, order at inf -> -1
    poles = _pairs(p_z)
    sos = np.zeros((len(poles), 6))
    for i, (a1, a2) in enumerate(poles):
        sos[i] = [1.0, 0.0, -1.0, 1.0, a1, a2]
    sos[0, :3] *= gain
    return sos


def butter_highpass_sos(order: int, low_hz: float, sfreq_hz: float) -> np.ndarray:
    """Digital Butterworth high-pass of ``order`` poles as second-order sections."""
    fs2 = 4.0
    warped = fs2 * np.tan(np.pi * low_hz / sfreq_hz)
    p = -np.exp(1j * np.pi * np.arange(-order + 1, order, 2) / (2 * order))
    p_z = (fs2 + warped / p) / (fs2 - warped / p)  # s -> warped / s, then bilinear; zeros at z = 1
    gain = np.real(np.prod(1.0 + p_z)) / 2**order  # unit gain at Nyquist (z = -1)
    sos = [[1.0, -2.0, 1.0, 1.0, -2.0 * q.real, abs(q) ** 2] for q in p_z if q.imag > 1e-12]
    sos += [[1.0, -1.0, 0.0, 1.0, -q.real, 0.0] for q in p_z if abs(q.imag) <= 1e-12]
    out = np.array(sos)
    out[0, :3] *= gain
    return out


def _pairs(poles: np.ndarray) -> list[tuple[float, float]]:
    """(a1, a2) of each section: conjugate pairs, then real poles two by two."""
    upper = [q for q in poles if q.imag > 1e-12]
    real = sorted(q.real for q in poles if abs(q.imag) <= 1e-12)
    pairs = [(-2.0 * q.real, abs(q) ** 2) for q in upper]
    for i in range(0, len(real), 2):
        pairs.append((-(real[i] + real[i + 1]), real[i] * real[i + 1]))
    return pairs


def notch_sos(freq_hz: float, q: float, sfreq_hz: float) -> np.ndarray:
    """Second-order notch at ``freq_hz`` with quality factor ``q`` (scipy.signal.iirnotch)."""
    w0 = 2 * np.pi * freq_hz / sfreq_hz
    beta = np.tan(w0 / q / 2.0)
    gain = 1.0 / (1.0 + beta)
    c = -2.0 * np.cos(w0)
    return np.array([[gain, gain * c, gain, 1.0, gain * c, 2.0 * gain - 1.0]])


def sos_response(sos: np.ndarray, freq_hz: np.ndarray, sfreq_hz: float) -> np.ndarray:
    """Complex frequency response of the cascade at ``freq_hz``."""
    zi = np.exp(-2j * np.pi * np.asarray(freq_hz, dtype=float) / sfreq_hz)
    h = np.ones_like(zi)
    for b0, b1, b2, a0, a1, a2 in sos:
        h *= (b0 + b1 * zi + b2 * zi**2) / (a0 + a1 * zi + a2 * zi**2)
    return h


def group_delay(sos: np.ndarray, freq_hz: float, sfreq_hz: float) -> float:
    """Group delay (samples) of the cascade at ``freq_hz``, by the derivative of the phase."""
    step_hz = 1e-4 * sfreq_hz
    h = sos_response(sos, np.array([freq_hz - step_hz, freq_hz + step_hz]), sfreq_hz)
    dphi = np.angle(h[1] / h[0])
    return float(-dphi / (2 * np.pi * 2 * step_hz / sfreq_hz))


def averaged_spectrum(x: np.ndarray, sfreq_hz: float, seg: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean Hann-windowed periodogram over half-overlapping segments (Welch, density unscaled)."""
    window = np.hanning(seg + 1)[:-1]
    starts = np.arange(0, x.size - seg + 1, seg // 2)
    frames = np.stack([x[s : s + seg] for s in starts])
    frames = (frames - frames.mean(axis=1, keepdims=True)) * window
    power = np.mean(np.abs(np.fft.rfft(frames, axis=1)) ** 2, axis=0)
    return np.fft.rfftfreq(seg, 1.0 / sfreq_hz), power
