"""Poisson intervals of rates: exact coverage checked by brute force over the Poisson distribution,
known values, and the intervals carried by the night summary."""

from __future__ import annotations

import math

import numpy as np
import pytest

from classifier.rates import compare_interval, poisson_rate_interval


def _poisson_cdf(k: int, mu: float) -> float:
    """P(X <= k) for X ~ Poisson(mu), summed term by term (no scipy)."""
    term, total = math.exp(-mu), 0.0
    for i in range(k + 1):
        total += term
        term *= mu / (i + 1)
    return total


@pytest.mark.parametrize("count", [0, 1, 2, 5, 9, 30, 120])
def test_bounds_are_where_the_tail_probabilities_are_2_5_percent(count):
    low, high = poisson_rate_interval(count, 1.0)
    # the upper bound is the mean at which seeing <= count has probability 2.5 %
    assert _poisson_cdf(count, high) == pytest.approx(0.025, abs=1e-9)
    if count == 0:
        assert low == 0.0
    else:  # the lower bound: seeing >= count has probability 2.5 %
        assert 1.0 - _poisson_cdf(count - 1, low) == pytest.approx(0.025, abs=1e-9)


def test_coverage_is_at_least_95_percent_for_any_mean():
    bounds = np.array([poisson_rate_interval(k, 1.0) for k in range(200)])
    for mu in np.linspace(0.05, 60.0, 150):
        k = np.arange(200)
        pmf = np.exp(k * np.log(mu) - mu - np.array([math.lgamma(i + 1) for i in k]))
        covered = (bounds[:, 0] <= mu) & (mu <= bounds[:, 1])
        assert pmf[covered].sum() >= 0.95 - 1e-9


def test_known_values_and_exposure():
    # Garwood's table: k = 10 gives 4.795-18.39 (Ulm 1990, Am J Epidemiol 131:373)
    low, high = poisson_rate_interval(10, 1.0)
    assert (round(low, 3), round(high, 2)) == (4.795, 18.39)
    low2, high2 = poisson_rate_interval(10, 2.5)
    assert (low2, high2) == pytest.approx((low / 2.5, high / 2.5))
    assert poisson_rate_interval(3, 0.0) == (None, None)


def test_comparison_with_a_threshold():
    assert compare_interval((10.5, 12.0), 10.0) == "above"
    assert compare_interval((7.0, 9.9), 10.0) == "below"
    assert compare_interval((9.0, 11.0), 10.0) == "inconclusive"
    assert compare_interval(None, 10.0) is None


def test_every_rate_of_an_analysed_night_carries_its_interval():
    from acquisition.stream import SampleChunk
    from calfwatch.engine import NightEngine
    from calfwatch.simulator import load_profile, simulate_night

    night = simulate_night(load_profile("busy-night", duration_s=120.0, n_channels=2), seed=8)
    engine = NightEngine(night.info, mains_hz=50.0)
    engine.feed(SampleChunk(0, night.data_uv()))
    s = engine.finish().summary
    tables = [s, *s["channels"].values(), *s["hours"]]
    tables += [h for ch in s["channels"].values() for h in ch["hours"]]
    for t in tables:
        low, high = t["fasciculations_per_min_rest_ci95"]
        assert 0 <= t["blind_minutes"] <= 0.05 * t["rest_minutes"]  # potentials' spans
        live = t["rest_minutes"] - t["blind_minutes"]
        expected = poisson_rate_interval(t["fasciculations"], live)
        assert (low, high) == pytest.approx(expected)
        assert low <= t["fasciculations_per_min_rest"] <= high
    assert s["fasciculations"] > 0
    hours = s["duration_s"] / 3600.0
    assert s["plm_index_per_h_ci95"] == pytest.approx(poisson_rate_interval(s["plm"], hours))


def test_the_rate_corrects_the_counting_loss_of_potentials_that_start_inside_others():
    """Poisson potentials at 100 per minute: a detector that merges every potential starting
    inside the span of the one before (non-paralyzable dead time) counts fewer, and the count
    over live rest (rest less the counted spans) recovers the true rate; the plain count over
    rest does not."""
    from classifier.config import default_config
    from classifier.events import make_events
    from classifier.kinds import FASCICULATION
    from classifier.night_data import NightData
    from classifier.rates import night_rates
    from classifier.rest import ChannelRest
    from dsp.types import CANDIDATE_DTYPE, FEATURE_DTYPE, QUALITY_DTYPE, SNIPPET_LEN

    rng = np.random.default_rng(3)
    rest_s, rate_per_s, span_s = 3600.0, 100 / 60, 0.04
    onsets = np.cumsum(rng.exponential(1 / rate_per_s, int(rest_s * rate_per_s * 1.2)))
    onsets = onsets[onsets < rest_s]
    kept, end = [], -1.0
    for t in onsets:  # the detector: blind until the kept potential's span is over
        if t >= end:
            kept.append(t)
            end = t + span_s
    events = make_events(len(kept))
    events["onset_s"], events["duration_s"] = kept, span_s
    events["kind"], events["channel"] = FASCICULATION, 0
    sf = 1000.0
    night = NightData(np.zeros(0, CANDIDATE_DTYPE), np.zeros(0, FEATURE_DTYPE),
                      np.zeros((0, SNIPPET_LEN), np.float32), np.zeros((1, 0)), np.zeros((1, 0)),
                      0, np.zeros(0, QUALITY_DTYPE), sf, ["calf"], int(rest_s * sf))
    rest = {"calf": ChannelRest(np.array([[0.0, rest_s]]), rest_s / 60)}
    rates = night_rates(events, rest, night, default_config())
    true_rate = len(onsets) / (rest_s / 60)
    assert len(kept) / (rest_s / 60) < 0.95 * true_rate  # the loss is there
    assert rates["fasciculations_per_min_rest"] == pytest.approx(true_rate, rel=0.02)
