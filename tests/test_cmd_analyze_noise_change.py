"""``calfwatch analyze`` and a sensor whose noise rises and holds (an electrode's contact
changing): the summary and the wearer's text say how long and what to check, and the stretch is
no movement."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import numpy as np
from independent_scenes import coloured_noise

FS = 1000.0


def _write_csv(path, data_uv: np.ndarray) -> None:
    t = np.arange(data_uv.size) / FS
    np.savetxt(path, np.column_stack([t, data_uv]), delimiter=",", header="time,calf_uV",
               comments="", fmt="%.4f")


def _analyse(path, out) -> tuple[dict, list, str]:
    proc = subprocess.run([sys.executable, "-m", "calfwatch", "analyze", str(path), "--out",
                           str(out)], capture_output=True, text=True, timeout=300)
    assert proc.returncode in (0, 4), proc.stderr  # 4: minutes of rest, not evaluable
    with open(out / "events.tsv", newline="", encoding="utf-8") as f:
        events = list(csv.DictReader(f, delimiter="\t"))
    return json.loads((out / "summary.json").read_text()), events, proc.stdout


def test_a_raised_noise_is_named_in_the_summary(tmp_path):
    n = int(360 * FS)
    rng = np.random.default_rng(21)
    quiet = coloured_noise(rng, n, FS, 3.0)
    raised = quiet.copy()
    a, b = int(120 * FS), int(240 * FS)
    raised[a:b] += coloured_noise(rng, b - a, FS, np.sqrt(9.0 ** 2 - 3.0 ** 2))
    _write_csv(tmp_path / "raised.csv", raised)
    doc, events, text = _analyse(tmp_path / "raised.csv", tmp_path / "r")
    notes = [note for note in doc["notes"] if "noise rose and held" in note]
    assert len(notes) == 1 and "for 2.0 minutes in 1 stretch " in notes[0]
    assert "noise rose and held for 2.0 minutes" in text
    kinds = {(e["kind"], e["detail"]) for e in events}
    assert ("artifact", "noise") in kinds and not any(k == "voluntary" for k, _ in kinds)
    assert doc["rest_minutes"] < 4.1
    _write_csv(tmp_path / "quiet.csv", quiet)
    doc, events, text = _analyse(tmp_path / "quiet.csv", tmp_path / "q")
    assert not any("noise rose and held" in note for note in doc["notes"])
    assert doc["rest_minutes"] > 5.8
