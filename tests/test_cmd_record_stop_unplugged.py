"""``calfwatch record`` stopped while the device is unplugged: the time it was away is lost time.

The recording used to end at the last sample received, 0 samples lost, no annotation: a night whose
sensor came off at 3 am and was stopped at 7 looked like a night that ended at 3. Nothing after the
unplug tells the device counter what it cost, so host time does: from the last sample to the stop
the file holds one gap (flat, ``BAD_ACQ_SKIP``), counted lost in the sidecar, listed in its events,
and the stop line says for how long the device was disconnected at the end.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import mne
import numpy as np

from firmware_io.devices import DEVICES
from firmware_io.emulator import EmulatedDevice

SPEED = 2.0


def _status_samples(path) -> int:
    """Samples the last status line of ``record`` reports (0 before the first)."""
    lines = [ln for ln in path.read_text().splitlines() if "samples " in ln]
    return int(lines[-1].split("samples ")[1].split()[0]) if lines else 0


def test_sigterm_while_unplugged_annotates_and_counts_the_end(tmp_path):
    sfreq = DEVICES["calfwatch"].sfreq_hz
    port, out, err = str(tmp_path / "ttyGONE"), tmp_path / "night", tmp_path / "rec.err"
    source = [np.zeros((2, 2000))] * 200
    device = EmulatedDevice("calfwatch", source, sfreq, port, speed=SPEED).start()
    try:
        with open(err, "w") as err_file:
            proc = subprocess.Popen(
                [sys.executable, "-m", "calfwatch", "record", "--device", "calfwatch", "--port",
                 port, "--out", str(out), "--no-detect", "--status-every", "0.2",
                 "--clock-speed", str(SPEED)],
                stdout=subprocess.PIPE, stderr=err_file, text=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1"})
            for _ in range(600):  # a bound for a failure only: the recording starts in seconds
                if _status_samples(err) >= 2000 or proc.poll() is not None:
                    break
                time.sleep(0.1)
            assert _status_samples(err) >= 2000, err.read_text()
            device.stop()  # the cable is pulled: the port vanishes, the host's reads fail
            t_gone = time.monotonic()
            time.sleep(1.0)
            t_term = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            stdout, _ = proc.communicate(timeout=120)
    finally:
        device.stop()
    assert proc.returncode == 0, err.read_text()
    assert "disconnected for the last" in stdout, stdout
    sidecar = json.loads(next(out.glob("*.json")).read_text())
    counters = sidecar["counters"]
    at_stop = counters["samples_lost_by_reason"]["unplugged until the stop"]
    # the device was away at least from when the port vanished to the SIGTERM
    assert at_stop >= int((t_term - t_gone) * sfreq * SPEED) - 1, (at_stop, t_term - t_gone)
    assert counters["samples_lost"] == at_stop
    last = sidecar["gaps"][-1]
    assert (last["reason"], last["n_samples"]) == ("unplugged until the stop", at_stop)
    assert last["start_sample"] + at_stop == counters["samples_on_timeline"]
    assert sidecar["duration_s"] == counters["samples_on_timeline"] / sfreq
    assert any(e["kind"] == "stopped while disconnected" for e in sidecar["events"])
    assert sidecar["connected_at_end"] is False
    raw = mne.io.read_raw_bdf(next(out.glob("*.bdf")), verbose="error")
    ends = [(a["onset"], a["duration"]) for a in raw.annotations
            if a["description"] == "BAD_ACQ_SKIP"]
    assert (last["onset_s"], last["duration_s"]) in [
        (float(o), float(d)) for o, d in np.round(ends, 6)
    ]


def test_the_timeline_closes_a_disconnection_at_the_stop():
    """Host-time arithmetic: the samples due from the last one placed to the stop, and only
    while a disconnection is open (a stop while connected adds nothing)."""
    from acquisition.timeline import Timeline

    rate = 2000.0
    timeline = Timeline(rate, 2**32, clock_speed=2.0)
    timeline.place(np.arange(0, 250), arrival_s=10.0 + 249 / (2 * rate))
    assert timeline.end_disconnected(20.0) is None  # still connected: nothing lost
    timeline.begin_session("unplugged")
    gap = timeline.end_disconnected(10.0 + (249 + 1000.5) / (2 * rate))
    assert (gap.start_sample, gap.n_samples, gap.reason) == (250, 1000, "unplugged until the stop")
    assert gap.estimated and timeline.next_sample == 1250
    assert timeline.end_disconnected(30.0) is None  # closed once
