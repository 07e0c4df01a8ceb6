"""Emulated devices on a real pseudo-terminal, read with pyserial: samples arrive, losses are logged."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from firmware_io import ascii_lines, bitalino, calfwatch_protocol, cyton
from firmware_io.devices import DEVICES
from firmware_io.emulator import EmulatedDevice
from firmware_io.errors import FaultSpecError, PortError
from firmware_io.faults import parse_faults
from tests.fw_client import read_device
from tests.fw_streams import KINDS, make_decoder, make_stream

RATE = {"calfwatch": 2000.0, "cyton": 250.0, "bitalino": 1000.0, "ascii": 500.0}
CHANNELS = {"calfwatch": 2, "cyton": 8, "bitalino": 3, "ascii": 2}
ASCII_UV = 5.0e6 / 1024 / 200  # the emulated sketch, as docs/protocol.md states it


@pytest.fixture(scope="module", autouse=True)
def _compile_kernels():
    for kind in KINDS:
        make_decoder(kind, 3).feed(make_stream(kind, 5, np.random.default_rng(0), 3).data)


def _source(kind: str, seconds: float, seed: int = 0) -> np.ndarray:
    n = int(RATE[kind] * seconds)
    return np.random.default_rng(seed).normal(0.0, 60.0, (CHANNELS[kind], n))


def _decoder(kind: str):
    if kind == "bitalino":
        return bitalino.BitalinoDecoder(CHANNELS[kind])
    if kind == "ascii":
        return ascii_lines.AsciiDecoder(uv_per_count=ASCII_UV, offset_counts=512)
    return DEVICES[kind].make_decoder()


def _start(kind: str) -> bytes:
    if kind == "bitalino":
        return bitalino.rate_command(RATE[kind]) + bitalino.start_command(CHANNELS[kind])
    if kind == "calfwatch":
        return calfwatch_protocol.encode_command("info", 1) + calfwatch_protocol.encode_command("start", 2)
    return DEVICES[kind].start_command


def _run(kind, src, tmp_path, faults="", speed=20.0, seed=1):
    chunks = [src[:, i : i + 97] for i in range(0, src.shape[1], 97)]
    dev = EmulatedDevice(kind, chunks, RATE[kind], str(tmp_path / "port"), speed=speed,
                         faults=parse_faults(faults, seed=seed))
    dec = _decoder(kind)
    with dev:
        batch, reconnects = read_device(dev, dec, _start(kind), DEVICES[kind].baudrate)
    return dev, dec, batch, reconnects


@pytest.mark.parametrize("kind", KINDS)
def test_pyserial_reads_the_source_quantised(kind, tmp_path):
    src = _source(kind, 1.0)
    dev, dec, batch, _ = _run(kind, src, tmp_path)
    totals = dev.totals()
    assert totals["samples_produced"] == src.shape[1] == batch.n_samples
    assert totals["samples_lost"] == 0 and dec.stats.crc_failures == 0
    np.testing.assert_array_equal(batch.sample_index, np.arange(src.shape[1]))
    step = {"calfwatch": 0.1, "cyton": cyton.uv_per_count(), "ascii": ASCII_UV,
            "bitalino": 3.3e6 / 1009 / 1024}[kind]
    err = np.abs(dec.to_uv(batch.counts) - src)
    assert err.max() <= step / 2 + 1e-9
    assert not os.path.exists(tmp_path / "port")  # the link is removed on stop


def _before_a_whole_wrap_lost(lost: np.ndarray, modulus: int) -> int:
    """Samples before the first run of losses a counter of ``modulus`` cannot count (a whole wrap
    or more: the emulator drops its backlog when a host starved of CPU stops reading)."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], lost.astype(np.int8), [0]])))
    for a, b in zip(edges[::2], edges[1::2], strict=True):
        if b - a >= modulus:
            return int(a)
    return int(lost.size)


@pytest.mark.parametrize("kind", ["calfwatch", "cyton", "bitalino"])
def test_damage_and_drops_lose_exactly_what_the_log_says(kind, tmp_path):
    src = _source(kind, 2.0, seed=2)
    faults = "corrupt=0.0005,drop_bytes=0.0003,drop_frames=0.004,garbage=48"
    if kind == "bitalino":
        # a deleted byte misaligns the stream, and a CRC-4 passes 1 misaligned frame in 16 (with a
        # matching sequence number 1 in 256), so the log cannot always say what the decoder kept
        faults = "corrupt=0.0005,drop_frames=0.004,garbage=48"
    dev, dec, batch, _ = _run(kind, src, tmp_path, faults=faults, seed=7)
    modulus_of = {"cyton": 256, "bitalino": 16}
    log = dev.fault_log
    lost = np.zeros(src.shape[1], bool)
    for rec in log:
        lost[rec["first_sample"] : rec["first_sample"] + rec["samples_lost"]] = True
    totals = dev.totals()
    n = src.shape[1]
    assert totals["samples_lost"] == lost.sum() > 0
    assert totals["samples_delivered"] == n - lost.sum()
    # place what the decoder kept on the device timeline: its first sample by its values (a short
    # counter says nothing of the wraps before it), the rest by the decoder's own count
    quantised = dev.firmware.quantise(src)
    offset = None
    for j in range(min(8, batch.n_samples)):  # the first one whose values were not damaged
        same = np.flatnonzero((quantised == batch.counts[:, j : j + 1]).all(axis=0))
        if same.size == 1:
            offset = int(same[0] - batch.sample_index[j])
            break
    assert offset is not None, "none of the decoder's first samples is one the device sent"
    got = batch.sample_index + offset
    n_check = n if kind == "calfwatch" else _before_a_whole_wrap_lost(lost, modulus_of[kind])
    got, kept = got[got < n_check], got < n_check
    received = np.zeros(n_check, bool)
    received[got] = True
    lost = lost[:n_check]
    both = np.flatnonzero(received & lost)
    assert not both.size, (both[:10], [(r["fault"], r["first_sample"], r["samples_lost"])
                                       for r in log if abs(r["first_sample"] - both[0]) < 300])
    extra = np.flatnonzero(~received & ~lost)  # lost by the decoder although the link delivered
    if kind == "calfwatch":
        assert extra.size == 0  # self-delimiting frames with a CRC-16: exactly what the log says
    else:
        # without delimiters a resynchronisation needs the next frames intact: a second fault
        # inside that window costs the frame before it, and only then (docs/protocol.md)
        faults_at = np.array(sorted(r["first_sample"] for r in log
                                    if r["samples_lost"] or "detected" in r))
        for s in extra[extra < n_check - 4]:
            assert np.any((faults_at > s) & (faults_at <= s + 3)), (s, faults_at)
    if n_check == n:  # the decoder's own count of the loss agrees (not after the last frame)
        assert dec.stats.samples_missing == (~received[: got[-1]]).sum()
    damaged_ok = np.zeros(src.shape[1], bool)
    for rec in log:
        if rec.get("detected") is False:
            damaged_ok[rec["first_sample"] : rec["first_sample"] + rec["n_samples"]] = True
    clean = ~damaged_ok[batch.sample_index + offset] & kept
    expected = quantised[:, batch.sample_index[clean] + offset]
    np.testing.assert_array_equal(batch.counts[:, clean], expected)
    assert {r["fault"] for r in log} >= {"garbage", "drop_frames"}


@pytest.mark.parametrize("kind", ["calfwatch", "cyton"])
def test_the_faults_follow_the_seed_not_the_pace(kind, tmp_path):
    """The same plan and seed damage the same frames and bytes whatever the speed, so a run that
    failed can be replayed (the clock slices the stream into different blocks at each speed)."""
    src = _source(kind, 2.0, seed=4)
    faults = "corrupt=0.0005,drop_bytes=0.0003,drop_frames=0.004,garbage=48"
    runs = []
    for speed in (20.0, 3.0):
        folder = tmp_path / f"x{speed:g}"
        folder.mkdir()
        dev, _, batch, _ = _run(kind, src, folder, faults=faults, speed=speed, seed=7)
        log = sorted((r["first_sample"], r["fault"], r["samples_lost"], r.get("bytes", []))
                     for r in dev.fault_log)
        runs.append((log, batch))
    (log_a, batch_a), (log_b, batch_b) = runs
    assert {f[1] for f in log_a} >= {"garbage", "drop_frames", "corrupt", "drop_bytes"}
    assert log_a == log_b
    np.testing.assert_array_equal(batch_a.counts, batch_b.counts)


def test_unplug_reset_and_stall_are_accounted_for(tmp_path):
    kind = "calfwatch"
    src = _source(kind, 3.0, seed=3)
    dev, dec, batch, reconnects = _run(kind, src, tmp_path,
                                       faults="unplug=0.3s@1s,reset@2s,stall=0.2s@2.5s", speed=10)
    assert reconnects >= 1
    totals = dev.totals()
    causes = totals["lost_by_cause"]
    assert causes.get("unplug", 0) > 0 and causes.get("reset", 0) > 0
    assert "stall" not in causes  # a stall delays, it does not lose
    assert batch.n_samples + totals["samples_lost"] == src.shape[1], dev.fault_log
    assert dec.stats.resets == 1
    # before the reset the 32-bit counter tells exactly what the unplug cost
    gaps = [e for e in batch.events if e["kind"] == "gap"]
    before_reset = sum(r["samples_lost"] for r in dev.fault_log
                       if r["fault"] in ("unplug", "no_reader"))
    assert sum(g["samples_missing"] for g in gaps) == before_reset, (gaps, dev.fault_log)
    assert any(r["fault"] == "stall" for r in dev.fault_log)


def test_cyton_answers_reset_and_defaults(tmp_path):
    import serial

    dev = EmulatedDevice("cyton", [np.zeros((8, 10))], 250.0, str(tmp_path / "port"))
    with dev:
        ser = serial.Serial(dev.port_path, 115200, timeout=0.5)
        ser.read(200)  # power-up banner
        ser.write(b"v")
        assert ser.read_until(b"$$$").endswith(b"$$$")
        ser.write(b"d")
        assert b"default" in ser.read_until(b"$$$")
        ser.close()


def test_bitalino_version_and_calfwatch_ping(tmp_path):
    import serial

    dev = EmulatedDevice("bitalino", [np.zeros((2, 10))], 1000.0, str(tmp_path / "b"))
    with dev:
        ser = serial.Serial(dev.port_path, 115200, timeout=0.5)
        ser.write(bytes([bitalino.CMD_VERSION]))
        assert ser.readline().startswith(b"BITalino")
        ser.close()
    dev = EmulatedDevice("calfwatch", [np.zeros((2, 10))], 2000.0, str(tmp_path / "c"))
    with dev:
        ser = serial.Serial(dev.port_path, 921600, timeout=0.5)
        ser.write(calfwatch_protocol.encode_command("ping", 9)
                  + calfwatch_protocol.encode_command("set_rate", 10, sfreq_hz=500))
        dec = calfwatch_protocol.CalfwatchDecoder()
        deadline = time.monotonic() + 10
        while len(dec.acks) < 2 and time.monotonic() < deadline:
            dec.feed(ser.read(ser.in_waiting or 1))
        ser.close()
    assert [(a["seq"], a["result"]) for a in dec.acks] == [
        (9, calfwatch_protocol.ACK_OK), (10, calfwatch_protocol.ACK_BAD_ARGUMENT)]


@pytest.mark.parametrize("spec, words", [
    ("corrupt=2", "between 0 and 1"), ("stall=5s", "@TIME"), ("wobble=1", "unknown fault"),
    ("unplug=1s@x", "not a time"), ("unplug=5s@1s/2s", "repeat period"), ("garbage=x", "byte count"),
])
def test_bad_fault_specs_say_what_is_wrong(spec, words):
    with pytest.raises(FaultSpecError, match=words):
        parse_faults(spec)


def test_fault_spec_example_parses():
    plan = parse_faults("corrupt=0.001,drop_bytes=0.0005,drop_frames=0.001,stall=30s@5s,"
                        "reset@120s,unplug=5s@60s/300s,garbage=64")
    assert plan.unplugs[0].occurrences(700) == [(60, 5), (360, 5), (660, 5)]
    assert plan.stalls[0].at_s == 5 and plan.stalls[0].duration_s == 30
    assert plan.garbage_bytes == 64 and plan.drop_byte_rate == 0.0005


def test_port_in_a_missing_folder_is_a_one_line_error(tmp_path):
    dev = EmulatedDevice("cyton", [np.zeros((8, 1))], 250.0, str(tmp_path / "nope" / "port"))
    with pytest.raises(PortError, match="does not exist"):
        dev.start()


@pytest.mark.parametrize(("damaged", "verdict"), [
    (b"1234,1\n5\r\n", "undetected"),  # a byte damaged into a newline: "1234,1" is a line of its own
    (b"12\n4,115\r\n", "undetected"),  # the part after it has a line's fields (its counter may fail)
    (b"1234,125\r\n", "undetected"),  # a digit for a digit
    (b"1234,1x5\r\n", "lost"),  # not a number
    (b"1234,1,5\r\n", "lost"),  # a field too many
])
def test_ascii_damage_is_judged_as_the_host_reads_lines(damaged, verdict):
    """The emulator's verdict on a damaged line: whenever the host's decoder takes a wrong value
    from it, the verdict is undetected damage, never a loss the host would have seen."""
    from firmware_io.firmware import AsciiFirmware

    assert AsciiFirmware(500.0, 1).damage(b"1234,115\r\n", damaged) == verdict
    dec = ascii_lines.AsciiDecoder(first_column="counter")
    lines = [b"%d,%d\r\n" % (c, 100 + c % 7) for c in range(1228, 1241)]
    lines[1234 - 1228] = damaged
    got = dec.feed(b"".join(lines))
    taken = dict(zip(got.counter.tolist(), got.counts[0].tolist(), strict=True))
    wrong = {c: v for c, v in taken.items() if not 1228 <= c <= 1240 or v != 100 + c % 7}
    assert bool(wrong) <= (verdict == "undetected"), wrong
