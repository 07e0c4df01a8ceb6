"""Recording files: one name per recording, never another file's bytes, never world-readable."""

from __future__ import annotations

import json
import os
import resource
import stat
import subprocess
import sys
import time
from datetime import UTC, datetime

import mne
import numpy as np
import pytest

from acquisition.recorder import Recorder
from acquisition.stream import SampleChunk, StreamInfo

START = datetime(2026, 3, 1, 22, 30, 5, tzinfo=UTC)


def _info(bits: int = 24) -> StreamInfo:
    return StreamInfo(sfreq_hz=200.0, ch_names=["calf"], meas_date=START, resolution_bits=bits,
                      uv_per_count=0.5, device={"kind": "test"})


def _record(folder, value: float, bits: int = 24) -> Recorder:
    rec = Recorder.create(folder, _info(bits))
    rec.write_chunk(SampleChunk(0, np.full((1, 400), value)))
    rec.close()
    return rec


def test_two_recordings_started_in_the_same_second_keep_both_nights(tmp_path):
    first = _record(tmp_path, 100.0)
    second = _record(tmp_path, -100.0)
    assert first.path != second.path and first.sidecar_path != second.sidecar_path
    for rec, value in ((first, 100.0), (second, -100.0)):
        raw = mne.io.read_raw_bdf(rec.path, preload=True, verbose="error")
        np.testing.assert_allclose(raw.get_data()[0] * 1e6, value, atol=0.5)
        assert rec.sidecar_path.exists()


def test_an_edf_and_a_bdf_of_one_start_do_not_share_a_sidecar(tmp_path):
    bdf = _record(tmp_path, 1.0, bits=24)
    edf = _record(tmp_path, 1.0, bits=16)
    assert bdf.sidecar_path != edf.sidecar_path


def test_an_existing_file_is_never_truncated(tmp_path):
    stem = Recorder.create(tmp_path, _info())
    stem.close()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    taken = stem.path.with_name(stem.path.stem + "-2.bdf")
    taken.symlink_to(victim)  # a planted link where the next recording would go
    rec = _record(tmp_path, 5.0)
    assert rec.path not in (stem.path, taken)
    assert victim.read_text() == "precious"


def test_recording_and_sidecar_are_private(tmp_path):
    rec = _record(tmp_path, 1.0)
    for path in (rec.path, rec.sidecar_path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_recorder_refuses_an_existing_path(tmp_path):
    path = tmp_path / "night.bdf"
    path.write_bytes(b"another night")
    with pytest.raises(FileExistsError):
        Recorder(path, _info())
    assert path.read_bytes() == b"another night"


def test_sidecar_failure_is_reported_and_retried_while_the_signal_is_written(tmp_path):
    """The folder refuses new files for ~7 s (no descriptor left): the night goes on."""
    from firmware_io.emulator import EmulatedDevice

    uv, sfreq_hz, speed, duration_s = 0.1, 1000.0, 2.0, 30
    ramp = (np.arange(s, s + 500, dtype=np.float64)[None, :] * uv for s in range(0, 40_000, 500))
    port, out = str(tmp_path / "ttyCW"), tmp_path / "rec"
    device = EmulatedDevice("calfwatch", ramp, sfreq_hz, port, speed=speed, n_channels=1)
    device.start()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "calfwatch", "record", "--device", "calfwatch", "--port", port,
             "--out", str(out), "--duration", str(duration_s), "--clock-speed", str(speed),
             "--no-detect"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while not _sidecar_counts_samples(out):  # the recording loop is running
            assert time.monotonic() < deadline and proc.poll() is None, proc.stderr.read()
            time.sleep(0.05)
        fds = {int(fd) for fd in os.listdir(f"/proc/{proc.pid}/fd")}
        lowest_free = min(set(range(len(fds) + 1)) - fds)
        _, hard = resource.prlimit(proc.pid, resource.RLIMIT_NOFILE)
        resource.prlimit(proc.pid, resource.RLIMIT_NOFILE, (lowest_free, hard))
        time.sleep(7.0)
        resource.prlimit(proc.pid, resource.RLIMIT_NOFILE, (hard, hard))
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        device.stop()
    assert proc.returncode == 0, stderr
    assert "sidecar not written" in stderr and "sidecar written again" in stderr
    path = next(out.glob("*.bdf"))
    doc = json.loads(path.with_suffix(".json").read_text())
    assert doc["closed_cleanly"] is True and doc["counters"]["sidecar_write_failures"] >= 1
    raw = mne.io.read_raw_bdf(path, preload=True, verbose="error")
    assert raw.n_times == duration_s * sfreq_hz
    counts = np.rint(raw.get_data()[0] * 1e6 / uv).astype(np.int64)
    np.testing.assert_array_equal(np.diff(counts), 1)  # every sample, in order, none lost


def _sidecar_counts_samples(folder) -> bool:
    for path in folder.glob("*.json"):
        try:
            return json.loads(path.read_text())["counters"]["samples_received"] > 0
        except (ValueError, KeyError):
            return False
    return False


def _record_cli(port: str, out, duration_s: float, speed: float) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "calfwatch", "record", "--device", "calfwatch", "--port", port,
         "--out", str(out), "--duration", f"{duration_s:g}", "--clock-speed", f"{speed:g}",
         "--mains", "50", "--status-every", "100"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _two_nights_at_once(tmp_path, attempt: int) -> tuple[dict, list]:
    """Two ``calfwatch record`` started together into one folder, each from its own emulated
    sensor on a real pty; return {recording: night duration} and the recordings' start seconds."""
    from calfwatch.simulator import load_profile, simulate_night
    from firmware_io.emulator import EmulatedDevice

    out, speed, durations = tmp_path / f"nights{attempt}", 10.0, (20.0, 30.0)
    devices, procs = [], []
    try:
        for k, duration_s in enumerate(durations):
            params = load_profile("busy-night", duration_s=duration_s + 5, sfreq_hz=2000.0,
                                  n_channels=2)
            port = str(tmp_path / f"ttyCW{attempt}{k}")
            devices.append(EmulatedDevice("calfwatch", simulate_night(params, seed=k).chunks(1.0),
                                          2000.0, port, speed=speed).start())
        procs = [_record_cli(d.port_path, out, s, speed)
                 for d, s in zip(devices, durations, strict=True)]
        results = [p.communicate(timeout=240) for p in procs]
    finally:
        for d in devices:
            d.stop()
        for p in procs:
            if p.poll() is None:
                p.kill()
    for p, (_, err) in zip(procs, results, strict=True):
        assert p.returncode == 0, err
    recordings = sorted(out.glob("*.bdf"))
    assert len(recordings) == 2
    nights, starts = {}, []
    for path in recordings:
        sidecar = json.loads(path.with_suffix(".json").read_text())
        starts.append(sidecar["start_utc"][:19])
        nights[path] = sidecar["counters"]["samples_on_timeline"] / 2000.0
    return nights, starts


def test_two_recordings_into_one_folder_keep_their_own_outputs(tmp_path):
    """Both nights' events, summary and annotations survive, each beside its own recording."""
    from calfwatch.outputs import analysis_dir, read_events_tsv

    for attempt in range(4):  # the two must start in the same second (same name stem)
        nights, starts = _two_nights_at_once(tmp_path, attempt)
        if starts[0] == starts[1]:
            break
    assert starts[0] == starts[1], starts
    assert sorted(p.stem for p in nights)[1].endswith("-2")
    assert sorted(nights.values()) == [20.0, 30.0]  # two different nights
    for recording, duration_s in nights.items():
        folder = analysis_dir(recording)
        summary = json.loads((folder / "summary.json").read_text())
        assert summary["recording"]["file"] == recording.name
        assert summary["duration_s"] == pytest.approx(duration_s)
        events = read_events_tsv(folder / "events.tsv")
        assert events and max(e["onset"] for e in events) < duration_s
        assert len(mne.read_annotations(folder / "annotations.txt")) == len(events)
        assert (folder / "events.edf").is_file() and (folder / "events.json").is_file()
    assert not any(recording.parent.glob("*.tsv"))  # nothing shared beside the recordings
