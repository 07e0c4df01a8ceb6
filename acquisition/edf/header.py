"""The one reader of EDF/EDF+/BDF/BDF+ headers: :func:`read_header`.

:func:`read_header` takes the header's bytes as they are (like MNE's ``_read_edf_header``, it
knows where each field stands); judging them is left to the caller, as each refuses a different
damage with its own message: :meth:`EdfHeader.layout` (what it takes to find the data records),
:mod:`acquisition.edf.truncation` (a file shorter than its header says),
:mod:`acquisition.edf.stream_checks` (values that cannot be right).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from acquisition.edf.constants import (
    BDF_MAGIC,
    EDF_MAGIC,
    FIXED_FIELDS,
    FIXED_HEADER_BYTES,
    SIGNAL_FIELDS,
    bytes_per_sample,
)

#: What the numeric fields of the fixed header are called in messages.
_WHAT = {"header_bytes": "header size", "n_records": "number of data records",
         "n_signals": "number of signals"}


def parse_int(raw: bytes, what: str) -> int:
    """The integer an ASCII header field holds, or ValueError naming the field."""
    try:
        return int(raw.decode("ascii").strip())
    except (UnicodeDecodeError, ValueError):
        raise ValueError(f"{what} field is not a number: {raw!r}") from None


def lenient_float(text: str) -> float:
    """The number ``text`` holds, NaN when it holds none."""
    try:
        return float(text)
    except ValueError:
        return float("nan")


@dataclass(frozen=True)
class HeaderLayout:
    """What a reader needs to find the data records of an EDF/BDF file."""

    bdf: bool
    header_bytes: int
    n_records: int
    record_bytes: int
    n_signals: int
    samples_per_record: tuple[int, ...]


@dataclass(frozen=True)
class EdfHeader:
    """The header of an EDF/BDF file as read, before any judgement.

    Attributes
    ----------
    path : str
        The file.
    fixed : bytes
        The fixed part (256 bytes, fewer in a file shorter than that).
    signal_part : bytes
        The per-signal part for ``n_signals_read`` signals (fewer bytes in a short file).
    n_signals_read : int
        The signal count the per-signal part was read for (0 when the field holds no number).
    file_bytes : int
        Size of the file.
    """

    path: str
    fixed: bytes
    signal_part: bytes
    n_signals_read: int
    file_bytes: int

    def raw(self, name: str) -> bytes:
        """The bytes of a fixed-header field (see ``constants.FIXED_FIELDS``)."""
        offset, width = FIXED_FIELDS[name]
        return self.fixed[offset : offset + width]

    def text(self, name: str) -> str:
        """A fixed-header field as text (latin-1, stripped)."""
        return self.raw(name).decode("latin-1").strip()

    def number(self, name: str) -> int:
        """A numeric fixed-header field; ValueError naming it when it holds no integer."""
        return parse_int(self.raw(name), _WHAT[name])

    @property
    def version_bdf(self) -> bool | None:
        """True for a BDF version field, False for EDF's, None for anything else."""
        version = self.raw("version")
        return True if version == BDF_MAGIC else False if version == EDF_MAGIC else None

    def signal_raw(self, name: str) -> list[bytes]:
        """The bytes of one per-signal field, one item per signal."""
        n, pos = self.n_signals_read, 0
        for field, width in SIGNAL_FIELDS:
            if field == name:
                part = self.signal_part
                return [part[pos + width * i : pos + width * (i + 1)] for i in range(n)]
            pos += width * n
        raise KeyError(name)

    def signal_texts(self, name: str) -> list[str]:
        """One per-signal field as text (latin-1, stripped), one item per signal."""
        return [raw.decode("latin-1").strip() for raw in self.signal_raw(name)]

    def fields(self) -> dict[str, list[str]]:
        """Every per-signal field as text, by name (``label``, ``physical_min``...)."""
        return {name: self.signal_texts(name) for name, _ in SIGNAL_FIELDS}

    def record_s(self) -> float:
        """The data record duration; ValueError when the field holds no number."""
        raw = self.raw("record_s")
        try:
            return float(raw.decode("ascii").strip())
        except (UnicodeDecodeError, ValueError):
            raise ValueError(f"data record duration is not a number: {raw!r}") from None

    def states_no_date(self) -> bool:
        """True for an EDF+ file whose recording field says ``Startdate X``: the date is unknown,
        and the start date field holds EDF+'s placeholder (01.01.85), not a date.

        """
        return self.raw("recording").split(b" ", 2)[:2] == [b"Startdate", b"X"]

    def start(self) -> datetime:
        """The start date and time (UTC), the year from ``Startdate dd-MMM-yyyy`` when stated.

        Raises ValueError (or UnicodeDecodeError) when the fields are not a valid date.
        """
        day, month, year = (int(v) for v in self.raw("start_date").decode("ascii").split("."))
        hour, minute, second = (int(v) for v in self.raw("start_time").decode("ascii").split("."))
        year += 1900 if year >= 85 else 2000
        match = re.search(r"Startdate \d\d-[A-Z]{3}-(\d{4})", self.raw("recording").decode("latin-1"))
        if match:
            year = int(match.group(1))
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)

    def layout(self) -> HeaderLayout:
        """Where the data records are; ValueError with the problem (not the file name) when the
        file is not an EDF or BDF file or its header does not add up."""
        if len(self.fixed) < FIXED_HEADER_BYTES:
            raise ValueError("too short for an EDF/BDF header (less than 256 bytes)")
        bdf = self.version_bdf
        if bdf is None:
            raise ValueError("not an EDF or BDF file (unknown version field)")
        header_bytes = self.number("header_bytes")
        n_records = self.number("n_records")
        n_signals = self.number("n_signals")
        if n_signals < 1 or header_bytes != FIXED_HEADER_BYTES * (n_signals + 1):
            raise ValueError(f"inconsistent header: {n_signals} signals in {header_bytes} bytes")
        if len(self.signal_part) < header_bytes - FIXED_HEADER_BYTES:
            raise ValueError("header is incomplete (file shorter than its header)")
        spr = tuple(parse_int(raw, "samples per record")
                    for raw in self.signal_raw("samples_per_record"))
        if any(n < 1 for n in spr):
            raise ValueError("a signal has no samples per data record")
        record_bytes = sum(spr) * bytes_per_sample(bdf)
        return HeaderLayout(bdf, header_bytes, n_records, record_bytes, n_signals, spr)


def read_header(path: str | os.PathLike) -> EdfHeader:
    """Read the header of an EDF/EDF+/BDF/BDF+ file as it is (only OSError is raised).

    Examples
    --------
    >>> import os, tempfile
    >>> from datetime import UTC, datetime
    >>> from acquisition.edf.writer import EdfPlusWriter
    >>> path = os.path.join(tempfile.mkdtemp(), "x.edf")
    >>> EdfPlusWriter(path, ["calf"], 100.0, datetime(2026, 1, 1, tzinfo=UTC)).close()
    >>> header = read_header(path)
    >>> header.signal_texts("label"), header.layout().n_records
    (['calf', 'EDF Annotations'], 0)
    """
    path = os.fspath(path)
    with open(path, "rb") as fid:
        fixed = fid.read(FIXED_HEADER_BYTES)
        offset, width = FIXED_FIELDS["n_signals"]
        try:
            n_signals = max(0, parse_int(fixed[offset : offset + width], "number of signals"))
        except ValueError:
            n_signals = 0
        signal_part = fid.read(FIXED_HEADER_BYTES * n_signals)
    return EdfHeader(path, fixed, signal_part, n_signals, os.path.getsize(path))


def edf_kind(path: str | os.PathLike) -> str | None:
    """``"edf"`` or ``"bdf"`` when the file ``path`` begins with the version field of an EDF
    (``0`` and seven blanks) or a BDF (byte 0xFF, ``BIOSEMI``) file, whatever its name (PhysioNet's
    Sleep-EDF names its EDF files ``.rec``); None for any other file, a folder or a missing one.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "night.rec")
    >>> with open(path, "wb") as fid:
    ...     _ = fid.write(EDF_MAGIC + b"X" * 248)
    >>> edf_kind(path), edf_kind(os.path.dirname(path))
    ('edf', None)
    """
    try:
        with open(path, "rb") as fid:
            version = fid.read(len(EDF_MAGIC))
    except OSError:
        return None
    return "edf" if version == EDF_MAGIC else "bdf" if version == BDF_MAGIC else None


def read_layout(path: str | os.PathLike) -> HeaderLayout:
    """:meth:`EdfHeader.layout` of the file ``path``."""
    return read_header(path).layout()
