"""Numba kernel of the BITalino (r)evolution decoder: CRC-4 and 4-bit sequence in the last byte."""

from __future__ import annotations

import numpy as np
from numba import njit

from firmware_io._resync_numba import CONFIRM, MAX_STEP, continues, make_confirmed

SLACK = 2  # bytes a damaged frame between two intact ones may have lost or gained


@njit(cache=True)
def crc_ok(buf, i, size):
    """True when the CRC-4 in the low nibble of the frame's last byte matches."""
    x = np.int64(0)
    for k in range(size):
        byte = np.int64(buf[i + k])
        if k == size - 1:
            byte &= 0xF0
        for bit in range(7, -1, -1):
            x <<= 1
            if x & 0x10:
                x ^= 0x03
            x ^= (byte >> bit) & 1
    return (x & 0x0F) == (np.int64(buf[i + size - 1]) & 0x0F)


@njit(cache=True)
def _seq(buf, i, size):
    return np.int64(buf[i + size - 1]) >> 4


#: 1 when CONFIRM frames from i pass the CRC with sequence numbers rising by 1 to max_step, 0 when
#: not, -1 to wait
_confirmed = make_confirmed(crc_ok, _seq, 16)


@njit(cache=True)
def _resync(buf, i, n, size, s, last_seq, since, final):
    """Confirm a resynchronisation at i. When its sequence number does not follow the last frame
    accepted as the bytes since then say it should (more was lost than the damage there explains),
    the frames confirming it must follow one another exactly: misaligned reads of damaged bytes
    that pass the CRC and a few steps of the count just before an intact frame would otherwise
    place everything after them one count cycle late."""
    if last_seq < 0:
        return _confirmed(buf, i, n, size, final, MAX_STEP)
    expected = ((s - last_seq + 15) % 16) * size  # bytes of the frames in between
    strict = abs(since - expected) > SLACK
    return _confirmed(buf, i, n, size, final, 1 if strict else MAX_STEP)


@njit(cache=True)
def _on_grid_ahead(buf, i, n, size, s, final):
    """1 when, the next frames after i not confirming it (one is damaged), the stream is confirmed
    again a few frames on at the very alignment and count the frame at i implies; 0 when not,
    -1 to wait."""
    for k in range(1, MAX_STEP + 1):
        t = i + k * size
        if t + size > n:
            return 0 if final else -1
        ok = _confirmed(buf, t, n, size, final, MAX_STEP)
        if ok < 0:
            return -1
        if ok > 0:
            return 1 if (_seq(buf, t, size) - s) % 16 == k else 0
    return 0


@njit(cache=True)
def _bracketed(buf, i, n, size, s, last_seq, since, final):
    """1 when a frame the next frames cannot confirm (one of them is damaged) is vouched for by
    both sides: it sits exactly where its sequence number puts it after the last frame accepted
    (no byte lost or inserted since), and the stream is confirmed again on the same grid."""
    step = (s - last_seq) % 16
    if last_seq < 0 or not 1 <= step <= MAX_STEP or since != (step - 1) * size:
        return 0
    return _on_grid_ahead(buf, i, n, size, s, final)


@njit(cache=True)
def _anchor_ahead(buf, i, n, size, s, final):
    """1 when the stream is confirmed again within MAX_STEP frames after the frame at i, its
    sequence number k frames on and its position k frames on give or take SLACK bytes (the damaged
    frames in between lost or gained a byte); 0 when not, -1 to wait."""
    last_t = i + (MAX_STEP + 1) * size + SLACK
    for t in range(i + size, last_t):
        if t + CONFIRM * size > n:
            return 0 if final else -1
        ok = _confirmed(buf, t, n, size, final, MAX_STEP)
        if ok < 0:
            return -1
        if ok > 0:
            k = (_seq(buf, t, size) - s) % 16
            return 1 if 1 <= k <= MAX_STEP and abs(t - i - k * size) <= SLACK else 0
    return 0


@njit(cache=True)
def _rival(buf, i, n, size, s, lo, final):
    """Another alignment within 2 x SLACK bytes of i (not before ``lo``) that passes the CRC with
    the same sequence number: its position, or 0 when there is none (the frame at i is the only
    reading of these bytes), or -1 to wait."""
    for j in range(max(lo, i - 2 * SLACK), i):
        if crc_ok(buf, j, size) and _seq(buf, j, size) == s:
            return j
    for j in range(i + 1, i + 2 * SLACK + 1):
        if j + size > n:
            return 0 if final else -1
        if crc_ok(buf, j, size) and _seq(buf, j, size) == s:
            return j
    return 0


@njit(cache=True)
def _between(buf, i, n, size, s, last_seq, since, final):
    """A frame between two damaged ones, vouched for by both neighbours: its sequence number
    follows the last frame accepted by 2-MAX_STEP (a damaged frame in between), its position does
    too give or take SLACK bytes, and the stream is confirmed again on the far side the same way.
    Returns 1 to accept it, 0 not to, -1 to wait, or the position of a rival alignment reading
    these bytes as another frame of that number (then neither is trusted). A frame that continues
    the count directly must start where the last one ended."""
    step = (s - last_seq) % 16
    if last_seq < 0 or not 2 <= step <= MAX_STEP or abs(since - (step - 1) * size) > SLACK:
        return 0
    ahead = _anchor_ahead(buf, i, n, size, s, final)
    if ahead <= 0:
        return ahead
    rival = _rival(buf, i, n, size, s, max(0, i - since), final)
    if rival < 0:
        return -1
    return 1 if rival == 0 else -2 - rival


@njit(cache=True)
def _decode(buf, i, size, nch, out, k):
    e = i + size  # frame end; fields are addressed from the end as in the vendor API
    a = np.zeros(8, np.int64)
    for t in range(size):
        a[8 - size + t] = buf[i + t]
    # a[7] is the last byte, a[6] the one before, ...
    vals = (
        ((a[6] & 0x0F) << 6) | (a[5] >> 2),
        ((a[5] & 0x03) << 8) | a[4],
        (a[3] << 2) | (a[2] >> 6),
        ((a[2] & 0x3F) << 4) | (a[1] >> 4),
        ((a[1] & 0x0F) << 2) | (a[0] >> 6),
        a[0] & 0x3F,
    )
    for ch in range(nch):
        out[ch, k] = vals[ch]
    return e


@njit(cache=True)
def scan_bitalino(buf, size, nch, in_sync, last_seq, final, since=0):
    """Return (consumed, in_sync, last_seq, skipped, crc_failures, counter_errors, n, seqs, counts,
    digital, since): ``since`` is the bytes skipped since the last frame accepted (carried over)."""
    n = buf.shape[0]
    m = n // size + 1
    seqs = np.empty(m, np.int64)
    counts = np.empty((nch, m), np.int64)
    digital = np.empty(m, np.uint8)
    i = 0
    k = 0
    skipped = 0
    bad = 0
    cerr = 0
    last_end = -since  # where the last accepted frame ended, in this buffer's positions
    while i + size <= n:
        if not crc_ok(buf, i, size):
            if in_sync:
                bad += 1
            in_sync = False
            skipped += 1
            i += 1
            continue
        s = _seq(buf, i, size)
        if not in_sync:
            # a frame continuing our count must start where the last one ended: one found further
            # on is what an inserted byte squeezes out of the damaged frame (its own last byte, so
            # its sequence number, with the CRC passing 1 time in 16), not the frame itself
            ok = 0 if last_seq >= 0 and s == (last_seq + 1) % 16 and i != last_end else (
                _resync(buf, i, n, size, s, last_seq, i - last_end, final))
            if ok == 0:  # a damaged frame among the next ones: both neighbours decide
                ok = _bracketed(buf, i, n, size, s, last_seq, i - last_end, final)
            if ok == 0:  # damaged frames on both sides, which may have lost or gained a byte
                ok = _between(buf, i, n, size, s, last_seq, i - last_end, final)
                if ok < -1:  # two readings of these bytes: skip past both
                    j = max(i + 1, -2 - ok + 1)
                    skipped += j - i
                    i = j
                    continue
            if ok < 0:
                break
            if ok == 0:
                skipped += 1
                i += 1
                continue
            in_sync = True
        elif last_seq >= 0 and s != (last_seq + 1) % 16:
            # a jump is confirmed like a resynchronisation (a CRC-4 and a 4-bit sequence pass a
            # misaligned frame 1 time in 256), and the next frame must continue it, not our count
            ok = _confirmed(buf, i, n, size, final, MAX_STEP)
            if ok < 0:
                break
            j = i + size
            if not (ok and j + size <= n and continues(last_seq, s, _seq(buf, j, size), 16)):
                cerr += 1  # a damaged counter or a false alignment: search again
                in_sync = False
                skipped += 1
                i += 1
                continue
        _decode(buf, i, size, nch, counts, k)
        digital[k] = np.uint8(buf[i + size - 2] >> 4)
        seqs[k] = s
        last_seq = s
        k += 1
        i += size
        last_end = i
    if final and i < n:
        skipped += n - i
        i = n
    return i, in_sync, last_seq, skipped, bad, cerr, k, seqs, counts, digital, i - last_end
