"""``calfwatch emulate``: serves a simulated device that pyserial reads, reports totals, logs faults."""

from __future__ import annotations

import json
import threading
import time

import pytest
import serial

from calfwatch.cli import main
from firmware_io.cyton import CytonDecoder


def test_emulate_serves_a_cyton_and_writes_the_fault_log(tmp_path, capsys):
    port = tmp_path / "cyton"
    log = tmp_path / "faults.jsonl"
    argv = ["emulate", "--device", "cyton", "--port", str(port), "--speed", "5", "--duration", "2",
            "--faults", "drop_frames=0.02", "--seed", "3", "--log", str(log)]
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("rc", main(argv)))
    thread.start()
    dec = CytonDecoder()
    dec.feed(b"")
    deadline = time.monotonic() + 30
    while not port.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    ser = serial.Serial(str(port), 115200, timeout=0.05)
    ser.write(b"b")
    got = 0
    first = last = None
    while thread.is_alive():
        try:
            batch = dec.feed(ser.read(ser.in_waiting or 1))
        except (serial.SerialException, OSError):
            break
        if batch.n_samples:
            got += batch.n_samples
            if first is None:  # device sample of the first frame: its counter (< 256 here)
                first = int(batch.counter[0]) - int(batch.sample_index[0])
            last = int(batch.sample_index[-1]) + first
    thread.join()
    ser.close()
    assert result["rc"] == 0
    out = capsys.readouterr().out
    assert str(port) in out and "samples produced" in out
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert records and all(r["fault"] == "drop_frames" for r in records)
    assert got > 0
    seen = [r for r in records if first <= r["first_sample"] < last]  # dropped between two frames read
    assert dec.stats.samples_missing == sum(r["samples_lost"] for r in seen) > 0


@pytest.mark.parametrize("argv, words", [
    (["--faults", "corrupt=7"], "between 0 and 1"),
    (["--speed", "0"], "speed"),
])
def test_emulate_bad_options_are_one_line_errors(tmp_path, capsys, argv, words):
    rc = main(["emulate", "--device", "ascii", "--port", str(tmp_path / "p"), *argv])
    err = capsys.readouterr().err
    assert rc == 2 and words in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_emulate_stopped_by_sigterm_removes_its_port(tmp_path):
    """kill (SIGTERM) stops the emulator as Ctrl-C does: the port's symlink goes with it; it had
    been left pointing at a closed pseudo-terminal."""
    import os
    import signal
    import subprocess
    import sys

    port = tmp_path / "ttyEMU"
    proc = subprocess.Popen([sys.executable, "-m", "calfwatch", "emulate", "--device", "ascii",
                             "--port", str(port)], stdout=subprocess.PIPE, text=True)
    try:
        assert "device on" in proc.stdout.readline()  # the port is up
        assert port.is_symlink()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not os.path.lexists(port)
