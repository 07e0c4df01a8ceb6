"""EDF+/BDF+ header: sanitising text, formatting numbers, building and parsing the header record.

The header is ``256 * (n_signals + 1)`` bytes of printable ASCII (BDF starts with the byte 0xFF).
Field widths and the order of the per-signal fields follow the EDF specification; the EDF+
additions (patient and recording subfields, ``EDF+C`` in the reserved field, the annotation signal)
follow EDF+, and BDF+ uses the same conventions with ``BDF+C`` and a ``BDF Annotations`` signal of
3-byte samples.
"""

from __future__ import annotations

import math
import os
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime

#: Byte offset and width of the "number of data records" field (-1 while recording).
N_RECORDS_OFFSET = 236
N_RECORDS_WIDTH = 8

EDF_DIGITAL_RANGE = (-32768, 32767)
BDF_DIGITAL_RANGE = (-8388608, 8388607)

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
#: Widths of the per-signal fields, in the order they appear (each repeated for every signal).
_SIGNAL_FIELDS = (
    ("label", 16),
    ("transducer", 80),
    ("physical_dimension", 8),
    ("physical_min", 8),
    ("physical_max", 8),
    ("digital_min", 8),
    ("digital_max", 8),
    ("prefilter", 80),
    ("samples_per_record", 8),
    ("reserved", 32),
)


def ascii_text(text: str) -> str:
    """Return ``text`` as printable ASCII: accents stripped, other characters replaced by ``_``.

    Parameters
    ----------
    text : str
        Any text.

    Returns
    -------
    str
        Only characters 32..126; runs of whitespace folded to one space, ends stripped.
    """
    decomposed = unicodedata.normalize("NFKD", " ".join(str(text).split()))
    out = []
    for char in decomposed:
        if unicodedata.combining(char):
            continue
        out.append(char if 32 <= ord(char) <= 126 else "_")
    return "".join(out).strip()


def subfield(text: str, empty: str = "X") -> str:
    """Return ``text`` as one EDF+ subfield: printable ASCII, spaces replaced by ``_``.

    An empty value becomes ``empty`` (``X`` is EDF+'s "unknown").
    """
    value = ascii_text(text).replace(" ", "_")
    return value or empty


def format_number(value: float, width: int = 8) -> str:
    """Format ``value`` in at most ``width`` characters, plain decimal notation, as precise as fits.

    Raises
    ------
    ValueError
        When even the integer part does not fit.
    """
    if not math.isfinite(value):
        raise ValueError(f"header number must be finite, got {value!r}")
    for decimals in range(width, -1, -1):
        text = f"{value:.{decimals}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        if text == "-0":
            text = "0"
        if len(text) <= width:
            return text
    raise ValueError(f"{value!r} does not fit in a {width}-character header field")


def _field(text: str, width: int) -> bytes:
    raw = text.encode("ascii")
    if len(raw) > width:
        raw = raw[:width]
    return raw.ljust(width, b" ")


def edfplus_date(when: datetime) -> str:
    """``dd-MMM-yyyy`` with English upper-case month, as EDF+ subfields require."""
    return f"{when.day:02d}-{_MONTHS[when.month - 1]}-{when.year:04d}"


def header_start(meas_date: datetime) -> tuple[datetime, int]:
    """Return the start second to write in the header (UTC, naive) and the microseconds past it.

    A timezone-aware ``meas_date`` is converted to UTC; a naive one is taken as UTC.
    """
    if meas_date.tzinfo is not None:
        meas_date = meas_date.astimezone(UTC).replace(tzinfo=None)
    if not 1985 <= meas_date.year <= 2084:
        raise ValueError(f"meas_date {meas_date:%Y-%m-%d} is outside the EDF years 1985-2084")
    return meas_date.replace(microsecond=0), meas_date.microsecond


@dataclass(frozen=True)
class SignalSpec:
    """One signal of the header (an ordinary channel or the annotation signal)."""

    label: str
    transducer: str
    physical_dimension: str
    physical_min: str
    physical_max: str
    digital_min: int
    digital_max: int
    prefilter: str
    samples_per_record: int


def build_header(
    *,
    bdf: bool,
    patient: str,
    recording: str,
    start: datetime,
    record_s_text: str,
    signals: list[SignalSpec],
) -> bytes:
    """Return the whole header record with the record count -1 (recording in progress)."""
    n_signals = len(signals)
    version = b"\xffBIOSEMI" if bdf else _field("0", 8)
    parts = [
        version,
        _field(patient, 80),
        _field(recording, 80),
        _field(f"{start.day:02d}.{start.month:02d}.{start.year % 100:02d}", 8),
        _field(f"{start.hour:02d}.{start.minute:02d}.{start.second:02d}", 8),
        _field(str(256 * (n_signals + 1)), 8),
        _field("BDF+C" if bdf else "EDF+C", 44),
        _field("-1", N_RECORDS_WIDTH),
        _field(record_s_text, 8),
        _field(str(n_signals), 4),
    ]
    for name, width in _SIGNAL_FIELDS:
        for sig in signals:
            value = "" if name == "reserved" else str(getattr(sig, name))
            parts.append(_field(value, width))
    header = b"".join(parts)
    assert len(header) == 256 * (n_signals + 1)
    return header


def records_field(n_records: int) -> bytes:
    """The 8 bytes of the record-count field for ``n_records``."""
    return _field(str(n_records), N_RECORDS_WIDTH)


@dataclass(frozen=True)
class HeaderLayout:
    """What a reader needs to find the data records of an EDF/BDF file."""

    bdf: bool
    header_bytes: int
    n_records: int
    record_bytes: int
    n_signals: int


def _int_field(raw: bytes, what: str) -> int:
    try:
        return int(raw.decode("ascii").strip())
    except (UnicodeDecodeError, ValueError):
        raise ValueError(f"{what} field is not a number: {raw!r}") from None


def read_layout(path: str | os.PathLike) -> HeaderLayout:
    """Parse the fixed header and the per-signal sample counts of an EDF/EDF+/BDF/BDF+ file.

    Raises
    ------
    ValueError
        With the problem (not the file name) when the file is not an EDF or BDF file.
    """
    with open(path, "rb") as fid:
        fixed = fid.read(256)
        if len(fixed) < 256:
            raise ValueError("too short for an EDF/BDF header (less than 256 bytes)")
        if fixed[:8] == b"\xffBIOSEMI":
            bdf = True
        elif fixed[:8] == b"0       ":
            bdf = False
        else:
            raise ValueError("not an EDF or BDF file (unknown version field)")
        header_bytes = _int_field(fixed[184:192], "header size")
        n_records = _int_field(fixed[236:244], "number of data records")
        n_signals = _int_field(fixed[252:256], "number of signals")
        if n_signals < 1 or header_bytes != 256 * (n_signals + 1):
            raise ValueError(f"inconsistent header: {n_signals} signals in {header_bytes} bytes")
        rest = fid.read(header_bytes - 256)
    if len(rest) < header_bytes - 256:
        raise ValueError("header is incomplete (file shorter than its header)")
    offset = sum(width for name, width in _SIGNAL_FIELDS[:8]) * n_signals
    spr = [
        _int_field(rest[offset + 8 * i : offset + 8 * (i + 1)], "samples per record")
        for i in range(n_signals)
    ]
    if any(n < 1 for n in spr):
        raise ValueError("a signal has no samples per data record")
    record_bytes = sum(spr) * (3 if bdf else 2)
    return HeaderLayout(bdf, header_bytes, n_records, record_bytes, n_signals)
