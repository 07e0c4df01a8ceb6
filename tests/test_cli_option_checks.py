"""Options whose text or numbers no device or simulation can have are refused in one line, before
any port is opened or any sample simulated: ``record --hardware-filter`` takes the EDF+ prefilter
form its readers parse, ``simulate --set`` the ranges a real converter and calf muscle have."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import mne
import numpy as np
import pytest

from acquisition.edf.labels import filter_corners_hz
from acquisition.recorder import Recorder
from acquisition.stream import SampleChunk, StreamInfo
from calfwatch.cli import build_parser
from calfwatch.commands.record import hardware_filter_text
from calfwatch.simulator import SimulationError, load_profile
from calfwatch.simulator.params import SimulationParams

START = datetime(2026, 3, 1, 22, 15, 30, tzinfo=UTC)


def _calfwatch() -> list[str]:
    """The installed ``calfwatch`` script beside this interpreter, else ``python -m calfwatch``."""
    script = Path(sys.executable).with_name("calfwatch")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "calfwatch"]


def _run(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "CALFWATCH_CONFIG"}
    return subprocess.run([*_calfwatch(), *args], capture_output=True, text=True, timeout=120,
                          env=env)


def _one_line_usage_error(out: subprocess.CompletedProcess) -> str:
    assert out.returncode == 2, (out.returncode, out.stderr)
    assert "Traceback" not in out.stderr and out.stderr.count("\n") == 1, out.stderr
    assert out.stderr.startswith("calfwatch: error: ")
    return out.stderr.strip()


# --- record --hardware-filter ----------------------------------------------------------------

@pytest.mark.parametrize("text", ["garbage", "20-450 Hz", "HP:20Hz LP:450Hz garbage",
                                  "HP:450Hz LP:20Hz", "HP:20Hz HP:30Hz", "LP:DC", "LP:0Hz",
                                  "HP:-5Hz", "N:DC", "", "   ", "HP:20Hz " + "N:50Hz " * 12])
def test_record_refuses_a_hardware_filter_its_readers_cannot_parse(tmp_path, text):
    """No port is opened: the port named does not exist, and the error is the option's."""
    out = _run("record", "--device", "cyton", "--port", str(tmp_path / "ttyNONE"),
               "--out", str(tmp_path / "rec"), "--hardware-filter", text)
    line = _one_line_usage_error(out)
    assert line.startswith("calfwatch: error: argument --hardware-filter: must be a ")
    assert line.endswith(" ".join(f"not {text!r}".split())) and "HP:20Hz LP:450Hz" in line
    assert "ttyNONE" not in line and not (tmp_path / "rec").exists()


@pytest.mark.parametrize(("text", "written", "corners"), [
    ("HP:20Hz LP:450Hz", "HP:20Hz LP:450Hz", (20.0, 450.0)),
    ("  hp:20hz   lp:498HZ ", "HP:20Hz LP:498Hz", (20.0, 498.0)),
    ("HP:DC LP:65.5Hz", "HP:DC LP:65.5Hz", (0.0, 65.5)),
    ("HP: 0.1 Hz LP:1kHz N:50Hz", "HP:0.1Hz LP:1000Hz N:50Hz", (0.1, 1000.0)),
    ("LP:482Hz", "LP:482Hz", (None, 482.0)),
    ("HP:25", "HP:25Hz", (25.0, None)),
    ("N:50Hz N:60Hz", "N:50Hz N:60Hz", (None, None)),
])
def test_hardware_filter_is_written_in_the_form_edf_readers_parse(text, written, corners):
    """MNE reads ``HP:``/``LP:`` in capitals and a value in Hz: the text is written so."""
    assert hardware_filter_text(text) == written
    assert filter_corners_hz(written) == corners


def test_the_parsed_option_is_the_text_written_and_mne_reads_its_corners(tmp_path):
    args = build_parser().parse_args(["record", "--device", "ascii", "--port", "P", "--out", "D",
                                      "--hardware-filter", "hp:20hz lp:0.45kHz"])
    assert args.hardware_filter == "HP:20Hz LP:450Hz"
    info = StreamInfo(1000.0, ["calf_left"], START, 16, 0.5,
                      device={"kind": "ascii", "hardware_filter": args.hardware_filter})
    with Recorder.create(tmp_path, info) as rec:
        rec.write_chunk(SampleChunk(0, np.random.default_rng(0).normal(0, 20, (1, 2000))))
    raw = mne.io.read_raw(rec.path, infer_types=True, verbose="error")
    assert (raw.info["highpass"], raw.info["lowpass"]) == (20.0, 450.0)


def test_the_hardware_filter_type_raises_argparse_errors():
    with pytest.raises(argparse.ArgumentTypeError, match="must be a "):
        hardware_filter_text("garbage")


# --- simulate --set -------------------------------------------------------------------------

@pytest.mark.parametrize(("setting", "words"), [
    ("resolution_bits=64", "resolution_bits=64 is outside 8-24 bits"),
    ("resolution_bits=4", "resolution_bits=4 is outside 8-24 bits"),
    ("pop_tau_s=-1,2", "pop_tau_s=(-1.0, 2.0) must not be negative"),
    ("voluntary_s=-5,-1", "voluntary_s=(-5.0, -1.0) must not be negative"),
    ("firing_hz=0,30", "firing_hz=(0.0, 30.0) must be above 0"),
    ("motion_hz=0,0", "motion_hz=(0.0, 0.0) must be above 0"),
    ("fasc_duration_ms=-15,5", "fasc_duration_ms=(-15.0, 5.0) must not be negative"),
    ("mains_harmonics=-1", "mains_harmonics=(-1.0,) must not be negative"),
    ("fasc_units=100000", "fasc_units=100000 is outside 1-1000"),
    ("pool_units=100000", "pool_units=100000 is outside 2-1000"),
    ("rail_uv=1e9", "rail_uv=1e+09 is above 5000000 uV"),
    ("fasc_duration_ms=15", "fasc_duration_ms=(15.0,) must be (mean, sd)"),
])
def test_simulate_refuses_parameters_no_device_or_muscle_has(tmp_path, setting, words):
    out = _run("simulate", "--profile", "quiet", "--duration", "2s", "--set", setting,
               "--out", str(tmp_path / "n.edf"))
    line = _one_line_usage_error(out)
    assert words in line, line
    assert not list(tmp_path.iterdir())


def test_simulate_refuses_a_noise_band_beyond_the_sampling_rate(tmp_path):
    out = _run("simulate", "--profile", "quiet", "--duration", "2s", "--fs", "500",
               "--set", "noise_band_hz=300,450", "--out", str(tmp_path / "n.edf"))
    line = _one_line_usage_error(out)
    assert "noise_band_hz=(300.0, 450.0)" in line and "225" in line


@pytest.mark.parametrize(("overrides", "words"), [
    ({"resolution_bits": 64}, "resolution_bits=64 is outside 8-24 bits"),
    ({"resolution_bits": 0}, "resolution_bits=0 is outside 8-24 bits"),
    ({"resolution_bits": 16.5}, "resolution_bits=16.5 must be a whole number of bits"),
    ({"pop_tau_s": (0.0, 0.5)}, "pop_tau_s=(0.0, 0.5) must be above 0"),
    ({"cramp_s": (-10.0, 90.0)}, "cramp_s=(-10.0, 90.0) must not be negative"),
    ({"fasc_duration_ms": (0.0, 5.0)}, "fasc_duration_ms=(0.0, 5.0)"),
    ({"noise_band_hz": (0.0, 450.0)}, "noise_band_hz=(0.0, 450.0) must be above 0"),
    ({"noise_band_hz": (450.0, 450.0)}, "noise_band_hz=(450.0, 450.0)"),
])
def test_simulation_parameters_out_of_range_are_one_line_errors(overrides, words):
    with pytest.raises(SimulationError) as info:
        load_profile("quiet", **overrides)
    assert words in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("bits", [8, 10, 12, 16, 24])
def test_converters_of_8_to_24_bits_are_simulated(bits):
    assert SimulationParams(resolution_bits=bits).resolution_bits == bits


def test_a_noise_free_night_with_a_sd_of_zero_is_still_allowed():
    params = load_profile("quiet", noise_rms_uv=0.0, fasc_duration_ms=(15.0, 0.0),
                          time_jitter_ms=0.0, amp_jitter=0.0)
    assert params.noise_rms_uv == 0.0 and params.fasc_duration_ms == (15.0, 0.0)
