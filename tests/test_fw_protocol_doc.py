"""The test vectors of docs/protocol.md decode to the values the document states."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from firmware_io.calfwatch_protocol import CalfwatchDecoder, unwire
from firmware_io.codec import cobs_decode, cobs_encode, crc16_ccitt

DOC = Path(__file__).resolve().parents[1] / "docs" / "protocol.md"


def _vectors() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    return dict(re.findall(r"^vector (\w+):\s*(.+)$", text, flags=re.M))


def _hex(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


def _decode_all(wire: bytes):
    dec = CalfwatchDecoder()
    batch = dec.feed(wire)
    return dec, batch


def test_crc_check_value_and_cobs_example_as_documented():
    vec = _vectors()
    data, crc = vec["crc_check"].split("-> CRC-16/CCITT-FALSE")
    assert crc16_ccitt(_hex(data)) == int(crc.replace(" ", ""), 16) == 0x29B1
    raw, enc = (_hex(s) for s in vec["cobs_example"].split("->"))
    assert cobs_encode(raw) == enc
    assert cobs_decode(enc) == raw


def test_data1_decodes_as_written():
    dec, b = _decode_all(_hex(_vectors()["data1"]))
    assert dec.stats.crc_failures == 0
    np.testing.assert_array_equal(b.counts, [[1, -1], [256, -8388608]])
    np.testing.assert_array_equal(b.counter, [0, 1])
    assert dec.timestamps_us.tolist() == [0]
    assert b.status.tolist() == [0, 0]


def test_data2_counter_at_wrap_status_flags():
    dec, b = _decode_all(_hex(_vectors()["data2"]))
    np.testing.assert_array_equal(b.counts, [[100], [-100]])
    assert b.counter.tolist() == [0xFFFFFFFF]
    assert dec.timestamps_us.tolist() == [123456]
    assert b.status.tolist() == [0x05]


def test_info_vector():
    dec, _ = _decode_all(_hex(_vectors()["info"]))
    info = dec.info
    assert info is not None
    assert info.device_id == 0xCA1F0001
    assert info.firmware == (1, 2, 3)
    assert info.sfreq_hz == 2000.0
    assert (info.n_channels, info.resolution_bits, info.boot_id) == (2, 24, 0x1234)
    assert info.uv_per_count == pytest.approx(0.1, rel=1e-7)
    assert info.sites == ("left medial gastrocnemius", "right")


def test_command_and_ack_vectors():
    vec = _vectors()
    start = unwire(_hex(vec["start"]).strip(b"\x00"))
    assert start == bytes([0x10, 0x01])
    rate = unwire(_hex(vec["set_rate"]).strip(b"\x00"))
    assert rate[:2] == bytes([0x12, 0x02])
    assert int.from_bytes(rate[2:6], "little") == 1_000_000
    dec, _ = _decode_all(_hex(vec["ack"]))
    assert dec.acks == [{"kind": "ack", "command": 0x10, "seq": 1, "result": 0}]


def test_a_flipped_bit_in_a_vector_is_rejected():
    wire = bytearray(_hex(_vectors()["data1"]))
    wire[12] ^= 0x01
    dec, b = _decode_all(b"\x00" + bytes(wire))  # a device sends 0x00 before its first frame
    assert b.n_samples == 0
    assert dec.stats.crc_failures == 1
