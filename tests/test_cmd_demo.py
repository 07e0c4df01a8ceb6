"""``calfwatch demo`` runs the whole chain through a pseudo-terminal and says that live and offline
agree; its files follow the output contract."""

from __future__ import annotations

import json
import subprocess
import sys

import mne
import pytest

from calfwatch.outputs import analysis_dir, read_events_tsv


@pytest.mark.slow  # the same chain as test_pipeline_live, through the demo command
def test_demo_short_night(tmp_path):
    out = tmp_path / "demo"
    proc = subprocess.run(
        [sys.executable, "-m", "calfwatch", "demo", "--out", str(out), "--minutes", "2",
         "--speed", "20", "--profile", "busy-night"],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "live and offline analyses agree" in proc.stdout
    assert "Twitches (fasciculations) at rest" in proc.stdout
    (recording,) = out.glob("*.bdf")
    live = analysis_dir(recording)  # the recording's own outputs
    events = read_events_tsv(live / "events.tsv")
    assert events == read_events_tsv(out / "offline" / "events.tsv")
    summary = json.loads((live / "summary.json").read_text())
    assert summary["fasciculations"] == sum(
        e["kind"] == "fasciculation" and "doublet" not in e["detail"] for e in events)
    assert len(mne.read_annotations(live / "annotations.txt")) == len(events)
    assert (out / "report.html").is_file()
