"""Quality-window kernels against brute-force references: runs of equal values (flat, rails),
the window noise (numpy's nanmedian of the block statistics) and pops."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsp._quality_numba import _runs, nan_median, window_quality_serial


def _runs_reference(x: np.ndarray, flat_run: int, rail_run: int) -> tuple[float, float]:
    finite = x[np.isfinite(x)]
    hi, lo = (finite.max(), finite.min()) if finite.size else (-np.inf, np.inf)
    flat = rail = 0
    for value, group in itertools.groupby(x.tolist()):
        run = len(list(group))
        if value != value:  # NaN runs are neither flat nor saturated
            continue
        flat += run if run >= flat_run else 0
        rail += run if run >= rail_run and hi > lo and value in (hi, lo) else 0
    return flat / x.size, rail / x.size


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from([-3.0, -1.0, 0.0, 0.5, 2.0, np.nan]), min_size=1, max_size=40),
    st.lists(st.integers(1, 90), min_size=1, max_size=40),
    st.integers(1, 45),
    st.integers(1, 5),
    st.integers(0, 2**32 - 1),
)
def test_runs_match_a_brute_force_count(values, lengths, flat_run, rail_run, seed):
    """Runs of every length, with noisy stretches (no equal neighbours) between them."""
    rng = np.random.default_rng(seed)
    parts = []
    for value, length in zip(values, lengths, strict=False):
        parts.append(np.full(length, value))
        parts.append(rng.normal(0, 1, int(rng.integers(0, 150))))
    x = np.concatenate(parts)
    assert _runs(x, flat_run, rail_run) == _runs_reference(x, flat_run, rail_run)


def test_runs_of_a_quantised_signal_match_a_brute_force_count():
    """Quantised noise: equal neighbours every few dozen samples, so few stretches are skipped."""
    rng = np.random.default_rng(3)
    x = np.round(rng.normal(0, 5, 20_000) / 0.2) * 0.2
    x[5000:5100] = x.max()  # a rail
    x[9000:9300] = 1.0  # flat
    x[12000:12010] = np.nan
    for flat_run, rail_run in ((40, 3), (2, 2), (1, 3), (40, 1)):
        assert _runs(x, flat_run, rail_run) == _runs_reference(x, flat_run, rail_run)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.floats(-1e6, 1e6), st.just(np.nan)), min_size=0, max_size=41))
def test_nan_median_is_numpys_nanmedian(values):
    x = np.array(values, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slice
        expected = np.nanmedian(x) if x.size else np.nan
    got = nan_median(x, np.empty(max(1, x.size)))
    assert (got == expected) or (np.isnan(got) and np.isnan(expected))


def _window_quality_reference(raw, y, win, stats, per, cos_t, sin_t, flat_run, rail_run, pop_k,
                              rearm):
    """Noise per window by numpy's nanmedian over its block statistics (padded with NaN, as the
    chain did before the kernel took it over), pops counted by a Python loop on |y|."""
    n_ch, n_win = raw.shape[0], raw.shape[1] // win
    padded = np.full((n_ch, n_win * per), np.nan)
    padded[:, : stats.shape[1]] = stats
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        noise = np.nanmedian(padded.reshape(n_ch, n_win, per), axis=2)
    pops = np.zeros((n_ch, n_win), int)
    for c in range(n_ch):
        for w in range(n_win):
            below = rearm
            for v in np.abs(y[c, w * win : (w + 1) * win]):
                if v > pop_k * noise[c, w]:
                    pops[c, w] += below >= rearm
                    below = 0
                else:
                    below += 1
    return noise, pops


@pytest.mark.parametrize("n_stats_missing", [0, 3])
def test_window_noise_and_pops_match_nanmedian_and_a_loop(n_stats_missing):
    rng = np.random.default_rng(8)
    win, per, n_win, n_ch = 400, 8, 6, 2
    raw = rng.normal(0, 5, (n_ch, n_win * win))
    y = rng.standard_t(2, (n_ch, n_win * win)) * 3
    stats = rng.uniform(1, 4, (n_ch, n_win * per - n_stats_missing))
    stats[0, 6:17] = np.nan  # part of window 0, all of window 1, part of window 2
    stats[1, rng.choice(stats.shape[1], 9, replace=False)] = np.nan
    lines = np.array([50.0, 100.0, 150.0])
    phase = 2 * np.pi * np.outer(lines, np.arange(win)) / 2000.0
    args = (raw, y, win, stats, per, np.cos(phase), np.sin(phase), 40, 3, 6.0, 20)
    out = np.empty((n_ch, n_win, 6))
    window_quality_serial(*args, out)
    noise, pops = _window_quality_reference(*args)
    np.testing.assert_array_equal(out[:, :, 5], noise)
    np.testing.assert_array_equal(out[:, :, 3], pops)
    assert np.isnan(noise[0, 1]) and pops[0, 1] == 0 and pops.sum() > n_ch * n_win
