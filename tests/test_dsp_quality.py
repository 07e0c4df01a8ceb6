"""Quality-window kernels against brute-force references: runs of equal values (flat, rails)."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dsp._quality_numba import _runs


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
