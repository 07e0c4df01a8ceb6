"""The wearer's local time: hour labels across a daylight-saving change, the zone a recording's
sidecar states wherever it is analysed, and one night date for history, cohort and BIDS."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime

import pytest
from report_nights import analyze, parse_report, run_cli, simulate_edf

from acquisition.recorder import Recorder
from calfwatch.simulator import load_profile, simulate_night


@pytest.fixture
def set_zone(monkeypatch):
    """Set this process's time zone (``TZ``) for one test; the machine's comes back after."""

    def apply(name: str) -> None:
        monkeypatch.setenv("TZ", name)
        time.tzset()

    yield apply
    monkeypatch.undo()
    time.tzset()


def _facts(page) -> dict[str, str]:
    return {row[0]: row[1] for row in page.tables["recording"] if len(row) == 2}


def test_hour_labels_follow_the_zone_rules_across_a_daylight_saving_change(tmp_path, set_zone):
    """Berlin's clocks jumped from 02:00 to 03:00 at 01:00 UTC on 2026-03-29: a night starting
    00:57 UTC has its clock hours at 01:00 (+01:00) and 03:00 (+02:00), not 01:00 and 02:00
    (the start's offset applied to every hour)."""
    set_zone("Europe/Berlin")
    night = simulate_edf(tmp_path / "berlin.edf", duration_s=240.0, seed=31, profile="quiet",
                         meas_date="2026-03-29T00:57:00+00:00", sfreq_hz=1000.0)
    out = tmp_path / "out"
    summary = analyze(night, out)
    assert summary["recording"]["start_local"] == "2026-03-29T01:57:00+01:00"
    code, _, err = run_cli("report", out, "--quiet")
    assert code in (0, 4), err
    page = parse_report((out / "report.html").read_text(encoding="utf-8"))
    assert [row[1] for row in page.tables["hourly"][1:]] == ["01:00", "03:00"]
    assert summary["recording"]["timezone"] == "Europe/Berlin"
    assert _facts(page)["Time zone"] == "Europe/Berlin"


def _record(folder, start: str, zone: str, set_zone) -> tuple:
    """A short simulated night recorded by the real recorder (file and sidecar) in ``zone``."""
    set_zone(zone)
    sim = simulate_night(load_profile("quiet", duration_s=120.0, sfreq_hz=1000.0,
                                      meas_date=start), seed=7)
    with Recorder.create(folder, sim.info, subject="p6", side="left") as rec:
        for chunk in sim.chunks(10.0):
            rec.write_chunk(chunk)
        return rec.path, rec.sidecar_path


def test_a_night_recorded_in_tokyo_stays_in_tokyo_time_when_analysed_in_new_york(tmp_path,
                                                                                  set_zone):
    """start_local, the report's start and hours, and the history's night date are the
    wearer's (the sidecar's zone), not those of the machine that analyses the night."""
    path, sidecar = _record(tmp_path / "rec", "2026-01-06T13:30:00+00:00", "Asia/Tokyo",
                            set_zone)
    stated = json.loads(sidecar.read_text(encoding="utf-8"))
    assert stated["start_local"].endswith("+09:00") and stated.get("timezone") == "Asia/Tokyo"
    set_zone("America/New_York")  # 08:30 there, before noon: the night of 5 Jan in New York
    out, history = tmp_path / "out", tmp_path / "history.sqlite"
    summary = analyze(path, out, "--subject", "p6", "--history", history)
    assert summary["recording"]["start_local"] == "2026-01-06T22:30:00+09:00"
    assert summary["recording"].get("timezone") == "Asia/Tokyo"
    code, text, err = run_cli("history", "--subject", "p6", "--history", history, "--json")
    assert code == 0, err
    assert "2026-01-06" in text and "2026-01-05" not in text
    code, _, err = run_cli("report", out, "--quiet")
    assert code in (0, 4), err
    page = parse_report((out / "report.html").read_text(encoding="utf-8"))
    assert _facts(page)["Start (local time)"] == "2026-01-06 22:30:00 (UTC+09:00)"
    assert [row[1] for row in page.tables["hourly"][1:]] == ["22:00"]


def test_a_sidecar_with_an_offset_only_gives_that_offset_and_another_recordings_is_ignored(
        tmp_path, set_zone):
    """An older sidecar (no ``timezone``) keeps its fixed offset; a sidecar whose start is not
    the recording's is not its: the machine's zone is used then."""
    from calfwatch.local_time import local_start

    set_zone("America/New_York")
    start = datetime(2026, 1, 6, 13, 30, tzinfo=UTC)
    recording = tmp_path / "night.edf"
    recording.write_bytes(b"")
    sidecar = {"sidecar_version": 1, "start_utc": start.isoformat(),
               "start_local": "2026-01-06T22:30:00+09:00"}
    recording.with_suffix(".json").write_text(json.dumps(sidecar), encoding="utf-8")
    assert local_start(start, recording) == {"start_local": "2026-01-06T22:30:00+09:00",
                                             "timezone": None}
    sidecar["start_utc"] = "2026-01-07T13:30:00+00:00"
    recording.with_suffix(".json").write_text(json.dumps(sidecar), encoding="utf-8")
    assert local_start(start, recording) == {"start_local": "2026-01-06T08:30:00-05:00",
                                             "timezone": "America/New_York"}


@pytest.mark.parametrize(("tz", "name"), [(":Europe/Berlin", "Europe/Berlin"),
                                          ("/usr/share/zoneinfo/Asia/Tokyo", "Asia/Tokyo"),
                                          ("CET-1CEST,M3.5.0,M10.5.0/3", None),
                                          ("Nowhere/Atlantis", None)])
def test_the_recording_machine_names_its_zone_only_when_it_is_known(set_zone, tz, name):
    from acquisition._sidecar import local_zone_name

    set_zone(tz)
    assert local_zone_name(datetime(2026, 1, 6, tzinfo=UTC)) == name


def test_cohort_dates_a_night_by_the_wearers_evening(set_zone):
    """cohort.csv's night_date is the history's (the wearer's local start), not the date of the
    start in the zone of the machine making the table."""
    from calfwatch.cohort import cohort_row

    set_zone("America/New_York")
    summary = {"recording": {"start_utc": "2026-01-06T13:30:00+00:00",
                             "start_local": "2026-01-06T22:30:00+09:00"}}
    assert cohort_row("night.bdf", summary)["night_date"] == "2026-01-06"


def test_bids_sessions_are_the_nights_the_history_dates(tmp_path, set_zone):
    """Two recordings of the evening of 5 January (21:00 and 01:30 UTC, the wearer in UTC) are
    one night: ses-20260105, run 1 and run 2, as the history dates both."""
    from classifier.persistence import night_date

    pytest.importorskip("mne_bids")
    set_zone("UTC")
    first = simulate_edf(tmp_path / "part1.edf", duration_s=60.0, seed=51, profile="quiet",
                         meas_date="2026-01-05T21:00:00+00:00", sfreq_hz=1000.0)
    second = simulate_edf(tmp_path / "part2.edf", duration_s=60.0, seed=52, profile="quiet",
                          meas_date="2026-01-06T01:30:00+00:00", sfreq_hz=1000.0)
    root = tmp_path / "ds"
    code, _, err = run_cli("bids", first, second, "--root", root, "--subject", "p5")
    assert code == 0, err
    written = sorted(p.name for p in root.glob("sub-p5/ses-*/emg/*_emg.edf"))
    assert written == ["sub-p5_ses-20260105_task-sleep_run-1_emg.edf",
                       "sub-p5_ses-20260105_task-sleep_run-2_emg.edf"]
    summaries = sorted(root.glob("derivatives/calfwatch/sub-p5/ses-*/emg/*_summary.json"))
    assert [night_date(json.loads(p.read_text(encoding="utf-8"))["recording"]["start_local"])
            for p in summaries] == [date(2026, 1, 5)] * 2
