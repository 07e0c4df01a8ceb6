"""Decoders: round trips in any chunking, damage never yields a bad frame, resync, counter wraps."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware_io import bitalino, calfwatch_protocol, cyton
from firmware_io.codec import crc4_bitalino
from tests.fw_streams import KINDS, feed_chunked, make_decoder, make_stream

CONFIRM = 3  # frames the Cyton and BITalino decoders need to confirm an alignment
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module", autouse=True)
def _compile_kernels():
    for kind in KINDS:  # numba compiles (or loads its cache) once, outside hypothesis' timing
        dec = make_decoder(kind, 4)
        dec.feed(make_stream(kind, 5, np.random.default_rng(0), 4).data)


@pytest.mark.parametrize("kind", KINDS)
@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n_frames=st.integers(1, 60),
       cuts=st.lists(st.integers(0, 4000), max_size=30), n_channels=st.integers(1, 6))
def test_round_trip_any_chunking(kind, seed, n_frames, cuts, n_channels):
    s = make_stream(kind, n_frames, np.random.default_rng(seed), n_channels)
    dec = make_decoder(kind, s.n_channels)
    b = feed_chunked(dec, s.data, cuts)
    if kind in ("cyton", "bitalino") and n_frames < CONFIRM:
        # too few frames to confirm the alignment: nothing is emitted, the bytes are skipped
        assert b.n_samples == 0 and dec.stats.bytes_skipped == len(s.data)
        return
    np.testing.assert_array_equal(b.counts, s.counts)
    np.testing.assert_array_equal(b.sample_index, np.arange(s.counts.shape[1]))
    assert dec.stats.crc_failures == dec.stats.sequence_gaps == dec.stats.samples_missing == 0
    assert dec.stats.bytes_skipped == (0 if kind == "calfwatch" else s.lead)  # 0x00 is a delimiter


@pytest.mark.parametrize("kind", KINDS)
def test_one_byte_at_a_time_equals_whole(kind):
    s = make_stream(kind, 40, np.random.default_rng(3), 3)
    whole = feed_chunked(make_decoder(kind, 3), s.data, [])
    single = feed_chunked(make_decoder(kind, 3), s.data, list(range(len(s.data))))
    np.testing.assert_array_equal(single.counts, whole.counts)
    np.testing.assert_array_equal(single.sample_index, whole.sample_index)


def _damage(data: bytes, positions: list[int], xors: list[int], delete: bool) -> bytes:
    buf = bytearray(data)
    if delete:
        del buf[positions[0]]
    else:
        for p, x in zip(positions, xors, strict=False):
            buf[p] ^= x
    return bytes(buf)


@pytest.mark.parametrize("kind", KINDS)
@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), frame=st.integers(4, 25), offsets=st.lists(
    st.integers(0, 10_000), min_size=1, max_size=3), xors=st.lists(st.integers(1, 255), min_size=3,
    max_size=3), delete=st.booleans(), cuts=st.lists(st.integers(0, 4000), max_size=10))
def test_damage_in_one_frame_costs_at_most_that_frame_and_the_next(kind, seed, frame, offsets, xors,
                                                                  delete, cuts):
    s = make_stream(kind, 30, np.random.default_rng(seed), 3)
    a, b_ = int(s.starts[frame]), int(s.starts[frame + 1])
    positions = sorted({a + o % (b_ - a) for o in offsets})
    data = _damage(s.data, positions, xors, delete)
    dec = make_decoder(kind, s.n_channels)
    out = feed_chunked(dec, data, cuts)
    frame_of = s.frame_of_sample()
    # the first decoded sample's own counter places it (counters start at 0 and, for the short
    # counters, the first frames are decoded unless damaged)
    idx = out.sample_index + (out.counter[0] - out.sample_index[0] if out.n_samples else 0)
    if kind == "ascii":  # no checksum: a damaged counter column misplaces its own line only
        tail = 30 - frame - 2
        assert frame + tail <= out.n_samples <= 31
        np.testing.assert_array_equal(out.counts[:, :frame], s.counts[:, :frame])
        np.testing.assert_array_equal(out.counter[:frame], np.arange(frame))
        np.testing.assert_array_equal(out.counts[:, -tail:], s.counts[:, -tail:])
        np.testing.assert_array_equal(out.counter[-tail:], np.arange(frame + 2, 30))
        return
    assert np.all(np.diff(idx) > 0)
    assert idx.size == 0 or idx[-1] < s.counts.shape[1]
    got_frames = set(frame_of[idx].tolist())
    missing = set(range(30)) - got_frames
    assert missing <= {frame, frame + 1}, missing
    if kind == "calfwatch":  # only a damaged delimiter spills into the next frame
        assert missing <= {frame} or s.starts[frame + 1] - 1 in positions
    clean = frame_of[idx] != frame
    np.testing.assert_array_equal(out.counts[:, clean], s.counts[:, idx[clean]])
    if kind in ("calfwatch",):
        assert missing  # a CRC-16 catches every burst this short
        assert frame not in got_frames




def test_bitalino_byte_deleted_anywhere_costs_at_most_two_frames_and_keeps_the_timeline():
    """Every byte of frame 20 deleted, over 200 streams: some deletions leave a misaligned frame whose
    CRC-4 and sequence number pass, which must not be taken for a jump in the count."""
    frame, fooled = 20, 0
    for seed in range(200):
        s = make_stream("bitalino", 30, np.random.default_rng(seed), 3)
        a, b_ = int(s.starts[frame]), int(s.starts[frame + 1])
        for pos in range(a, b_):
            data = _damage(s.data, [pos], [], delete=True)
            fooled += crc4_bitalino(data[a:b_]) == data[b_ - 1] & 0x0F
            out = feed_chunked(make_decoder("bitalino", 3), data, [])
            idx = out.sample_index + (out.counter[0] - out.sample_index[0])
            kept = np.setdiff1d(np.arange(30), [frame, frame + 1])
            assert np.isin(kept, idx).all() and np.isin(idx, np.arange(30)).all(), (seed, pos, idx)
            clean = idx != frame  # the damaged frame itself passes 1 time in 256 with wrong values
            np.testing.assert_array_equal(out.counts[:, clean], s.counts[:, idx[clean]])
    assert fooled >= 10  # the sweep does reach misaligned frames that pass the CRC-4
@pytest.mark.parametrize("kind", ["cyton", "bitalino", "ascii", "calfwatch"])
def test_gap_across_the_counter_wrap_is_counted(kind):
    modulus = {"cyton": 256, "bitalino": 16, "ascii": None, "calfwatch": 2**32}[kind]
    start = (modulus - 5) if modulus else 1000
    if kind == "calfwatch":
        start = 2**32 - 7
    skip = (6, 7, 8)
    s = make_stream(kind, 20, np.random.default_rng(1), 2, counter0=start, skip=skip)
    dec = make_decoder(kind, 2)
    out = feed_chunked(dec, s.data, [17, 40])
    if kind == "calfwatch":
        lost = int(make_stream(kind, 20, np.random.default_rng(1), 2).frame_len[list(skip)].sum())
    else:
        lost = len(skip)
    assert dec.stats.samples_missing == lost
    assert dec.stats.sequence_gaps == 1
    assert dec.stats.resets == 0
    sent = np.concatenate([np.arange(f, f + n) for f, n in zip(s.frame_first, s.frame_len,
                                                                strict=True)])
    np.testing.assert_array_equal(out.sample_index, sent)
    gap = [e for e in out.events if e["kind"] == "gap"]
    assert gap[0]["samples_missing"] == lost and gap[0]["at_sample"] == sent[np.argmax(np.diff(sent)) ] + 1


def test_cyton_gap_of_half_a_wrap_is_flagged_ambiguous():
    skip = tuple(range(3, 3 + 130))
    s = make_stream("cyton", 140, np.random.default_rng(2), skip=skip)
    dec = make_decoder("cyton", 8)
    feed_chunked(dec, s.data, [])
    assert dec.stats.samples_missing == 130
    assert dec.stats.ambiguous_gaps == 1


def test_calfwatch_boot_id_change_is_a_reset_not_a_gap():
    rng = np.random.default_rng(0)
    c = rng.integers(-100, 100, (2, 8))
    data = (b"\x00" + calfwatch_protocol.encode_data(5000, 0, 1, 0, c[:, :4])
            + calfwatch_protocol.encode_data(0, 0, 2, 0, c[:, 4:]))
    dec = calfwatch_protocol.CalfwatchDecoder()
    b = dec.feed(data)
    assert dec.stats.resets == 1 and dec.stats.samples_missing == 0
    np.testing.assert_array_equal(b.sample_index, np.arange(8))
    assert [e["kind"] for e in b.events] == ["reset"]


def test_cyton_damaged_counter_is_dropped_not_a_double_gap():
    s = make_stream("cyton", 20, np.random.default_rng(4))
    data = bytearray(s.data)
    data[int(s.starts[10]) + 1] ^= 0x40
    dec = make_decoder("cyton", 8)
    out = feed_chunked(dec, bytes(data), [])
    assert dec.stats.counter_errors == 1
    assert dec.stats.samples_missing == 1
    np.testing.assert_array_equal(out.sample_index, np.delete(np.arange(20), 10))


@pytest.mark.parametrize("kind", ["cyton", "bitalino"])
def test_a_new_link_is_not_checked_against_the_old_links_counters(kind):
    # the device ran on while unplugged: its first counter on the new link may equal the last one
    # of the old link (a whole number of wraps later), which inside one link means a damaged frame
    modulus = {"cyton": 256, "bitalino": 16}[kind]
    old = make_stream(kind, 12, np.random.default_rng(5), 2)
    new = make_stream(kind, 12, np.random.default_rng(6), 2, counter0=11 % modulus)
    dec = make_decoder(kind, 2)
    before = feed_chunked(dec, old.data, [5, 33])  # fed and flushed
    dec.new_connection()
    after = feed_chunked(dec, new.data, [7])
    assert before.n_samples == 12
    assert after.n_samples == 12, "the new link's first frame was taken for a damaged one"
    assert dec.stats.counter_errors == 0 and dec.stats.crc_failures == 0
    np.testing.assert_array_equal(after.counts, new.counts)


def test_bitalino_crc4_matches_the_vendor_bit_loop():
    # the vendor's reference: shift each bit in, xor 0x03 when bit 4 is set, over all bytes with the
    # CRC nibble zeroed; an independent formulation via polynomial long division over GF(2)
    rng = np.random.default_rng(5)
    for _ in range(200):
        frame = bytes(rng.integers(0, 256, int(rng.integers(3, 9)), dtype=np.uint8))
        bits = "".join(f"{b:08b}" for b in frame[:-1] + bytes([frame[-1] & 0xF0]))
        reg = int(bits, 2) << 0
        poly = 0b10011
        for shift in range(reg.bit_length() - 5, -1, -1):
            if reg >> (shift + 4) & 1:
                reg ^= poly << shift
        assert crc4_bitalino(frame) == reg & 0xF


def test_scales():
    assert cyton.uv_per_count(24) == pytest.approx(0.02235, rel=1e-3)
    dec = bitalino.BitalinoDecoder(1)
    assert dec.to_uv(np.array([[512.0]]))[0, 0] == 0.0
    assert dec.to_uv(np.array([[1023.0]]))[0, 0] == pytest.approx(
        (1023 / 1024 - 0.5) * 3.3 / 1009 * 1e6)


def test_calfwatch_many_short_control_frames_in_one_read():
    acks = b"".join(calfwatch_protocol.encode_ack(0x13, k) for k in range(200))
    min_frame = calfwatch_protocol.wire(bytes([0x03]))  # the shortest frame that passes its CRC
    dec = calfwatch_protocol.CalfwatchDecoder()
    dec.feed(b"\x00" + acks + min_frame * 300)
    assert [a["seq"] for a in dec.acks] == list(range(200))
    assert dec.stats.control_frames == 500


def test_ascii_plain_sketch_output_with_a_banner_and_a_time_column():
    from firmware_io.ascii_lines import AsciiDecoder

    text = b"garbage\r\nMyoWare ready\r\n512\r\n530\r\n-7\r\n1.5e2\r\nnan\r\n12 13\r\n498\r\n"
    dec = AsciiDecoder(uv_per_count=2.0, offset_counts=512)
    b = dec.feed(text)
    assert b.counts[0].tolist() == [512, 530, -7, 150, 498]
    assert dec.to_uv(b.counts)[0].tolist() == [0, 36, -1038, -724, -28]
    assert b.counter.tolist() == [-1] * 5 and dec.stats.crc_failures == 3  # banner, nan, 2 fields
    timed = AsciiDecoder(first_column="time")
    t = timed.feed(b"\n10.0\t5\n12.0\t6\n14.0\t7\n")
    assert t.counter.tolist() == [10, 12, 14] and t.counts[0].tolist() == [5, 6, 7]
