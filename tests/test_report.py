"""calfwatch report: the page shows the summary's own numbers, is self-contained, escapes text."""

from __future__ import annotations

import base64
import json
import re
import struct

import pytest
from report_nights import (
    FIGURES,
    SECTIONS,
    analyze,
    close_to,
    parse_report,
    run_cli,
    simulate_edf,
)

from calfwatch.report import ReportInput, load_night, render_report
from calfwatch.report.sections import QUALITY_COLUMNS, hour_label


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    """A 5-minute busy simulated night on two channels (over 5 minutes of rest: evaluable),
    analysed by calfwatch analyze: (folder, summary, report)."""
    root = tmp_path_factory.mktemp("report")
    recording = simulate_edf(root / "night.edf", duration_s=300.0, seed=3, n_channels=2)
    out = root / "out"
    summary = analyze(recording, out)
    code, stdout, err = run_cli("report", out)
    assert code == 0, err
    return out, summary, (out / "report.html").read_text(encoding="utf-8"), stdout


def _rows(page, table_id):
    rows = page.tables[table_id]
    return rows[0], rows[1:]


def test_every_section_and_figure_is_there(night):
    out, summary, html, _ = night
    page = parse_report(html)
    assert set(SECTIONS) <= page.ids
    # a single night without a history has no history plot; every other figure is drawn
    assert set(page.figures) == set(FIGURES) - {"plot-history"}
    assert summary["fasciculations"] > 20  # the night has enough twitches for every figure


def test_night_facts_are_the_summary_numbers(night):
    _, s, html, _ = night
    facts = dict(parse_report(html).tables["night-facts"])
    morph = s["morphology"]
    assert int(facts["Fasciculations at rest"]) == s["fasciculations"]
    assert close_to(facts["Time at rest"], s["rest_minutes"], 1)
    assert close_to(facts["Fasciculations per minute of rest"], s["fasciculations_per_min_rest"], 2)
    assert close_to(facts["PLM index"], s["plm_index_per_h"], 1)
    assert close_to(facts["Median peak-to-peak amplitude"],
                    morph["amplitude_uv"]["quantiles"]["p50"], 1)
    assert close_to(facts["Polyphasic fraction"], morph["polyphasic_fraction"] * 100, 1)


def test_channel_kind_and_hour_tables_are_the_summary_numbers(night):
    _, s, html, _ = night
    page = parse_report(html)
    _, channels = _rows(page, "channels")
    assert [r[0] for r in channels] == list(s["channels"])
    for row in channels:
        ch = s["channels"][row[0]]
        assert close_to(row[1], ch["rest_minutes"], 1)
        assert int(row[2]) == ch["fasciculations"]
        assert close_to(row[3], ch["fasciculations_per_min_rest"], 2)
    head, counts = page.tables["kinds"]
    assert dict(zip(head, map(int, counts), strict=True)) == s["counts"]
    _, hours = _rows(page, "hourly")
    expected = [(name, h) for name, ch in s["channels"].items() for h in ch["hours"]]
    assert len(hours) == len(expected)
    for row, (name, h) in zip(hours, expected, strict=True):
        assert row[0] == name and row[1] == hour_label(h["hour"])
        assert close_to(row[2], h["rest_minutes"], 1)
        assert int(row[3]) == h["fasciculations"]
        assert close_to(row[4], h["fasciculations_per_min_rest"], 2)
        assert int(row[5]) == h["plm"]


def test_morphology_tables_are_the_summary_numbers(night):
    _, s, html, _ = night
    page = parse_report(html)
    _, units = _rows(page, "units")
    expected = [(name, u) for name, ch in s["morphology"]["channels"].items() for u in ch["units"]]
    assert len(units) == len(expected) > 0
    for row, (name, u) in zip(units, expected, strict=True):
        assert row[:2] == [str(u["unit"]), name]
        assert int(row[2]) == u["count"]
        assert close_to(row[3], u["median_ptp_uv"], 1)
        assert close_to(row[5], u["stability"], 2)
    _, dists = _rows(page, "distributions")
    for row, key in zip(dists, ("amplitude_uv", "duration_ms", "phases"), strict=True):
        q = s["morphology"][key]["quantiles"]
        assert int(row[1]) == s["morphology"][key]["n"]
        for cell, p in zip(row[2:7], ("p05", "p25", "p50", "p75", "p95"), strict=True):
            assert close_to(cell, q[p], 1)


def test_assessment_rows_are_the_summary_checks(night):
    _, s, html, _ = night
    page = parse_report(html)
    assert re.search(r'id="assessment-level">\s*' + re.escape(s["assessment"]["level"]), html)
    _, rows = _rows(page, "checks")
    checks = s["assessment"]["checks"]
    assert [r[0] for r in rows] == [c["rule"] for c in checks]
    for row, c in zip(rows, checks, strict=True):
        assert row[4] == f"{c['threshold']:.3g}"
        assert row[6] == c["source"]
        assert row[2] == " ".join(c["text"].split())


def test_quality_table_is_the_summary_quality(night):
    _, s, html, _ = night
    head, *rows = parse_report(html).tables["quality"]
    columns = {label: (key, how) for key, label, how in QUALITY_COLUMNS}
    assert head[1:] == [label for _, label, _ in QUALITY_COLUMNS]  # labels, not JSON keys
    for row in rows:
        q = s["quality"][row[0]]
        for col, cell in zip(head[1:], row[1:], strict=True):
            key, how = columns[col]
            value = q[key]
            if value is None:
                assert cell == "n/a"
            elif how == "percent":
                assert cell.endswith(" %") and close_to(cell[:-2], value * 100, 1)
            else:
                assert close_to(cell, value, 1 if how == "number" else 0)


def _png_size(uri: str) -> tuple[int, int]:
    assert uri.startswith("data:image/png;base64,")
    data = base64.b64decode(uri.split(",", 1)[1], validate=True)
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_page_is_self_contained(night):
    _, _, html, _ = night
    page = parse_report(html)
    for tag, attr, value in page.links:
        assert not re.match(r"\s*(https?:|//|ftp:|file:)", value, re.I), (tag, attr, value)
        assert attr != "src" or value.startswith("data:"), (tag, attr)
        assert attr != "href" or value.startswith("#"), (tag, attr, value)
    assert not re.search(r"<(link|iframe|object|embed|base)\b", html, re.I)
    assert not re.search(r"url\(\s*['\"]?(?!data:)", html, re.I)  # no CSS fetches
    assert not re.search(r"@import", html, re.I)
    assert page.scripts == 0
    for uri in page.figures.values():
        width, height = _png_size(uri)
        assert width > 200 and height > 100


def test_text_from_the_recording_is_escaped(night, tmp_path):
    out, summary, _, _ = night
    doc = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    doc["recording"]["subject"] = "<script>alert(1)</script>"
    doc["recording"]["device"] = {"kind": "replay", "name": '"><img src=x onerror=alert(2)>'}
    doc["notes"] = ["<b>bold</b> & co"]
    _, events = load_night(out)
    events[0]["kind"] = "fasciculation"
    html = render_report(ReportInput(doc, events, source="<i>folder</i>"))
    assert "<script>" not in html and "<img src=x" not in html and "<b>bold" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&#34;&gt;&lt;img src=x onerror=alert(2)&gt;" in html
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; co" in html
    assert "&lt;i&gt;folder&lt;/i&gt;" in html


def test_report_prints_the_wearer_summary(night):
    _, s, _, stdout = night
    assert f"{s['fasciculations']} in" in stdout
    assert f"{s['fasciculations_per_min_rest']:.2f} per minute of rest" in stdout
    assert "See a doctor if" in stdout
    assert "wrote " in stdout and "report.html" in stdout


def test_report_usage_and_input_errors(tmp_path):
    code, _, err = run_cli("report")
    assert code == 2 and err.count("\n") == 1 and "DIR" in err
    code, _, err = run_cli("report", tmp_path / "missing")
    assert code == 1 and err.count("\n") == 1 and "missing" in err and "not a folder" in err
    code, _, err = run_cli("report", tmp_path)
    assert code == 1 and err.count("\n") == 1 and "summary.json" in err
    (tmp_path / "summary.json").write_text("{not json", encoding="utf-8")
    code, _, err = run_cli("report", tmp_path)
    assert code == 1 and err.count("\n") == 1 and "not a readable night summary" in err
    code, _, err = run_cli("report", "--subject", "nobody", "--history", tmp_path / "h.sqlite")
    assert code == 1 and err.count("\n") == 1 and "no history file" in err


@pytest.mark.parametrize("key, value", [
    ("recording", "x"), ("morphology", [1]), ("fasciculations", "many"), ("channels", "x"),
    ("rest_minutes", [1]), ("fasciculations_per_min_rest_ci95", ["x", 1]),
])
def test_an_edited_summary_with_a_wrong_value_is_named_in_one_line(night, tmp_path, key, value):
    """A summary.json edited by hand, one value of another type: one line naming the file."""
    import shutil

    out, _, _, _ = night
    folder = tmp_path / "edited"
    shutil.copytree(out, folder)
    doc = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert key in doc
    doc[key] = value
    (folder / "summary.json").write_text(json.dumps(doc), encoding="utf-8")
    code, _, err = run_cli("report", folder, "--quiet")
    assert code == 1 and err.count("\n") == 1, err
    assert str(folder / "summary.json") in err and "internal error" not in err


def test_a_recording_given_must_be_the_nights(night, tmp_path):
    """--recording names the file the example traces are read from: a missing file, or another
    night's (its length or channels are not those analysed), is refused in one line; it had
    been taken silently (traces of the wrong night, or none, with a note saying none was
    given)."""
    out, summary, _, _ = night
    code, _, err = run_cli("report", out, "--recording", tmp_path / "nope.edf",
                           "--out", tmp_path / "a.html")
    assert code == 1 and err.strip() == f"calfwatch: error: {tmp_path / 'nope.edf'}: no such file"
    other = simulate_edf(tmp_path / "other.edf", duration_s=120.0, seed=9)
    code, _, err = run_cli("report", out, "--recording", other, "--out", tmp_path / "b.html")
    assert code == 1 and err.count("\n") == 1 and "is not the recording of" in err
    assert "120.0 s" in err and f"{summary['recording']['duration_s']:.1f} s" in err
    code, _, err = run_cli("report", out, "--recording", out.parent / "night.edf",
                           "--out", tmp_path / "c.html", "--quiet")
    assert code == 0, err


def test_the_report_file_is_an_html_file_not_a_folder_or_another_file(night, tmp_path):
    out, _, _, _ = night
    kept = tmp_path / "truth_events.tsv"
    kept.write_text("onset\tkind\n", encoding="utf-8")
    for target, words in ((tmp_path, "is a folder"), (kept, "name it .html")):
        code, _, err = run_cli("report", out, "--out", target, "--quiet")
        assert code == 2 and err.count("\n") == 1 and words in err, err
    assert kept.read_text(encoding="utf-8") == "onset\tkind\n"


def test_report_of_a_recording_finds_its_analysis_beside_it(tmp_path):
    """``calfwatch report night.edf`` (the file a clinician has) reports ``night_analysis/``,
    where analyze writes without --out, with the recording's example traces; it had said
    "not a folder"."""
    recording = simulate_edf(tmp_path / "night.edf", duration_s=120.0, seed=5)
    analyze(recording, tmp_path / "night_analysis")
    code, _, err = run_cli("report", recording, "--out", tmp_path / "r.html", "--quiet")
    assert code in (0, 4), err
    page = parse_report((tmp_path / "r.html").read_text(encoding="utf-8"))
    assert "plot-examples" in page.figures
    code, _, err = run_cli("report", simulate_edf(tmp_path / "lone.edf", duration_s=60.0))
    assert code == 1 and err.count("\n") == 1 and "not a folder" in err


def test_pdf_without_a_browser_is_a_one_line_error(night, tmp_path, monkeypatch):
    out, _, _, _ = night
    monkeypatch.setenv("CALFWATCH_CHROMIUM", str(tmp_path / "no-such-browser"))
    html = tmp_path / "r.html"
    code, stdout, err = run_cli("report", out, "--out", html, "--pdf", "--quiet")
    assert code == 1 and err.count("\n") == 1 and "no Chromium found" in err
    assert html.is_file() and f"wrote {html}" in stdout


def test_report_of_a_real_surface_recording(sample_data, tmp_path):
    recording = sample_data / "biosppy" / "emg_1.txt"
    if not recording.is_file():
        pytest.skip("biosppy/emg_1.txt is not in the sample data")
    s = analyze(recording, tmp_path / "out")
    code, _, err = run_cli("report", tmp_path / "out", "--quiet")
    assert code in (0, 4), err  # 4: seconds of rest, not evaluable
    page = parse_report((tmp_path / "out" / "report.html").read_text(encoding="utf-8"))
    assert set(SECTIONS) <= page.ids and "plot-timeline" in page.figures
    facts = dict(page.tables["night-facts"])
    assert int(facts["Fasciculations at rest"]) == s["fasciculations"]
    assert close_to(facts["Time at rest"], s["rest_minutes"], 1)
    head, counts = page.tables["kinds"]
    assert dict(zip(head, map(int, counts), strict=True)) == s["counts"]


def test_hours_are_shown_in_the_local_time_of_the_start():
    """The summary's hours are clock hours in UTC; the report shows the start in local time,
    so it shows the hours so too (a night starting 00:30 at +01:00 had its first hour labelled
    23:00); a recording without a date counts hours from its start."""
    from calfwatch.report.sections import hour_heading, hourly

    hour = {"rest_minutes": 30.0, "fasciculations": 3, "fasciculations_per_min_rest": 0.1,
            "plm": 0, "fasciculations_per_min_rest_ci95": [0.02, 0.3]}
    summary = {"recording": {"start_local": "2026-02-10T00:30:00+01:00",
                             "start_utc": "2026-02-09T23:30:00+00:00"},
               "channels": {"calf": {"hours": [{**hour, "hour": "2026-02-09T23:00:00+00:00"},
                                               {**hour, "hour": "2026-02-10T00:00:00+00:00"}]}}}
    labels, _, _, rows = hourly(summary)
    assert labels == ["00:00", "01:00"] and [r["hour"] for r in rows] == labels
    assert hour_heading(summary) == "Hour (local time)"
    undated = {"recording": {"start_local": None},
               "channels": {"calf": {"hours": [{**hour, "hour": "+0h"}]}}}
    assert hourly(undated)[0] == ["+0h"] and hour_heading(undated) == "Hour from the start"


def test_a_new_analysis_in_the_folder_removes_the_old_report(night, tmp_path):
    """analyze into a folder that holds an earlier analysis and its report: the report's numbers
    would sit beside another analysis's outputs, so it goes, with a note naming it."""
    import shutil

    out, _, _, _ = night
    folder = tmp_path / "again"
    shutil.copytree(out, folder)
    (folder / "report.pdf").write_bytes(b"%PDF-1.4 old")
    assert (folder / "report.html").is_file()
    other = simulate_edf(tmp_path / "other.edf", duration_s=60.0, seed=11)
    code, _, err = run_cli("analyze", other, "--out", folder, "--quiet")
    assert code in (0, 4), err
    assert not (folder / "report.html").exists() and not (folder / "report.pdf").exists()
    assert f"{folder / 'report.html'}: removed" in err


def test_start_shown_to_the_second_with_its_offset():
    """The recording table showed the summary's ISO text (``2026-12-08T03:34:30.194187+00:00``)."""
    from calfwatch.report.sections import recording_rows

    summary = {"recording": {"start_local": "2026-02-09T20:00:00.5-03:30",
                             "start_utc": "2026-02-09T23:30:00.5+00:00"}}
    rows = dict(recording_rows(summary))
    assert rows["Start (local time)"] == "2026-02-09 20:00:00 (UTC-03:30)"
    assert rows["Start (UTC)"] == "2026-02-09 23:30:00 UTC"
    assert dict(recording_rows({"recording": {"start_local": "soon"}}))[
        "Start (local time)"] == "soon"
