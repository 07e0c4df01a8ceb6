"""The assessment: multi-night scenarios, every rule on both sides of its threshold, user overrides."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from history_helpers import DAY0, evening, make_summary, points, rising_fortnight

from classifier.assessment import (
    BENIGN,
    MONITOR,
    NOT_EVALUABLE,
    RED_FLAG_SYMPTOMS,
    SEE_DOCTOR,
    assess,
    normalise_symptom,
)
from classifier.config import load_config
from classifier.persistence import NightPoint

FLAT = [3.0, 3.6, 2.5, 3.3, 2.8, 3.5, 2.6, 3.2, 3.0, 3.4, 2.7, 3.1, 2.9, 3.3, 2.8, 3.2]
QUIET = [0.3, 0.5, 0.2, 0.4, 0.3, 0.6, 0.2]


def _fired(result) -> set[str]:
    return {r.rule for r in result.reasons}


def _every_other_day(n: int) -> list[int]:
    return list(range(0, n, 2))


SCENARIOS = [
    # name, rates, days, symptoms, amplitudes, polyphasic, level, fired rules
    ("quiet week", QUIET, None, [], None, None, BENIGN, set()),
    ("13 days of steady twitching", FLAT[:13], None, [], None, None, BENIGN, set()),
    ("14 days of steady twitching", FLAT[:14], None, [], None, None, SEE_DOCTOR, {"persistence"}),
    ("rising fortnight, night 13", rising_fortnight(13), None, [], None, None, MONITOR,
     {"rate_trend"}),
    ("rising fortnight, night 14", rising_fortnight(14), None, [], None, None, SEE_DOCTOR,
     {"persistence", "rate_trend"}),
    ("every other day over 15 days", [3.0] * 8, _every_other_day(15), [], None, None, SEE_DOCTOR,
     {"persistence"}),
    ("twice a week over three weeks", [3.0] * 6, [0, 4, 8, 12, 16, 20], [], None, None, BENIGN,
     set()),
    ("three quiet nights and weakness", QUIET[:3], None, ["weakness"], None, None, SEE_DOCTOR,
     {"red_flag"}),
    ("slurred speech and swallowing", QUIET[:3], None, ["slurred-speech", "difficulty swallowing"],
     None, None, SEE_DOCTOR, {"red_flag"}),
    ("one busy night", [12.0], None, [], None, None, MONITOR, {"rate_high"}),
    ("polyphasic night", [3.0], None, [], None, [0.3], MONITOR, {"polyphasic_high"}),
    ("growing amplitude", FLAT[:9], None, [], [80, 86, 84, 92, 90, 99, 95, 104, 101], None,
     MONITOR, {"amplitude_trend"}),
    ("growing polyphasic fraction", FLAT[:9], None, [], None,
     [0.05, 0.08, 0.07, 0.11, 0.10, 0.14, 0.12, 0.17, 0.15], MONITOR, {"polyphasic_trend"}),
    ("rising and seizures", rising_fortnight(7), None, ["seizures"], None, None, SEE_DOCTOR,
     {"rate_trend", "red_flag"}),
]


@pytest.mark.parametrize("name, rates, days, symptoms, amps, poly, level, rules", SCENARIOS,
                         ids=[s[0] for s in SCENARIOS])
def test_scenarios_give_the_expected_level_and_reasons(name, rates, days, symptoms, amps, poly,
                                                       level, rules):
    result = assess(points(rates, days=days, amplitudes=amps, polyphasic=poly), symptoms)
    assert result.level == level
    assert _fired(result) == rules


def test_each_red_flag_symptom_is_its_own_see_doctor_reason():
    result = assess(points(QUIET[:2]), list(RED_FLAG_SYMPTOMS))
    flags = [r for r in result.reasons if r.rule == "red_flag"]
    assert sorted(r.observed for r in flags) == sorted(RED_FLAG_SYMPTOMS)
    assert all(r.level == SEE_DOCTOR and r.source for r in flags)


def test_no_nights_and_no_symptoms_is_not_evaluable_never_benign():
    result = assess([], [])
    assert result.level == NOT_EVALUABLE
    assert [r.rule for r in result.reasons] == ["evaluable_rest"]
    assert {r.rule for r in result.checks} == {"persistence", "red_flag", "evaluable_rest"}


@pytest.mark.parametrize("rate, rest_minutes, comparison", [
    (9.0, 360.0, "below"), (10.1, 360.0, "inconclusive"), (11.0, 360.0, "above"),
    (12.0, 6.0, "inconclusive"), (20.0, 6.0, "above"), (8.0, 6.0, "inconclusive"),
    (6.0, 6.0, "below"),
])
def test_rate_high_compares_the_interval_with_its_threshold(rate, rest_minutes, comparison):
    result = assess(points([rate], rest_minutes=rest_minutes), [])
    check = next(r for r in result.checks if r.rule == "rate_high")
    assert check.comparison == comparison and check.fired is (comparison == "above")
    assert check.observed == pytest.approx(rate, abs=0.01)
    threshold = load_config().assessment.rate_high.value
    assert check.threshold == threshold
    low, high = check.interval
    assert low < rate < high
    assert (low > threshold, high < threshold) == (comparison == "above", comparison == "below")
    assert comparison in check.text and f"{low:.1f}-{high:.1f}" in check.text


def test_rate_high_needs_an_evaluable_night():
    minimum = load_config().assessment.evaluable_rest.value
    short = assess([NightPoint(DAY0, 30.0, 90, minimum * 0.6)], [])
    assert "rate_high" not in {r.rule for r in short.checks}
    assert short.level == NOT_EVALUABLE and _fired(short) == {"evaluable_rest"}
    enough = assess([NightPoint(DAY0, 30.0, 900, 30.0)], [])
    assert "rate_high" in _fired(enough) and enough.level == MONITOR


def _doc(rest_minutes=360.0, quality=None, channels=("calf",)):
    summary = make_summary(evening(0), 3.0, rest_minutes=rest_minutes)
    summary["channels"] = {name: summary["channels"]["calf"] for name in channels}
    summary["quality"] = quality if quality is not None else {
        name: {"usable_fraction": 0.99, "noise_rms_uv": 4.0} for name in channels}
    return summary


@pytest.mark.parametrize("quality, rule", [
    ({"calf": {"usable_fraction": 0.3, "noise_rms_uv": 4.0}}, "evaluable_quality"),
    ({"calf": {"usable_fraction": 0.99, "noise_rms_uv": 125.0}}, "evaluable_noise"),
    ({"calf": {"usable_fraction": None, "noise_rms_uv": None}}, "evaluable_quality"),
    ({}, "evaluable_channels"),
])
def test_a_night_below_a_signal_minimum_is_not_evaluable(quality, rule):
    result = assess([], [], tonight=_doc(quality=quality))
    assert result.level == NOT_EVALUABLE
    assert rule in _fired(result) and "evaluable_channels" in _fired(result)
    assert "rate_high" not in {r.rule for r in result.checks}
    for r in result.reasons:
        assert r.source and r.level == NOT_EVALUABLE and r.text


def test_one_usable_channel_of_two_is_enough():
    quality = {"a": {"usable_fraction": 0.95, "noise_rms_uv": 5.0},
               "b": {"usable_fraction": 0.0, "noise_rms_uv": None}}
    result = assess([], [], tonight=_doc(quality=quality, channels=("a", "b")))
    assert result.level == BENIGN and result.reasons == []
    check = next(r for r in result.checks if r.rule == "evaluable_channels")
    assert check.observed == 1


def test_a_red_flag_outranks_a_night_that_is_not_evaluable():
    result = assess([], ["seizures"], tonight=_doc(rest_minutes=0.1))
    assert result.level == SEE_DOCTOR
    assert {"red_flag", "evaluable_rest"} <= _fired(result)


@pytest.mark.parametrize("fraction, n_fasc, fires", [
    (0.22, 400, False), (0.23, 400, True), (0.5, 19, False), (0.5, 20, True),
])
def test_polyphasic_high_on_both_sides_of_fraction_and_count(fraction, n_fasc, fires):
    night = NightPoint(DAY0, n_fasc / 360.0, n_fasc, 360.0, 80.0, fraction, "left")
    assert ("polyphasic_high" in _fired(assess([night], []))) is fires


@pytest.mark.parametrize("quantity, series", [
    ("rate_per_min_rest", None), ("median_ptp_uv", "amplitudes"), ("polyphasic_fraction", "poly"),
])
def test_trend_rules_straddling_zero_do_not_fire_above_zero_do(quantity, series):
    rule = {"rate_per_min_rest": "rate_trend", "median_ptp_uv": "amplitude_trend",
            "polyphasic_fraction": "polyphasic_trend"}[quantity]
    noisy_flat = [0.9, 1.25, 0.85, 1.15, 0.95, 1.2, 0.9, 1.12, 1.05]  # slope > 0, interval not
    rising = [1.0, 1.3, 1.2, 1.6, 1.5, 1.95, 1.8, 2.2, 2.1]
    results = {}
    for label, shape in (("flat", noisy_flat), ("rising", rising)):
        kwargs = {"rates": [3.0 * v for v in shape]} if series is None else {"rates": FLAT[:9]}
        if series == "amplitudes":
            kwargs["amplitudes"] = [80.0 * v for v in shape]
        if series == "poly":
            kwargs["polyphasic"] = [0.1 * v for v in shape]
        result = assess(points(**kwargs), [])
        check = next(r for r in result.checks if r.rule == rule)
        results[label] = check
        slopes = [tr.slope_per_day for tr in result.trends if tr.quantity == quantity]
        assert slopes[0] > 0
    assert not results["flat"].fired and results["flat"].observed <= 0
    assert results["rising"].fired and results["rising"].observed > 0


def test_trend_rule_needs_min_nights():
    assert "rate_trend" not in _fired(assess(points(rising_fortnight(4)), []))
    assert "rate_trend" in _fired(assess(points(rising_fortnight(5)), []))


def test_reasons_name_rule_value_threshold_unit_and_source():
    config = load_config()
    result = assess(points(rising_fortnight(14)), ["weakness"])
    for r in result.reasons:
        rule = getattr(config.assessment, r.rule)
        assert r.threshold == rule.value and r.unit == rule.unit
        assert r.source == rule.source and r.level == rule.level
        assert r.text
    persistence = next(r for r in result.reasons if r.rule == "persistence")
    assert persistence.observed == 14


def test_reasons_are_observations_not_diagnoses():
    result = assess(points(rising_fortnight(14), polyphasic=[0.3] * 14), list(RED_FLAG_SYMPTOMS))
    for r in result.checks:
        lowered = r.text.lower()
        for word in ("als", "diagnos", "disease", "suggests", "you have"):
            assert f" {word}" not in f" {lowered}", (word, r.text)
    rate = next(r for r in result.reasons if r.rule == "rate_trend")
    assert "has risen over the last 14 nights" in rate.text


def test_caveats_state_what_one_surface_channel_cannot_tell():
    text = " ".join(assess([], []).caveats)
    for needle in ("Farina 2008", "approximate", "tibialis anterior", "44-62 %", "de Carvalho"):
        assert needle in text
    assert "2 weeks" in assess([], []).red_flags_text


def _override(tmp_path, text: str) -> dict:
    path = tmp_path / "mine.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


def test_user_override_of_persistence_days_changes_the_outcome(tmp_path):
    nights = points(FLAT[:10])
    assert assess(nights, []).level == BENIGN
    config = _override(tmp_path, "[assessment.persistence]\nvalue = 10\n")
    result = assess(nights, [], config=config)
    assert result.level == SEE_DOCTOR and result.reasons[0].threshold == 10


def test_user_override_of_twitching_rate_and_rule_level(tmp_path):
    config = _override(tmp_path, "[persistence.twitching_rate]\nvalue = 5.0\n"
                                 "[assessment.rate_high]\nvalue = 3.5\nlevel = 'see-doctor'\n")
    result = assess(points(FLAT[:14]), [], config=config)  # every night below 5/min, last 3.3
    assert "persistence" not in _fired(result) and result.persistence.days_twitching == 0
    assert result.level == BENIGN
    result = assess(points([4.0]), [], config=config)
    assert result.level == SEE_DOCTOR and _fired(result) == {"rate_high"}


@pytest.mark.parametrize("text, key", [
    ("[assessment.rate_high]\nvalue = 'lots'\n", "rate_high"),
    ("[assessment.persistence]\nlevel = 'panic'\n", "persistence"),
])
def test_malformed_override_is_an_error_naming_the_rule(tmp_path, text, key):
    with pytest.raises(ValueError, match=key):
        assess(points([3.0]), [], config=_override(tmp_path, text))


def test_unknown_symptom_lists_the_valid_ones():
    with pytest.raises(ValueError, match="muscle-wasting"):
        assess([], ["headache"])
    assert normalise_symptom("Loss of consciousness") == "loss-of-consciousness"
    assert normalise_symptom("muscle_wasting") == "muscle-wasting"


def test_tonight_is_the_night_the_single_night_rules_look_at():
    history = points([12.0, 12.0, 3.0])
    assert "rate_high" not in _fired(assess(history, []))
    busy = NightPoint(DAY0 + timedelta(days=3), 15.0, 5400, 360.0, 80.0, 0.1, "left", "x")
    result = assess(history, [], tonight=busy)
    assert "rate_high" in _fired(result)
    assert result.persistence.nights == 4


def test_tonight_already_stored_is_not_counted_twice():
    history = points(FLAT[:13])
    result = assess(history, [], tonight=history[-1])
    assert result.persistence.nights == 13 and result.level == BENIGN


def test_nights_after_tonight_are_left_out():
    """A night re-analysed after later ones were stored is judged as of its own date: the
    fortnight that follows it does not make it see-doctor."""
    history = points(FLAT[:16])
    assert assess(history, []).level == SEE_DOCTOR
    result = assess(history, [], tonight=history[4])
    assert result.persistence.nights == 5 and result.level == BENIGN


def test_summary_documents_are_accepted_as_nights():
    summaries = [make_summary(evening(i, hour=0 if i % 3 == 0 else 23, minute=30), r)
                 for i, r in enumerate(FLAT[:14])]
    result = assess(summaries, [])
    assert result.persistence.days_twitching == 14
    assert result.level == SEE_DOCTOR


def test_assessment_serialises_to_json():
    result = assess(points(rising_fortnight(14)), ["weakness"])
    data = json.loads(json.dumps(result.to_dict()))
    assert data["level"] == SEE_DOCTOR
    assert {r["rule"] for r in data["reasons"]} == {"persistence", "rate_trend", "red_flag"}
    assert data["persistence"]["episodes"][0]["span_days"] == 14


def test_rate_high_judges_the_interval_the_summary_reports():
    """The rate is counted over the rest less the time inside counted potentials (blind); the
    rule must judge that rate's interval, not one over the whole rest, which sits lower and can
    call 'inconclusive' a night whose reported interval lies above the threshold."""
    from scipy.stats import chi2

    threshold = load_config().assessment.rate_high.value
    n, rest, blind = 330, 30.0, 3.0  # 12.2/min live; over all the rest the low end is under 10
    exact_low = chi2.ppf(0.025, 2 * n) / 2 / (rest - blind)  # Garwood's exact Poisson bound
    assert exact_low > threshold > chi2.ppf(0.025, 2 * n) / 2 / rest
    night = NightPoint(DAY0, n / (rest - blind), n, rest, blind_minutes=blind)
    check = next(r for r in assess([night], []).checks if r.rule == "rate_high")
    assert check.interval[0] == pytest.approx(exact_low, rel=1e-6)
    assert check.comparison == "above" and check.fired
    assert f"{n} in {rest:.1f} min less {blind:.2f} inside the potentials" in check.text


def test_rest_just_under_the_minimum_is_not_printed_as_the_minimum():
    minimum = load_config().assessment.evaluable_rest.value
    short = assess([NightPoint(DAY0, 3.0, 15, minimum - 0.036)], [])
    check = next(r for r in short.checks if r.rule == "evaluable_rest")
    assert check.fired and f"{minimum - 0.036:.2f} minutes of rest (below" in check.text
