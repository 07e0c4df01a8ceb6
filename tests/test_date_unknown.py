"""A recording that states no date is "date unknown", never the night of 1970-01-01."""

from __future__ import annotations

import json

import mne
import numpy as np
from report_nights import run_cli


def _undated_csv(path, seconds=30, sfreq=1000):
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * sfreq)) / sfreq
    x = rng.normal(0, 5, t.size)
    lines = ["time,calf_uV"] + [f"{a:.4f},{b:.3f}" for a, b in zip(t, x, strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_undated_recording_reports_date_unknown(tmp_path):
    csv = _undated_csv(tmp_path / "night.csv")
    code, out, err = run_cli("analyze", csv, "--out", tmp_path / "out")
    assert code in (0, 4), err  # 4: a short night is not evaluable (outputs written)
    outputs = "".join(p.read_text(errors="replace") for p in (tmp_path / "out").iterdir())
    assert "1970" not in outputs + out
    recording = json.loads((tmp_path / "out" / "summary.json").read_text())["recording"]
    assert recording["date_unknown"] is True and recording["start_utc"] is None
    assert mne.read_annotations(tmp_path / "out" / "annotations.txt").orig_time is None
    checks = json.loads((tmp_path / "out" / "summary.json").read_text())["assessment"]
    assert "date unknown" in json.dumps(checks)
    code, _, err = run_cli("report", tmp_path / "out", "--out", tmp_path / "r.html")
    assert code in (0, 4), err
    html = (tmp_path / "r.html").read_text()
    assert "date unknown" in html and "1970" not in html


def test_undated_recording_cannot_join_a_history(tmp_path):
    csv = _undated_csv(tmp_path / "night.csv")
    code, _, err = run_cli("analyze", csv, "--out", tmp_path / "out", "--subject", "me",
                           "--history", tmp_path / "h.sqlite")
    assert code == 1
    assert "night.csv" in err and "date unknown" in err and "Traceback" not in err


def test_a_csv_stamped_by_the_clock_is_dated_and_joins_a_history(tmp_path):
    """The same night stamped in Unix time (a logger's ``time.time()``) states its date: the
    summary starts then, and the night joins the wearer's history under that date."""
    import sqlite3

    rng = np.random.default_rng(0)
    start_s = 1796680800.0  # 2026-12-07 22:00:00 UTC
    x = rng.normal(0, 5, 30_000)
    lines = ["timestamp,calf_uV"] + [f"{start_s + i / 1000:.3f},{v:.3f}" for i, v in enumerate(x)]
    (tmp_path / "clock.csv").write_text("\n".join(lines) + "\n")
    code, _, err = run_cli("analyze", tmp_path / "clock.csv", "--out", tmp_path / "out",
                           "--subject", "me", "--history", tmp_path / "h.sqlite")
    assert code in (0, 4), err
    recording = json.loads((tmp_path / "out" / "summary.json").read_text())["recording"]
    assert recording["date_unknown"] is False
    assert recording["start_utc"] == "2026-12-07T22:00:00+00:00"
    with sqlite3.connect(tmp_path / "h.sqlite") as db:
        assert db.execute("select count(*) from nights").fetchone()[0] == 1


def test_an_edf_plus_that_states_no_date_is_not_dated_1985(tmp_path):
    """EDF+ writes ``Startdate X`` for an unknown date, with 01.01.85 in the start date field as a
    placeholder (edfio does, without a start date): read by either path (MNE's, and record by
    record), the night is "date unknown", never 1985, and cannot join a history."""
    import edfio

    from acquisition.reader import open_recording
    from acquisition.replay import ReplayStream

    x_mv = np.random.default_rng(1).normal(0, 5e-3, 1000 * 30)
    path = tmp_path / "nodate.edf"
    edfio.Edf([edfio.EdfSignal(x_mv, 1000, label="GM", physical_dimension="mV",
                               physical_range=(-3.2768, 3.2767))]).write(path)
    assert path.read_bytes()[88:99] == b"Startdate X"
    assert open_recording(path).info["meas_date"] is None
    assert ReplayStream(path).info.meas_date is None
    code, _, err = run_cli("analyze", path, "--out", tmp_path / "out")
    assert code in (0, 4), err
    recording = json.loads((tmp_path / "out" / "summary.json").read_text())["recording"]
    assert recording["date_unknown"] is True and recording["start_utc"] is None
    code, _, err = run_cli("analyze", path, "--out", tmp_path / "out2", "--subject", "me",
                           "--history", tmp_path / "h.sqlite")
    assert code == 1 and "date unknown" in err
