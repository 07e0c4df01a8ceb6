"""--anonymize: no name, birth date or free text from the recording header reaches any output."""

from __future__ import annotations

import json
import re

import mne
import pytest
from report_nights import analyze, run_cli, simulate_edf

from calfwatch.anonymize import ANONYMOUS, anonymize_summary
from calfwatch.cohort import read_cohort_csv

NAME = "Haagse_Harry"
PATIENT = f"MCH-0234567 M 02-MAY-1951 {NAME}"
FREE_TEXT = f"{NAME} complained of cramps"
#: Every piece of the header that must not reach an anonymised output.
PERSONAL = (b"haagse", b"harry", b"1951", b"mch-0234567", b"02-may", b"complained")


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    """An EDF+ named after its wearer, with his name and birth date in the patient field."""
    path = tmp_path_factory.mktemp("anon") / f"{NAME}.edf"
    simulate_edf(path, duration_s=120.0, seed=2, patient_id=PATIENT, recording_id=FREE_TEXT)
    info = mne.io.read_raw_edf(path, verbose="error").info
    assert "Harry" in info["subject_info"]["last_name"]  # the header really holds him
    assert info["subject_info"]["birthday"].year == 1951
    return path


def _leaks(paths) -> dict[str, list[bytes]]:
    found = {}
    for path in paths:
        data = path.read_bytes().lower()
        hits = [p for p in PERSONAL if p in data]
        if hits:
            found[path.name] = hits
    return found


def test_without_anonymize_recording_text_reaches_the_outputs(recording, tmp_path):
    """The control: the search below does see recording-derived text when it is there."""
    analyze(recording, tmp_path / "out", "--subject", "s1", "--history", tmp_path / "h.sqlite")
    leaks = _leaks([tmp_path / "out" / "summary.json", tmp_path / "h.sqlite"])
    assert set(leaks) == {"summary.json", "h.sqlite"}


def test_no_personal_text_in_any_output(recording, tmp_path):
    history = tmp_path / "history.sqlite"
    out = tmp_path / "out"
    plain = analyze(recording, tmp_path / "plain")
    anon = analyze(recording, out, "--anonymize", "--subject", "s1", "--history", history)
    code, stdout, err = run_cli("report", out, "--subject", "s1", "--history", history,
                                "--anonymize", "--out", tmp_path / "report.html")
    assert code in (0, 4), err  # 4: a short night is not evaluable
    outputs = sorted(out.iterdir()) + [history, tmp_path / "report.html"]
    assert {p.name for p in out.iterdir()} >= {"summary.json", "events.tsv", "annotations.txt"}
    assert _leaks(outputs) == {}
    assert not any(p in stdout.lower().encode() for p in PERSONAL)
    assert anon["recording"]["subject"] == "s1" and anon["recording"]["file"] == "anonymised"
    # the measurements are untouched
    for key in ("fasciculations", "rest_minutes", "fasciculations_per_min_rest", "counts",
                "channels", "morphology", "quality"):
        assert anon[key] == plain[key]
    assert anon["recording"]["start_utc"] == plain["recording"]["start_utc"]


def test_report_anonymizes_a_plain_analysis(recording, tmp_path):
    analyze(recording, tmp_path / "out")
    code, _, err = run_cli("report", tmp_path / "out", "--anonymize", "--out", tmp_path / "r.html")
    assert code in (0, 4), err  # 4: a short night is not evaluable
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert _leaks([tmp_path / "r.html"]) == {}
    assert re.search(rf"<th>Subject</th><td>{ANONYMOUS}</td>", html)
    code, _, _ = run_cli("report", tmp_path / "out", "--out", tmp_path / "named.html")
    assert _leaks([tmp_path / "named.html"])  # the control: without the flag the name is shown


def test_anonymize_summary_keeps_only_allowed_recording_facts():
    summary = {
        "fasciculations": 12,
        "recording": {
            "start_utc": "2026-01-05T22:00:00+00:00", "duration_s": 60.0, "sfreq_hz": 2000.0,
            "ch_names": ["calf"], "subject": "Jan Jansen", "file": "jan_jansen.edf",
            "subject_info": {"first_name": "Jan", "birthday": "1951-05-02"},
            "device": {"kind": "serial", "name": "Jan's sensor", "port": "/dev/ttyUSB0",
                       "uv_per_count": 0.02},
            "recording_field": "Startdate 05-JAN-2026 X X free text about Jan",
        },
        "extra": {"patient": "Jan", "nested": [{"birthday": "1951"}], "kept": 1},
    }
    doc = anonymize_summary(summary, subject="")
    assert "jan" not in json.dumps(doc).lower() and "1951" not in json.dumps(doc)
    assert doc["recording"] == {
        "start_utc": "2026-01-05T22:00:00+00:00", "duration_s": 60.0, "sfreq_hz": 2000.0,
        "ch_names": ["calf"], "device": {"kind": "serial", "uv_per_count": 0.02},
        "subject": ANONYMOUS, "file": "anonymised"}
    assert doc["extra"] == {"nested": [{}], "kept": 1}
    assert doc["fasciculations"] == 12
    assert summary["recording"]["subject"] == "Jan Jansen"  # the input is not changed


def test_batch_outputs_cohort_and_history_carry_no_personal_text(recording, tmp_path):
    """A batch (two copies and a broken one, all named after the wearer): folders and rows are
    numbered, and no output, not even an error cell, names him."""
    folder = tmp_path / NAME
    folder.mkdir()
    data = recording.read_bytes()
    (folder / f"{NAME}.edf").write_bytes(data)
    (folder / f"{NAME}_2.edf").write_bytes(data)
    (folder / f"{NAME}_broken.edf").write_bytes(data[:700])
    out, history = tmp_path / "out", tmp_path / "history.sqlite"
    code, stdout, err = run_cli("analyze", folder, "--out", out, "--anonymize", "--subject", "s1",
                                "--history", history, "--quiet")
    assert code == 1 and f"{NAME}_broken.edf" in err  # the terminal still names the bad file
    written = [p for p in out.rglob("*") if p.is_file()] + [history]
    assert {p.name for p in written} >= {"cohort.csv", "summary.json", "events.tsv"}
    assert not any(p in str(w.relative_to(tmp_path)).lower().encode()
                   for w in written for p in PERSONAL)
    assert _leaks(written) == {}
    rows = read_cohort_csv(out / "cohort.csv")
    assert [(r["recording"], r["output"]) for r in rows] == [
        ("recording-0001", "recording-0001"), ("recording-0002", "recording-0002"),
        ("recording-0003", "")]
    assert rows[2]["error"].startswith("recording-0003: ")  # the error, the name replaced
