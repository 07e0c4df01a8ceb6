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
