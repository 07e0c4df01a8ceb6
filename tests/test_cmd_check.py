"""``calfwatch check`` against an emulated sensor on a real pseudo-terminal, and its quality measures
against signals whose quality is known by construction."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from sensor_outputs import envelope, rectified_chunks

from calfwatch.check_quality import QualityMeter, advice, channel_summary, verdict
from calfwatch.simulator import load_profile, simulate_night
from firmware_io.emulator import EmulatedDevice

FS = 2000.0


def _meter_on(x: np.ndarray) -> list:
    meter = QualityMeter(FS, x.shape[0], 50.0)
    for lo in range(0, x.shape[1], 300):  # odd chunking on purpose
        meter.feed(x[:, lo:lo + 300])
    meter.finish()
    return meter.seconds


def test_measures_against_known_signals():
    rng = np.random.default_rng(0)
    t = np.arange(int(5 * FS)) / FS
    noise = rng.normal(0, 4.0, t.size)
    rail_uv = 150.0
    x = np.stack([
        noise,  # clean: white noise of 4 µV
        noise + 100 * np.sin(2 * np.pi * 50 * t),  # strong mains
        np.where(t < 2.5, 0.0, noise),  # flat for half the time
        np.clip(noise + 400 * np.sin(2 * np.pi * 3 * t), -rail_uv, rail_uv),  # held at the rails
        noise + 200 * np.sin(2 * np.pi * 3 * t),  # slow movement
        noise + 4 * np.sin(2 * np.pi * 50 * t),  # weak mains
        np.round(noise),  # quantised to 1 µV: equal neighbours, but no flat stretch
        np.abs(noise) + 30.0,  # full-wave rectified, on an offset (a sensor's RECT output)
        envelope(noise, FS),  # a sensor's ENV output
    ])
    x[4, :200] = np.nan  # and a few lost samples
    seconds = _meter_on(x)
    assert len(seconds) == 5
    q = [channel_summary(seconds, c) for c in range(x.shape[0])]
    # noise floor of white noise seen through the 20-450 Hz band: sigma * sqrt(band fraction)
    band = np.sqrt((450 - 20) / (FS / 2))
    assert q[0].noise_uv == pytest.approx(4.0 * band, rel=0.15)
    power_mains = 100 ** 2 / 2
    assert q[1].mains_fraction == pytest.approx(power_mains / (power_mains + 16.0), abs=0.02)
    assert q[5].mains_fraction == pytest.approx(8.0 / (8.0 + 16.0), abs=0.05)
    # white noise: three lines hold 2 / n of its power each (not the share of bins near them)
    assert q[0].mains_fraction == pytest.approx(6 / FS, abs=0.005)
    assert seconds[0][2].flat_fraction == pytest.approx(1.0)
    assert seconds[4][2].flat_fraction == 0.0
    assert q[6].flat_fraction == 0.0 and q[6].saturated_fraction == 0.0
    # the time |400 sin| spends beyond the rails (a lone sample at the rail is not a held one)
    held = 1 - 2 / np.pi * np.arcsin(rail_uv / 400)
    assert np.mean([s[3].saturated_fraction for s in seconds]) == pytest.approx(held, abs=0.02)
    assert q[0].saturated_fraction == 0.0
    assert q[4].movement_uv == pytest.approx(200 / np.sqrt(2), rel=0.1)
    assert seconds[0][4].lost_fraction == pytest.approx(200 / FS)
    assert advice(q[0], 50.0) == []
    assert any("mains" in a for a in advice(q[1], 50.0))
    assert any("saturation" in a for a in advice(q[3], 50.0))
    assert any("movement" in a for a in advice(q[4], 50.0))
    assert advice(q[6], 50.0) == []
    assert [a for a in advice(q[7], 50.0) if "rectified" in a] == advice(q[7], 50.0)
    assert len(advice(q[7], 50.0)) == 1 and "RAW" in advice(q[7], 50.0)[0]
    assert not any("rectified" in a for c in range(7) for a in advice(q[c], 50.0))
    assert q[8].flat_fraction == 0.0  # it moves: not a lead off
    assert any("envelope (ENV)" in a and "electrode contact" in a for a in advice(q[8], 50.0))


def test_seconds_are_the_nights_quality_windows_cut_to_one_second():
    """The check measures what the night measures: its rows are those of the detection chain
    with windows of one second, and lost samples (NaN) count at their true place."""
    rng = np.random.default_rng(1)
    x = rng.normal(0, 4.0, (1, int(4 * FS)))
    x[0, int(1.5 * FS) : int(3.0 * FS)] = np.nan  # the second half of second 2, all of second 3
    seconds = _meter_on(x)
    assert [s[0].lost_fraction for s in seconds] == [0.0, 0.5, 1.0, 0.0]
    assert np.isnan(seconds[2][0].noise_uv)  # no valid noise block in that second


def _check(tmp_path, source) -> subprocess.CompletedProcess:
    port = os.path.join(tmp_path, "ttyCHECK")
    with EmulatedDevice("calfwatch", source, FS, port, speed=5.0):
        return subprocess.run(
            [sys.executable, "-m", "calfwatch", "check", "--device", "calfwatch", "--port", port,
             "--seconds", "6"], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def night():
    return simulate_night(load_profile("quiet", duration_s=30, n_channels=2), seed=5)


def test_check_passes_a_good_placement(tmp_path, night):
    proc = _check(tmp_path, night.chunks(1.0))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "PASS" in proc.stdout
    # piped (not a terminal): every block of numbers and the summary carry the column headers
    lines = proc.stdout.splitlines()
    blocks = [i for i, line in enumerate(lines) if line.startswith("second ")]
    assert blocks
    for i in blocks:
        assert lines[i + 1].split() == ["channel", "noise", "mains", "sat.", "flat", "moving",
                                        "lost"]
        assert lines[i + 2].split() == ["µV", "%", "%", "%", "µV", "%"]
    at = next(i for i, line in enumerate(lines) if line.startswith("over "))
    assert lines[at + 1].split()[0] == "channel" and lines[at + 2].split()[0] == "µV"


def test_check_fails_with_advice(tmp_path, night):
    def bad():
        for c in night.chunks(1.0):
            x = c.data_uv.copy()
            x[0] += 300 * np.sin(2 * np.pi * 50 * np.arange(c.start_sample, c.stop_sample) / FS)
            x[1] = 0.0  # lead off
            yield x

    proc = _check(tmp_path, bad())
    assert proc.returncode == 3, proc.stdout + proc.stderr
    out = proc.stdout
    assert "FAIL" in out and "mains interference (50 Hz)" in out and "electrode contact" in out


def test_check_fails_a_rectified_output(tmp_path, night):
    """Channel 2 sends what a sensor's RECT pin gives: the signal high-passed and rectified."""
    proc = _check(tmp_path, rectified_chunks(night.chunks(1.0), FS, [1]))
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "FAIL" in proc.stdout
    tips = [line for line in proc.stdout.splitlines() if "rectified" in line]
    assert len(tips) == 1 and "RAW" in tips[0]


def test_check_wrong_port_one_line(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "calfwatch", "check", "--device", "calfwatch", "--port",
         str(tmp_path / "nothing")], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert len(proc.stderr.strip().splitlines()) == 1
    assert str(tmp_path / "nothing") in proc.stderr


def _topics(tips: list[str]) -> list[str]:
    """What each tip is about, by its key word."""
    keys = ("lost", "flat", "EMG band", "rectified", "saturation", "mains", "noisy", "movement")
    return [next(k for k in keys if k in tip) for tip in tips]


def test_a_clipping_signal_is_saturated_not_flat_and_a_lead_pinned_at_a_rail_is_flat():
    """Through a BITalino's converter (its rails at +-1635 µV): resting EMG with a 4-mV, 3-Hz
    swing clips at the rails, which the quality windows count as flat as well as saturated; the
    advice is the saturation one, not "no signal". A lead pinned at a rail for whole seconds
    reads 0 % saturated and all flat: the flat (electrode contact) advice stays; and so it does
    for a lead pinned 60 % of the time, leaving the rail for 2 s in 5."""
    from firmware_io.bitalino import BitalinoDecoder
    from firmware_io.firmware import BitalinoFirmware

    fs = 1000.0
    night = simulate_night(load_profile("quiet", sfreq_hz=fs, duration_s=10), seed=3)
    emg = night.data_uv()[0]
    t = np.arange(emg.size) / fs
    x_uv = np.stack([emg + 4000 * np.sin(2 * np.pi * 3 * t),  # clipped at the rails
                     np.full(emg.size, 1e5),  # a lead off: pinned at the upper rail
                     np.where(np.sin(2 * np.pi * 0.2 * t) > -0.3, 1e5, emg),  # pinned at times
                     emg])
    counts = BitalinoFirmware(fs, 4).quantise(x_uv)
    assert counts[0].max() == counts[1].min() == 1023 and counts[0].min() == 0
    meter = QualityMeter(fs, 4, 50.0)
    for lo in range(0, emg.size, 250):
        meter.feed(BitalinoDecoder(4).to_uv(counts[:, lo:lo + 250]))
    meter.finish()
    clipped, pinned, _, _ = (channel_summary(meter.seconds, c) for c in range(4))
    assert clipped.saturated_fraction > 0.5 and clipped.flat_fraction > 0.5  # both, as said
    assert pinned.saturated_fraction == 0.0 and pinned.flat_fraction == 1.0
    ok, tips = verdict(meter.seconds, ["clipped", "pinned", "at times", "resting"], 50.0)
    assert not ok
    assert _topics(tips["clipped"]) == ["saturation", "noisy", "movement"]
    assert _topics(tips["pinned"]) == _topics(tips["at times"]) == ["flat"]
    assert "electrode contact" in tips["pinned"][0]
    assert tips["resting"] == []
