"""``calfwatch analyze`` and the mains grid: when no hum stands out in the first seconds the notches
are set at 50 Hz without one to go by; a hum that comes later at 60 Hz moves them to it, and the
summary says so."""

from __future__ import annotations

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


def _analyse(csv, out, *extra: str) -> dict:
    proc = subprocess.run([sys.executable, "-m", "calfwatch", "analyze", str(csv), "--out",
                           str(out), "--quiet", *extra], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode in (0, 4), proc.stderr  # 4: minutes of rest, not evaluable
    return json.loads((out / "summary.json").read_text())


def _hum(line_hz: float, start_s: float, n: int) -> np.ndarray:
    """A 20-µV hum with a third harmonic, from ``start_s`` on (a lamp switched on)."""
    t = np.arange(n) / FS
    hum = 20.0 * (np.sin(2 * np.pi * line_hz * t) + 0.3 * np.sin(2 * np.pi * 3 * line_hz * t + 1))
    return np.where(t >= start_s, hum, 0.0)


def test_a_grid_assumed_without_a_hum_follows_a_later_hum_and_says_so(tmp_path):
    n = int(150 * FS)
    noise = coloured_noise(np.random.default_rng(8), n, FS, 4.5)
    late_60 = tmp_path / "late_60.csv"
    _write_csv(late_60, noise + _hum(60.0, 30.0, n))
    assumed = _analyse(late_60, tmp_path / "a")
    chain = assumed["thresholds"]["detection_chain"]
    assert chain["mains_assumed"] is True and chain["mains_hz"] == 60.0
    assert 30.0 < chain["mains_switched_s"] <= 40.0
    notes = [note for note in assumed["notes"] if "No mains hum was found" in note]
    assert len(notes) == 1 and "60 Hz" in notes[0] and "--mains 60" in notes[0]
    given = _analyse(late_60, tmp_path / "b", "--mains", "60")
    assert not any("No mains hum was found" in note for note in given["notes"])
    chain = given["thresholds"]["detection_chain"]
    assert chain["mains_assumed"] is False and chain["mains_switched_s"] is None
    # the 60-Hz hum passed the 50-Hz notches only until they moved to it
    assert given["rest_minutes"] > 2.3
    assert assumed["rest_minutes"] > given["rest_minutes"] - 10.0 / 60.0
    late_50 = tmp_path / "late_50.csv"
    _write_csv(late_50, noise + _hum(50.0, 30.0, n))  # the grid assumed: nothing to say
    right = _analyse(late_50, tmp_path / "e")
    assert right["thresholds"]["detection_chain"]["mains_assumed"] is True
    assert right["thresholds"]["detection_chain"]["mains_switched_s"] is None
    assert not any("No mains hum was found" in note for note in right["notes"])
    assert right["rest_minutes"] > 2.3
    quiet = tmp_path / "quiet.csv"
    _write_csv(quiet, noise)  # a sensor without hum, all night: nothing to say
    hum_free = _analyse(quiet, tmp_path / "d")
    assert hum_free["thresholds"]["detection_chain"]["mains_assumed"] is True
    assert not any("No mains hum was found" in note for note in hum_free["notes"])
    early_60 = tmp_path / "early_60.csv"
    _write_csv(early_60, noise + _hum(60.0, 0.0, n))
    found = _analyse(early_60, tmp_path / "c")
    assert found["thresholds"]["detection_chain"]["mains_hz"] == 60.0
    assert not any("No mains hum was found" in note for note in found["notes"])
    assert found["rest_minutes"] > 2.3
