"""Not evaluable, never benign by default: too little rest, no usable channel, too much noise, a
night emptied by link gaps, a summary without an assessment. Each gives the level
``not-evaluable`` with its reasons, a headline for the wearer, a badge in the report and exit 4."""

from __future__ import annotations

import json

import numpy as np
import pytest
from report_nights import run_cli
from test_cmd_analyze_errors import _edf

from acquisition.stream import SampleChunk
from calfwatch.cli import EXIT_NOT_EVALUABLE
from calfwatch.engine import NightEngine
from calfwatch.simulator import load_profile, simulate_night
from calfwatch.summary_text import wearer_summary
from classifier.config import load_config


@pytest.fixture(scope="module")
def quiet():
    return simulate_night(load_profile("benign-night", duration_s=420.0, n_channels=1), seed=5)


def _engine_summary(night, chunks) -> dict:
    engine = NightEngine(night.info, mains_hz=50.0)
    for chunk in chunks:
        engine.feed(chunk)
    return engine.finish().summary


def _fired(summary: dict) -> set[str]:
    return {r["rule"] for r in summary["assessment"]["reasons"]}


def test_the_quiet_night_itself_is_evaluable(quiet):
    summary = _engine_summary(quiet, [SampleChunk(0, quiet.data_uv())])
    minimum = load_config().assessment.evaluable_rest.value
    assert summary["rest_minutes"] > minimum
    assert summary["assessment"]["level"] != "not-evaluable"


def test_ten_seconds_of_rest_in_420_is_not_evaluable(quiet):
    data = quiet.data_uv().copy()
    sf = quiet.info.sfreq_hz
    rng = np.random.default_rng(0)
    t_s = np.arange(data.shape[1]) / sf
    # after the first 10 s, 1.5-s bursts of movement every 2.1 s (0.6 s between them)
    busy = (t_s >= 10.0) & ((t_s - 10.0) % 2.1 < 1.5)
    data[:, busy] += 40.0 * rng.standard_normal((data.shape[0], int(busy.sum())))
    summary = _engine_summary(quiet, [SampleChunk(0, data)])
    assert summary["rest_minutes"] * 60 <= 10.0
    assert summary["assessment"]["level"] == "not-evaluable"
    assert "evaluable_rest" in _fired(summary)
    text = wearer_summary(summary)
    assert text.startswith("NOT EVALUABLE: too little time at rest")
    assert "benign" not in text


def test_a_night_emptied_by_short_link_gaps_is_not_evaluable(quiet):
    data = quiet.data_uv()
    step, gap = 200, 8  # a 4-ms gap every 100 ms: 4 % of samples lost
    chunks = []
    for a in range(0, data.shape[1], step):
        chunks.append(SampleChunk(a, data[:, a:a + step - gap]))
        chunks.append(SampleChunk(a + step - gap, np.full((data.shape[0], gap), np.nan),
                                  gap=True, reason="link"))
    summary = _engine_summary(quiet, chunks)
    assert summary["assessment"]["level"] == "not-evaluable"
    assert "evaluable_rest" in _fired(summary)
    quality = next(iter(summary["quality"].values()))  # quality agrees: nearly nothing usable
    assert quality["usable_fraction"] < load_config().assessment.evaluable_quality.value
    assert quality["samples_lost_fraction"] == pytest.approx(0.04, abs=0.001)


def test_a_one_sample_recording_fails_clearly(tmp_path):
    path = _edf(tmp_path / "one.edf", np.full((1, 1), 3.0), 2000.0)
    code, out, err = run_cli("analyze", path, "--out", tmp_path / "out")
    assert code == 1 and "benign" not in out
    assert err.count("\n") == 1 and str(path) in err


def test_needle_recording_is_not_evaluable_with_exit_4(sample_data, tmp_path):
    path = sample_data / "physionet_emgdb" / "emg_neuropathy.hea"
    code, out, err = run_cli("analyze", path, "--out", tmp_path)
    assert code == EXIT_NOT_EVALUABLE, err
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["assessment"]["level"] == "not-evaluable"
    assert {"evaluable_rest", "evaluable_noise", "evaluable_channels"} <= _fired(summary)
    assert out.startswith(f"== {path}\nNOT EVALUABLE:")
    assert "1969" not in out and "date unknown" in out
    code, out, _ = run_cli("report", tmp_path, "--quiet")
    assert code == EXIT_NOT_EVALUABLE
    html = (tmp_path / "report.html").read_text()
    assert 'class="level level-not-evaluable"' in html


def test_report_refuses_a_summary_that_is_not_one(tmp_path):
    (tmp_path / "summary.json").write_text('{"hello": 1}')
    code, out, err = run_cli("report", tmp_path)
    assert code == 1 and out == ""
    assert "summary.json: not a calfwatch night summary" in err and err.count("\n") == 1


def test_report_of_a_summary_without_assessment_is_not_evaluable(tmp_path, quiet):
    summary = _engine_summary(quiet, [SampleChunk(0, quiet.data_uv())])
    summary["assessment"] = None
    (tmp_path / "summary.json").write_text(json.dumps(summary))
    code, out, _ = run_cli("report", tmp_path)
    assert code == EXIT_NOT_EVALUABLE
    assert out.startswith("NOT EVALUABLE: the summary carries no assessment")
    assert 'level-not-evaluable' in (tmp_path / "report.html").read_text()


def test_a_batch_of_nights_not_evaluable_exits_4(tmp_path):
    from report_nights import simulate_edf

    paths = [simulate_edf(tmp_path / f"n{i}.edf", duration_s=60.0, seed=i, profile="quiet")
             for i in (1, 2)]
    code, out, err = run_cli("analyze", *paths, "--out", tmp_path / "out")
    assert code == EXIT_NOT_EVALUABLE, err
    assert out.count("NOT EVALUABLE: too little time at rest") == 2
