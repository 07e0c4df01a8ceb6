"""Numba kernel of the calfwatch-protocol decoder: COBS frames between 0x00 bytes, CRC-16 checked."""

from __future__ import annotations

import numpy as np
from numba import njit

from firmware_io._resync_numba import next_byte


def _crc16_table() -> np.ndarray:
    table = np.zeros(256, np.uint16)
    for i in range(256):
        crc = i << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
        table[i] = crc
    return table


CRC16_TABLE = _crc16_table()


@njit(cache=True)
def _cobs_decode(buf, start, stop, out):
    """Decode buf[start:stop] into out; return the decoded length or -1 when invalid."""
    i = start
    o = 0
    while i < stop:
        code = np.int64(buf[i])
        if code == 0 or i + code > stop:
            return -1
        for t in range(1, code):
            out[o] = buf[i + t]
            o += 1
        i += code
        if code < 255 and i < stop:
            out[o] = 0
            o += 1
    return o


@njit(cache=True)
def _crc16(data, n, table):
    crc = np.int64(0xFFFF)
    for k in range(n):
        crc = ((crc << 8) & 0xFFFF) ^ np.int64(table[((crc >> 8) ^ np.int64(data[k])) & 0xFF])
    return crc


@njit(cache=True)
def _crc_ok(tmp, m, table):
    """True when the frame tmp[:m] ends with the CRC-16 of what precedes it (big-endian)."""
    crc = (np.int64(tmp[m - 2]) << 8) | np.int64(tmp[m - 1])
    return _crc16(tmp, m - 2, table) == crc


@njit(cache=True)
def _take_data(tmp, m, expect_nch, nf, nv, f_counter, f_ts, f_boot, f_status, f_ns, f_nch, samples):
    """Store the data frame tmp[:m] as frame ``nf``, its values from ``samples[nv]`` on.

    Returns the value count after it, or -1 (nothing stored) when the frame is malformed or holds
    another channel count than ``expect_nch`` (0: any).
    """
    if m < 16:
        return -1
    nch = np.int64(tmp[12])
    ns = np.int64(tmp[13])
    if not (nch > 0 and ns > 0 and m == 16 + 3 * nch * ns) or not (expect_nch == 0 or nch == expect_nch):
        return -1
    f_counter[nf] = (np.int64(tmp[1]) | (np.int64(tmp[2]) << 8)
                     | (np.int64(tmp[3]) << 16) | (np.int64(tmp[4]) << 24))
    f_ts[nf] = (np.int64(tmp[5]) | (np.int64(tmp[6]) << 8)
                | (np.int64(tmp[7]) << 16) | (np.int64(tmp[8]) << 24))
    f_boot[nf] = np.int64(tmp[9]) | (np.int64(tmp[10]) << 8)
    f_status[nf] = tmp[11]
    f_ns[nf] = ns
    f_nch[nf] = nch
    p = 14
    for _ in range(ns * nch):
        v = np.int64(tmp[p]) | (np.int64(tmp[p + 1]) << 8) | (np.int64(tmp[p + 2]) << 16)
        if v >= 0x800000:
            v -= 0x1000000
        samples[nv] = v
        nv += 1
        p += 3
    return nv


@njit(cache=True)
def _frame_fields(max_frames):
    """Per-frame outputs: counter, timestamp (µs), boot id, status, samples, channels."""
    return (np.empty(max_frames, np.int64), np.empty(max_frames, np.int64),
            np.empty(max_frames, np.int64), np.empty(max_frames, np.uint8),
            np.empty(max_frames, np.int64), np.empty(max_frames, np.int64))


@njit(cache=True)
def scan_calfwatch(buf, synced, final, expect_nch, max_encoded, table):
    """Scan ``buf`` for complete frames.

    Returns (consumed, synced, skipped, crc_failures, n_frames, f_counter, f_ts, f_boot, f_status,
    f_ns, f_nch, samples, n_values, n_ctrl, ctrl_buf, ctrl_off, ctrl_len).
    """
    n = buf.shape[0]
    f_counter, f_ts, f_boot, f_status, f_ns, f_nch = _frame_fields(n // 17 + 1)
    samples = np.empty(n // 3 + 1, np.int64)
    ctrl_buf = np.empty(n + 1, np.uint8)
    max_ctrl = n // 4 + 1  # the shortest valid frame is 3 bytes, 5 on the wire
    ctrl_off = np.empty(max_ctrl, np.int64)
    ctrl_len = np.empty(max_ctrl, np.int64)
    tmp = np.empty(n + 1, np.uint8)
    i = 0
    skipped = 0
    crc_fail = 0
    nf = 0
    nv = 0
    nc = 0
    cpos = 0
    while i < n:
        j = next_byte(buf, i, n, 0)
        if j == n:  # no delimiter yet
            rest = n - i
            if rest > max_encoded or final:
                skipped += rest
                if synced and final and rest > 0:
                    crc_fail += 1
                synced = synced and rest <= max_encoded
                i = n
            break
        seg = j - i
        if seg == 0:
            synced = True
            i = j + 1
            continue
        m = _cobs_decode(buf, i, j, tmp)
        ok = m >= 3 and seg <= max_encoded and _crc_ok(tmp, m, table)
        if ok and tmp[0] == 1:
            got = _take_data(tmp, m, expect_nch, nf, nv, f_counter, f_ts, f_boot, f_status, f_ns,
                             f_nch, samples)
            ok = got >= 0
            if ok:
                expect_nch = f_nch[nf]
                nv = got
                nf += 1
        elif ok:
            ctrl_off[nc] = cpos
            ctrl_len[nc] = m - 2
            ctrl_buf[cpos : cpos + m - 2] = tmp[: m - 2]
            cpos += m - 2
            nc += 1
        if not ok:
            crc_fail += 1 if synced else 0
            skipped += seg + 1
        synced = True
        i = j + 1
    return (i, synced, skipped, crc_fail, nf, f_counter, f_ts, f_boot, f_status, f_ns, f_nch,
            samples, nv, nc, ctrl_buf, ctrl_off, ctrl_len)
