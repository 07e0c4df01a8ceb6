"""Live equals offline: ``calfwatch record`` (a subprocess) detects live from an emulated sensor on a real
pseudo-terminal; ``calfwatch analyze`` on the file it wrote must list the same events.

The live engine sees the values the file stores (:class:`calfwatch.live.FileValues`, tested bit for
bit in test_pipeline_outputs), so the events must be identical: same onset samples, kinds, channels,
phases, and amplitudes as printed (3 decimals). Dropped frames become gaps in both paths alike.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from calfwatch.engine.live_view import SETTLE_CONTEXT_S
from calfwatch.outputs import analysis_dir, read_events_tsv
from calfwatch.simulator import load_profile, simulate_night
from firmware_io.devices import DEVICES
from firmware_io.emulator import EmulatedDevice
from firmware_io.faults import parse_faults

DEVICE = "calfwatch"


def _cli(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "calfwatch", *args], capture_output=True,
                          text=True, timeout=timeout)


def _night(profile: str, seconds: float, seed: int):
    spec = DEVICES[DEVICE]
    params = load_profile(profile, duration_s=seconds, sfreq_hz=spec.sfreq_hz,
                          n_channels=spec.n_channels)
    return simulate_night(params, seed=seed)


def _record_live(tmp_path, night, faults: str | None = None, speed: float = 20.0):
    port = str(tmp_path / "ttyEMU")
    out = tmp_path / "night"
    plan = parse_faults(faults, seed=3) if faults else None
    with EmulatedDevice(DEVICE, night.chunks(1.0), night.params.sfreq_hz, port, speed=speed,
                        faults=plan):
        proc = _cli("record", "--device", DEVICE, "--port", port, "--out", str(out),
                    "--side", "left", "--duration", str(night.params.duration_s),
                    "--clock-speed", str(speed))
    assert proc.returncode == 0, proc.stderr
    (recording,) = out.glob("*.bdf")
    return analysis_dir(recording), recording


def _offline(tmp_path, recording):
    proc = _cli("analyze", str(recording), "--out", str(tmp_path / "offline"))
    assert proc.returncode in (0, 4), proc.stderr  # 4: a short night is not evaluable
    return tmp_path / "offline"


def _assert_same_events(live_dir, offline_dir):
    live = read_events_tsv(live_dir / "events.tsv")
    offline = read_events_tsv(offline_dir / "events.tsv")
    assert len(live) == len(offline)
    assert live == offline  # every column, amplitudes as printed included
    return live


@pytest.mark.parametrize("profile, seconds, seed", [("busy-night", 120.0, 4)])
def test_live_events_equal_offline_events(tmp_path, profile, seconds, seed):
    night = _night(profile, seconds, seed)
    live_dir, recording = _record_live(tmp_path, night)
    events = _assert_same_events(live_dir, _offline(tmp_path, recording))
    assert sum(e["kind"] == "fasciculation" for e in events) >= 5  # the comparison is not vacuous
    live = json.loads((live_dir / "summary.json").read_text())
    offline = json.loads((tmp_path / "offline" / "summary.json").read_text())
    for key in ("fasciculations", "rest_minutes", "fasciculations_per_min_rest", "plm_index_per_h"):
        assert live[key] == offline[key]
    assert live["channels"].keys() == offline["channels"].keys()
    assert live["assessment"]["level"] == offline["assessment"]["level"]


class _RaisedNoise:
    """A simulated night whose first channel's noise rises by ``extra_uv`` RMS between ``start_s``
    and ``stop_s`` (an electrode's contact changing), with the night's ``params``."""

    def __init__(self, night, start_s: float, stop_s: float, extra_uv: float) -> None:
        self.params, self._night = night.params, night
        self._span = (start_s, stop_s)
        self._extra_uv = extra_uv

    def chunks(self, chunk_s: float = 1.0):
        from independent_scenes import coloured_noise

        fs = self.params.sfreq_hz
        rng = np.random.default_rng(5)
        a, b = (int(t * fs) for t in self._span)
        for chunk in self._night.chunks(chunk_s):
            at = chunk.start_sample
            lo, hi = max(a, at), min(b, at + chunk.n_samples)
            if lo < hi:
                chunk.data_uv[0, lo - at:hi - at] += coloured_noise(rng, hi - lo, fs,
                                                                    self._extra_uv)
            yield chunk


def test_live_equals_offline_with_a_raised_noise(tmp_path):
    """Seventy seconds of a raised noise (a noise artifact, not a movement) end the same in both
    paths: the live view settles the stretch only when it has ended, as the file's analysis does."""
    night = _RaisedNoise(_night("benign-night", 150.0, 9), 40.0, 110.0, 15.0)
    live_dir, recording = _record_live(tmp_path, night)
    events = _assert_same_events(live_dir, _offline(tmp_path, recording))
    assert any(e["kind"] == "artifact" and e["detail"] == "noise" for e in events)


def test_live_equals_offline_with_lost_frames(tmp_path):
    """Frames dropped on the link become gaps: the same gaps, hence the same events, in both paths."""
    night = _night("benign-night", 90.0, 7)
    live_dir, recording = _record_live(tmp_path, night, faults="drop_frames=0.0005")
    sidecar = json.loads(recording.with_suffix(".json").read_text())
    assert sidecar["counters"]["samples_lost"] > 0  # the fault happened
    _assert_same_events(live_dir, _offline(tmp_path, recording))
    live = json.loads((live_dir / "summary.json").read_text())
    gaps = np.array(live["recording"]["gaps_s"])
    assert len(gaps) == sidecar["counters"]["gaps"]


def _final_line(stdout: str) -> tuple[int, int, int]:
    """(final count, live count before the end-of-night correction, corrections) from record."""
    import re

    m = re.search(r"twitches (\d+) \(final analysis; the live view counted (\d+) and took (\d+)",
                  stdout)
    assert m, stdout
    return tuple(int(g) for g in m.groups())


SPEED = 10.0
#: How far the live view can trail the end of the stream (s of signal): the settling context
#: (SETTLE_CONTEXT_S), one live call's wall period (0.25 s) and one fed batch (0.1 s) at the
#: replay speed, and a second for the chain's batch and look-ahead.
TAIL_S = SETTLE_CONTEXT_S + (0.25 + 0.1) * SPEED + 1.0


@pytest.mark.parametrize("profile, faults", [
    pytest.param("quiet", None, marks=pytest.mark.slow),
    pytest.param("benign-night", None, marks=pytest.mark.slow),
    pytest.param("busy-night", None, marks=pytest.mark.slow),
    pytest.param("no-twitch", None, marks=pytest.mark.slow),
    ("complex", None), ("busy-night", "drop_frames=0.002"),
])
def test_live_count_converges_to_the_final_count(tmp_path, profile, faults):
    """The last count the live view shows is the summary's, on every demo profile and a damaged
    link; before the end-of-night correction it lags only by the twitches of the last TAIL_S."""
    night = _night(profile, 60.0, 4)
    port, out = str(tmp_path / "ttyEMU"), tmp_path / "night"
    plan = parse_faults(faults, seed=3) if faults else None
    with EmulatedDevice(DEVICE, night.chunks(1.0), night.params.sfreq_hz, port, speed=SPEED,
                        faults=plan):
        proc = _cli("record", "--device", DEVICE, "--port", port, "--out", str(out), "--side",
                    "left", "--duration", "60", "--clock-speed", str(SPEED))
    assert proc.returncode == 0, proc.stderr
    final, before, corrections = _final_line(proc.stdout)
    (recording,) = out.glob("*.bdf")
    summary = json.loads((analysis_dir(recording) / "summary.json").read_text())
    assert final == summary["fasciculations"]
    if faults:
        assert json.loads(recording.with_suffix(".json").read_text())["counters"]["gaps"] > 0
    twitches = [e for e in read_events_tsv(analysis_dir(recording) / "events.tsv")
                if e["kind"] == "fasciculation" and "doublet" not in e["detail"]]
    assert len(twitches) == final
    tail = sum(e["onset"] >= summary["duration_s"] - TAIL_S for e in twitches)
    assert 0 <= final - before <= tail and corrections == final - before
