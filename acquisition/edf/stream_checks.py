"""What the record-by-record reader refuses in an EDF/BDF header, and how it says so.

A header holding values that cannot be right is refused naming the file
(:class:`BadEdfHeader`), rather than read by a more lenient reader that would guess (a 1970 start,
an inverted polarity, a division by zero). A file the reader does not handle but the general
reader does (mixed rates) raises :class:`UnsupportedEdf`.
"""

from __future__ import annotations

import math

from acquisition.edf.constants import ANNOTATION_LABELS
from acquisition.edf.header import EdfHeader, HeaderLayout, lenient_float, read_header
from acquisition.edf.units import as_written, unit_to_uv
from acquisition.errors import RecordingError
from acquisition.stream import MAX_SAMPLE_UV

#: Shortest data record duration accepted (s). The header's 8-character field writes 1 µs at
#: least in plain decimals (``0.000001``); a shorter one takes an exponent no EDF writer uses
#: (``1e-300``), and every rate it gives (samples per record / duration) is beyond any EMG
#: amplifier (1 MHz for one sample per record at 1 µs): a header that cannot be right, like 0.
MIN_RECORD_S = 1e-6
#: Largest physical minimum or maximum (µV, either sign) a header may state (a header whose range
#: said 1e308 gave RuntimeWarnings and a night without a number, not an error).
MAX_PHYSICAL_UV = MAX_SAMPLE_UV


class UnsupportedEdf(ValueError):
    """The file is EDF/BDF but not in a form this reader handles (mixed rates)."""


class BadEdfHeader(RecordingError):
    """The file is EDF/BDF but its header holds values that cannot be right: refused, naming the
    file, rather than read by a more lenient reader that would guess (a 1970 start, an inverted
    polarity, a division by zero)."""


def checked_layout(header: EdfHeader) -> HeaderLayout:
    """The header layout; a file named .edf/.bdf whose version field is neither EDF's nor BDF's
    is refused here (the general reader would read it anyway)."""
    path = header.path
    try:
        return header.layout()
    except ValueError as exc:
        if "version field" in str(exc) and path.lower().endswith((".edf", ".bdf")):
            raise BadEdfHeader(path, "version field is neither EDF's '0' nor BDF's "
                                     "'\\xffBIOSEMI'") from None
        raise


def _check_ranges(path: str, fields: dict[str, list[str]], data: list[int]) -> None:
    labels = fields["label"]
    pmin, pmax = fields["physical_min"], fields["physical_max"]
    dmin, dmax = fields["digital_min"], fields["digital_max"]
    for i in data:
        lo, hi = lenient_float(dmin[i]), lenient_float(dmax[i])
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise BadEdfHeader(path, f"signal {labels[i]!r}: digital minimum {dmin[i]!r} is not "
                                     f"below its maximum {dmax[i]!r}")
        lo, hi = lenient_float(pmin[i]), lenient_float(pmax[i])
        if not (math.isfinite(lo) and math.isfinite(hi) and lo != hi):
            raise BadEdfHeader(path, f"signal {labels[i]!r}: physical range {pmin[i]!r} to "
                                     f"{pmax[i]!r} is not two different numbers")


def check_physical_bounds(path: str, fields: dict[str, list[str]]) -> None:
    """Refuse (:class:`BadEdfHeader`, naming ``path``) a data signal in a voltage unit whose
    physical minimum or maximum lies beyond ``MAX_PHYSICAL_UV``; ``fields`` are the header's
    per-signal fields. Signals in other units and unreadable numbers are left to the other
    checks.

    Examples
    --------
    >>> fields = {"label": ["calf"], "physical_dimension": ["uV"],
    ...           "physical_min": ["-1e308"], "physical_max": ["1e308"]}
    >>> try:
    ...     check_physical_bounds("night.edf", fields)
    ... except BadEdfHeader as exc:
    ...     print(exc)
    night.edf: signal 'calf': physical range -1e308 to 1e308 uV is beyond any voltage on skin (1 kV)
    """
    for i, label in enumerate(fields["label"]):
        uv_per_unit = unit_to_uv(fields["physical_dimension"][i])
        if label in ANNOTATION_LABELS or uv_per_unit is None:
            continue
        lo, hi = (lenient_float(fields[k][i]) for k in ("physical_min", "physical_max"))
        if max(abs(lo), abs(hi)) * uv_per_unit > MAX_PHYSICAL_UV:
            stated = (f"{fields['physical_min'][i]} to {fields['physical_max'][i]} "
                      f"{as_written(fields['physical_dimension'][i])}")
            raise BadEdfHeader(path, f"signal {label!r}: physical range {stated} is beyond any "
                                     "voltage on skin (1 kV)")


def checked_record_s(header: EdfHeader) -> float:
    """The data record duration (s); :class:`BadEdfHeader` naming the file when it is not a
    number of at least :data:`MIN_RECORD_S` (0, -1, NaN, ``1e-300``), which would give no rate
    or a rate no recorder has.

    Examples
    --------
    >>> from acquisition.edf.header import EdfHeader
    >>> fixed = bytearray(b" " * 256)
    >>> fixed[244:252] = b"0       "
    >>> try:
    ...     checked_record_s(EdfHeader("night.rec", bytes(fixed), b"", 0, 256))
    ... except BadEdfHeader as exc:
    ...     print(exc)
    night.rec: data record duration '0' is not a positive number of seconds
    """
    record_text = header.text("record_s")
    record_s = lenient_float(record_text)
    if not (math.isfinite(record_s) and record_s > 0):
        raise BadEdfHeader(header.path, f"data record duration {record_text!r} is not a positive "
                                        "number of seconds")
    if record_s < MIN_RECORD_S:
        raise BadEdfHeader(header.path, f"data record duration {record_text!r} s is shorter than "
                                        f"any recorder writes ({MIN_RECORD_S:g} s at least)")
    return record_s


def voltage_signals(fields: dict[str, list[str]]) -> list[int]:
    """The indices of the data signals in a voltage unit (the signals calfwatch reads), not the
    annotation signal; ``fields`` are the header's per-signal fields."""
    return [i for i, (label, unit) in enumerate(zip(fields["label"], fields["physical_dimension"],
                                                    strict=True))
            if label not in ANNOTATION_LABELS and unit_to_uv(unit) is not None]


def check_edf_file(path: str) -> None:
    """:func:`check_header` of the EDF/BDF file ``path`` over its signals in a voltage unit: the
    record-by-record reader's checks, for a file read otherwise (through MNE)."""
    header = read_header(path)
    checked_layout(header)
    fields = header.fields()
    check_header(header, fields, voltage_signals(fields))


def check_header(header: EdfHeader, fields: dict[str, list[str]], data: list[int]) -> None:
    """Raise :class:`BadEdfHeader` for a record duration, scaling or start that cannot be right.

    ``fields`` are the header's per-signal fields, ``data`` the indices of the data signals.
    """
    path = header.path
    checked_record_s(header)
    _check_ranges(path, fields, data)
    check_physical_bounds(path, fields)
    try:
        header.start()
    except (ValueError, UnicodeDecodeError):
        date, clock = header.raw("start_date").decode("latin-1"), header.raw("start_time").decode(
            "latin-1")
        raise BadEdfHeader(path, f"start date and time {date!r} {clock!r} are not a valid date "
                                 f"(dd.mm.yy hh.mm.ss)") from None
