"""Serial source on a real pseudo-terminal: unplug/replug, corruption, stalls and port errors.

The device is a tiny framed protocol served on the master side of ``os.openpty`` (see
``_acq_pty_device``); pyserial opens the slave through a symbolic link exactly as it opens a USB port.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import serial
from _acq_pty_device import PtyDevice, sample_values, tiny_spec

from acquisition.ports import PortBusyError, PortNotFoundError, SerialPortError
from acquisition.serial_source import SerialSource

N_CH = 2
SFREQ = 500.0


class Collector:
    """Consume a source's chunks in a thread, as the recorder does."""

    def __init__(self, source: SerialSource) -> None:
        self.source = source
        self.chunks: list = []
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            for chunk in self.source.chunks():
                self.chunks.append(chunk)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc

    def stop(self) -> list:
        self.source.close()
        self.thread.join(timeout=5)
        assert not self.thread.is_alive()
        assert self.error is None, self.error
        return self.chunks


@pytest.fixture
def device(tmp_path):
    dev = PtyDevice(str(tmp_path / "ttyTINY"), n_channels=N_CH, sfreq_hz=SFREQ)
    yield dev
    dev.close()


def _lost_indices(device: PtyDevice, stop: int) -> set[int]:
    out: set[int] = set()
    for a, b in device.lost:
        out.update(range(a, min(b, stop)))
    return out


def check_against_truth(chunks: list, device: PtyDevice, scale: float = 0.5) -> dict:
    """Every recorded sample equals the emitted one; gaps cover exactly the lost samples."""
    assert chunks, "no chunks"
    expected_start = 0
    data_idx, gap_idx = [], []
    for chunk in chunks:
        assert chunk.start_sample == expected_start, "chunks must tile the timeline"
        expected_start = chunk.stop_sample
        idx = np.arange(chunk.start_sample, chunk.stop_sample)
        if chunk.gap:
            assert np.isnan(chunk.data_uv).all()
            gap_idx.append(idx)
        else:
            # device sample index == timeline index: the device's first sample is delivered
            expected = sample_values(idx, chunk.data_uv.shape[0]) * scale
            np.testing.assert_allclose(chunk.data_uv, expected, rtol=1e-12)
            data_idx.append(idx)
    stop = expected_start
    gaps = set(np.concatenate(gap_idx).tolist()) if gap_idx else set()
    assert gaps == _lost_indices(device, stop)
    return {"n_data": sum(len(i) for i in data_idx), "n_gap": len(gaps), "stop": stop}


def _wait_for(predicate, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def test_unplug_replug_cycles_keep_every_sample_and_annotate_exact_losses(device):
    source = SerialSource(device.link, tiny_spec(N_CH, SFREQ), stall_s=5.0)
    assert source.info.sfreq_hz == SFREQ and source.info.n_channels == N_CH
    collector = Collector(source)
    time.sleep(0.5)
    n_cycles = 3
    for cycle in range(n_cycles):
        device.unplug()
        time.sleep(0.3 + 0.4 * cycle)  # losses longer than a counter wrap (256 samples = 0.51 s)
        device.plug()
        assert _wait_for(lambda c=cycle: source.stats()["reconnects"] == c + 1, 5.0)
        time.sleep(0.6)
    chunks = collector.stop()
    stats = source.stats()
    result = check_against_truth(chunks, device)
    assert stats["reconnects"] == n_cycles
    assert result["n_gap"] > 0
    assert stats["samples_lost"].get("unplugged", 0) == result["n_gap"]
    reconnected = [e["t_monotonic"] for e in stats["events"] if e["kind"] == "reconnected"]
    for plugged, back in zip(device.plugged_at[1:], reconnected, strict=True):
        assert 0 <= back - plugged < 2.0


def test_corrupted_frames_are_dropped_and_counted(device):
    source = SerialSource(device.link, tiny_spec(N_CH, SFREQ))
    collector = Collector(source)
    for _ in range(5):
        time.sleep(0.15)
        device.corrupt_next += 1
    time.sleep(0.4)
    chunks = collector.stop()
    result = check_against_truth(chunks, device)
    stats = source.stats()
    assert result["n_gap"] == 5
    assert stats["decoder"]["crc_failures"] >= 5
    assert stats["samples_lost"] == {"sequence gap": 5}


def test_stall_resends_start_then_reopens_the_port(device):
    source = SerialSource(device.link, tiny_spec(N_CH, SFREQ), stall_s=0.4)
    collector = Collector(source)
    time.sleep(0.3)
    device.stalled = True
    assert _wait_for(lambda: source.stats()["stalls"] >= 1, 3.0)
    assert _wait_for(lambda: source.stats()["reconnects"] >= 1, 3.0)
    device.stalled = False
    time.sleep(0.5)
    chunks = collector.stop()
    check_against_truth(chunks, device)
    assert device.starts_received >= 3  # initial, after the stall, after reopening


def test_missing_port_is_a_one_line_error(tmp_path):
    with pytest.raises(PortNotFoundError) as info:
        SerialSource(str(tmp_path / "ttyNOPE"), tiny_spec())
    message = str(info.value)
    assert "\n" not in message
    assert "no such serial port" in message and "calfwatch devices" in message


def test_busy_port_is_a_one_line_error(device):
    holder = serial.Serial(device.link, exclusive=True)
    try:
        with pytest.raises(PortBusyError) as info:
            SerialSource(device.link, tiny_spec())
        assert "busy" in str(info.value) and device.link in str(info.value)
    finally:
        holder.close()


def test_silent_device_is_a_one_line_error(device):
    spec = tiny_spec()
    silent = type(spec)(**{**spec.__dict__, "start_command": b"x"})
    with pytest.raises(SerialPortError) as info:
        SerialSource(device.link, silent, first_data_timeout_s=0.5)
    assert "no data from the device" in str(info.value)


def test_cyton_through_unplugs_and_damaged_packets(tmp_path):
    from firmware_io.cyton import uv_per_count

    device = PtyDevice(str(tmp_path / "ttyCYTON"), protocol="cyton")
    try:
        source = SerialSource(device.link, "cyton")
        assert source.info.n_channels == 8 and source.info.resolution_bits == 24
        collector = Collector(source)
        time.sleep(0.5)
        for pause_s in (0.5, 1.4):  # 125 and 350 samples: the second is more than a counter wrap
            device.unplug()
            time.sleep(pause_s)
            device.plug()
            assert _wait_for(lambda: source.connected, 3.0)
            time.sleep(0.3)
            device.corrupt_next += 1
            time.sleep(0.5)
        chunks = collector.stop()
    finally:
        device.close()
    check_against_truth(chunks, device, scale=uv_per_count())
    stats = source.stats()
    assert stats["reconnects"] == 2
    assert stats["samples_lost"]["sequence gap"] == 2


def test_queue_overflow_becomes_counted_gaps_never_silent(device):
    source = SerialSource(device.link, tiny_spec(N_CH, SFREQ), queue_s=0.2, chunk_s=0.05)
    time.sleep(1.0)  # nobody reads: 0.2 s fit in the queue, the rest overflows
    collector = Collector(source)
    time.sleep(0.3)
    chunks = collector.stop()
    stats = source.stats()
    assert stats["overflow_samples"] > 0
    assert stats["samples_lost"]["overflow"] == stats["overflow_samples"]
    overflow = sum(c.n_samples for c in chunks if c.gap and c.reason == "overflow")
    assert overflow == stats["overflow_samples"]
    pos = 0
    for chunk in chunks:
        assert chunk.start_sample == pos
        pos = chunk.stop_sample
        if not chunk.gap:
            idx = np.arange(chunk.start_sample, chunk.stop_sample)
            np.testing.assert_array_equal(chunk.data_uv, sample_values(idx, N_CH) * 0.5)
