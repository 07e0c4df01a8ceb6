"""The baseline step's window means, all candidates at once, against one window at a time."""

from __future__ import annotations

import numpy as np
import pytest

from dsp._buffer import TimelineBuffer
from dsp._stage_measure import _window_means


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
