"""The chain's noise tracker (dsp._stage_noise): accuracy under sparse potentials, tracking, NaN,
exact medians and order statistics, any chunking; the block kernel against sort-based references."""

from __future__ import annotations

import numpy as np
import pytest
from dsp_signals import muap

from dsp._buffer import TimelineBuffer
from dsp._grid import ChainGrid
from dsp._noise_numba import MAD_TO_SIGMA, update_blocks_serial, upper_median
from dsp._stage_noise import NoiseTracker, resolution_sigmas
from dsp.filters import design_sos, sosfilt

FS = 2000.0
SOS = design_sos(FS)


def _tracked(y, block_s=0.5, window_s=30.0, quantile=0.25, sizes=None, raw=None):
    """Floor and statistic per complete block of ``y`` (1-D or (channels, n)), fed at once or in
    chunks of ``sizes``, as the chain feeds its tracker; ``raw`` what ``y`` was filtered from
    (``y`` itself when not given: unquantized, it sets no bound)."""
    y2 = np.atleast_2d(np.asarray(y, dtype=np.float64))
    raw2 = y2 if raw is None else np.atleast_2d(np.asarray(raw, dtype=np.float64))
    grid = ChainGrid.at(FS, block_s)
    tracker = NoiseTracker(y2.shape[0], grid, window_s, quantile, 0, lambda work: False)
    filtered, raw_kept = TimelineBuffer(y2.shape[0], 0), TimelineBuffer(y2.shape[0], 0)
    pos, i = 0, 0
    while pos < y2.shape[1]:
        n = y2.shape[1] if sizes is None else sizes[i % len(sizes)]
        filtered.append(y2[:, pos : pos + n])
        raw_kept.append(raw2[:, pos : pos + n])
        tracker.update(filtered, raw_kept)
        pos, i = pos + n, i + 1
    floors = tracker.floors.view(tracker.floors.start, tracker.floors.stop)
    stats = tracker.block_sigmas.view(tracker.block_sigmas.start, tracker.block_sigmas.stop)
    if np.ndim(y) == 1:
        return floors[0], stats[0], grid.block_samples
    return floors, stats, grid.block_samples


def _with_potentials(noise: np.ndarray, rate_per_min: float, ptp_uv: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = noise.copy()
    n_pot = int(rate_per_min * x.size / FS / 60)
    onsets = rng.choice(np.arange(100, x.size - 100, 200), n_pot, replace=False)
    for onset in onsets:
        wave = muap(rng.uniform(0.005, 0.02), FS, int(rng.integers(2, 4)), ptp_uv)
        x[onset : onset + wave.size] += wave * rng.choice([-1.0, 1.0])
    return x


@pytest.mark.parametrize("noise_uv", [3.0, 5.0])
def test_sparse_potentials_do_not_pull_the_floor_up(noise_uv):
    rng = np.random.default_rng(int(noise_uv))
    noise = rng.normal(0, noise_uv, int(180 * FS))
    x = _with_potentials(noise, 60.0, 200.0, seed=1)
    true_sigma = np.std(sosfilt(SOS, noise)[int(FS) :])  # the noise alone, same filter
    sigma, _, _ = _tracked(sosfilt(SOS, x))
    settled = sigma[60:]  # after the first 30 s window
    assert np.all(np.abs(settled / true_sigma - 1) < 0.10)


def test_floor_follows_a_change_of_noise_within_the_window():
    rng = np.random.default_rng(2)
    n = int(120 * FS)
    x = rng.normal(0, 4.0, n)
    x[n // 2 :] = rng.normal(0, 8.0, n - n // 2)
    y = sosfilt(SOS, x)
    sigma, _, block = _tracked(y, window_s=30.0)
    lo = np.std(y[int(5 * FS) : n // 2])
    hi = np.std(y[n // 2 + int(5 * FS) :])
    t_s = (np.arange(sigma.size) + 1) * block / FS
    before = sigma[(t_s > 20) & (t_s <= 60)]
    after = sigma[t_s >= 60 + 24]  # over three quarters of the window hold the new level
    assert np.all(np.abs(before / lo - 1) < 0.1)
    assert np.all(np.abs(after / hi - 1) < 0.1)


def test_nan_blocks_are_skipped():
    rng = np.random.default_rng(3)
    y = rng.normal(0, 2.0, int(40 * FS))
    y[int(10 * FS) : int(20 * FS)] = np.nan
    sigma, stats, _ = _tracked(y)
    assert np.all(np.isnan(stats[20:40])) and np.all(np.isfinite(stats[:20]))
    assert np.all(np.isfinite(sigma))
    assert np.all(np.abs(sigma / 2.0 - 1) < 0.1)
    all_nan, _, _ = _tracked(np.full(int(5 * FS), np.nan))
    assert np.all(np.isnan(all_nan))


def test_flat_blocks_stay_out_of_the_floor():
    """A minute of flat signal (electrodes not on, or a sensor that sends its level while a lead
    is off) then noise: the flat blocks' floor is 0 (they are flat), and from the first block of
    noise the floor is the noise's, not a quantile of zeros that keeps it near 0 for most of the
    window."""
    rng = np.random.default_rng(7)
    y = rng.normal(0, 3.0, int(90 * FS))
    y[: int(60 * FS)] = 0.0
    sigma, stats, _ = _tracked(y)
    assert np.all(sigma[:120] == 0.0) and np.all(stats[:120] == 0.0)
    assert np.all(np.abs(sigma[120:] / 3.0 - 1) < 0.1)


def test_block_statistic_is_the_mad_of_each_block():
    rng = np.random.default_rng(4)
    y = rng.normal(0, 1.0, (2, 4000)) * rng.uniform(0.1, 10, (2, 1))
    _, stats, block = _tracked(y)
    ref = np.sort(np.abs(y.reshape(2, -1, block)), axis=2)[:, :, block // 2] * MAD_TO_SIGMA
    np.testing.assert_allclose(stats, ref, rtol=1e-12)


@pytest.mark.parametrize("n", [1, 2, 3, 10, 11, 999, 1000])
def test_upper_median_against_sort(n):
    rng = np.random.default_rng(n)
    for data in (rng.normal(size=n) ** 2, rng.integers(0, 4, n).astype(float)):
        got = upper_median(data.copy(), n, data.min(), data.max(), np.empty(n))
        assert got == np.sort(data)[n // 2]


def test_floor_is_the_order_statistic_of_the_window_in_any_chunking():
    rng = np.random.default_rng(5)
    y = rng.normal(0, 1.0, int(20 * FS)) * np.repeat(rng.uniform(1, 3, 40), int(0.5 * FS))
    sigma, stats, _ = _tracked(y, block_s=0.5, window_s=3.0, quantile=0.25)
    for b in range(stats.size):
        window = np.sort(stats[max(0, b - 5) : b + 1])
        assert sigma[b] == window[int(np.round(0.25 * (window.size - 1)))]
    chunked, chunked_stats, _ = _tracked(y, window_s=3.0, sizes=[333, 1999, 50, 4001])
    np.testing.assert_array_equal(chunked, sigma)
    np.testing.assert_array_equal(chunked_stats, stats)


@pytest.mark.parametrize("guess", [np.nan, 0.0, 0.05, 0.67, 0.7, 5.0, np.inf])
def test_streaming_block_pass_gives_exact_medians_and_frame_rms(guess):
    """update_blocks_serial: block medians (whatever the guess), rolling quantile and frame RMS
    against sort-based references."""
    rng = np.random.default_rng(6)
    block, hop, n_blocks = 1000, 100, 12
    y = rng.normal(0, 1.0, (2, block * n_blocks)) * np.repeat(rng.uniform(0.2, 3, n_blocks), block)
    y[1, 2500:2600] = np.nan  # part of a block and a whole frame lost
    y[1, 5000:5700] = np.nan  # most of a block lost: NaN statistic
    y[0, 7000:8000] = 0.0  # a flat block: no noise to measure, out of the window
    hist = np.full((2, 4), np.nan)
    med = np.full((2, 1), guess)
    stats, sig = np.empty((2, n_blocks)), np.empty((2, n_blocks))
    env = np.empty((2, n_blocks * block // hop))
    update_blocks_serial(y, block, hop, hist, 0, 0.25, med, stats, sig, env)
    for c in range(2):
        for b in range(n_blocks):
            seg = np.abs(y[c, b * block : (b + 1) * block])
            seg = seg[np.isfinite(seg)]
            ref = np.sort(seg)[seg.size // 2] * MAD_TO_SIGMA if 2 * seg.size >= block else np.nan
            np.testing.assert_equal(stats[c, b], ref)
            window = stats[c, max(0, b - 3) : b + 1]
            window = np.sort(window[np.isfinite(window) & (window != 0.0)])
            want = window[int(np.round(0.25 * (window.size - 1)))] if stats[c, b] != 0 else 0.0
            assert sig[c, b] == want
    frames = y.reshape(2, -1, hop)
    valid = np.isfinite(frames).sum(axis=2)
    with np.errstate(invalid="ignore"):
        ref_env = np.sqrt(np.nansum(frames**2, axis=2) / valid)
    ref_env[2 * valid < hop] = np.nan
    np.testing.assert_allclose(env, ref_env, rtol=1e-12)


def _step_reference(raw: np.ndarray, block: int) -> np.ndarray:
    """Smallest non-zero step of successive finite samples up to each block's end, a plain loop
    (inf while there is none)."""
    out, least = [], np.inf
    for i in range(raw.size):
        if i and np.isfinite(raw[i]) and np.isfinite(raw[i - 1]) and raw[i] != raw[i - 1]:
            least = min(least, abs(raw[i] - raw[i - 1]))
        if (i + 1) % block == 0:
            out.append(least)
    return np.array(out)


def test_the_converter_step_is_the_smallest_step_up_to_each_block():
    rng = np.random.default_rng(3)
    raw = np.round(rng.normal(0.0, 0.4, 4000) / 3.2) * 3.2  # mostly on one level
    raw[:900] = 0.0  # no step yet: no bound
    raw[1500:1510] = np.nan  # a gap: no step across it
    raw[2500] = raw[2499] + 0.8  # a finer step later
    step = _step_reference(raw, 200)
    sigma, least, _ = resolution_sigmas(raw[None, :], 200, np.full((1, 1), np.nan),
                                        np.full((1, 1), np.inf))
    assert np.array_equal(sigma[0], np.where(np.isfinite(step), step / 2.0, 0.0))
    assert least.item() == step[-1]


def test_the_floor_is_not_taken_below_the_converter_step():
    """A sensor quieter than its converter's step: the floor is half a step, the same in any
    chunking; the same noise unquantized keeps its own floor."""
    rng = np.random.default_rng(4)
    x = rng.normal(0.0, 1.0, int(90 * FS))
    step_uv = 3.2
    q = np.round(x / step_uv) * step_uv
    floors, stats, _ = _tracked(sosfilt(SOS, q), raw=q)
    chunked, _, _ = _tracked(sosfilt(SOS, q), raw=q, sizes=[777, 1234, 5])
    plain, _, _ = _tracked(sosfilt(SOS, x), raw=x)
    assert np.all(floors >= step_uv / 2) and np.all(stats[np.isfinite(stats)] >= step_uv / 2)
    assert np.array_equal(floors, chunked, equal_nan=True)
    assert np.all(plain[60:] < 0.8 * step_uv / 2)  # white noise of 1 µV: the bound is not met
