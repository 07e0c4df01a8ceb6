"""Refuse an EDF/BDF file shorter than its header says, before MNE reads it.

MNE infers the record count from the file size, so a file cut short with a positive count in its
header would open with less signal than the header promises; a record count of -1 (a recording
still being written, or left by a crash) is allowed.
"""

from __future__ import annotations

from pathlib import Path

from acquisition.edf.constants import FIXED_HEADER_BYTES
from acquisition.edf.header import EdfHeader, parse_int, read_header
from acquisition.edf.stream_checks import check_physical_bounds
from acquisition.edf.units import odd_signals
from acquisition.errors import RecordingError


def _header_numbers(path: Path, header: EdfHeader) -> tuple[int, int, int]:
    """Header size, record count and signal count, refused when they do not add up."""
    size = header.file_bytes
    if len(header.fixed) < FIXED_HEADER_BYTES:
        raise RecordingError(path, f"truncated header ({size} bytes)")
    try:
        numbers = tuple(header.number(name) for name in ("header_bytes", "n_records", "n_signals"))
    except ValueError:
        raise RecordingError(path, "not a valid EDF/BDF header") from None
    header_bytes, n_records, n_signals = numbers
    if size < header_bytes or header_bytes != FIXED_HEADER_BYTES * (1 + n_signals):
        raise RecordingError(path, f"truncated or invalid header ({size} bytes, header "
                             f"says {header_bytes})")
    return numbers


def check_truncation(path: Path, bytes_per_sample: int) -> list[str]:
    """Refuse an EDF/BDF shorter than its header says (a record count of -1 is allowed).

    Returns the labels of the signals to leave out (see
    :func:`acquisition.edf.units.left_out_signals`).

    Raises
    ------
    RecordingError
        Naming the file: a truncated or inconsistent header, no signal in a voltage unit, a
        physical range beyond any voltage on skin, or fewer bytes than the header's data records
        need.
    """
    header = read_header(path)
    header_bytes, n_records, _ = _header_numbers(path, header)
    left_out = odd_signals(path, header)
    check_physical_bounds(str(path), header.fields())
    try:
        per_record = sum(parse_int(raw, "samples per record")
                         for raw in header.signal_raw("samples_per_record"))
    except ValueError:
        raise RecordingError(path, "not a valid EDF/BDF header (samples per record)") from None
    expected = header_bytes + n_records * per_record * bytes_per_sample
    if n_records != -1 and header.file_bytes < expected:
        raise RecordingError(path, f"truncated: {header.file_bytes} bytes but the header's "
                             f"{n_records} data records need {expected} (calfwatch repair FILE "
                             "keeps the complete records)")
    return [label for label, _ in left_out]
