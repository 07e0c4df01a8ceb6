"""EDF+ time-stamped annotation lists (TALs) and the per-record annotation queue.

A TAL is ``+onset[\\x15duration]\\x14text\\x14[text\\x14...]\\x00``; onsets are seconds from the
header's start second, in plain decimal notation. Every data record's annotation signal starts
with a time-keeping TAL ``+<record start>\\x14\\x14\\x00`` followed by the TALs stored in that record;
unused bytes are zero.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

#: One TAL as stored: onset, optional duration, texts (each followed by 0x14), NUL.
TAL_PATTERN = re.compile(rb"([+-]\d+(?:\.\d*)?)(?:\x15(\d+(?:\.\d*)?))?\x14(.*?)\x14\x00",
                         re.DOTALL)
_FORBIDDEN = {0: " ", 0x14: " ", 0x15: " "}
#: Room kept for the time-keeping TAL of any record ("+99999999.999999\x14\x14\x00").
TIMEKEEPING_MAX_BYTES = 20


def decimal_seconds(value: float) -> Decimal:
    """The exact decimal of the shortest repr of ``value`` (so 0.1 stays 0.1)."""
    return Decimal(np.format_float_positional(float(value), unique=True, trim="-"))


def format_seconds(value: Decimal, sign: bool) -> str:
    """Plain decimal text of ``value`` (no exponent or trailing zeros), ``+`` when ``sign``."""
    text = format(value.normalize(), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    if sign and not text.startswith("-"):
        text = "+" + text
    return text


def clean_text(text: str) -> str:
    """Annotation text without the bytes that delimit TALs (NUL, 0x14, 0x15) and other controls."""
    out = []
    for char in str(text):
        code = ord(char)
        if code in _FORBIDDEN:
            out.append(_FORBIDDEN[code])
        elif code < 32 and char not in "\t\n\r":
            out.append(" ")
        else:
            out.append(char)
    return "".join(out)


def tal_bytes(onset: Decimal, duration: Decimal | None, texts: list[str]) -> bytes:
    """Encode one TAL (UTF-8 texts)."""
    timing = format_seconds(onset, sign=True)
    if duration is not None:
        timing += "\x15" + format_seconds(duration, sign=False)
    return (timing + "\x14" + "\x14".join(texts) + "\x14\x00").encode("utf-8")


def timekeeping_bytes(record_start: Decimal) -> bytes:
    """The time-keeping TAL of a data record starting ``record_start`` after the header time."""
    return (format_seconds(record_start, sign=True) + "\x14\x14\x00").encode("ascii")


def iter_tals(raw: bytes) -> Iterator[tuple[float, float, list[bytes]]]:
    r"""``(onset, duration, texts)`` of each TAL in ``raw`` (the bytes of annotation signals).

    Onsets are seconds from the header's start second; a TAL without duration has 0; the
    time-keeping TAL of a record has no texts.

    Examples
    --------
    >>> list(iter_tals(b"+0\x14\x14\x00+1.5\x150.2\x14gap\x14\x00"))
    [(0.0, 0.0, []), (1.5, 0.2, [b'gap'])]
    """
    for match in TAL_PATTERN.finditer(raw):
        texts = [t for t in match.group(3).split(b"\x14") if t]
        duration = float(match.group(2)) if match.group(2) else 0.0
        yield float(match.group(1)), duration, texts


@dataclass(order=True)
class _Pending:
    onset_s: float
    seq: int
    payload: bytes = field(compare=False)


class AnnotationQueue:
    """Annotations not yet on disk, in onset order, handed out record by record.

    Parameters
    ----------
    capacity_bytes : int
        Bytes of the annotation signal in one data record.
    """

    def __init__(self, capacity_bytes: int) -> None:
        self.capacity_bytes = capacity_bytes
        self._items: list[_Pending] = []
        self._seq = 0
        #: bytes of the TALs queued
        self.pending_bytes = 0

    def __len__(self) -> int:
        return len(self._items)

    def push(self, onset_s: float, payload: bytes) -> None:
        """Queue one encoded TAL whose onset (from the recording start) is ``onset_s``."""
        if len(payload) + TIMEKEEPING_MAX_BYTES > self.capacity_bytes:
            raise ValueError(
                f"annotation of {len(payload)} bytes does not fit in a data record "
                "(annotation_chars_per_record allows "
                f"{self.capacity_bytes - TIMEKEEPING_MAX_BYTES})"
            )
        bisect.insort(self._items, _Pending(float(onset_s), self._seq, payload))
        self._seq += 1
        self.pending_bytes += len(payload)

    def record_bytes(
        self, timekeeping: bytes, record_end_s: float | None, capacity_bytes: int | None = None
    ) -> bytes:
        """Return the annotation bytes of one record and drop what they hold from the queue.

        Takes, in onset order, the annotations with onset before ``record_end_s`` (all of them when
        None) while they fit in ``capacity_bytes`` (default: the queue's); the rest wait for the
        next record.
        """
        capacity = self.capacity_bytes if capacity_bytes is None else capacity_bytes
        out = [timekeeping]
        used = len(timekeeping)
        taken = 0
        for item in self._items:
            if record_end_s is not None and item.onset_s >= record_end_s:
                break
            if used + len(item.payload) > capacity:
                break
            out.append(item.payload)
            used += len(item.payload)
            taken += 1
        del self._items[:taken]
        self.pending_bytes -= used - len(timekeeping)
        return b"".join(out)
