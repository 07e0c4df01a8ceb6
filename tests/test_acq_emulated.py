"""The serial source against firmware_io's emulated devices on real pseudo-terminals.

The emulated device streams sample ``i`` with the value ``i`` counts, so the recorded value of every
sample says which device sample it is: the test checks that each one sits at its own place on the
timeline, and that the gaps cover exactly the samples the emulator's fault log says were lost.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from acquisition.serial_source import SerialSource
from firmware_io.devices import DEVICES
from firmware_io.emulator import EmulatedDevice
from firmware_io.faults import parse_faults


def index_source(kind: str, n_channels: int, duration_s: float, sfreq_hz: float):
    """µV chunks whose sample ``i`` is ``i`` counts on channel 0 and ``-i`` on channel 1."""
    uv = DEVICES[kind].uv_per_count
    n_total = int(duration_s * sfreq_hz)
    for start in range(0, n_total, 100):
        idx = np.arange(start, min(n_total, start + 100), dtype=np.float64)
        signs = np.where(np.arange(n_channels) % 2 == 0, 1.0, -1.0)[:, None]
        yield signs * idx[None, :] * uv


def warm_up(kind: str) -> None:
    """Compile the numba encoders and decoders before timing matters."""
    from firmware_io.firmware import make_firmware

    firmware = make_firmware(kind, DEVICES[kind].sfreq_hz, 2)
    encoded = firmware.encode(np.zeros((2, 4), np.int64), 0)
    DEVICES[kind].make_decoder().feed(encoded.data)


def lost_by_log(device: EmulatedDevice) -> set[int]:
    lost: set[int] = set()
    for rec in device.fault_log:
        if rec["samples_lost"] > 0:
            lost.update(range(rec["first_sample"], rec["first_sample"] + rec["samples_lost"]))
    return lost


def record_from(device: EmulatedDevice, kind: str, speed: float, timeout_s: float) -> tuple:
    source = SerialSource(device.port_path, kind, clock_speed=speed)
    chunks: list = []
    worker = threading.Thread(target=lambda: chunks.extend(source.chunks()), daemon=True)
    worker.start()
    deadline = time.monotonic() + timeout_s
    while not device.finished.is_set() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    source.close()
    worker.join(timeout=10)
    return source, chunks


def record_emulated(kind: str, n_channels: int, duration_s: float, port, speed: float, plan,
                    timeout_s: float) -> tuple:
    """Stream ``duration_s`` of :func:`index_source` from an emulated device on the pty ``port``
    with the fault ``plan`` and record it; return (device, source, chunks), the device stopped."""
    sfreq = DEVICES[kind].sfreq_hz
    device = EmulatedDevice(kind, index_source(kind, n_channels, duration_s, sfreq), sfreq,
                            str(port), speed=speed, faults=plan).start()
    try:
        source, chunks = record_from(device, kind, speed, timeout_s=timeout_s)
    finally:
        device.stop()
    return device, source, chunks


def check_exact(chunks: list, kind: str, lost: set[int], undated: int = 0) -> dict:
    """Data samples at their own device index, gaps over the logged losses and beyond them only
    the ``undated`` samples the source counted lost (reads after a reconnection that arrived as a
    backlog too late to date, which depends on how busy the host is), and a disconnection still
    going on at the stop (the host cannot know the emulated device's source ran out meanwhile)."""
    uv = DEVICES[kind].uv_per_count
    first_data = next(c for c in chunks if not c.gap)
    d0 = int(round(first_data.data_uv[0, 0] / uv)) - first_data.start_sample
    pos, data_n, gaps, at_stop = 0, 0, set(), set()
    for chunk in chunks:
        assert chunk.start_sample == pos
        pos = chunk.stop_sample
        idx = np.arange(chunk.start_sample, chunk.stop_sample) + d0
        if chunk.gap and chunk.reason.endswith("until the stop"):
            assert chunk is chunks[-1]  # handed on last, after every sample received
            at_stop.update(idx.tolist())
        if chunk.gap:
            gaps.update(idx.tolist())
        else:
            counts = np.rint(chunk.data_uv[0] / uv).astype(np.int64)
            np.testing.assert_array_equal(counts, idx)  # the right sample at the right place
            np.testing.assert_allclose(chunk.data_uv[1], -chunk.data_uv[0])
            data_n += chunk.n_samples
    last = pos - 1 + d0
    logged = {i for i in lost if d0 <= i <= last}
    assert logged <= gaps
    assert len(gaps - logged - at_stop) == undated
    return {"data": data_n, "gaps": len(gaps), "d0": d0, "last": last}


def test_ten_unplug_cycles_record_every_sample_at_its_place(tmp_path):
    kind, speed = "cyton", 10.0
    sfreq = DEVICES[kind].sfreq_hz
    plan = parse_faults("unplug=1s@6s/5s", seed=3)  # 10 unplugs in 52 s of device time
    warm_up(kind)
    device, source, chunks = record_emulated(kind, 2, 54.0, tmp_path / "ttyCYTON", speed,
                                             plan, timeout_s=30)
    stats = source.stats()
    assert stats["reconnects"] == 10
    result = check_exact(chunks, kind, lost_by_log(device), stats["samples_undated"])
    assert result["gaps"] > 10 * sfreq  # at least the 10 unplugged seconds
    # reconnection: the samples streamed while nobody had the port open are those between the
    # port's return and the reconnection
    back = [r for r in device.fault_log if r["fault"] == "no_reader" and r["time_s"] > 1.0]
    assert len(back) == 10
    for rec in back:
        assert rec["n_samples"] / (sfreq * speed) < 2.0


def test_corrupted_bytes_never_reach_the_recording(tmp_path):
    kind, speed = "calfwatch", 4.0
    plan = parse_faults("corrupt=0.001", seed=5)
    warm_up(kind)
    device, source, chunks = record_emulated(kind, 2, 12.0, tmp_path / "ttyCW", speed,
                                             plan, timeout_s=20)
    totals = device.totals()
    assert totals["samples_corrupted_undetected"] == 0
    lost = lost_by_log(device)
    assert lost, "the plan must have damaged some frames"
    stats = source.stats()
    result = check_exact(chunks, kind, lost, stats["samples_undated"])
    assert stats["decoder"]["crc_failures"] > 0
    assert sum(stats["samples_lost"].values()) == result["gaps"]
    assert stats["device"]["firmware"] == ".".join(str(v) for v in device.firmware.info().firmware)


@pytest.mark.parametrize("kind", ["calfwatch", "bitalino"])
def test_other_protocols_stream_through_an_unplug(tmp_path, kind):
    speed = 2.0
    n_ch = 2
    plan = parse_faults("unplug=0.5s@2s", seed=1)
    device, source, chunks = record_emulated(kind, n_ch, 5.0, tmp_path / f"tty{kind}", speed,
                                             plan, timeout_s=15)
    assert source.stats()["reconnects"] == 1
    assert sum(c.n_samples for c in chunks if not c.gap) > 0
    pos = 0
    for chunk in chunks:
        assert chunk.start_sample == pos
        pos = chunk.stop_sample


def test_a_stalled_link_is_reopened_and_its_burst_placed_without_an_invented_gap(tmp_path):
    # At N x real time a Cyton counter wraps every 1.02/N s of wall time, and the burst is placed
    # by the host clock to within half a wrap: 4 x leaves 128 ms for a loaded machine's jitter.
    kind, speed = "cyton", 4.0
    sfreq = DEVICES[kind].sfreq_hz
    plan = parse_faults("stall=10s@8s", seed=1)  # 2.5 s of wall time without a byte, then all of it
    warm_up(kind)
    device = EmulatedDevice(kind, index_source(kind, 2, 30.0, sfreq), sfreq,
                            str(tmp_path / "ttySTALL"), speed=speed, faults=plan).start()
    try:
        source = SerialSource(device.port_path, kind, clock_speed=speed, stall_s=0.6)
        chunks: list = []
        worker = threading.Thread(target=lambda: chunks.extend(source.chunks()), daemon=True)
        worker.start()
        assert device.finished.wait(30)
        time.sleep(0.5)
        source.close()
        worker.join(10)
    finally:
        device.stop()
    stats = source.stats()
    assert stats["stalls"] >= 1 and stats["reconnects"] >= 1
    check_exact(chunks, kind, lost_by_log(device), stats["samples_undated"])


def test_device_reset_gap_is_estimated_from_host_time(tmp_path):
    kind, speed = "calfwatch", 2.0
    sfreq = DEVICES[kind].sfreq_hz
    plan = parse_faults("reset@2s", seed=1)
    warm_up(kind)
    device, source, chunks = record_emulated(kind, 2, 5.0, tmp_path / "ttyRESET", speed,
                                             plan, timeout_s=15)
    logged = sum(r["samples_lost"] for r in device.fault_log if r["fault"] == "reset")
    gaps = [c for c in chunks if c.gap]
    assert [g.reason for g in gaps] == ["device reset"]
    # the device cannot say how long it was down: host time measures it, to a few milliseconds
    assert abs(gaps[0].n_samples - logged) <= 0.005 * sfreq * speed
    assert source.stats()["gaps_estimated"] == 1
