"""Persistence over nights (twitching nights, episodes, runs) and Theil-Sen trends."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from itertools import combinations
from statistics import median

import pytest
from history_helpers import DAY0, TZ, points
from hypothesis import given, settings
from hypothesis import strategies as st

from classifier.config import config_with, load_config
from classifier.persistence import (
    NightPoint,
    PersistenceSettings,
    is_twitching,
    night_date,
    persistence,
    settings_from_config,
    trend,
    trends_by_side,
)

DEFAULTS = PersistenceSettings()


@pytest.mark.parametrize("start, expected", [
    ("2026-03-01T23:00:00+01:00", date(2026, 3, 1)),
    ("2026-03-02T00:30:00+01:00", date(2026, 3, 1)),
    ("2026-03-02T11:59:00+01:00", date(2026, 3, 1)),
    ("2026-03-02T12:00:00+01:00", date(2026, 3, 2)),
    ("2026-03-01T21:00:00", date(2026, 3, 1)),
    ("2026-03-01T22:00:00Z", date(2026, 3, 1)),
])
def test_night_date_after_midnight_belongs_to_the_evening_before(start, expected):
    assert night_date(start) == expected


def test_night_date_cutoff_is_configurable_and_bad_text_is_an_error():
    start = datetime(2026, 3, 2, 5, 0, tzinfo=TZ)
    assert night_date(start, cutoff_hour=4) == date(2026, 3, 2)
    assert night_date(start, cutoff_hour=6) == date(2026, 3, 1)
    with pytest.raises(ValueError, match="ISO 8601"):
        night_date("last tuesday")


def test_defaults_come_from_the_packaged_thresholds():
    config = load_config()
    s = settings_from_config(config)
    assert s.twitching_rate_per_min == config.persistence.twitching_rate.value
    assert s.min_rest_minutes == config.persistence.min_rest.value
    for key in ("twitching_rate", "min_rest", "max_gap", "trend_min_nights", "trend_window",
                "trend_confidence", "night_date_cutoff_hour"):
        assert getattr(config.persistence, key).source, key


def test_bad_persistence_value_names_the_key():
    with pytest.raises(ValueError, match="max_gap"):
        config_with({"persistence": {"max_gap": {"value": "two"}}})


@pytest.mark.parametrize("rate, rest, twitching", [
    (0.99, 360.0, False), (1.0, 360.0, True), (5.0, 59.0, False), (5.0, 60.0, True),
    (None, 0.0, False),
])
def test_twitching_night_on_both_sides_of_rate_and_rest_thresholds(rate, rest, twitching):
    point = NightPoint(DAY0, rate, 0, rest)
    assert is_twitching(point, DEFAULTS) is twitching


def test_two_sides_on_one_date_count_as_one_day_two_nights():
    nights = points([3.0, 3.0], side="left") + points([3.0, 0.2], side="right")
    p = persistence(nights, DEFAULTS)
    assert (p.nights, p.nights_twitching, p.days_recorded, p.days_twitching) == (4, 3, 2, 2)


def test_fortnight_of_daily_twitching_is_a_14_day_episode_and_13_days_since_first():
    p = persistence(points([3.0] * 14), DEFAULTS)
    assert p.longest_episode.span_days == 14
    assert p.longest_run_days == 14
    assert p.days_since_first == 13
    assert p.first_twitching == DAY0 and p.last_twitching == DAY0 + timedelta(days=13)


def test_quiet_and_unevaluable_nights_do_not_count():
    nights = points([0.5, 3.0, 3.0, 0.2], days=[0, 1, 2, 3])
    nights.append(NightPoint(DAY0 + timedelta(days=4), 9.0, 90, 30.0))  # too little rest
    p = persistence(nights, DEFAULTS)
    assert (p.nights, p.nights_evaluable, p.nights_twitching) == (5, 4, 2)
    assert p.days_since_first == 3  # from day 1 to the latest night (day 4)


@pytest.mark.parametrize("missing_days, n_episodes, longest_span", [
    (2, 1, 7 + 2 + 7),  # two days without twitching inside: one episode
    (3, 2, 7),          # three days: the episode ends
])
def test_gap_tolerance_on_both_sides_of_max_gap(missing_days, n_episodes, longest_span):
    days = list(range(7)) + [7 + missing_days + i for i in range(7)]
    p = persistence(points([3.0] * 14, days=days), DEFAULTS)
    assert len(p.episodes) == n_episodes
    assert p.longest_episode.span_days == longest_span
    assert p.longest_run_days == 7


@settings(max_examples=60, deadline=None)
@given(st.sets(st.integers(0, 60), max_size=30), st.integers(0, 4))
def test_episodes_and_runs_match_their_definitions(day_set, max_gap):
    s = PersistenceSettings(max_gap_days=max_gap)
    days = sorted(day_set)
    p = persistence(points([2.0] * len(days), days=days), s)
    covered = [d for e in p.episodes for d in range((e.first - DAY0).days, (e.last - DAY0).days + 1)
               if d in day_set]
    assert covered == days  # every twitching day in exactly one episode, in order
    assert sum(e.twitching_days for e in p.episodes) == len(days)
    for a, b in zip(p.episodes, p.episodes[1:], strict=False):
        assert (b.first - a.last).days > max_gap + 1
    for e in p.episodes:
        inside = [d for d in days if e.first <= DAY0 + timedelta(days=d) <= e.last]
        assert all(y - x <= max_gap + 1 for x, y in zip(inside, inside[1:], strict=False))
    brute_run = max((n for n in range(1, 62) for start in days
                     if all(start + k in day_set for k in range(n))), default=0)
    assert p.longest_run_days == brute_run


def _brute_slope(xs, ys):
    return median((ys[j] - ys[i]) / (xs[j] - xs[i])
                  for i, j in combinations(range(len(xs)), 2) if xs[j] != xs[i])


def test_rising_trend_slope_is_the_median_of_pairwise_slopes():
    rates = [2.0, 2.9, 2.6, 3.8, 3.5, 4.9, 4.4, 5.6, 5.3]
    tr = trend(points(rates), "rate_per_min_rest", DEFAULTS)
    assert tr.slope_per_day == pytest.approx(_brute_slope(list(range(9)), rates))
    assert tr.direction == "rising" and tr.low > 0 and tr.n_nights == 9
    assert tr.low <= tr.slope_per_day <= tr.high


@pytest.mark.parametrize("rates, direction", [
    ([3.0, 3.6, 2.5, 3.3, 2.8, 3.5, 2.6, 3.2, 3.0], "flat"),
    ([6.0, 5.1, 5.4, 4.2, 4.5, 3.1, 3.6, 2.4, 2.7], "falling"),
    ([2.0, 2.9, 2.6, 3.8, 3.5, 4.9, 4.4, 5.6, 5.3], "rising"),
])
def test_trend_direction_follows_the_interval(rates, direction):
    tr = trend(points(rates), "rate_per_min_rest", DEFAULTS)
    assert tr.direction == direction
    if direction == "flat":
        assert tr.low <= 0 <= tr.high


@pytest.mark.parametrize("n, direction", [(4, "too-few-nights"), (5, "rising")])
def test_trend_needs_min_nights(n, direction):
    tr = trend(points([2.0 + i for i in range(n)]), "rate_per_min_rest", DEFAULTS)
    assert tr.direction == direction and tr.n_nights == n


def test_trend_uses_the_window_and_skips_missing_values():
    rates = [9.0] * 5 + [2.0 + 0.5 * i for i in range(6)]
    days = [0, 1, 2, 3, 4] + [40 + i for i in range(6)]  # old nights outside the 28-day window
    amps = [None] * 5 + [80.0 + i for i in range(6)]
    nights = points(rates, days=days, amplitudes=amps)
    assert trend(nights, "rate_per_min_rest", DEFAULTS).n_nights == 6
    assert trend(nights, "rate_per_min_rest", DEFAULTS).direction == "rising"
    assert trend(nights, "median_ptp_uv", DEFAULTS).n_nights == 6


def test_trends_never_mix_sides():
    left = points([2.0 + 0.5 * i for i in range(7)], side="left")
    right = points([3.0, 3.4, 2.7, 3.2, 2.9, 3.3, 3.0], side="right")
    by_side = {(t.side, t.quantity): t.direction for t in trends_by_side(left + right, DEFAULTS)}
    assert by_side[("left", "rate_per_min_rest")] == "rising"
    assert by_side[("right", "rate_per_min_rest")] == "flat"


def test_unknown_trend_quantity_is_an_error():
    with pytest.raises(ValueError, match="unknown trend quantity"):
        trend(points([1.0]), "colour")


def test_point_from_summary_reads_the_documented_keys():
    from history_helpers import evening, make_summary

    summary = make_summary(evening(3, hour=1), 2.5, rest_minutes=300.0, median_ptp_uv=95.0,
                           polyphasic_fraction=0.2)
    p = NightPoint.from_summary(summary, side="right")
    assert p.night_date == DAY0 + timedelta(days=3)
    assert (p.rate_per_min_rest, p.fasciculations, p.rest_minutes) == (2.5, 750, 300.0)
    assert (p.median_ptp_uv, p.polyphasic_fraction, p.side) == (95.0, 0.2, "right")
