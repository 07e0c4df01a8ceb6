"""``calfwatch record`` and ``calfwatch devices`` as a user runs them, against a device on a real pty."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import mne
import numpy as np
import serial
from _acq_pty_device import PtyDevice, sample_values

from calfwatch.cli import main


def _calfwatch(*args: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen(
        [sys.executable, "-m", "calfwatch", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _wait_for_file(folder: Path, pattern: str, timeout_s: float) -> Path | None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = sorted(folder.glob(pattern))
        if found:
            return found[0]
        time.sleep(0.05)
    return None


def test_record_survives_unplugs_and_sigterm_closes_cleanly(tmp_path):
    from firmware_io.cyton import uv_per_count

    device = PtyDevice(str(tmp_path / "ttyUSB-cyton"), protocol="cyton")
    out = tmp_path / "rec"
    try:
        proc = _calfwatch(
            "record", "--device", "cyton", "--port", device.link, "--out", str(out),
            "--subject", "s01", "--side", "left", "--status-every", "0.5", "--no-detect",
        )
        assert _wait_for_file(out, "*.json", 15.0) is not None, proc.stderr
        time.sleep(0.5)
        for pause_s in (0.4, 1.3):
            device.unplug()
            time.sleep(pause_s)
            device.plug()
            time.sleep(0.8)
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=15)
    finally:
        device.close()
    assert proc.returncode == 0, stderr
    assert "recorded" in stdout and "lost" in stderr  # summary line, status lines
    bdf = next(out.glob("s01_left_*.bdf"))
    doc = json.loads(bdf.with_suffix(".json").read_text())
    assert doc["closed_cleanly"] is True
    assert doc["device"]["kind"] == "cyton" and doc["side"] == "left"
    n = doc["counters"]["samples_on_timeline"]
    lost = np.zeros(n, bool)
    for a, b in device.lost:
        lost[a : min(b, n)] = True
    assert doc["counters"]["samples_lost"] == int(lost.sum()) > 0
    assert doc["counters"]["samples_received"] == int((~lost).sum())
    assert doc["counters"]["reconnects"] == 2
    raw = mne.io.read_raw_bdf(bdf, preload=True, infer_types=True, verbose="error")
    assert raw.ch_names[:8] == [f"calf_left_{i}" for i in range(1, 9)]  # labels "EMG <name>"
    assert set(raw.get_channel_types()[:8]) == {"emg"}
    got = raw.get_data()[:8, :n] * 1e6
    expected = sample_values(np.arange(n), 8) * uv_per_count()
    assert np.max(np.abs(got[:, ~lost] - expected[:, ~lost])) <= 0.5 * uv_per_count() * (1 + 1e-6)


def test_record_wrong_port_is_one_line(tmp_path, capsys):
    code = main(["record", "--device", "cyton", "--port", str(tmp_path / "ttyNONE"),
                 "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1
    assert "no such serial port" in err and "calfwatch devices" in err


def test_record_busy_port_is_one_line(tmp_path, capsys):
    device = PtyDevice(str(tmp_path / "ttyBUSY"), protocol="cyton")
    holder = serial.Serial(device.link, exclusive=True)
    try:
        code = main(["record", "--device", "cyton", "--port", device.link, "--out", str(tmp_path)])
    finally:
        holder.close()
        device.close()
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "busy" in err


def test_record_unknown_device_is_one_line(tmp_path, capsys):
    code = main(["record", "--device", "cytn", "--port", "x", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and "unknown device 'cytn'" in err and "cyton" in err


def test_devices_lists_ports_and_kinds(capsys):
    assert main(["devices", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {"cyton", "calfwatch", "bitalino", "ascii"} <= {d["kind"] for d in doc["devices"]}
    assert all("device" in p and "description" in p for p in doc["ports"])
    assert main(["devices"]) == 0
    assert "cyton" in capsys.readouterr().out
