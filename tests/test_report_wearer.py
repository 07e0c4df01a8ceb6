"""The wearer's morning summary: counts, rate, the comparison with earlier nights, the assessment in
words and the red flags, from night-summary documents and stored nights."""

from __future__ import annotations

import pytest
from history_helpers import evening, make_summary

from calfwatch.history import open_store
from calfwatch.summary_text import wearer_summary
from classifier.assessment import RED_FLAGS_TEXT, assess


def _night(day: int, rate: float, **kw) -> dict:
    summary = make_summary(evening(day), rate, **kw)
    summary["assessment"] = assess([], tonight=summary).to_dict()
    return summary


def test_counts_rate_and_red_flags_in_plain_words():
    s = _night(0, 2.5, rest_minutes=300.0)
    text = wearer_summary(s)
    assert f"{s['fasciculations']} in 300.0 minutes of rest" in text
    assert "= 2.50 per minute of rest" in text
    assert "No earlier nights to compare with yet." in text
    assert "Assessment: benign" in text
    assert text.rstrip().endswith(RED_FLAGS_TEXT)


@pytest.mark.parametrize(("tonight", "word"), [
    (3.0, "higher than"), (2.1, "about the same as"), (1.5, "lower than")])
def test_comparison_with_the_earlier_nights(tmp_path, tonight, word):
    with open_store(tmp_path / "h.sqlite") as store:
        for day, rate in enumerate((1.5, 2.0, 2.5)):
            store.add_night("w", "left", make_summary(evening(day), rate))
        s = _night(3, tonight)
        store.add_night("w", "left", s)  # analyze stores tonight before printing
        nights = store.nights("w")
    text = wearer_summary(s, nights)
    assert f"That is {word} your earlier 3 night(s) (average 2.00 per minute of rest)." in text


def test_later_nights_are_not_earlier_nights():
    later = [make_summary(evening(day), 9.0) for day in (5, 6)]
    s = _night(4, 2.0)
    assert "No earlier nights to compare with yet." in wearer_summary(s, later)
    text = wearer_summary(s, [make_summary(evening(1), 1.0)] + later)
    assert "higher than your earlier 1 night(s) (average 1.00" in text


def test_night_without_rest_says_so():
    s = _night(2, 0.0, rest_minutes=0.0)
    text = wearer_summary(s, [make_summary(evening(0), 1.0)])
    assert "n/a per minute of rest" in text
    assert "no time at rest to compare with your earlier 1 night(s)" in text


def test_see_doctor_in_words_with_every_reason():
    nights = [make_summary(evening(day), 2.0 + 0.5 * day) for day in range(14)]
    result = assess(nights, ["weakness"], tonight=nights[-1]).to_dict()
    text = wearer_summary(nights[-1], nights, result)
    assert "Assessment: see-doctor" in text
    for reason in result["reasons"]:
        assert reason["text"] in text
    assert "muscle weakness" in text and "lasting 14 days or more" in text
