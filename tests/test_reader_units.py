"""EDF/BDF files whose signals are not in a voltage unit are refused, not read as volts."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from acquisition.edf_writer import EdfPlusWriter
from acquisition.errors import RecordingError
from acquisition.reader import open_recording
from acquisition.replay import ReplayStream


def _edf_with_unit(path, unit: bytes):
    with EdfPlusWriter(path, ["calf"], 500.0, datetime(2026, 1, 1, 22, tzinfo=UTC)) as writer:
        writer.write(np.full((1, 1000), 1000.0))  # 1000 physical units in every sample
    data = bytearray(path.read_bytes())
    n_signals = int(data[252:256])
    offset = 256 + 96 * n_signals  # the first signal's physical dimension
    assert data[offset : offset + 8].strip() == b"uV"
    data[offset : offset + 8] = unit.ljust(8)
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("unit", [b"xyz", b"", b"nV", b"degC"])
def test_unknown_unit_is_refused_naming_file_and_channel(tmp_path, unit):
    path = _edf_with_unit(tmp_path / "odd.edf", unit)
    with pytest.raises(RecordingError, match=r"odd\.edf: channel 'calf' has unknown units"):
        open_recording(path)
    with pytest.raises(RecordingError, match="unknown units"):
        ReplayStream(path)


@pytest.mark.parametrize(("unit", "volts_per_unit"), [(b"uV", 1e-6), (b"mV", 1e-3), (b"V", 1.0)])
def test_voltage_units_scale_as_stated(tmp_path, unit, volts_per_unit):
    path = _edf_with_unit(tmp_path / "ok.edf", unit)
    volts = open_recording(path).get_data()
    np.testing.assert_allclose(volts, 1000.0 * volts_per_unit, rtol=1e-3)


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
