"""A few potentials close together are a jerk's units only where chance rarely puts them so close
(classifier.potentials.unlikely_clusters): the chance follows the channel's own rate."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from classifier.config import default_config
from classifier.potentials import (
    _clusters,
    chance_of_cluster,
    chance_overlaps,
    compounds,
    local_rate_per_s,
    unlikely_clusters,
)
from dsp.types import CANDIDATE_DTYPE, FEATURE_DTYPE

CFG = default_config().events


@pytest.mark.parametrize("k", [2, 3, 4, 5])
def test_chance_of_a_cluster_is_the_poisson_tail(k):
    rate = np.array([0.0, 0.05, 0.5, 2.0, 10.0])
    expected = stats.poisson.sf(k - 2, rate * 0.15)
    np.testing.assert_allclose(chance_of_cluster(rate, 0.15, k), expected, rtol=1e-9, atol=1e-15)


def test_chance_of_a_cluster_matches_simulated_twitches():
    """Against independent twitches drawn at 80 per minute: the share of twitches with two
    others in the 150 ms after them."""
    rng = np.random.default_rng(3)
    rate = 80 / 60
    t = np.cumsum(rng.exponential(1 / rate, 400_000))
    with_two = np.searchsorted(t, t + 0.15, side="right") - np.arange(len(t)) - 1 >= 2
    assert with_two.mean() == pytest.approx(chance_of_cluster(np.array([rate]), 0.15, 3)[0],
                                            rel=0.05)


def test_local_rate_counts_the_potentials_around_each_time():
    rng = np.random.default_rng(1)
    t = np.sort(rng.uniform(0, 1000, 3000))
    at = rng.uniform(0, 1000, 50)
    got = local_rate_per_s(t, at, 60.0, 10.0)
    for a, g in zip(at, got, strict=True):
        n = np.sum(np.abs(t - a) <= 60.0)
        covered = min(a + 60, t[-1]) - max(a - 60, t[0])
        assert g == pytest.approx(n / max(covered, 10.0))


def test_local_rate_leaves_out_the_potentials_judged():
    t = np.arange(0.0, 600.0, 2.0)
    at = np.array([100.0, 300.0])
    np.testing.assert_allclose(local_rate_per_s(t, at, 60.0, 10.0, np.array([2, 0])),
                               local_rate_per_s(t, at, 60.0, 10.0) - np.array([2, 0]) / 120.0)


@pytest.mark.parametrize("k", [2, 3])
def test_clusters_are_the_windows_of_k_joined_where_they_share_a_potential(k):
    """Against brute force: every window of ``k`` potentials within 150 ms marks them, and
    windows sharing a potential are one group (union-find over the windows)."""
    rng = np.random.default_rng(k)
    for _ in range(200):
        t = np.sort(rng.uniform(0.0, 1.0, int(rng.integers(0, 12))))
        label = _clusters(t, 0.15, k)
        parent = list(range(len(t)))

        def root(a, parent=parent):
            while parent[a] != a:
                a = parent[a]
            return a

        marked = set()
        for i in range(len(t) - k + 1):
            if t[i + k - 1] - t[i] <= 0.15:
                marked.update(range(i, i + k))
                for j in range(i + 1, i + k):
                    parent[root(j)] = root(i)
        assert {i for i in range(len(t)) if label[i] >= 0} == marked
        for i in marked:
            for j in marked:
                assert (label[i] == label[j]) == (root(i) == root(j))


def _pair_among(background_per_min: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Peak times (s) of a jerk's two units 37 ms apart at 300 s among independent twitches."""
    t, _ = _triple_among(background_per_min, seed)
    t = np.sort(np.concatenate([t[np.abs(t - 300.04) > 0.1], [300.0, 300.037]]))
    return t, np.searchsorted(t, [300.0, 300.037])


@pytest.mark.parametrize("background_per_min", [0.0, 0.1])
def test_two_units_in_150_ms_are_a_jerk_on_a_channel_that_hardly_twitches(background_per_min):
    """On a night without twitches a jerk whose units the detector finds one by one may show as
    two potentials: two of different shapes within 150 ms, where other twitches are fewer than
    one in two minutes, are no coincidence (a chance of about 0.02 % at 0.1 per minute). The
    pair's own two are left out of the rate they are judged by."""
    t, pair = _pair_among(background_per_min, 6)
    label = unlikely_clusters(t, t, CFG, k=2)
    assert np.all(label[pair] >= 0) and label[pair[0]] == label[pair[1]]


@pytest.mark.parametrize("background_per_min", [5.0, 40.0])
def test_two_in_150_ms_are_a_coincidence_where_twitches_are_common(background_per_min):
    """At five twitches a minute or more, two within 150 ms happen to 1.2 % of twitches or
    more: no jerk by the pair's test (at one a minute, two minutes without another twitch
    around the pair happen to one pair in seven)."""
    t, _ = _pair_among(background_per_min, 7)
    assert np.all(unlikely_clusters(t, t, CFG, k=2) == -1)


def _triple_among(background_per_min: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Peak times (s) of a jerk's three units 40 ms apart at 300 s among independent twitches."""
    rng = np.random.default_rng(seed)
    rate = background_per_min / 60
    n = int(rate * 600 * 1.5) + 10
    twitches = np.cumsum(rng.exponential(1 / rate, n)) if rate else np.zeros(0)
    twitches = twitches[(twitches < 600) & (np.abs(twitches - 300) > 1)]
    jerk = np.array([300.0, 300.04, 300.08])
    t = np.sort(np.concatenate([twitches, jerk]))
    return t, np.searchsorted(t, jerk)


@pytest.mark.parametrize("background_per_min", [0.0, 1.0, 5.0])
def test_three_units_in_150_ms_are_a_jerk_on_a_quiet_channel(background_per_min):
    t, jerk = _triple_among(background_per_min, 4)
    label = unlikely_clusters(t, t, CFG)
    assert np.all(label[jerk] >= 0) and len(set(label[jerk])) == 1


@pytest.mark.parametrize("background_per_min", [60.0, 100.0])
def test_three_in_150_ms_are_a_coincidence_among_frequent_twitches(background_per_min):
    """At 60-100 twitches a minute three within 150 ms happen to 1-3 % of twitches: no jerk by
    this rule (four within 150 ms still are, :func:`classifier.potentials.dense`)."""
    t, jerk = _triple_among(background_per_min, 5)
    label = unlikely_clusters(t, t, CFG)
    assert np.all(label == -1)


def _joined_pair_among(background_per_min: float, seed: int, members: int = 2,
                       continuous: bool = False):
    """Candidates (2 kHz) of independent twitches and, at 300 s, ``members`` potentials each
    reached from the one before without a return to baseline (superimposed), 25 ms apart."""
    sf = 2000.0
    t, _ = _triple_among(background_per_min, seed)
    t = t[np.abs(t - 300.0) > 0.5]
    at = 300.0 + 0.025 * np.arange(members)
    t_all = np.sort(np.concatenate([t, at]))
    cand = np.zeros(len(t_all), CANDIDATE_DTYPE)
    cand["peak"] = np.round(t_all * sf).astype(np.int64)
    cand["onset"], cand["offset"] = cand["peak"] - 10, cand["peak"] + 20
    inside = np.searchsorted(t_all, at)
    cand["joined"][inside[1:]] = True
    cand["continuous"][inside[0]] = continuous
    feats = np.zeros(len(cand), FEATURE_DTYPE)
    feats["phases"] = 2
    return cand, feats, inside, sf


@pytest.mark.parametrize("background_per_min", [5.0, 40.0, 100.0])
def test_two_superimposed_potentials_are_a_coincidence_where_twitches_are_common(
        background_per_min):
    """Two potentials without a return to baseline between them are a compound (a jerk's
    units superimposed) or two units' twitches that chance overlapped: at five twitches a minute
    or more, chance puts another within 150 ms of 1.2 % of twitches or more (the pair's test of
    :func:`unlikely_clusters`), so each is a potential of its own."""
    cand, feats, pair, sf = _joined_pair_among(background_per_min, 8)
    comp = compounds(cand, feats, sf, CFG)
    assert comp[pair[0]] >= 0 and comp[pair[0]] == comp[pair[1]]
    twitch = np.ones(len(cand), bool)
    assert np.flatnonzero(chance_overlaps(cand, feats, comp, sf, CFG, twitch)).tolist() == \
        pair.tolist()


@pytest.mark.parametrize("background_per_min", [0.0, 0.1])
def test_two_superimposed_potentials_stay_a_jerk_on_a_quiet_channel(background_per_min):
    cand, feats, pair, sf = _joined_pair_among(background_per_min, 9)
    comp = compounds(cand, feats, sf, CFG)
    assert not chance_overlaps(cand, feats, comp, sf, CFG, np.ones(len(cand), bool)).any()


@pytest.mark.parametrize(("members", "continuous"), [(3, False), (2, True)])
def test_only_a_pair_of_potentials_is_taken_for_a_coincidence(members, continuous):
    """Three superimposed, or a piece of continuous activity with the potential after it, are
    left to the compound rules at any rate."""
    cand, feats, inside, sf = _joined_pair_among(100.0, 10, members, continuous)
    comp = compounds(cand, feats, sf, CFG)
    assert comp[inside[0]] >= 0
    assert not chance_overlaps(cand, feats, comp, sf, CFG, np.ones(len(cand), bool)).any()
