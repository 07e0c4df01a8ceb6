"""``calfwatch analyze`` on bad input: one line naming the file and the problem, non-zero exit, and a
batch goes on past a bad file and names the ones that failed; a ``--mains`` given is the one used,
and a bad one is a usage error."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import mne
import numpy as np
import pytest

from acquisition.edf.writer import EdfPlusWriter

START = datetime(2026, 3, 1, 22, 0, tzinfo=UTC)


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "calfwatch", *args], capture_output=True,
                          text=True, timeout=120)


def _edf(path: Path, data_uv: np.ndarray, sfreq_hz: float) -> Path:
    with EdfPlusWriter(path, [f"emg{i + 1}" for i in range(len(data_uv))], sfreq_hz, START,
                       physical_min_uv=-5000, physical_max_uv=5000) as writer:
        writer.write(data_uv)
    return path


def _fif(path: Path, data_v: np.ndarray, ch_types: list[str], sfreq_hz: float = 2000.0) -> Path:
    info = mne.create_info([f"ch{i}" for i in range(len(data_v))], sfreq_hz, ch_types)
    raw = mne.io.RawArray(data_v, info, verbose="error")
    raw.set_meas_date(START)
    raw.save(path, verbose="error")
    return path


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory) -> dict[str, tuple[Path, str]]:
    """name -> (file, words the error line must contain)."""
    d = tmp_path_factory.mktemp("bad")
    noise = np.random.default_rng(0).normal(0, 5, (1, 250 * 20))
    good_edf = _edf(d / "good.edf", np.random.default_rng(1).normal(0, 5, (1, 2000 * 4)), 2000.0)
    (d / "empty.edf").write_bytes(b"")
    (d / "truncated.edf").write_bytes(good_edf.read_bytes()[:600])
    (d / "unknown.xyz").write_text("not a recording\n")
    return {
        "empty": (d / "empty.edf", "empty"),
        "truncated": (d / "truncated.edf", "truncated"),
        "unknown": (d / "unknown.xyz", "unknown format"),
        "missing": (d / "missing.edf", "no such file"),
        "low_rate": (_edf(d / "low_rate.edf", noise, 250.0), "500 Hz"),
        "all_nan": (_fif(d / "all_nan_raw.fif", np.full((1, 2000 * 15), np.nan), ["emg"]),
                    "no usable signal"),
        "flat": (_edf(d / "flat.edf", np.full((2, 2000 * 15), 12.0), 2000.0), "no usable signal"),
        "no_emg": (_fif(d / "stim_raw.fif", np.zeros((1, 2000 * 5)), ["stim"]),
                   "no EMG-like channel"),
    }


@pytest.mark.parametrize("name", ["empty", "truncated", "unknown", "missing", "low_rate",
                                  "all_nan", "flat", "no_emg"])
def test_bad_input_one_line(bad_files, tmp_path, name):
    path, words = bad_files[name]
    proc = _cli("analyze", str(path), "--out", str(tmp_path / "out"))
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("calfwatch: error: ")
    assert str(path) in lines[0]
    assert words in lines[0]
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "out" / "summary.json").exists()


def test_batch_goes_on_and_names_the_failures(bad_files, tmp_path):
    names = ["empty", "low_rate", "flat"]
    paths = [str(bad_files[n][0]) for n in names]
    proc = _cli("analyze", *paths, "--out", str(tmp_path / "out"))
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    for path in paths:  # each failure has its own line, in order
        assert sum(path in line for line in lines[:-1]) == 1
    assert lines[-1].startswith("calfwatch: 3 of 3 recordings failed")


def test_mains_given_is_the_one_used_and_a_bad_one_is_refused(tmp_path):
    t_s = np.arange(2000 * 15) / 2000.0
    noise = np.random.default_rng(3).normal(0, 5, (1, t_s.size))
    path = _edf(tmp_path / "hum50.edf", noise + 40 * np.sin(2 * np.pi * 50 * t_s), 2000.0)
    for option, want in (([], 50.0), (["--mains", "60"], 60.0)):
        out = tmp_path / f"out{want:g}"
        done = _cli("analyze", str(path), "--out", str(out), "--quiet", *option)
        assert done.returncode in (0, 4), done.stderr  # 4: a short night is not evaluable
        summary = json.loads((out / "summary.json").read_text())
        assert summary["thresholds"]["detection_chain"]["mains_hz"] == want
    done = _cli("analyze", str(path), "--out", str(tmp_path / "bad"), "--mains", "55")
    assert done.returncode == 2 and "invalid choice: 55.0" in done.stderr


def test_the_summary_states_the_measured_line_the_notches_follow(tmp_path):
    """Hum at 49.9 Hz: the mains is 50 Hz, and the notches sit at the line measured (0.1 Hz off),
    both stated among the detection chain's settings."""
    t_s = np.arange(2000 * 15) / 2000.0
    noise = np.random.default_rng(4).normal(0, 5, (1, t_s.size))
    path = _edf(tmp_path / "hum499.edf", noise + 40 * np.sin(2 * np.pi * 49.9 * t_s), 2000.0)
    done = _cli("analyze", str(path), "--out", str(tmp_path / "out"), "--quiet")
    assert done.returncode in (0, 4), done.stderr
    chain = json.loads((tmp_path / "out" / "summary.json").read_text())["thresholds"][
        "detection_chain"]
    assert chain["mains_hz"] == 50.0 and chain["line_hz"] == pytest.approx(49.9, abs=0.01)
    assert "Traceback" not in done.stderr
