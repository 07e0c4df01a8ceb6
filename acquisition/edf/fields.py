"""Text of EDF+/BDF+ header fields as the writer fills them: printable ASCII, numbers, dates."""

from __future__ import annotations

import math
import unicodedata
from datetime import UTC, datetime

#: Years an EDF header's start date can state: two digits, 1985 the clipping date (EDF+ 2.1.3.2;
#: after 2084 EDF+ leaves the year to the recording field, which MNE and others do not read).
EDF_YEARS = range(1985, 2085)
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


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

    Examples
    --------
    >>> ascii_text("  Déjà   vu\\u2603 ")
    'Deja vu_'
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

    Examples
    --------
    >>> format_number(-5000.0), format_number(1 / 3)
    ('-5000', '0.333333')
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


def field_bytes(text: str, width: int) -> bytes:
    """``text`` (ASCII) cut or padded with spaces to ``width`` bytes."""
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
    if meas_date.year not in EDF_YEARS:
        raise ValueError(f"meas_date {meas_date:%Y-%m-%d} is outside the EDF years 1985-2084")
    return meas_date.replace(microsecond=0), meas_date.microsecond
