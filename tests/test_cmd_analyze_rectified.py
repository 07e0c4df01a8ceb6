"""A sensor's rectified (RECT) or envelope (ENV) output is not raw EMG: ``calfwatch analyze`` leaves
such a channel out with a note naming the cause, and refuses a recording with no raw channel in one
line; ``calfwatch record`` keeps such a night and says why it was not analysed. The outputs are made as a MyoWare 2.0 makes them (band-passed, full-wave rectified; the
envelope a low-pass of that), from a simulated night and from the real sample recordings."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import mne
import numpy as np
import pytest
from analyze_cli import run_analyze
from sensor_outputs import envelope, rectified, rectified_chunks

from acquisition.edf.writer import EdfPlusWriter
from acquisition.reader import open_recording
from calfwatch.outputs import read_events_tsv
from calfwatch.simulator import load_profile, simulate_night
from dsp.chain import DetectionChain
from dsp.quality import channel_floor_ratio, is_rectified
from firmware_io.emulator import EmulatedDevice

START = datetime(2026, 3, 1, 22, 0, tzinfo=UTC)
FS = 2000.0


def _edf(path: Path, data_uv: np.ndarray, names: list[str]) -> Path:
    with EdfPlusWriter(path, names, FS, START, physical_min_uv=-5000,
                       physical_max_uv=5000) as writer:
        writer.write(data_uv)
    return path


def _fif(path: Path, data_uv: np.ndarray, names: list[str]) -> Path:
    """Float samples: the envelope as the sensor gives it, without a converter's steps."""
    info = mne.create_info(names, FS, "emg")
    raw = mne.io.RawArray(data_uv * 1e-6, info, verbose="error")
    raw.set_meas_date(START)
    raw.save(path, verbose="error")
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("outputs")
    night = simulate_night(load_profile("benign-night", duration_s=180, n_channels=2), seed=3)
    raw = night.data_uv()
    return {
        "raw": _edf(d / "raw.edf", raw, ["emg1", "emg2"]),
        "raw_first": _edf(d / "raw_first.edf", raw[:1], ["emg1"]),
        "rect": _edf(d / "rect.edf", rectified(raw, FS), ["emg1", "emg2"]),
        "env": _fif(d / "env_raw.fif", envelope(raw, FS), ["emg1", "emg2"]),
        # an envelope moves by less than the 0.15-µV step of a 16-bit EDF over +-5 mV: cut into
        # flat runs (85-90 % of its samples), its band holds only the steps, half a step of noise
        "env_edf": _edf(d / "env.edf", envelope(raw, FS), ["emg1", "emg2"]),
        "mixed": _edf(d / "mixed.edf", np.stack([raw[0], rectified(raw[1], FS)]),
                      ["emg1", "emg2"]),
        "mixed_env": _edf(d / "mixed_env.edf", np.stack([raw[0], envelope(raw[1], FS)]),
                          ["emg1", "emg2"]),
    }


@pytest.mark.parametrize(("name", "words"), [("rect", "rectified"), ("env", "20-450 Hz"),
                                             ("env_edf", "20-450 Hz")])
def test_no_raw_channel_is_one_line_naming_the_cause(files, tmp_path, name, words):
    proc = run_analyze(files[name], tmp_path / name)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert str(files[name]) in lines[0] and words in lines[0] and "RAW" in lines[0]
    assert "Traceback" not in proc.stderr


def test_a_rectified_channel_is_left_out_and_the_raw_one_counted_as_alone(files, tmp_path):
    """One batch: the mixed file, its raw channel alone, and the raw night."""
    proc = subprocess.run(
        [sys.executable, "-m", "calfwatch", "analyze", str(files["mixed"]),
         str(files["raw_first"]), str(files["raw"]), "--out", str(tmp_path), "--quiet"],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode in (0, 4), proc.stderr  # 4: three minutes are too little rest
    doc = json.loads((tmp_path / "mixed" / "summary.json").read_text())
    assert doc["unusable_channels"] == ["emg2"]
    assert doc["unusable_reasons"] == {"emg2": "rectified"}
    assert sum("emg2 looks rectified" in note for note in doc["notes"]) == 1
    assert list(doc["channels"]) == ["emg1"]
    got = read_events_tsv(tmp_path / "mixed" / "events.tsv")
    expected = read_events_tsv(tmp_path / "raw_first" / "events.tsv")
    assert len(expected) > 0
    assert got == expected
    raw_doc = json.loads((tmp_path / "raw" / "summary.json").read_text())
    assert raw_doc["unusable_channels"] == [] and raw_doc["unusable_reasons"] == {}
    with open(tmp_path / "cohort.csv", newline="") as f:
        rows = {Path(r["recording"]).stem: r for r in csv.DictReader(f)}
    assert rows["mixed"]["unusable_reasons"] == "emg2:rectified"
    assert rows["raw"]["unusable_reasons"] == ""


def test_an_envelope_beside_a_raw_channel_in_an_edf_is_left_out(files, tmp_path):
    """Its zero count would otherwise add three minutes of rest without a twitch to the night."""
    for name in ("mixed_env", "raw_first"):
        proc = run_analyze(files[name], tmp_path / name)
        assert proc.returncode in (0, 4), proc.stderr
    doc = json.loads((tmp_path / "mixed_env" / "summary.json").read_text())
    assert doc["unusable_reasons"] == {"emg2": "no-emg-band"}
    assert list(doc["channels"]) == ["emg1"]
    alone = json.loads((tmp_path / "raw_first" / "summary.json").read_text())
    assert doc["rest_minutes"] == pytest.approx(alone["rest_minutes"])
    assert read_events_tsv(tmp_path / "mixed_env" / "events.tsv") == read_events_tsv(
        tmp_path / "raw_first" / "events.tsv")


def _floor_ratios(x_uv: np.ndarray, sfreq_hz: float) -> list[float]:
    chain = DetectionChain(sfreq_hz, x_uv.shape[0], 50.0)
    quality = np.concatenate([chain.process(x_uv, 0).quality, chain.flush().quality])
    return [channel_floor_ratio(quality, ch) for ch in range(x_uv.shape[0])]


def test_real_recordings_read_raw_and_their_rectified_outputs_do_not(sample_data):
    """Needle and surface recordings made by others: raw, none is rectified; rectified as a
    sensor would, every one long enough to judge (30 s) is."""
    paths = [sample_data / p for p in (
        "physionet_emgdb/emg_healthy.hea", "physionet_emgdb/emg_myopathy.hea",
        "physionet_emgdb/emg_neuropathy.hea", "biosppy/emg.txt", "biosppy/emg_1.txt")]
    judged = 0
    for path in paths:
        rec = open_recording(path, preload=True)
        x_uv, sfreq_hz = rec.get_data() * 1e6, rec.info["sfreq"]
        raw_ratios = _floor_ratios(x_uv, sfreq_hz)
        rect_ratios = _floor_ratios(rectified(x_uv, sfreq_hz), sfreq_hz)
        assert not any(is_rectified(r) for r in raw_ratios), (path.name, raw_ratios)
        for raw_r, rect_r in zip(raw_ratios, rect_ratios, strict=True):
            if np.isfinite(raw_r):
                judged += 1
                assert is_rectified(rect_r), (path.name, rect_r)
    assert judged >= 3


def test_record_of_a_rectified_sensor_keeps_the_file_and_says_why(tmp_path):
    """An emulated sensor on a pseudo-terminal sends its RECT output on both channels: the night
    is recorded whole, and the analysis, not written, says why in one line without sending the
    wearer to analyze a file that would be refused for the same reason."""
    night = simulate_night(load_profile("quiet", duration_s=40, n_channels=2), seed=5)
    port, out = str(tmp_path / "ttyRECT"), tmp_path / "night"
    with EmulatedDevice("calfwatch", rectified_chunks(night.chunks(1.0), FS, [0, 1]), FS, port,
                        speed=10.0):
        proc = subprocess.run(
            [sys.executable, "-m", "calfwatch", "record", "--device", "calfwatch", "--port", port,
             "--out", str(out), "--duration", "40", "--clock-speed", "10"],
            capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    (recording,) = out.glob("*.bdf")
    assert open_recording(recording, preload=False).n_times == int(40 * FS)
    why = [line for line in proc.stderr.splitlines() if "analysis not written" in line]
    assert len(why) == 1 and "rectified" in why[0] and "RAW" in why[0]
    assert "run calfwatch analyze" not in why[0]
