"""Device options of record, check and analyze: raw units must be given, channels can be chosen.

Real processes on real pseudo-terminals with emulated devices; files read back with MNE.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import mne
import numpy as np
import pytest

from calfwatch.simulator import load_profile, simulate_night
from firmware_io.emulator import EmulatedDevice
from firmware_io.firmware import AsciiFirmware

SCALE, OFFSET = AsciiFirmware.uv_per_count, AsciiFirmware.offset_counts


def _calfwatch(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "calfwatch", *args], capture_output=True,
                          text=True, timeout=timeout)


def _sine_uv(sfreq_hz: float, seconds: float) -> np.ndarray:
    t = np.arange(int(sfreq_hz * seconds)) / sfreq_hz
    return (2000.0 * np.sin(2 * np.pi * 3.0 * t))[None, :]


def test_record_ascii_without_units_is_refused_in_one_line(tmp_path):
    proc = _calfwatch("record", "--device", "ascii", "--port", str(tmp_path / "tty"),
                      "--out", str(tmp_path / "out"))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert "--scale-uv-per-count" in lines[0] and "--offset-counts" in lines[0]
    assert "--device-profile" in lines[0]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("how", ["flags", "profile"])
def test_record_ascii_stores_microvolts_with_the_given_scale(tmp_path, how):
    port, out = str(tmp_path / "ttyA"), tmp_path / "out"
    sfreq = 500.0
    truth = _sine_uv(sfreq, 40.0)
    if how == "flags":
        units = ["--scale-uv-per-count", str(SCALE), "--offset-counts", str(OFFSET),
                 "--sfreq", str(sfreq)]
    else:
        profile = tmp_path / "myoware.json"
        profile.write_text(json.dumps({"device": "ascii", "sfreq_hz": sfreq, "uv_per_count": SCALE,
                                       "offset_counts": OFFSET, "counter_column": True}))
        units = ["--device-profile", str(profile)]
    with EmulatedDevice("ascii", iter([truth]), sfreq, port, speed=4.0, n_channels=1,
                        counter_column=how == "profile"):
        proc = _calfwatch("record", "--device", "ascii", "--port", port, "--out", str(out),
                          "--duration", "8", "--clock-speed", "4", "--no-detect", *units)
    assert proc.returncode == 0, proc.stderr
    path = next(out.glob("*.edf"))
    raw = mne.io.read_raw_edf(path, preload=True, verbose="error")
    got = raw.get_data()[0] * 1e6
    assert raw.info["sfreq"] == sfreq and raw.n_times >= 8 * sfreq
    # find where the recording starts in the sent signal, then compare sample by sample
    n = int(8 * sfreq)
    errs = [np.max(np.abs(got[:n] - truth[0, k : k + n])) for k in range(0, truth.shape[1] - n)]
    assert min(errs) <= 0.5 * SCALE + 1e-6 * 2000  # one ADC count's rounding (and EDF's)
    assert abs(np.mean(got)) < 100.0  # not 512 "µV"


def _check(tmp_path, source, *extra: str) -> subprocess.CompletedProcess:
    port = os.path.join(tmp_path, "ttyCHECK")
    with EmulatedDevice("calfwatch", source, 2000.0, port, speed=5.0):
        return _calfwatch("check", "--device", "calfwatch", "--port", port, "--seconds", "6",
                          *extra)


@pytest.fixture(scope="module")
def one_electrode():
    """Channel 1 placed well, channel 2 not connected (flat)."""
    night = simulate_night(load_profile("quiet", duration_s=30, n_channels=2), seed=5)
    chunks = []
    for c in night.chunks(1.0):
        x = c.data_uv.copy()
        x[1] = 0.0
        chunks.append(x)
    return chunks


def test_check_passes_with_the_channels_in_use(tmp_path, one_electrode):
    every = _check(tmp_path, iter(one_electrode))
    assert every.returncode == 3 and "FAIL" in every.stdout, every.stdout + every.stderr
    chosen = _check(tmp_path, iter(one_electrode), "--channels", "1")
    assert chosen.returncode == 0, chosen.stdout + chosen.stderr
    assert "PASS" in chosen.stdout and "emg2" not in chosen.stdout


def test_unknown_channel_is_one_line(tmp_path, one_electrode):
    proc = _check(tmp_path, iter(one_electrode), "--channels", "3")
    assert proc.returncode == 1 and len(proc.stderr.strip().splitlines()) == 1
    assert "no channel '3'" in proc.stderr and "emg1, emg2" in proc.stderr


def test_record_and_analyze_keep_the_chosen_channels(tmp_path):
    port, out = str(tmp_path / "ttyR"), tmp_path / "out"
    night = simulate_night(load_profile("quiet", duration_s=30, n_channels=2), seed=3)
    with EmulatedDevice("calfwatch", night.chunks(1.0), 2000.0, port, speed=5.0):
        proc = _calfwatch("record", "--device", "calfwatch", "--port", port, "--out", str(out),
                          "--duration", "10", "--clock-speed", "5", "--no-detect",
                          "--side", "left", "--channels", "2")
    assert proc.returncode == 0, proc.stderr
    path = next(out.glob("*.bdf"))
    raw = mne.io.read_raw_bdf(path, infer_types=True, verbose="error")
    assert raw.ch_names == ["calf_left_2"]
    doc = json.loads(path.with_suffix(".json").read_text())
    assert doc["ch_names"] == ["calf_left_2"]
    done = _calfwatch("analyze", str(path), "--out", str(tmp_path / "a"), "--quiet",
                      "--channels", "calf_left_2")
    assert done.returncode == 4, done.stderr  # ten seconds: written, not evaluable
    bad = _calfwatch("analyze", str(path), "--out", str(tmp_path / "b"), "--channels", "calf_left_1")
    assert bad.returncode == 1 and str(path) in bad.stderr and "no channel" in bad.stderr
