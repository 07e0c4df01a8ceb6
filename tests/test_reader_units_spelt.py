"""EDF/BDF voltages whose unit is spelt otherwise than EDF spells it (``UV``, ``µV`` in UTF-8,
``nV``) are read in the right volts by both readers.

The files are written with pyedflib, whose ``readSignal`` is the independent reference (physical
values in the file's unit); the unit under test is then put into the header bytes.
"""

from __future__ import annotations

import json
import warnings
from datetime import datetime
from pathlib import Path

import numpy as np
import pyedflib
import pytest
from analyze_cli import run_analyze
from dsp_signals import scene

from acquisition.errors import RecordingError
from acquisition.reader import open_recording
from acquisition.replay import ReplayStream

#: Voltages spelt otherwise than EDF spells them, with µV per unit: case variants, µ as the
#: Latin-1 micro sign with a small v, µ and Greek mu in UTF-8 (bytes C2 B5 and CE BC).
MISSPELT = [
    (b"uv", 1.0), (b"UV", 1.0), (b"Uv", 1.0), (b"\xb5v", 1.0), ("µV".encode(), 1.0),
    ("µv".encode(), 1.0), ("\u03bcV".encode(), 1.0), (b"mv", 1e3), (b"v", 1e6),
    (b"nV", 1e-3), (b"nv", 1e-3), (b"NV", 1e-3),
]
#: Spellings MNE already scales itself: read as before, not scaled twice.
SPELT_AS_MNE_READS = [(b"uV", 1.0), (b"\xb5V", 1.0), (b"mV", 1e3), (b"V", 1e6)]
#: The unit pyedflib writes for each scale, before the header is patched.
_WRITTEN_UNIT = {1.0: "uV", 1e3: "mV", 1e6: "V", 1e-3: "nV"}
_DIGITAL = {"edf": (-32768, 32767), "bdf": (-8388608, 8388607)}
_FILE_TYPE = {"edf": pyedflib.FILETYPE_EDFPLUS, "bdf": pyedflib.FILETYPE_BDFPLUS}


# --- EDF/BDF files written with pyedflib ---------------------------------------------------------


def _number(x: float) -> float | int:
    """``x`` as an int where it is one, so that the 8-character header field holds it whole."""
    return int(x) if float(x).is_integer() else x


def _header(label: str, unit: str, half_range: float, fmt: str, fs: float) -> dict:
    dmin, dmax = _DIGITAL[fmt]
    return {"label": label, "dimension": unit, "sample_frequency": fs,
            "physical_min": _number(-half_range), "physical_max": _number(half_range),
            "digital_min": dmin, "digital_max": dmax, "transducer": "", "prefilter": ""}


def _set_unit(path: Path, signal: int, unit: bytes) -> None:
    """Write ``unit`` into the physical dimension field (8 bytes) of ``signal``."""
    data = bytearray(path.read_bytes())
    n_signals = int(data[252:256])
    offset = 256 + 96 * n_signals + 8 * signal  # after the labels (16) and transducers (80)
    data[offset : offset + 8] = unit.ljust(8)
    path.write_bytes(bytes(data))


def _write_file(path: Path, fmt: str, signals: list[tuple[str, str, float, np.ndarray]],
                fs: float) -> dict[str, np.ndarray]:
    """An EDF+/BDF+ of ``signals`` (label, unit, half physical range, values in that unit);
    returns each signal's values as pyedflib reads them back."""
    writer = pyedflib.EdfWriter(str(path), len(signals), _FILE_TYPE[fmt])
    writer.setStartdatetime(datetime(2026, 1, 1, 22, 0, 0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        writer.setSignalHeaders([_header(label, unit, half, fmt, fs)
                                 for label, unit, half, _ in signals])
    writer.writeSamples([values for *_, values in signals])
    writer.close()
    reader = pyedflib.EdfReader(str(path))
    try:
        return {label: reader.readSignal(i) for i, (label, *_) in enumerate(signals)}
    finally:
        reader.close()


def _calf_file(path: Path, fmt: str, unit: bytes, uv_per_unit: float):
    """``calf_left`` in ``unit``, an oximeter in % (left out) and ``calf_right`` in uV.

    Returns the file, the samples of each calf signal in µV as pyedflib reads them (the data
    records are left as written: only the unit of ``calf_left`` is changed) and the step
    between two stored values of each, in µV.
    """
    fs, n = 1000.0, 3000
    t = np.arange(n) / fs
    rng = np.random.default_rng(7)
    left_uv = 400.0 * np.sin(2 * np.pi * 7.0 * t) + rng.normal(0.0, 30.0, n)
    right_uv = -250.0 * np.cos(2 * np.pi * 3.0 * t) + rng.normal(0.0, 30.0, n)
    half = 5000.0 / uv_per_unit
    read = _write_file(path, fmt, [
        ("calf_left", _WRITTEN_UNIT[uv_per_unit], half, left_uv / uv_per_unit),
        ("SpO2", "%", 100.0, np.full(n, 97.0)),
        ("calf_right", "uV", 5000.0, right_uv),
    ], fs)
    _set_unit(path, 0, unit)
    dmin, dmax = _DIGITAL[fmt]
    step = 10000.0 / (dmax - dmin)  # both calf signals span +-5000 µV
    expected = {"calf_left": read["calf_left"] * uv_per_unit, "calf_right": read["calf_right"]}
    return path, expected, {"calf_left": step, "calf_right": step}


def _assert_read_as_written(names: list[str], got_uv: np.ndarray, expected: dict,
                            step: dict) -> None:
    assert names == ["calf_left", "calf_right"]
    for row, name in enumerate(names):
        np.testing.assert_allclose(got_uv[row], expected[name], rtol=0, atol=step[name] / 2,
                                   err_msg=name)


# --- 1. units: both readers ------------------------------------------------------------------


@pytest.mark.parametrize("preload", [False, True])
@pytest.mark.parametrize(("unit", "uv_per_unit"), MISSPELT + SPELT_AS_MNE_READS)
@pytest.mark.parametrize("fmt", ["edf", "bdf"])
def test_mne_reader_gives_each_spelling_in_the_right_volts(tmp_path, fmt, unit, uv_per_unit,
                                                            preload):
    """``open_recording`` (MNE: ``calfwatch review``, ``report``, ``read_recording``)."""
    path, expected, step = _calf_file(tmp_path / f"night.{fmt}", fmt, unit, uv_per_unit)
    raw = open_recording(path, preload=preload)
    _assert_read_as_written(raw.ch_names, raw.get_data() * 1e6, expected, step)


@pytest.mark.parametrize(("unit", "uv_per_unit"), MISSPELT + SPELT_AS_MNE_READS)
@pytest.mark.parametrize("fmt", ["edf", "bdf"])
def test_record_reader_gives_each_spelling_in_the_right_volts(tmp_path, fmt, unit, uv_per_unit):
    """The record-by-record reader ``calfwatch analyze`` replays an EDF/BDF file with."""
    path, expected, step = _calf_file(tmp_path / f"night.{fmt}", fmt, unit, uv_per_unit)
    stream = ReplayStream(path, chunk_s=1.0)
    got = np.concatenate([chunk.data_uv for chunk in stream.chunks()], axis=1)
    _assert_read_as_written(stream.info.ch_names, got, expected, step)
    assert stream.info.device["left_out"] == ["SpO2 (%)"]


def _analysed_file(path: Path, fmt: str, unit: bytes) -> Path:
    """A minute of calf EMG with potentials, in µV, its unit then spelt ``unit``."""
    fs = 2000.0
    x_uv, _, _ = scene(60.0, fs, rate_per_min=40.0, ptp_uv=(60.0, 200.0), noise_uv=3.0, seed=5)
    _write_file(path, fmt, [("calf", "uV", 5000.0, x_uv)], fs)
    _set_unit(path, 0, unit)
    return path


def _results(out: Path) -> tuple[dict, str]:
    summary = json.loads((out / "summary.json").read_text())
    return summary, (out / "events.tsv").read_text()


@pytest.mark.parametrize(("fmt", "unit"), [("edf", b"UV"), ("edf", "µV".encode()),
                                           ("bdf", b"uv")])
def test_analyze_reads_a_misspelt_unit_as_the_same_file_spelt_uv(tmp_path, fmt, unit):
    right = run_analyze(_analysed_file(tmp_path / f"right.{fmt}", fmt, b"uV"), tmp_path / "r")
    spelt = run_analyze(_analysed_file(tmp_path / f"spelt.{fmt}", fmt, unit), tmp_path / "s")
    assert spelt.returncode == right.returncode, spelt.stderr
    assert "Traceback" not in spelt.stderr
    (want, want_events), (got, got_events) = _results(tmp_path / "r"), _results(tmp_path / "s")
    assert got_events == want_events and len(got_events.splitlines()) > 10
    assert got["quality"] == want["quality"]
    assert got["fasciculations"] == want["fasciculations"]
    assert 1.0 < got["quality"]["calf"]["noise_rms_uv"] < 5.0  # of the 3 µV written, not 3 V


def _one_signal_file(path: Path, unit: bytes) -> Path:
    _write_file(path, "edf", [("calf", "uV", 5000.0, np.zeros(3000))], 1000.0)
    _set_unit(path, 0, unit)
    return path


@pytest.mark.parametrize("unit", [b"mmHg", b"%", b"degC", b"", b"MV"])
def test_a_unit_that_is_no_voltage_is_refused_in_one_line_naming_the_file(tmp_path, unit):
    """``MV`` is megavolts: not a voltage on skin, nor taken for millivolts."""
    path = _one_signal_file(tmp_path / "odd.edf", unit)
    out = run_analyze(path, tmp_path / "out")
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr, out.stderr
    assert "odd.edf" in lines[0] and "channel 'calf' has unknown units" in lines[0]
    for read in (open_recording, ReplayStream):
        with pytest.raises(RecordingError, match=r"odd\.edf: channel 'calf' has unknown units"):
            read(path)
