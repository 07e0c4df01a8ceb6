"""A simulated fortnight with a rising rate: the report and the terminal show the rise and, at 14
days, the see-doctor level of the patient guidance's 2-week rule."""

from __future__ import annotations

import re

import pytest
from history_helpers import evening, make_summary, rising_fortnight
from report_nights import close_to, parse_report, run_cli

from calfwatch.history import open_store

SUBJECT = "wearer-7"


def _store(path, n_nights: int) -> list[float]:
    rates = rising_fortnight(n_nights)
    with open_store(path) as store:
        for day, rate in enumerate(rates):
            store.add_night(SUBJECT, "left", make_summary(evening(day), rate))
    return rates


def _report(tmp_path, n_nights: int):
    history = tmp_path / f"h{n_nights}.sqlite"
    rates = _store(history, n_nights)
    out = tmp_path / f"r{n_nights}.html"
    code, stdout, err = run_cli("report", "--subject", SUBJECT, "--history", history, "--out", out)
    assert code == 0, err
    html = out.read_text(encoding="utf-8")
    return rates, html, stdout, history


def _level(html: str) -> str:
    return re.search(r'id="assessment-level">\s*([a-z-]+)', html).group(1)


def test_fortnight_report_shows_the_rise_and_see_doctor(tmp_path):
    rates, html, stdout, _ = _report(tmp_path, 14)
    page = parse_report(html)
    head, *rows = page.tables["history-table"]
    assert len(rows) == 14 and head[4] == "Per min of rest"
    shown = [float(r[4]) for r in rows]
    assert all(close_to(r[4], rate, 2) for r, rate in zip(rows, rates, strict=True))
    assert shown == sorted(shown) and shown[-1] > shown[0]
    assert all(r[7] == "yes" for r in rows)
    assert "plot-history" in page.figures
    assert _level(html) == "see-doctor"
    checks = {r[0]: r for r in page.tables["checks"][1:]}
    assert checks["persistence"][1] == "see-doctor" and checks["persistence"][3] == "14"
    assert checks["rate_trend"][1] == "monitor"
    trends = {(r[0], r[1]): r for r in page.tables["trends"][1:]}
    assert trends[("left", "rate_per_min_rest")][5] == "rising"
    persistence = dict(page.tables["persistence"])
    assert persistence["Longest run of twitching days"] == "14"
    # the nights persistence counts are named by the rest they need, not called "evaluable"
    assert persistence["Nights (with at least 60 minutes of rest, twitching)"] == "14 (14, 14)"
    assert "see-doctor" in stdout and "lasting 14 days or more" in stdout


def test_thirteen_nights_are_not_yet_see_doctor(tmp_path):
    _, html, stdout, _ = _report(tmp_path, 13)
    assert _level(html) == "monitor"  # the rise alone is worth monitoring
    checks = {r[0]: r for r in parse_report(html).tables["checks"][1:]}
    assert checks["persistence"][1] == "not fired" and checks["persistence"][3] == "13"
    assert "see-doctor" not in stdout


@pytest.mark.parametrize("n_nights", [13, 14])
def test_terminal_history_agrees_with_the_report(tmp_path, n_nights):
    rates, html, _, history = _report(tmp_path, n_nights)
    code, text, err = run_cli("history", "--subject", SUBJECT, "--history", history)
    assert code == 0, err
    assert f"assessment: {_level(html).upper()}" in text
    rows = [line.split() for line in text.splitlines() if re.match(r"\d{4}-\d\d-\d\d\s", line)]
    assert [float(r[4]) for r in rows] == pytest.approx(rates, abs=0.005)
    report_rates = [float(r[4]) for r in parse_report(html).tables["history-table"][1:]]
    assert report_rates == pytest.approx([float(r[4]) for r in rows], abs=0.005)
    rate_trend = next(line for line in text.splitlines() if " rate " in line and "n=" in line)
    assert rate_trend.rstrip().endswith("rising")


def test_report_of_a_folder_brings_the_history_of_its_subject(tmp_path):
    from report_nights import analyze, simulate_edf

    history = tmp_path / "h.sqlite"
    rates = _store(history, 3)
    recording = simulate_edf(tmp_path / "night.edf", duration_s=120.0, seed=4,
                             meas_date="2026-03-04T22:30:00+00:00")
    analyze(recording, tmp_path / "out", "--subject", SUBJECT, "--side", "left",
            "--history", history)
    code, stdout, err = run_cli("report", tmp_path / "out", "--history", history, "--quiet")
    assert code == 4, err  # two minutes of rest: tonight is not evaluable
    rows = parse_report((tmp_path / "out" / "report.html").read_text(encoding="utf-8")).tables[
        "history-table"][1:]
    assert [r[0] for r in rows] == ["2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04"]
    assert all(close_to(r[4], rate, 2) for r, rate in zip(rows, rates, strict=False))
    assert rows[-1][7] == "not evaluable"  # two minutes are far from an hour of rest


def _report_of_night(tmp_path, summary: dict, history) -> tuple[str, str]:
    """``calfwatch report`` of a folder holding ``summary`` (as summary.json), with the subject's
    history: (the page, what it printed)."""
    import json

    folder = tmp_path / "night"
    folder.mkdir()
    (folder / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    out = tmp_path / "r.html"
    code, stdout, err = run_cli("report", folder, "--subject", SUBJECT, "--history", history,
                                "--out", out)
    assert code == 0, err
    return out.read_text(encoding="utf-8"), stdout


def test_a_nights_report_leaves_out_the_nights_after_it(tmp_path):
    """The report of the 5th night of a fortnight judges it with the 5 nights up to it: the 2-week
    rule that fires at the 14th does not reach back to it, and its history table ends with it."""
    history = tmp_path / "h.sqlite"
    rates = _store(history, 14)
    html, _ = _report_of_night(tmp_path, make_summary(evening(4), rates[4]), history)
    assert _level(html) != "see-doctor"
    page = parse_report(html)
    assert len(page.tables["history-table"]) - 1 == 5
    checks = {r[0]: r for r in page.tables["checks"][1:]}
    assert checks["persistence"][1] == "not fired" and checks["persistence"][3] == "5"


def test_a_report_judges_the_night_with_the_thresholds_it_was_analysed_with(tmp_path):
    """Nights of 30 minutes of rest count for persistence only under the night's own setting
    (min_rest 5 minutes, stored in its summary.json), not the defaults in force at report time."""
    from classifier.config import config_with

    history = tmp_path / "h.sqlite"
    with open_store(history) as store:
        for day, rate in enumerate(rising_fortnight(13)):
            store.add_night(SUBJECT, "left", make_summary(evening(day), rate, rest_minutes=30.0))
    thresholds = config_with({"persistence": {"min_rest": {"value": 5}}}).to_dict()
    night = {**make_summary(evening(13), 9.0, rest_minutes=30.0), "thresholds": thresholds}
    html, _ = _report_of_night(tmp_path, night, history)
    assert _level(html) == "see-doctor"
    persistence = dict(parse_report(html).tables["persistence"])
    assert persistence["Nights (with at least 5 minutes of rest, twitching)"] == "14 (14, 14)"


def test_a_night_too_short_to_judge_says_so_under_a_rule_of_earlier_nights(tmp_path):
    """Three minutes of rest after a twitching fortnight: the 2-week rule sets see-doctor, and the
    night's own numbers are still not judged: the box says why and the wearer is told so."""
    history = tmp_path / "h.sqlite"
    _store(history, 14)
    html, stdout = _report_of_night(tmp_path, make_summary(evening(14), 2.0, rest_minutes=3.0),
                                    history)
    assert _level(html) == "see-doctor"
    assert 'class="not-evaluable"' in html
    assert stdout.startswith("NOT EVALUABLE: too little time at rest")
