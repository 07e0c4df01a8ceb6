"""The wearer's summary: the numbers of summary.json in words, the comparison with earlier nights,
the assessment's reasons and the red flags."""

from __future__ import annotations

from calfwatch.summary_text import wearer_summary
from classifier.assessment import RED_FLAGS_TEXT, assess


def _summary(rate: float, start: str = "2026-03-10T22:00:00+00:00") -> dict:
    return {
        "fasciculations": int(rate * 300), "rest_minutes": 300.0,
        "fasciculations_per_min_rest": rate, "plm_index_per_h": 4.2,
        "channels": {"calf_left": {"fasciculations": int(rate * 300),
                                   "fasciculations_per_min_rest": rate}},
        "recording": {"start_utc": start, "start_local": start},
        "quality": {"calf_left": {"usable_fraction": 0.98, "noise_rms_uv": 4.0}},
    }


def test_numbers_and_red_flags():
    doc = _summary(2.0)
    doc["assessment"] = assess([], config=None, tonight=doc).to_dict()
    text = wearer_summary(doc)
    assert "600 in 300.0 minutes of rest = 2.00 per minute of rest" in text
    assert "No earlier nights" in text
    assert "4.2 per hour" in text
    assert "Assessment: benign" in text
    assert RED_FLAGS_TEXT in text


def test_comparison_with_earlier_nights_and_reasons():
    earlier = [_summary(1.0, f"2026-03-0{d}T22:00:00+00:00") for d in range(1, 4)]
    doc = _summary(12.0)
    doc["assessment"] = assess(earlier, tonight=doc).to_dict()
    text = wearer_summary(doc, earlier + [doc])  # tonight itself is not an earlier night
    assert "higher than your earlier 3 night(s) (average 1.00 per minute of rest)" in text
    assert "Assessment: monitor" in text
    for reason in doc["assessment"]["reasons"]:
        assert reason["text"] in text
    same = wearer_summary(_summary(1.1), earlier)
    assert "about the same as" in same


def test_rates_carry_their_interval_and_the_rule_says_where_it_lies():
    from classifier.rates import poisson_rate_interval

    doc = {**_summary(9.6), "fasciculations": 576, "rest_minutes": 60.0}  # 9.6 per minute
    doc["fasciculations_per_min_rest_ci95"] = list(poisson_rate_interval(576, 60.0))
    doc["assessment"] = assess([], tonight=doc).to_dict()
    text = wearer_summary(doc)
    low, high = doc["fasciculations_per_min_rest_ci95"]
    assert f"= 9.60 per minute of rest (95 % interval {low:.2f}-{high:.2f})" in text
    assert low < 10.0 < high
    assert "Against the 10 per minute reference (rate_high): inconclusive." in text
    assert "Assessment: benign" in text


def test_heartbeats_found_are_told_and_said_not_counted():
    doc = _summary(2.0)
    doc["assessment"] = assess([], config=None, tonight=doc).to_dict()
    assert "Heartbeats" not in wearer_summary(doc)
    doc["quality"]["calf_left"].update(ecg_beats=17250, ecg_rate_per_min=61.4)
    text = wearer_summary(doc)
    assert "Heartbeats reached the sensor on calf_left: 17250 beats, about 61 per minute" in text
    assert "not counted as twitches" in text


def test_lost_signal_is_said_in_words():
    """The wearer's summary said nothing of a sensor away for hours: only the rest time hinted."""
    doc = _summary(2.0)
    doc["assessment"] = assess([], tonight=doc).to_dict()
    assert "No signal" not in wearer_summary(doc)  # no gap, no line
    doc["recording"] |= {"duration_s": 8 * 3600.0, "gaps_s": [[100.0, 0.25], [10800.0, 14520.0]]}
    assert ("No signal for 4 h 02 min out of 8 h 00 min recorded (2 gaps, the longest "
            "4 h 02 min): twitches there could not be counted.") in wearer_summary(doc)
    doc["recording"] |= {"duration_s": 60.0, "gaps_s": [[20.0, 3.5]]}
    assert "No signal for 3.5 seconds out of 1 minute recorded: " in wearer_summary(doc)
    doc["recording"] |= {"duration_s": 3599.0, "gaps_s": [[20.0, 150.0]]}
    assert "No signal for 2 minutes out of 1 h 00 min recorded: " in wearer_summary(doc)
