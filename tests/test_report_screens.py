"""The report of four kinds of night in headless Chromium: a normal night, a busy night, a night that
is not evaluable and a night recorded over a damaged link. Each page renders every image, logs
nothing to the console and shows what its night needs; the screenshots are kept in
``$CALFWATCH_SCREENSHOTS`` when set (to look at them). Skips where no Chromium is installed."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from report_browser import find_chromium, open_in_browser
from report_nights import analyze, parse_report, run_cli, simulate_edf

from calfwatch.outputs import analysis_dir
from calfwatch.simulator import load_profile, simulate_night
from firmware_io.devices import DEVICES
from firmware_io.emulator import EmulatedDevice
from firmware_io.faults import parse_faults

CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed")
CHARTS = ("plot-hourly", "plot-distributions", "plot-waveforms")


def _recorded_over_a_damaged_link(root: Path) -> Path:
    """A 4-minute benign night on the sensor's two channels (over 5 minutes of rest pooled),
    recorded by calfwatch record from an emulated sensor whose link drops frames; returns the
    analysis folder record wrote."""
    import subprocess
    import sys

    spec = DEVICES["calfwatch"]
    params = load_profile("benign-night", duration_s=240.0, sfreq_hz=spec.sfreq_hz,
                          n_channels=spec.n_channels)
    night = simulate_night(params, seed=12)
    port, out = str(root / "ttyEMU"), root / "link"
    with EmulatedDevice("calfwatch", night.chunks(1.0), spec.sfreq_hz, port, speed=20.0,
                        faults=parse_faults("drop_frames=0.001", seed=3)):
        proc = subprocess.run(
            [sys.executable, "-m", "calfwatch", "record", "--device", "calfwatch", "--port", port,
             "--out", str(out), "--side", "left", "--duration", "240", "--clock-speed", "20",
             "--mains", "50"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    (recording,) = out.glob("*.bdf")
    return analysis_dir(recording)  # where record wrote the night's outputs


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    root = tmp_path_factory.mktemp("screens")
    folders = {}
    for name, profile, channels, seconds in (("normal", "benign-night", 2, 300.0),
                                             ("busy", "busy-night", 2, 300.0),
                                             ("not-evaluable", "busy-night", 1, 120.0)):
        recording = simulate_edf(root / f"{name}.edf", duration_s=seconds, seed=3,
                                 profile=profile, n_channels=channels)
        folders[name] = root / f"{name}_analysis"
        analyze(recording, folders[name])
    folders["damaged-link"] = _recorded_over_a_damaged_link(root)
    keep = os.environ.get("CALFWATCH_SCREENSHOTS")
    shown = {}
    for name, folder in folders.items():
        code, _, err = run_cli("report", folder, "--quiet")
        assert code in (0, 4), err
        result = open_in_browser(folder / "report.html", root, CHROMIUM, height=9000)
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            shutil.copy(result.screenshot, Path(keep) / f"report-{name}.png")
        summary = json.loads((folder / "summary.json").read_text())
        shown[name] = (code, summary, result)
    return shown


def _attr(dom: str, name: str) -> int:
    return int(re.search(rf'<body[^>]*\s{name}="(\d+)"', dom).group(1))


@pytest.mark.parametrize("name", ["normal", "busy", "not-evaluable", "damaged-link"])
def test_each_page_renders_cleanly(pages, name):
    _, _, result = pages[name]
    assert result.console == []
    assert _attr(result.dom, "data-images-ok") == _attr(result.dom, "data-images-total") > 0
    # Every table fits the page's column (a heading that cannot wrap pushes its table out).
    assert re.search(r'<body[^>]*\sdata-tables-too-wide=""', result.dom), re.search(
        r'data-tables-too-wide="[^"]*"', result.dom)
    png = result.screenshot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    from matplotlib.image import imread

    pixels = imread(result.screenshot)
    assert float(np.std(pixels)) > 0.05  # a page, not a blank screen


@pytest.mark.parametrize("name", ["normal", "busy"])
def test_an_evaluable_night_has_its_charts_and_examples(pages, name):
    code, summary, result = pages[name]
    page = parse_report(result.dom)
    assert code == 0 and summary["assessment"]["level"] != "not-evaluable"
    assert set(CHARTS) | {"plot-examples", "plot-timeline"} <= set(page.figures)
    assert "sec-not-evaluable" not in page.ids


def test_a_night_not_evaluable_says_why_instead_of_charts(pages):
    code, summary, result = pages["not-evaluable"]
    page = parse_report(result.dom)
    assert code == 4 and summary["assessment"]["level"] == "not-evaluable"
    assert "sec-not-evaluable" in page.ids
    assert not set(CHARTS) & set(page.figures)
    assert "minutes of rest" in result.dom and "Not drawn: this night is not evaluable" in result.dom


def test_a_damaged_link_night_summarises_its_gaps(pages):
    _, summary, result = pages["damaged-link"]
    gaps = summary["recording"]["gaps_s"]
    assert len(gaps) > 3 and summary["assessment"]["level"] != "not-evaluable"
    facts = dict(parse_report(result.dom).tables["recording"])
    longest = max(g[1] for g in gaps)
    assert facts["Gaps"] == (f"{len(gaps)}, {sum(g[1] for g in gaps):.3f} s in all, longest "
                             f"{longest:.3f} s")
    details = re.search(r'<details id="gap-list">(.*?)</details>', result.dom, re.S).group(1)
    assert details.count("<br>") == len(gaps)
