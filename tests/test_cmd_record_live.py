"""``calfwatch record`` with live detection, stopped by SIGTERM or SIGINT like a wearer would: it finishes
cleanly, the outputs were already written during the night, the final ones equal the offline analysis
of the file (padding of the last data record included), and the night joins the history."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from calfwatch.outputs import analysis_dir, read_events_tsv
from calfwatch.simulator import load_profile, simulate_night
from firmware_io.devices import DEVICES
from firmware_io.emulator import EmulatedDevice


def _night(seconds: float):
    spec = DEVICES["calfwatch"]
    params = load_profile("busy-night", duration_s=seconds, sfreq_hz=spec.sfreq_hz,
                          n_channels=spec.n_channels)
    return simulate_night(params, seed=9)


def _wait_for(folder, timeout_s: float, pattern: str) -> bool:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if any(folder.glob(pattern)):
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("signum", [signal.SIGTERM,
                                    pytest.param(signal.SIGINT, marks=pytest.mark.slow)])
def test_signal_finishes_cleanly_with_outputs(tmp_path, signum):
    night = _night(300.0)
    port = str(tmp_path / "ttyREC")
    out = tmp_path / "night"
    env = {**os.environ, "CALFWATCH_HOME": str(tmp_path / "home")}
    with EmulatedDevice("calfwatch", night.chunks(1.0), night.params.sfreq_hz, port, speed=5.0):
        proc = subprocess.Popen(
            [sys.executable, "-m", "calfwatch", "record", "--device", "calfwatch", "--port", port,
             "--out", str(out), "--side", "right", "--subject", "w1", "--outputs-every", "1",
             "--status-every", "0.5", "--clock-speed", "5"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        try:
            # written during the night, before any stop
            assert _wait_for(out, 60.0, "*_analysis/summary.json")
            time.sleep(1.0)
            proc.send_signal(signum)
            stdout, stderr = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 0, stderr
    assert "twitches" in stderr  # the status line
    assert "Traceback" not in stderr
    assert "wrote" in stdout
    _assert_finished(out, tmp_path, env)


def _assert_finished(out, tmp_path, env) -> None:
    """The file closed cleanly, the live outputs equal the offline analysis, the night is in the
    history."""
    (recording,) = out.glob("*.bdf")
    sidecar = json.loads(recording.with_suffix(".json").read_text())
    assert sidecar["closed_cleanly"]
    offline = tmp_path / "offline"
    done = subprocess.run([sys.executable, "-m", "calfwatch", "analyze", str(recording), "--out",
                           str(offline)], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode in (0, 4), done.stderr  # 4: a short night is not evaluable
    live_dir = analysis_dir(recording)
    assert read_events_tsv(live_dir / "events.tsv") == read_events_tsv(offline / "events.tsv")
    live = json.loads((live_dir / "summary.json").read_text())
    assert live["fasciculations"] == json.loads((offline / "summary.json").read_text())[
        "fasciculations"]
    assert (tmp_path / "home" / "history.sqlite").exists()


def test_closing_the_terminal_finishes_cleanly(tmp_path):
    """A wearer who closes the terminal window (SIGHUP, and every write to it failing after)
    gets the night closed and analysed, not a file cut short and no analysis."""
    night = _night(300.0)
    port = str(tmp_path / "ttyREC")
    out = tmp_path / "night"
    env = {**os.environ, "CALFWATCH_HOME": str(tmp_path / "home")}
    master, slave = os.openpty()
    record = [sys.executable, "-m", "calfwatch", "record", "--device", "calfwatch", "--port",
              port, "--out", str(out), "--side", "right", "--subject", "w1", "--outputs-every",
              "1", "--status-every", "0.5", "--clock-speed", "5"]
    # a new session whose first terminal opened becomes its controlling terminal
    on_terminal = ("import os, sys; fd = os.open(sys.argv[1], os.O_RDWR); "
                   "[os.dup2(fd, i) for i in (0, 1, 2)]; os.execv(sys.argv[2], sys.argv[2:])")
    with EmulatedDevice("calfwatch", night.chunks(1.0), night.params.sfreq_hz, port, speed=5.0):
        proc = subprocess.Popen([sys.executable, "-c", on_terminal, os.ttyname(slave), *record],
                                start_new_session=True, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(slave)
        try:
            assert _read_until(master, 60.0, lambda: any(out.glob("*_analysis/summary.json")))
            _read_until(master, 1.0, lambda: False)
            os.close(master)  # the window closes: the terminal hangs up
            proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 0
    _assert_finished(out, tmp_path, env)


def _read_until(fd: int, timeout_s: float, done) -> bool:
    """Read what the terminal shows (a terminal no one reads fills up and blocks its writer)
    until ``done()`` or ``timeout_s``; whether ``done()``."""
    import select

    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if done():
            return True
        if select.select([fd], [], [], 0.1)[0]:
            try:
                os.read(fd, 65536)
            except OSError:  # EIO until the recorder has opened its side
                time.sleep(0.1)
    return done()
