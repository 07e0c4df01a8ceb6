"""``calfwatch analyze`` on the real sample recordings (skipped without CALFWATCH_SAMPLE_DATA): every
format opens, the needle recordings carry the surface-EMG note, a CSV without units says how to fix it."""

from __future__ import annotations

import json
import subprocess
import sys

import mne


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "calfwatch", *args], capture_output=True,
                          text=True, timeout=300)


def test_real_recordings(sample_data, tmp_path):
    files = {
        "emg": sample_data / "biosppy" / "emg.txt",
        "emg_neuropathy": sample_data / "physionet_emgdb" / "emg_neuropathy.hea",
        "emg_healthy": sample_data / "physionet_emgdb" / "emg_healthy.hea",
    }
    proc = _cli("analyze", *map(str, files.values()), "--out", str(tmp_path), "--quiet")
    assert proc.returncode == 4, proc.stderr  # the needle recordings are not evaluable
    for name, path in files.items():
        out = tmp_path / path.parent.name / name  # a batch mirrors the recordings' folders
        summary = json.loads((out / "summary.json").read_text())
        events = (out / "events.tsv").read_text().splitlines()
        assert len(mne.read_annotations(out / "annotations.txt")) == len(events) - 1
        needle = name.startswith("emg_")
        assert any("surface EMG" in note for note in summary["notes"]) == needle


def test_csv_units(sample_data, tmp_path):
    csv = sample_data / "musclesynergies" / "ID0012_TW_01_raw_emg.csv"
    bad = _cli("analyze", str(csv), "--out", str(tmp_path / "a"))
    assert bad.returncode == 1
    assert len(bad.stderr.strip().splitlines()) == 1 and "units" in bad.stderr
    good = _cli("analyze", str(csv), "--units", "uV", "--out", str(tmp_path / "b"), "--quiet")
    assert good.returncode in (0, 4), good.stderr  # 4: seconds of rest, not evaluable
    assert (tmp_path / "b" / "summary.json").exists()
