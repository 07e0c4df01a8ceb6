"""The detector's prediction of the filters' ringing: the cascade run as a wavefront equals the
cascade section after section (bit for bit) and scipy; the windowed maximum equals brute force."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from dsp import _detect_numba
from dsp.filters import design_sos


def _sections_one_after_the_other(x: np.ndarray, sos: np.ndarray) -> np.ndarray:
    """Reference: direct form II transposed, one section over the whole input, then the next,
    with the kernel's denormal guard."""
    y = x.copy()
    for b0, b1, b2, _, a1, a2 in sos:
        z1 = z2 = 0.0
        for k in range(y.size):
            xi = y[k]
            yi = b0 * xi + z1
            z1 = b1 * xi - a1 * yi + z2
            z2 = b2 * xi - a2 * yi
            if abs(z1) < 1e-200:
                z1 = 0.0
            if abs(z2) < 1e-200:
                z2 = 0.0
            y[k] = yi
    return y


@pytest.mark.parametrize("sfreq_hz, mains_hz", [(2000.0, 50.0), (1000.0, 60.0), (500.0, 50.0)])
@pytest.mark.parametrize("n", [1, 2, 7, 22, 23, 24, 300])
def test_wavefront_cascade_equals_the_sections_one_after_the_other(sfreq_hz, mains_hz, n):
    sos = design_sos(sfreq_hz, mains_hz=mains_hz)
    rng = np.random.default_rng(n)
    x = rng.normal(0.0, 100.0, n)
    x[n // 2:] *= 1e-300  # a tail in the denormal range: the guard must act at the same samples
    got = x.copy()
    _detect_numba._cascade_in_place(got, sos)
    assert got.tobytes() == _sections_one_after_the_other(x, sos).tobytes()
    x = rng.normal(0.0, 100.0, n)
    got = x.copy()
    _detect_numba._cascade_in_place(got, sos)
    np.testing.assert_allclose(got, signal.sosfilt(sos, x), rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("n", [1, 2, 3, 40, 41, 42, 83, 1000])
@pytest.mark.parametrize("half", [0, 1, 5, 20])
def test_window_max_of_magnitudes_equals_brute_force(n, half):
    x = np.random.default_rng(n + half).normal(0.0, 1.0, n)
    want = np.array([np.max(np.abs(x[max(0, j - half): j + half + 1])) for j in range(n)])
    assert _detect_numba._window_max_abs(x, half).tobytes() == want.tobytes()


def _lstsq_line(x: np.ndarray, freqs_hz: list[float], sfreq_hz: float) -> np.ndarray:
    """Reference: numpy's least squares of offset, slope and sinusoids; rows (cos, sin)."""
    n = x.size
    t = np.arange(n) - n
    cols = [np.ones(n), t / n]
    for f in freqs_hz:
        w = 2 * np.pi * f / sfreq_hz
        cols += [np.cos(w * t), np.sin(w * t)]
    coef = np.linalg.lstsq(np.column_stack(cols), x, rcond=None)[0]
    return coef[2:].reshape(-1, 2)


@pytest.mark.parametrize("sfreq_hz, mains_hz", [(2000.0, 50.0), (1000.0, 60.0), (500.0, 50.0)])
def test_the_mains_line_fit_equals_least_squares_and_leaves_out_what_is_not_a_line(
        sfreq_hz, mains_hz):
    """The line before a segment is the least-squares fit (numpy's) of offset, slope and the
    notches' first three harmonics; under the noise's standard errors a harmonic is left out,
    and a window holding something else (a slow wave of a QRS) gives no line at all."""
    sos = design_sos(sfreq_hz, mains_hz=mains_hz)
    n = int(0.04 * sfreq_hz)
    rng = np.random.default_rng(7)
    t = np.arange(n) - n
    w = 2 * np.pi * mains_hz / sfreq_hz
    raw = 300.0 + 0.5 * t + 80.0 * np.cos(w * t + 0.4) + rng.normal(0.0, 3.0, n)
    x = np.r_[raw, np.zeros(5)]
    line = _detect_numba._line_fit(x, 0, n, n, _detect_numba.line_frequencies(sos), 3.0 * 3.0)
    want = _lstsq_line(raw, [mains_hz * k for k in (1, 2, 3)], sfreq_hz)
    np.testing.assert_allclose(line[:, 0], w * np.arange(1, 4), rtol=1e-9)
    np.testing.assert_allclose(line[0, 1:], want[0], rtol=1e-9)
    assert np.all(line[1:, 1:] == 0.0)  # the harmonics are noise: left out
    np.testing.assert_allclose(np.hypot(*line[0, 1:]), 80.0, rtol=0.05)
    qrs = raw + 150.0 * np.exp(-0.5 * ((t + n / 2) / (0.006 * sfreq_hz)) ** 2)
    w_line = _detect_numba.line_frequencies(sos)
    assert _detect_numba._line_fit(np.r_[qrs, np.zeros(5)], 0, n, n, w_line, 9.0).shape[0] == 0
    no_notch = _detect_numba.line_frequencies(design_sos(sfreq_hz, mains_hz=None))
    assert no_notch.size == 0
    assert _detect_numba._line_fit(x, 0, n, n, no_notch, 9.0).size == 0
