"""The recorder takes rate, channels and scale from what the device states, and refuses what cannot be.

A calfwatch sensor states its rate, channel count and scale in its info frame; the registry's 2000 Hz
and 2 channels are only defaults. An ASCII stream's columns say how many channels it has.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import mne
import numpy as np
import pytest

from acquisition._device_spec import device_spec
from acquisition.errors import RecordingError
from acquisition.serial_source import SerialSource
from calfwatch.cli import main
from firmware_io.emulator import EmulatedDevice
from firmware_io.firmware import CalfwatchFirmware


def ramp(n_channels: int, sfreq_hz: float, duration_s: float, uv: float):
    """Channel k of sample i is (i + k) counts: every value says where it belongs."""
    n_total = int(sfreq_hz * duration_s)
    for start in range(0, n_total, 200):
        idx = np.arange(start, min(n_total, start + 200), dtype=np.float64)
        yield (idx[None, :] + np.arange(n_channels)[:, None]) * uv


@pytest.mark.parametrize(("sfreq_hz", "n_channels"), [(1000.0, 1), (1000.0, 8), (500.0, 2)])
def test_record_uses_the_rate_and_channels_of_the_info_frame(tmp_path, sfreq_hz, n_channels):
    uv = CalfwatchFirmware.uv_per_count
    port, out = str(tmp_path / "ttyCW"), tmp_path / "rec"
    speed = 4.0
    device = EmulatedDevice("calfwatch", ramp(n_channels, sfreq_hz, 60.0, uv), sfreq_hz, port,
                            speed=speed, n_channels=n_channels)
    device.start()
    try:
        code = main(["record", "--device", "calfwatch", "--port", port, "--out", str(out),
                     "--duration", "6", "--no-detect", "--clock-speed", str(speed),
                     "--status-every", "100"])
    finally:
        device.stop()
    assert code == 0
    path = next(out.glob("*.bdf"))
    raw = mne.io.read_raw_bdf(path, preload=True, verbose="error")
    assert raw.info["sfreq"] == sfreq_hz
    assert len(raw.ch_names) == n_channels
    n = int(6 * sfreq_hz)
    assert raw.n_times == n  # 6 s of device time is 6 s of file
    counts = np.rint(raw.get_data() * 1e6 / uv).astype(np.int64)
    first = counts[0, 0]
    expected = first + np.arange(n)[None, :] + np.arange(n_channels)[:, None]
    np.testing.assert_array_equal(counts, expected)


@pytest.mark.parametrize("bad", [
    {"uv_per_count": float("nan")}, {"uv_per_count": float("inf")}, {"uv_per_count": 0.0},
    {"uv_per_count": -0.1}, {"n_channels": 0}, {"sfreq_hz": 0.0},
])
def test_impossible_info_frame_is_refused(tmp_path, monkeypatch, bad):
    original = CalfwatchFirmware.info

    def info_frame(self):
        return replace(original(self), **bad)

    monkeypatch.setattr(CalfwatchFirmware, "info", info_frame)
    port = str(tmp_path / "ttyBAD")
    device = EmulatedDevice("calfwatch", ramp(2, 1000.0, 30.0, 0.1), 1000.0, port, n_channels=2)
    device.start()
    try:
        with pytest.raises(RecordingError) as err:
            SerialSource(port, "calfwatch", first_data_timeout_s=5.0)
    finally:
        device.stop()
    message = str(err.value)
    assert "\n" not in message and port in message
    assert any(word in message for word in ("scale", "channels", "sampling rate"))


def test_ascii_counter_column_is_not_a_channel(tmp_path):
    from firmware_io.firmware import AsciiFirmware

    port = str(tmp_path / "ttyASCII")
    uv = AsciiFirmware.uv_per_count
    values = (np.arange(3000) % 1000 - 500.0) * uv
    device = EmulatedDevice("ascii", iter([values[None, :]]), 500.0, port, speed=4.0,
                            n_channels=1, counter_column=True)
    device.start()
    spec = device_spec("ascii", first_column="counter", uv_per_count=uv, offset_counts=512.0)
    source = SerialSource(port, spec, clock_speed=4.0)
    chunks: list = []
    worker = threading.Thread(target=lambda: chunks.extend(source.chunks()), daemon=True)
    worker.start()
    time.sleep(1.0)
    source.close()
    device.stop()
    worker.join(10)
    assert source.info.n_channels == 1
    data = np.concatenate([c.data_uv for c in chunks if not c.gap], axis=1)
    assert data.shape[0] == 1 and data.shape[1] > 100
    np.testing.assert_allclose(np.diff(data[0]) % (1000 * uv), uv, atol=1e-9)
