"""Analysed nights for the report, review and anonymisation tests.

A short simulated night goes through the real ``calfwatch simulate``-style writer and ``calfwatch
analyze`` (the command line, in process), so the report is tested on the pipeline's own outputs.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

from calfwatch.cli import main

#: The report's sections, by id, in page order.
SECTIONS = ("sec-wearer", "sec-recording", "sec-assessment", "sec-night", "sec-hourly",
            "sec-history", "sec-distributions", "sec-waveforms", "sec-timeline", "sec-methods",
            "sec-disclaimer")
#: The report's figures, by id (all present for an analysed night with a history).
FIGURES = ("plot-hourly", "plot-history", "plot-distributions", "plot-waveforms", "plot-timeline",
           "plot-examples")


def run_cli(*argv: str) -> tuple[int, str, str]:
    """Run ``calfwatch`` in process; return (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def simulate_edf(path: Path, duration_s: float = 300.0, seed: int = 3,
                 profile: str = "busy-night", patient_id: str | None = None,
                 recording_id: str | None = None, **overrides) -> Path:
    """Write a simulated night as EDF+; optional personal header fields (patient, recording)."""
    from calfwatch.simulator import load_profile, simulate_night, write_simulation

    night = simulate_night(load_profile(profile, duration_s=duration_s, **overrides), seed=seed)
    if patient_id is None and recording_id is None:
        return write_simulation(night, path)["recording"]
    from acquisition.edf.writer import EdfPlusWriter

    p, info = night.params, night.info
    with EdfPlusWriter(path, info.ch_names, info.sfreq_hz, info.meas_date,
                       physical_min_uv=-p.rail_uv, physical_max_uv=p.rail_uv,
                       patient_id=patient_id or "X X X X", recording_id=recording_id or "",
                       equipment="calf sensor") as writer:
        writer.annotate(1.0, 0.0, recording_id or "note")
        for chunk in night.chunks(10.0):
            writer.write(chunk.data_uv)
    return path


def analyze(recording: Path, out_dir: Path, *extra: str) -> dict:
    """``calfwatch analyze RECORDING --out DIR ...``; returns the summary it wrote."""
    code, _, err = run_cli("analyze", recording, "--out", out_dir, "--quiet", *extra)
    assert code in (0, 4), err  # 4: the night is not evaluable (outputs written)
    return json.loads((out_dir / "summary.json").read_text(encoding="utf-8"))


class _Page:
    """Tables (by id: rows of cell texts), figures (id -> img src) and every element id."""

    def __init__(self) -> None:
        self.tables: dict[str, list[list[str]]] = {}
        self.figures: dict[str, str] = {}
        self.ids: set[str] = set()
        self.links: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self.scripts = 0


def parse_report(html: str) -> _Page:
    """Read the report's tables, figures and ids with the standard library's HTML parser."""
    from html.parser import HTMLParser

    page = _Page()

    class Parser(HTMLParser):
        table: str | None = None
        row: list[str] | None = None
        cell: list[str] | None = None
        figure: str | None = None

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if "id" in a:
                page.ids.add(a["id"])
            for key in ("src", "href", "action", "data", "poster"):
                if key in a:
                    page.links.append((tag, key, a[key] or ""))
            if tag == "script":
                page.scripts += 1
            if tag == "table":
                self.table = a.get("id") or f"table-{len(page.tables)}"
                page.tables[self.table] = []
            elif tag == "tr" and self.table:
                self.row = []
            elif tag in ("td", "th") and self.row is not None:
                self.cell = []
            elif tag == "figure":
                self.figure = a.get("id")
            elif tag == "img" and self.figure:
                page.figures[self.figure] = a.get("src", "")

        def handle_endtag(self, tag):
            if tag in ("td", "th") and self.cell is not None and self.row is not None:
                self.row.append(" ".join("".join(self.cell).split()))
                self.cell = None
            elif tag == "tr" and self.row is not None and self.table:
                page.tables[self.table].append(self.row)
                self.row = None
            elif tag == "table":
                self.table = None
            elif tag == "figure":
                self.figure = None

        def handle_data(self, data):
            if self.cell is not None:
                self.cell.append(data)

    Parser(convert_charrefs=True).feed(html)
    return page


def close_to(text: str, value: float | None, digits: int) -> bool:
    """True when ``text`` (a number, optionally with a unit or %) shows ``value`` at ``digits``."""
    if value is None:
        return text == "n/a"
    shown = float(text.replace("%", "").split()[0])
    return abs(shown - value) <= 0.5 * 10.0 ** -digits + 1e-9


def report_after_four_nights(root: Path, subject: str) -> Path:
    """A two-channel simulated night analysed for ``subject`` after four stored nights (the
    evenings of 1-4 January 2026), reported with that history; the report's path."""
    from datetime import datetime

    from history_helpers import TZ, make_summary

    from calfwatch.history import open_store

    history = root / "history.sqlite"
    recording = simulate_edf(root / "night.edf", duration_s=300.0, seed=5, n_channels=2)
    with open_store(history) as store:
        for day in range(4):
            start = datetime(2026, 1, 1 + day, 23, 0, tzinfo=TZ)  # before the simulated night
            store.add_night(subject, None, make_summary(start, 1.5 + 0.3 * day))
    analyze(recording, root / "out", "--subject", subject, "--history", history)
    report = root / "report.html"
    code, _, err = run_cli("report", root / "out", "--subject", subject, "--history", history,
                           "--out", report, "--quiet")
    assert code in (0, 4), err  # 4: a short night is not evaluable
    return report
