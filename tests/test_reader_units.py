"""EDF/BDF files whose signals are not in a voltage unit are refused, not read as volts."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from acquisition.edf.writer import EdfPlusWriter
from acquisition.errors import RecordingError
from acquisition.reader import open_recording
from acquisition.replay import ReplayStream


def _edf_with_unit(path, unit: bytes):
    # a physical range of +-5 units: in V still within the 1 kV a header may state
    with EdfPlusWriter(path, ["calf"], 500.0, datetime(2026, 1, 1, 22, tzinfo=UTC),
                       physical_min_uv=-5.0, physical_max_uv=5.0) as writer:
        writer.write(np.full((1, 1000), 2.0))  # 2 physical units in every sample
    data = bytearray(path.read_bytes())
    n_signals = int(data[252:256])
    offset = 256 + 96 * n_signals  # the first signal's physical dimension
    assert data[offset : offset + 8].strip() == b"uV"
    data[offset : offset + 8] = unit.ljust(8)
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("unit", [b"xyz", b"", b"MV", b"degC"])
def test_unknown_unit_is_refused_naming_file_and_channel(tmp_path, unit):
    path = _edf_with_unit(tmp_path / "odd.edf", unit)
    with pytest.raises(RecordingError, match=r"odd\.edf: channel 'calf' has unknown units"):
        open_recording(path)
    with pytest.raises(RecordingError, match="unknown units"):
        ReplayStream(path)


@pytest.mark.parametrize(("unit", "volts_per_unit"),
                         [(b"uV", 1e-6), (b"mV", 1e-3), (b"V", 1.0), (b"nV", 1e-9)])
def test_voltage_units_scale_as_stated(tmp_path, unit, volts_per_unit):
    path = _edf_with_unit(tmp_path / "ok.edf", unit)
    volts = open_recording(path).get_data()
    np.testing.assert_allclose(volts, 2.0 * volts_per_unit, rtol=1e-3)


def test_a_range_beyond_any_voltage_on_skin_is_refused(tmp_path):
    """+-5000 stated in V (the writer's +-5000 µV relabelled): samples of kilovolts."""
    path = tmp_path / "kv.edf"
    with EdfPlusWriter(path, ["calf"], 500.0, datetime(2026, 1, 1, 22, tzinfo=UTC)) as writer:
        writer.write(np.full((1, 1000), 1000.0))
    data = bytearray(path.read_bytes())
    offset = 256 + 96 * int(data[252:256])
    data[offset : offset + 8] = b"V".ljust(8)
    path.write_bytes(bytes(data))
    for read in (open_recording, ReplayStream):
        with pytest.raises(RecordingError, match=r"kv\.edf: signal 'calf': physical range "
                                                 r"-5000 to 5000 V is beyond any voltage"):
            read(path)


def test_truncated_edf_is_refused_by_replay_and_analysis(tmp_path):
    path = tmp_path / "night.edf"
    with EdfPlusWriter(path, ["calf"], 500.0, datetime(2026, 1, 1, 22, tzinfo=UTC)) as writer:
        writer.write(np.zeros((1, 500 * 10)))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # header still says 10 records
    with pytest.raises(RecordingError, match=r"night\.edf: truncated.*calfwatch repair"):
        ReplayStream(path)
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "calfwatch", "analyze", str(path), "--out",
                          str(tmp_path / "out")], capture_output=True, text=True, timeout=300)
    assert out.returncode == 1
    assert "truncated" in out.stderr and "Traceback" not in out.stderr


def _edf_with_units(path, units: list[bytes], labels: list[str]):
    """An EDF+ with one signal per label, 100 physical units in signal i, dimensions set after."""
    values = np.array([[100.0 * (i + 1)] * 1000 for i in range(len(labels))])
    with EdfPlusWriter(path, labels, 500.0, datetime(2026, 1, 1, 22, tzinfo=UTC)) as writer:
        writer.write(values)
    data = bytearray(path.read_bytes())
    n_signals = int(data[252:256])
    for i, unit in enumerate(units):
        offset = 256 + 96 * n_signals + 8 * i
        data[offset : offset + 8] = unit.ljust(8)
    path.write_bytes(bytes(data))
    return path


def test_signals_not_in_volts_are_left_out_and_named(tmp_path):
    # a BioSemi-style trigger channel and an oximeter beside the calf EMG
    path = _edf_with_units(tmp_path / "psg.edf", [b"uV", b"Boolean", b"%"],
                           ["calf", "Status", "SpO2"])
    raw = open_recording(path)
    assert raw.ch_names == ["calf"]
    np.testing.assert_allclose(raw.get_data(), 100e-6, rtol=1e-3)
    stream = ReplayStream(path)
    assert stream.info.ch_names == ["calf"]
    assert stream.info.device["left_out"] == ["Status (Boolean)", "SpO2 (%)"]
    data = np.concatenate([c.data_uv for c in stream.chunks()], axis=1)
    np.testing.assert_allclose(data, 100.0, rtol=1e-3)
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "calfwatch", "analyze", str(path), "--out",
                          str(tmp_path / "out"), "--quiet"], capture_output=True, text=True,
                         timeout=300)
    assert "left out, not in a voltage unit (V, mV, uV, nV): Status (Boolean), SpO2 (%)" in out.stderr
    assert "Traceback" not in out.stderr


def test_a_file_without_any_voltage_signal_is_refused(tmp_path):
    path = _edf_with_units(tmp_path / "none.edf", [b"Boolean", b"%"], ["Status", "SpO2"])
    with pytest.raises(RecordingError, match=r"none\.edf: channel 'Status' has unknown units "
                       r"'Boolean' \(and 1 more\)"):
        open_recording(path)
    with pytest.raises(RecordingError, match="unknown units"):
        ReplayStream(path)
