"""Quality-window kernels against brute-force references: runs of equal values (flat, rails),
the window noise (numpy's nanmedian of the block statistics), pops and the floor ratio; and the
floor ratio of raw and rectified noise."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsp._quality_numba import (
    FLOOR_MIN_STEPS,
    FLOOR_QUIET_K,
    FLOOR_QUIET_QUANTILE,
    _runs,
    floor_ratio,
    nan_median,
    window_quality_serial,
)
from dsp.quality import RECTIFIED_FLOOR_RATIO


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
    out = np.empty((n_ch, n_win, 7))
    window_quality_serial(*args, 100, out)
    noise, pops = _window_quality_reference(*args)
    np.testing.assert_array_equal(out[:, :, 5], noise)
    np.testing.assert_array_equal(out[:, :, 3], pops)
    assert np.isnan(noise[0, 1]) and pops[0, 1] == 0 and pops.sum() > n_ch * n_win


def _floor_ratio_reference(x: np.ndarray, block: int) -> float:
    """numpy: each whole block's ratio and range (NaN for blocks with NaN, with the mean at an
    extreme, or spanning fewer than ``FLOOR_MIN_STEPS`` of its smallest change); the median
    ratio of the blocks whose range is at most ``FLOOR_QUIET_K`` x the lower
    ``FLOOR_QUIET_QUANTILE`` quantile of the ranges."""
    n = x.size // block if block >= 2 else 0
    ratios, ranges = [], []
    for b in x[: n * block].reshape(n, block):
        lo, hi, mean = b.min(), b.max(), b.mean()
        changes = np.abs(np.diff(b))
        step = changes[changes > 0].min() if (changes > 0).any() else np.inf
        ok = np.isfinite(b).all() and hi > mean > lo and hi - lo >= FLOOR_MIN_STEPS * step
        ratios.append((mean - lo) / (hi - mean) if ok else np.nan)
        ranges.append(hi - lo if ok else np.nan)
    ranges = np.array(ranges)
    if not np.isfinite(ranges).any():
        return np.nan
    quiet = FLOOR_QUIET_K * np.nanpercentile(ranges, 100 * FLOOR_QUIET_QUANTILE, method="lower")
    return float(np.nanmedian(np.array(ratios)[ranges <= quiet]))


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 2000), st.integers(0, 300),
       st.sampled_from(["normal", "rectified", "quantised", "coarse", "nan", "constant"]))
def test_floor_ratio_matches_numpy(seed, n, block, kind):
    rng = np.random.default_rng(seed)
    x = rng.normal(3.0, 5.0, n)
    if kind == "rectified":
        x = np.abs(x - 3.0)
    elif kind == "quantised":
        x = np.round(x)
    elif kind == "coarse":  # a step of twice the noise: a few levels
        x = np.round(x / 10.0) * 10.0
    elif kind == "nan" and n:
        x[rng.choice(n, max(1, n // 50), replace=False)] = np.nan
    elif kind == "constant" and n:
        x[: n // 2] = 7.0
    m = max(1, n // max(block, 1))
    got = floor_ratio(x, block, np.empty(m), np.empty(m), np.empty(m))
    expected = _floor_ratio_reference(x, block)
    assert got == pytest.approx(expected, rel=1e-12, nan_ok=True)


def test_window_floor_ratio_is_the_kernels_per_window():
    rng = np.random.default_rng(4)
    win, per, n_win = 2000, 8, 3
    raw = np.stack([rng.normal(0, 5, n_win * win), np.abs(rng.normal(0, 5, n_win * win))])
    lines = np.zeros((3, win))
    out = np.empty((2, n_win, 7))
    window_quality_serial(raw, raw, win, np.ones((2, n_win * per)), per, lines, lines, 40, 3,
                          6.0, 20, 500, out)
    for c in range(2):
        for w in range(n_win):
            assert out[c, w, 6] == pytest.approx(
                _floor_ratio_reference(raw[c, w * win : (w + 1) * win], 500), rel=1e-12)


@pytest.mark.parametrize("sfreq_hz", [500.0, 1000.0, 2000.0, 4000.0])
def test_raw_noise_reads_about_one_and_rectified_noise_under_the_limit(sfreq_hz):
    """Gaussian noise is symmetric about its mean, whatever its offset; its absolute value (a
    full-wave rectifier) has a hard floor with half-normal noise above it."""
    rng = np.random.default_rng(int(sfreq_hz))
    block = int(0.25 * sfreq_hz)
    x = rng.normal(0.0, 5.0, 40 * block)
    scratch = (np.empty(40), np.empty(40), np.empty(40))
    raw = floor_ratio(x + 512.0, block, *scratch)
    rectified = floor_ratio(np.abs(x) + 80.0, block, *scratch)
    assert 0.85 < raw < 1.15
    assert rectified < 0.75 * RECTIFIED_FLOOR_RATIO  # 0.4 at 500 Hz: fewer samples per block


@pytest.mark.parametrize("beats_per_min", [60, 120, 150])
def test_a_fast_heart_on_raw_emg_does_not_read_rectified(beats_per_min):
    """A QRS of 60 x the noise, upright (an R wave with a small S), in most blocks at 120-150
    beats a minute: the blocks that hold one are not quiet, and the others decide."""
    sfreq_hz = 1000.0
    t = np.arange(int(60 * sfreq_hz)) / sfreq_hz
    x = np.random.default_rng(beats_per_min).normal(0.0, 5.0, t.size)
    for beat_s in np.arange(0.3, 60.0, 60.0 / beats_per_min):
        x += 300 * np.exp(-(((t - beat_s) / 0.012) ** 2))
        x -= 60 * np.exp(-(((t - beat_s - 0.03) / 0.01) ** 2))
    block = int(0.25 * sfreq_hz)
    scratch = [np.empty(t.size // block) for _ in range(3)]
    assert floor_ratio(x, block, *scratch) > 0.85
    assert floor_ratio(np.abs(x), block, *scratch) < RECTIFIED_FLOOR_RATIO


@pytest.mark.parametrize("offset_steps", [0.0, 0.2, 0.4, 0.5])
def test_quantised_noise_reads_by_its_signal_not_its_levels(offset_steps):
    """A converter's steps: raw noise of 0.2-0.5 step (a few levels, any offset) is never read
    as rectified; rectified noise of 2 steps or more always is."""
    rng = np.random.default_rng(int(10 * offset_steps))
    block = 500
    x = rng.normal(0.0, 1.0, 40 * block)
    scratch = [np.empty(40) for _ in range(3)]
    for noise_steps in (0.2, 0.3, 0.5):
        raw = np.round(x * noise_steps + offset_steps)
        assert not floor_ratio(raw, block, *scratch) < RECTIFIED_FLOOR_RATIO  # NaN or raw
    for noise_steps in (2.0, 5.0, 20.0):
        rectified = np.round(np.abs(x) * noise_steps + offset_steps)
        assert floor_ratio(rectified, block, *scratch) < RECTIFIED_FLOOR_RATIO
