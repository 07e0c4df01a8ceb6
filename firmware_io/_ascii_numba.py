"""Numba kernel of the ASCII-lines decoder: one line per sample, numbers separated by , ; space or tab."""

from __future__ import annotations

import numpy as np
from numba import njit

from firmware_io._resync_numba import next_byte

MAX_FIELDS = 64
MAX_LINE = 1024
CONFIRM = 2  # further lines with the same field count before the count is trusted


@njit(cache=True)
def _parse_line(buf, i, j, row):
    """Parse buf[i:j] into row; return the number of fields, -1 when the line is not numbers only."""
    nf = 0
    p = i
    while p < j:
        ch = buf[p]
        if ch == 44 or ch == 59 or ch == 32 or ch == 9 or ch == 13:  # , ; space tab CR
            p += 1
            continue
        if nf >= MAX_FIELDS:
            return -1
        neg = False
        if ch == 45 or ch == 43:
            neg = ch == 45
            p += 1
        mant = np.int64(0)
        nd = 0
        frac = 0
        while p < j and 48 <= buf[p] <= 57:
            if nd < 18:
                mant = mant * 10 + (buf[p] - 48)
            else:
                frac -= 1
            nd += 1
            p += 1
        if p < j and buf[p] == 46:  # '.'
            p += 1
            while p < j and 48 <= buf[p] <= 57:
                if nd < 18:
                    mant = mant * 10 + (buf[p] - 48)
                    frac += 1
                nd += 1
                p += 1
        if nd == 0:
            return -1
        exp = 0
        if p < j and (buf[p] == 101 or buf[p] == 69):  # e E
            p += 1
            eneg = False
            if p < j and (buf[p] == 45 or buf[p] == 43):
                eneg = buf[p] == 45
                p += 1
            ne = 0
            while p < j and 48 <= buf[p] <= 57:
                if ne < 4:
                    exp = exp * 10 + (buf[p] - 48)
                ne += 1
                p += 1
            if ne == 0:
                return -1
            if eneg:
                exp = -exp
        if p < j and not (buf[p] == 44 or buf[p] == 59 or buf[p] == 32 or buf[p] == 9
                          or buf[p] == 13):
            return -1
        e10 = exp - frac
        v = np.float64(mant)
        if e10 < 0:
            v = v / 10.0 ** (-e10)
        elif e10 > 0:
            v = v * 10.0 ** e10
        if not np.isfinite(v):
            return -1
        row[nf] = -v if neg else v
        nf += 1
    return nf


@njit(cache=True)
def _agree(buf, start, n, nf, final):
    """1 when the next CONFIRM non-empty lines have nf fields, 0 when not, -1 to wait for data."""
    row = np.empty(MAX_FIELDS, np.float64)
    seen = 0
    i = start
    while seen < CONFIRM:
        j = next_byte(buf, i, n, 10)
        if j == n:
            return 1 if final else -1
        got = _parse_line(buf, i, j, row)
        if got != 0:
            if got != nf:
                return 0
            seen += 1
        i = j + 1
    return 1


@njit(cache=True)
def scan_lines(buf, at_line_start, expect_fields, final, int_first):
    """Return (consumed, at_line_start, expect_fields, skipped, bad_lines, n, values)."""
    n = buf.shape[0]
    m = n // 2 + 1
    values = np.empty((m, MAX_FIELDS), np.float64)
    row = np.empty(MAX_FIELDS, np.float64)
    i = 0
    k = 0
    skipped = 0
    bad = 0
    while i < n:
        j = next_byte(buf, i, n, 10)
        if j == n:
            if final or n - i > MAX_LINE:
                skipped += n - i
                bad += 1 if (n - i > 0 and at_line_start) else 0
                at_line_start = False
                i = n
            break
        if not at_line_start:
            skipped += j - i + 1
            at_line_start = True
            i = j + 1
            continue
        nf = _parse_line(buf, i, j, row)
        if nf > 0 and int_first and not (0 <= row[0] < 2.0**53 and row[0] == np.floor(row[0])):
            nf = -1  # a counter column holds a non-negative integer
        if nf > 0 and expect_fields == 0:
            agree = _agree(buf, j + 1, n, nf, final)
            if agree < 0:
                break
            if agree == 0:
                nf = -1
        if nf == 0:
            skipped += j - i + 1
        elif nf < 0 or (expect_fields > 0 and nf != expect_fields):
            skipped += j - i + 1
            bad += 1
        else:
            expect_fields = nf
            for f in range(nf):
                values[k, f] = row[f]
            k += 1
        i = j + 1
    return i, at_line_start, expect_fields, skipped, bad, k, values
