"""Teager-Kaiser and moving RMS against brute force, in chunks, with NaN and float32 over a wide range."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.lib.stride_tricks import sliding_window_view

from dsp.envelope import MovingRms, TeagerKaiser, moving_rms, teager_kaiser


def _tkeo_reference(x: np.ndarray) -> np.ndarray:
    xp = np.pad(np.asarray(x, dtype=np.float64), ((0, 0), (1, 1)))
    return xp[:, 1:-1] ** 2 - xp[:, :-2] * xp[:, 2:]


def _rms_reference(x: np.ndarray, w: int) -> np.ndarray:
    """Trailing window over the valid samples, computed window by window in float64."""
    x = np.asarray(x, dtype=np.float64)
    xp = np.pad(x, ((0, 0), (w - 1, 0)), constant_values=np.nan)
    win = sliding_window_view(xp, w, axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.sqrt(np.nanmean(win**2, axis=2))


def test_tkeo_matches_definition():
    x = np.random.default_rng(0).normal(0, 3, (2, 500))
    np.testing.assert_allclose(teager_kaiser(x), _tkeo_reference(x), rtol=0, atol=1e-12)
    np.testing.assert_allclose(teager_kaiser(x[0]), _tkeo_reference(x[:1])[0], atol=1e-12)


def test_tkeo_of_a_sine_is_constant():
    """psi of A sin(w n) is A^2 sin^2(w) everywhere inside the signal."""
    n = np.arange(1000)
    a, w = 7.0, 2 * np.pi * 60 / 2000
    psi = teager_kaiser(a * np.sin(w * n))
    np.testing.assert_allclose(psi[1:-1], a**2 * np.sin(w) ** 2, rtol=1e-9)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(1, 200), min_size=1, max_size=30), st.integers(0, 2**32 - 1))
def test_tkeo_any_chunking(sizes, seed):
    x = np.random.default_rng(seed).normal(0, 1, (2, sum(sizes))).astype(np.float32)
    op = TeagerKaiser(2)
    parts, pos = [], 0
    for n in sizes:
        parts.append(op.process(x[:, pos : pos + n]))
        pos += n
    parts.append(op.flush())
    np.testing.assert_array_equal(np.concatenate(parts, axis=1), teager_kaiser(x))


@pytest.mark.parametrize("w", [1, 7, 20])
def test_moving_rms_matches_brute_force_with_nan(w):
    x = np.random.default_rng(w).normal(0, 2, (2, 800))
    x[0, 100:150] = np.nan
    x[1, 5] = np.nan
    got = moving_rms(x, w)
    np.testing.assert_allclose(got, _rms_reference(x, w), rtol=1e-9, equal_nan=True)
    assert np.isnan(got[0, 149]) == (w <= 50)


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.integers(1, 300), min_size=1, max_size=30),
    st.integers(1, 64),
    st.integers(0, 2**32 - 1),
)
def test_moving_rms_any_chunking(sizes, w, seed):
    x = np.random.default_rng(seed).normal(0, 1, (1, sum(sizes)))
    op = MovingRms(1, w)
    parts, pos = [], 0
    for n in sizes:
        parts.append(op.process(x[:, pos : pos + n]))
        pos += n
    np.testing.assert_array_equal(np.concatenate(parts, axis=1), moving_rms(x, w))


def test_moving_rms_stays_exact_after_huge_values_in_float32():
    """A running sum would keep an error of ~1e12 * eps after a 1e6 µV stretch; this one does not."""
    rng = np.random.default_rng(3)
    x = rng.normal(0, 1.0, (1, 400_000)).astype(np.float32)
    x[0, 1000:61000] = (1e6 * rng.normal(size=60000)).astype(np.float32)
    got = moving_rms(x, 40)
    tail = slice(100_000, None)
    np.testing.assert_allclose(got[:, tail], _rms_reference(x, 40)[:, tail], rtol=1e-9)


@pytest.mark.slow
def test_moving_rms_over_eight_hours_of_float32():
    n = 8 * 3600 * 2000
    x = np.random.default_rng(4).normal(100.0, 5.0, (1, n)).astype(np.float32)
    got = MovingRms(1, 100)
    out = np.concatenate([got.process(x[:, i : i + 7_000_000]) for i in range(0, n, 7_000_000)], 1)
    tail = x[:, -5000:].astype(np.float64)
    np.testing.assert_allclose(out[:, -4901:], _rms_reference(tail, 100)[:, 99:], rtol=1e-9)
