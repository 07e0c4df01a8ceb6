"""Property tests: ground-truth invariants for any parameters, samples for any chunk size."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from calfwatch.simulator import load_profile, simulate_night
from classifier.kinds import NON_REST_KINDS


def _unit_trains_ok(fasc, p):
    """Per unit: potentials at least the refractory period apart, multiplets 5-40 ms apart."""
    lo_s, hi_s = p.fasc_multiplet_interval_ms[0] * 1e-3, p.fasc_multiplet_interval_ms[1] * 1e-3
    for u in {e.unit for e in fasc}:
        mine = [e for e in fasc if e.unit == u]
        run = 0
        for prev, cur in zip(mine, mine[1:], strict=False):
            gap = cur.onset_s - prev.onset_s
            assert gap >= p.fasc_refractory_ms * 1e-3 - 1e-9
            if cur.detail == "doublet":
                run += 1
                assert lo_s - 1e-9 <= gap <= hi_s + 1e-9 and run <= 2
            else:
                run = 0


@settings(max_examples=6, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    rate=st.floats(0.0, 150.0),
    doublet=st.floats(0.0, 0.6),
    triplet=st.floats(0.0, 0.4),
    margin=st.floats(0.0, 2.0),
    channels=st.integers(1, 8),
    sfreq_hz=st.sampled_from([500.0, 1000.0, 2000.0, 4000.0]),
    shape=st.sampled_from(["simple", "polyphasic", "slow", "mixed"]),
)
def test_truth_invariants_hold_for_any_parameters(seed, rate, doublet, triplet, margin, channels,
                                                  sfreq_hz, shape):
    params = load_profile(
        "busy-night", duration_s=600, n_channels=channels, sfreq_hz=sfreq_hz,
        fasc_rate_per_min=rate, fasc_doublet_prob=doublet, fasc_triplet_prob=triplet,
        rest_margin_s=margin, fasc_shape=shape,
        voluntary_per_h=60, pop_per_h=30, myoclonus_per_h=60, plm_series_per_h=4,
    )
    night = simulate_night(params, seed)
    assert len(night.info.ch_names) == len(set(night.info.ch_names)) == channels
    for ch in night.info.ch_names:
        mine = [e for e in night.truth if e.channel == ch]
        assert all(0 <= e.onset_s and e.stop_s <= params.duration_s for e in mine)
        busy = sorted((e.onset_s, e.stop_s) for e in mine if e.kind in NON_REST_KINDS)
        assert all(a[1] < b[0] for a, b in zip(busy, busy[1:], strict=False))  # no overlaps
        spans = np.array([(a - margin, b + margin) for a, b in busy]).reshape(-1, 2)
        fasc = [e for e in mine if e.kind == "fasciculation"]
        _unit_trains_ok(fasc, params)
        assert all(0.005 <= e.duration_s <= 0.030 + 1e-9 for e in fasc)
        for e in fasc:
            assert not np.any((spans[:, 0] < e.stop_s) & (spans[:, 1] > e.onset_s))
        jerks = [e for e in mine if e.kind == "myoclonus"]
        assert all(0.025 <= e.duration_s <= 0.150 for e in jerks)
        for e in fasc:  # a potential never overlaps a jerk (inside one it is part of the jerk)
            assert not any(j.onset_s < e.stop_s and e.onset_s < j.stop_s for j in jerks)


@lru_cache(maxsize=1)
def _night_and_whole():
    night = simulate_night(load_profile("busy-night", duration_s=25, n_channels=3,
                                        voluntary_per_h=300, fasc_rate_per_min=60), 17)
    return night, night.data_uv()


@settings(max_examples=15, deadline=None)
@given(chunk_s=st.floats(0.0005, 30.0))
def test_any_chunk_size_gives_the_same_samples(chunk_s):
    night, whole = _night_and_whole()
    chunks = list(night.chunks(chunk_s))
    assert [c.start_sample for c in chunks] == list(np.cumsum([0] + [c.n_samples for c in chunks])[:-1])
    assert np.array_equal(np.concatenate([c.data_uv for c in chunks], axis=1), whole)
