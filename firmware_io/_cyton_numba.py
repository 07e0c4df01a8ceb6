"""Numba kernel of the OpenBCI Cyton decoder (33-byte packets, 0xA0 header, 0xC0-0xC6 footer)."""

from __future__ import annotations

import numpy as np
from numba import njit

from firmware_io._resync_numba import MAX_STEP, continues, make_confirmed

FRAME = 33


@njit(cache=True)
def _valid(buf, i, size=FRAME):
    return buf[i] == 0xA0 and buf[i + 32] >= 0xC0 and buf[i + 32] <= 0xC6


@njit(cache=True)
def _counter(buf, i, size):
    return np.int64(buf[i + 1])


#: 1 when packets at i, i+33, ... are valid with rising counters, 0 when not, -1 to wait
_confirmed = make_confirmed(_valid, _counter, 256)


@njit(cache=True)
def _bracketed(buf, i, n, last, final):
    """1 when the frame at i, which the next CONFIRM frames could not confirm (one of them is
    damaged), is vouched for by both sides: its counter continues the last accepted one, and the
    next place where the stream is confirmed again continues its counter at the distance the
    counter step implies (a byte or two either way for bytes lost or inserted). 0 when not, -1 to
    wait for more bytes.
    """
    c = np.int64(buf[i + 1])
    if last < 0 or not 1 <= (c - last) % 256 <= MAX_STEP:
        return 0
    for t in range(i + FRAME - 2, i + (MAX_STEP + 1) * FRAME + 3):
        if t + FRAME > n:
            return 0 if final else -1
        if not _valid(buf, t):
            continue
        step = (np.int64(buf[t + 1]) - c) % 256
        if not 1 <= step <= MAX_STEP or abs(t - i - step * FRAME) > 2:
            continue
        ok = _confirmed(buf, t, n, FRAME, final, MAX_STEP)
        if ok != 0:
            return ok
    return 0


@njit(cache=True)
def scan_cyton(buf, in_sync, last_counter, final):
    """Return (consumed, in_sync, last_counter, skipped, counter_errors, bad_frames, n, counters, counts, footers)."""
    n = buf.shape[0]
    m = n // FRAME + 1
    counters = np.empty(m, np.int64)
    counts = np.empty((8, m), np.int64)
    footers = np.empty(m, np.uint8)
    i = 0
    k = 0
    skipped = 0
    cerr = 0
    bad = 0
    while i + FRAME <= n:
        if not _valid(buf, i):
            if in_sync:
                bad += 1
            in_sync = False
            skipped += 1
            i += 1
            continue
        c = np.int64(buf[i + 1])
        if not in_sync:
            ok = _confirmed(buf, i, n, FRAME, final, MAX_STEP)
            if ok == 0:  # a damaged frame among the next ones: the counters on both sides decide
                ok = _bracketed(buf, i, n, last_counter, final)
            if ok < 0:
                break
            if ok == 0:
                skipped += 1
                i += 1
                continue
            in_sync = True
        elif last_counter >= 0 and c != (last_counter + 1) % 256:
            # a jump: real gap if the next frame continues it, a damaged counter if it continues ours
            # (unconfirmed at the end of a stream: dropped, never guessed)
            j = i + FRAME
            if j + FRAME > n and not final:
                break
            if j + FRAME > n or (_valid(buf, j) and not continues(
                    last_counter, c, np.int64(buf[j + 1]), 256)):
                cerr += 1  # a damaged counter or a false alignment: search again
                in_sync = False
                skipped += 1
                i += 1
                continue
        for ch in range(8):
            p = i + 2 + 3 * ch
            v = (np.int64(buf[p]) << 16) | (np.int64(buf[p + 1]) << 8) | np.int64(buf[p + 2])
            if v >= 0x800000:
                v -= 0x1000000
            counts[ch, k] = v
        counters[k] = c
        footers[k] = buf[i + 32]
        last_counter = c
        k += 1
        i += FRAME
    if final and i < n:
        skipped += n - i
        i = n
    return i, in_sync, last_counter, skipped, cerr, bad, k, counters, counts, footers
