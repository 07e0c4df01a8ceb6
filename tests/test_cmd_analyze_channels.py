"""Which channels ``calfwatch analyze`` analyses: ``--channels`` for one recording and for a batch,
and channels the file itself marks bad (MNE's ``info["bads"]`` in a FIF), which are left out as
MNE's own functions leave them out unless ``--channels`` names them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import mne
import numpy as np
import pytest

from acquisition.edf.writer import EdfPlusWriter
from calfwatch.simulator import load_profile, simulate_night


def _analyze(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "calfwatch", "analyze", *args],
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def night_uv() -> tuple[np.ndarray, float, object]:
    night = simulate_night(load_profile("benign-night", duration_s=60, n_channels=2), seed=7)
    return night.data_uv(), night.info.sfreq_hz, night.info.meas_date


def _edf(path: Path, night_uv) -> Path:
    data_uv, sfreq_hz, meas_date = night_uv
    with EdfPlusWriter(path, ["calf_a", "calf_b"], sfreq_hz, meas_date) as writer:
        writer.write(data_uv)
    return path


def _fif(path: Path, night_uv, bads: list[str]) -> Path:
    data_uv, sfreq_hz, meas_date = night_uv
    raw = mne.io.RawArray(data_uv * 1e-6, mne.create_info(["calf_a", "calf_b"], sfreq_hz, "emg"),
                          verbose="error")
    raw.set_meas_date(meas_date)
    raw.info["bads"] = bads
    raw.save(path, verbose="error")
    return path


def _channels(summary_path: Path) -> list[str]:
    return list(json.loads(summary_path.read_text())["channels"])


def test_a_batch_analyses_only_the_channels_asked_for(tmp_path, night_uv):
    files = [_edf(tmp_path / f"n{i}.edf", night_uv) for i in (1, 2)]
    proc = _analyze(*map(str, files), "--out", str(tmp_path / "out"), "--quiet",
                    "--channels", "2")
    assert proc.returncode in (0, 4), proc.stderr
    for name in ("n1", "n2"):
        assert _channels(tmp_path / "out" / name / "summary.json") == ["calf_b"]
    bad = _analyze(*map(str, files), "--out", str(tmp_path / "bad"), "--channels", "calf_c")
    assert bad.returncode == 1
    assert all(f"{f}: no channel 'calf_c'" in bad.stderr for f in files), bad.stderr


def test_a_channel_marked_bad_in_the_file_is_left_out_and_named(tmp_path, night_uv):
    path = _fif(tmp_path / "marked_raw.fif", night_uv, ["calf_b"])
    proc = _analyze(str(path), "--out", str(tmp_path / "one"))
    assert proc.returncode in (0, 4), proc.stderr
    assert f"calfwatch: note: {path}: left out, marked bad in the file: calf_b" in proc.stderr
    summary = json.loads((tmp_path / "one" / "summary.json").read_text())
    assert list(summary["channels"]) == ["calf_a"]
    assert summary["recording"]["device"]["marked_bad"] == ["calf_b"]
    chosen = _analyze(str(path), "--out", str(tmp_path / "chosen"), "--quiet",
                      "--channels", "calf_b")
    assert chosen.returncode in (0, 4), chosen.stderr
    assert _channels(tmp_path / "chosen" / "summary.json") == ["calf_b"]
    batch = _analyze(str(path), str(_edf(tmp_path / "plain.edf", night_uv)), "--out",
                     str(tmp_path / "batch"), "--quiet")
    assert batch.returncode in (0, 4), batch.stderr
    assert _channels(tmp_path / "batch" / "marked_raw" / "summary.json") == ["calf_a"]
    assert _channels(tmp_path / "batch" / "plain" / "summary.json") == ["calf_a", "calf_b"]


def test_every_channel_marked_bad_is_one_line(tmp_path, night_uv):
    path = _fif(tmp_path / "all_raw.fif", night_uv, ["calf_a", "calf_b"])
    proc = _analyze(str(path), "--out", str(tmp_path / "out"))
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        f"calfwatch: error: {path}: every EMG channel is marked bad in the file (calf_a, calf_b);"
        " name those to analyse with --channels"]
