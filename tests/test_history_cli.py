"""``calfwatch history`` and ``calfwatch symptoms`` through the real command line on a real SQLite file."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from history_helpers import evening, make_summary, rising_fortnight

from calfwatch.history import HistoryStore


def _run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k not in ("CALFWATCH_CONFIG", "CALFWATCH_HOME")}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "calfwatch", *args], capture_output=True,
                          text=True, timeout=120, env=full_env)


def _fortnight(path, n_nights: int, subject: str = "p1") -> None:
    with HistoryStore(path) as store:
        for i, rate in enumerate(rising_fortnight(n_nights)):
            hour = 0 if i % 4 == 0 else 22  # some nights start after midnight
            store.add_night(subject, "left", make_summary(evening(i, hour=hour), rate))


@pytest.mark.parametrize("n_nights, level", [(13, "MONITOR"), (14, "SEE-DOCTOR")])
def test_simulated_fortnight_shows_the_rise_and_see_doctor_at_14_days(tmp_path, n_nights, level):
    path = tmp_path / "h.sqlite"
    _fortnight(path, n_nights)
    out = _run("history", "--subject", "p1", "--history", str(path))
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert f"assessment: {level}" in text
    assert ("calf twitching lasting 14 days or more" in text) is (n_nights == 14)
    rate_line = next(line for line in text.splitlines() if " rate " in line and "n=" in line)
    assert rate_line.rstrip().endswith("rising") and f"n={n_nights}" in rate_line
    assert f"has risen over the last {n_nights} nights" in text
    assert f"longest run {n_nights} days" in text
    for i, rate in enumerate(rising_fortnight(n_nights)):  # one table row per night, in order
        assert f"{rate:.2f}" in text.splitlines()[2 + i]
    assert "Farina 2008" in text and "does not diagnose" in text


def test_json_output_carries_nights_and_assessment(tmp_path):
    path = tmp_path / "h.sqlite"
    _fortnight(path, 14)
    out = _run("history", "--history", str(path), "--json")
    assert out.returncode == 0, out.stderr
    (data,) = json.loads(out.stdout)
    assert data["subject"] == "p1" and len(data["nights"]) == 14
    assert data["assessment"]["level"] == "see-doctor"
    assert [n["rate_per_min_rest"] for n in data["nights"]] == rising_fortnight(14)


def test_side_filter_and_every_subject(tmp_path):
    path = tmp_path / "h.sqlite"
    _fortnight(path, 6)
    with HistoryStore(path) as store:
        store.add_night("p1", "right", make_summary(evening(0), 0.5))
        store.add_night("p2", "left", make_summary(evening(0), 0.5))
    right = _run("history", "--subject", "p1", "--side", "right", "--history", str(path))
    assert right.returncode == 0 and "p1, right side: 1 night\n" in right.stdout
    every = _run("history", "--history", str(path))
    assert "subject p1: 7 nights" in every.stdout and "subject p2: 1 night\n" in every.stdout


@pytest.mark.parametrize("args", [("--subject", "nobody"), ()])
def test_unknown_subject_or_missing_file_is_one_line_exit_1(tmp_path, args):
    path = tmp_path / "h.sqlite"
    if args:
        _fortnight(path, 3)
    out = _run("history", *args, "--history", str(path))
    assert out.returncode == 1
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert out.stderr.startswith("calfwatch: error:") and str(path) in out.stderr
    if args:
        assert "nobody" in out.stderr and "p1" in out.stderr


def test_symptoms_feed_the_assessment_through_calfwatch_home(tmp_path):
    env = {"CALFWATCH_HOME": str(tmp_path / "home")}
    _fortnight(tmp_path / "home" / "history.sqlite", 3)
    out = _run("symptoms", "--subject", "p1", "--add", "weakness", "--add", "slurred speech",
               env=env)
    assert out.returncode == 0, out.stderr
    assert "muscle weakness" in out.stdout and "slurred speech" in out.stdout
    assert "see-doctor" in out.stdout
    hist = _run("history", "--subject", "p1", env=env)
    assert "assessment: SEE-DOCTOR" in hist.stdout and "red_flag" in hist.stdout
    cleared = _run("symptoms", "--subject", "p1", "--clear", env=env)
    assert "no red-flag symptoms recorded" in cleared.stdout
    hist = _run("history", "--subject", "p1", env=env)
    assert "assessment: BENIGN" in hist.stdout


def test_unknown_symptom_is_a_usage_error_listing_the_valid_ones(tmp_path):
    path = tmp_path / "h.sqlite"
    out = _run("symptoms", "--subject", "p1", "--add", "headache", "--history", str(path))
    assert out.returncode == 2
    assert "headache" in out.stderr and "difficulty-swallowing, seizures" in out.stderr
    assert not path.exists()  # nothing written


def test_listing_symptoms_does_not_create_the_file(tmp_path):
    path = tmp_path / "h.sqlite"
    out = _run("symptoms", "--subject", "p1", "--history", str(path))
    assert out.returncode == 0 and "no red-flag symptoms recorded" in out.stdout
    assert not path.exists()


def test_user_configuration_changes_the_level_in_the_terminal(tmp_path):
    path = tmp_path / "h.sqlite"
    _fortnight(path, 10)
    config = tmp_path / "mine.toml"
    config.write_text("[assessment.persistence]\nvalue = 10\n", encoding="utf-8")
    default = _run("history", "--history", str(path))
    custom = _run("history", "--history", str(path), env={"CALFWATCH_CONFIG": str(config)})
    assert "assessment: MONITOR" in default.stdout
    assert "assessment: SEE-DOCTOR" in custom.stdout and "threshold 10 days" in custom.stdout


def test_persistence_names_the_rest_its_nights_need(tmp_path):
    """A 30-minute night is judged on its own (5 minutes suffice) but is too short to count for
    persistence (an hour): the line says which nights it counts, not that the night is
    unevaluable."""
    path = tmp_path / "h.sqlite"
    with HistoryStore(path) as store:
        store.add_night("p1", "left", make_summary(evening(0), 2.0, rest_minutes=30.0))
        store.add_night("p1", "left", make_summary(evening(1), 2.0, rest_minutes=240.0))
    out = _run("history", "--subject", "p1", "--history", str(path))
    assert out.returncode == 0, out.stderr
    line = next(x for x in out.stdout.splitlines() if x.startswith("persistence"))
    assert "1 of 1 night with at least 60 minutes of rest" in line
    assert "evaluable" not in line
