"""The baseline step: window means, all candidates at once, against one window at a time; a drift
is no step."""

from __future__ import annotations

import numpy as np
import pytest
from dsp_signals import muap

from dsp._buffer import TimelineBuffer
from dsp._stage_measure import _window_means
from dsp.chain import DetectionChain, concat_outputs


def _one_at_a_time(raw: TimelineBuffer, chan, first, win_samples: int) -> np.ndarray:
    out = []
    for c, f in zip(chan, first, strict=True):
        x = raw.view(int(f), int(f) + win_samples)[int(c)]
        ok = np.isfinite(x)
        n_ok = int(ok.sum())
        out.append(float(np.sum(x[ok]) / n_ok) if n_ok else np.nan)
    return np.array(out)


@pytest.mark.parametrize("seed", range(12))
def test_window_means_equal_the_window_by_window_means(seed):
    rng = np.random.default_rng(seed)
    n_channels, n_samples = int(rng.integers(1, 9)), int(rng.integers(500, 5000))
    start = int(rng.integers(0, 10**6))
    raw = TimelineBuffer(n_channels, start, capacity=64)
    x = rng.normal(0.0, 50.0, (n_channels, n_samples)) * rng.uniform(0.1, 1000.0)
    if seed % 2:  # gaps: NaN samples, some windows all NaN
        x[:, rng.integers(0, n_samples, 20)] = np.nan
        x[0, 100:400] = np.nan
    raw.append(x[:, : n_samples // 2])
    raw.append(x[:, n_samples // 2 :])
    raw.discard_before(start + int(rng.integers(0, 100)))
    win_samples = int(rng.integers(1, 200))
    n = int(rng.integers(0, 300))
    chan = rng.integers(0, n_channels, n)
    first = rng.integers(raw.start, raw.stop - win_samples + 1, n)
    got = _window_means(raw, chan, first, win_samples)
    np.testing.assert_array_equal(got, _one_at_a_time(raw, chan, first, win_samples))


def _steps_of(x_uv: np.ndarray, sfreq_hz: float) -> np.ndarray:
    chain = DetectionChain(sfreq_hz, 1, mains_hz=50.0)
    out = concat_outputs([chain.process(x_uv[None, :], 0), chain.flush()])
    return out.candidates["step_uv"]


def _with_potentials(base_uv: np.ndarray, sfreq_hz: float, onsets_s) -> np.ndarray:
    x = base_uv + np.random.default_rng(0).normal(0.0, 3.0, base_uv.size)
    w = muap(0.015, sfreq_hz, ptp_uv=300.0)
    for t0 in onsets_s:
        i = int(t0 * sfreq_hz)
        x[i:i + w.size] += w
    return x


def test_a_steady_drift_is_no_step_and_a_displaced_baseline_is():
    """Across a potential on a baseline drifting at 1 mV/s the raw means 90 ms apart differ by
    about 90 µV, but the drift was there before it: the step is what the trend does not explain.
    After a displacement of the baseline (a pop's step) the step is the displacement."""
    fs = 1000.0
    t = np.arange(int(12 * fs)) / fs
    onsets = np.arange(2.0, 11.0, 1.0)
    ramp = _steps_of(_with_potentials(1000.0 * t, fs, onsets), fs)
    assert len(ramp) == len(onsets)
    assert np.all(np.abs(ramp) < 10.0), ramp
    stairs = 120.0 * np.sum(t[:, None] > onsets + 0.008, axis=1)  # displaced within each
    steps = _steps_of(_with_potentials(stairs, fs, onsets), fs)
    np.testing.assert_allclose(steps, 120.0, atol=10.0)
