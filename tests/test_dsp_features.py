"""Features on synthetic waveforms whose answers are known in closed form."""

from __future__ import annotations

import numpy as np
import pytest
from dsp_signals import muap

from dsp.features import dominant_hz, measure_candidates
from dsp.types import SNIPPET_LEN

FS = 2000.0


def _measure(y: np.ndarray, onset: int, offset: int, peak: int, band: float = 1.0, y0: int = 0):
    y2 = np.atleast_2d(np.asarray(y, dtype=np.float64))
    return measure_candidates(
        y2, y0, np.array([0]), np.array([onset]), np.array([offset]), np.array([peak]),
        np.array([band]), FS,
    )


def _sine_burst(freq_hz: float, cycles: int, amp: float, pad: int = 300):
    n = int(round(cycles * FS / freq_hz))
    t = np.arange(n) / FS
    y = np.zeros(n + 2 * pad)
    y[pad : pad + n] = amp * np.sin(2 * np.pi * freq_hz * t)
    return y, pad, pad + n


@pytest.mark.parametrize(("freq_hz", "cycles"), [(100.0, 2), (50.0, 1), (200.0, 3)])
def test_sine_burst_features(freq_hz, cycles):
    amp = 80.0
    y, onset, offset = _sine_burst(freq_hz, cycles, amp)
    peak = onset + int(np.argmax(np.abs(y[onset:offset])))
    feats, snips, peak_uv, ptp_uv = _measure(y, onset, offset, peak)
    f = feats[0]
    sampled = amp * np.sin(2 * np.pi * freq_hz * np.arange(offset - onset) / FS)
    assert f["ptp_uv"] == pytest.approx(sampled.max() - sampled.min(), rel=1e-12)
    assert ptp_uv[0] == f["ptp_uv"]
    assert peak_uv[0] == y[peak]
    assert f["duration_s"] == pytest.approx(cycles / freq_hz, abs=1 / FS)
    assert f["phases"] == 2 * cycles  # one phase per half cycle
    assert f["turns"] == 2 * cycles  # every peak and trough, including the last one
    assert f["area_uv_s"] == pytest.approx(np.abs(sampled).sum() / FS, rel=1e-9)
    assert f["area_uv_s"] == pytest.approx(cycles * 2 * amp / (np.pi * freq_hz), rel=0.05)
    assert f["rise_time_s"] == pytest.approx((peak - onset) / FS)
    assert abs(y[peak]) == pytest.approx(np.abs(sampled).max())
    fine = np.abs(np.fft.rfft(sampled, 1 << 15))  # finely resolved spectrum of the same burst
    assert f["dominant_hz"] == pytest.approx(np.argmax(fine) * FS / (1 << 15), abs=FS / 256)
    if cycles >= 2:
        assert f["dominant_hz"] == pytest.approx(freq_hz, abs=FS / 256)


def test_phases_of_bi_and_triphasic_potentials():
    for phases in (2, 3):
        wave = muap(0.012, FS, phases, 100.0)
        y = np.concatenate([np.zeros(200), wave, np.zeros(200)])
        peak = 200 + int(np.argmax(np.abs(wave)))
        feats, *_ = _measure(y, 200, 200 + wave.size, peak, band=5.0)
        assert feats[0]["phases"] == phases
        assert feats[0]["turns"] == phases
        assert feats[0]["ptp_uv"] == pytest.approx(np.ptp(wave))
        assert feats[0]["area_uv_s"] == pytest.approx(np.abs(wave).sum() / FS)


def test_dead_band_ignores_small_wiggles():
    wave = muap(0.012, FS, 2, 100.0)
    wiggle = 3.0 * np.sin(2 * np.pi * 400 * np.arange(wave.size) / FS)
    y = np.concatenate([np.zeros(100), wave + wiggle, np.zeros(100)])
    feats, *_ = _measure(y, 100, 100 + wave.size, 100 + int(np.argmax(np.abs(wave))), band=8.0)
    assert feats[0]["phases"] == 2 and feats[0]["turns"] == 2
    noisy, *_ = _measure(y, 100, 100 + wave.size, 100, band=0.5)
    assert noisy[0]["turns"] > 2  # without a dead band the wiggles count


def test_snippet_is_centred_and_padded_with_nan_outside_the_data():
    y2 = np.arange(1000, dtype=float)
    _, snips, peak_uv, _ = _measure(y2, 1500, 1510, 1505, y0=1000)
    assert snips[0, SNIPPET_LEN // 2] == 505.0 == peak_uv[0]
    _, edge, _, _ = _measure(y2, 1002, 1010, 1005, y0=1000)
    half = SNIPPET_LEN // 2
    assert np.all(np.isnan(edge[0, : half - 5])) and edge[0, half - 5] == 0.0


def test_dominant_hz_of_pure_tones():
    n = 256
    t = np.arange(n) / FS
    rows = np.vstack([np.sin(2 * np.pi * f * t) for f in (62.5, 125.0, 250.0)])
    np.testing.assert_allclose(dominant_hz(rows, FS), [62.5, 125.0, 250.0])


def test_no_candidates_gives_empty_arrays():
    feats, snips, peak_uv, ptp_uv = measure_candidates(
        np.zeros((1, 10)), 0, *(np.zeros(0, int) for _ in range(4)), np.zeros(0), FS
    )
    assert len(feats) == len(snips) == len(peak_uv) == len(ptp_uv) == 0
