"""Repair an EDF/BDF file left by a crash: record count from the file size, torn record cut.

A streaming writer that is killed leaves the header's record count at -1 (or stale) and possibly a
partial data record at the end. :func:`repair_edf` counts the complete records from the file size,
truncates the trailing partial record and writes the count into the header. A consistent file is
not touched.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from acquisition.edf.constants import ANNOTATION_LABELS, N_RECORDS_OFFSET
from acquisition.edf.header import EdfHeader, read_header
from acquisition.edf.header_build import records_field
from acquisition.edf.stream_checks import checked_record_s
from acquisition.errors import RecordingError


@dataclass(frozen=True)
class RepairReport:
    """What :func:`repair_edf` found and did.

    Attributes
    ----------
    path : str
        The file.
    fmt : str
        ``"edf"`` or ``"bdf"``.
    header_records : int
        Record count the header said before repair (-1 while recording).
    records_found : int
        Complete data records in the file (the count now in the header).
    bytes_dropped : int
        Bytes of a trailing partial record that were cut off.
    record_s : float
        Duration of one data record.
    """

    path: str
    fmt: str
    header_records: int
    records_found: int
    bytes_dropped: int
    record_s: float

    @property
    def changed(self) -> bool:
        """True when the file was modified."""
        return self.bytes_dropped > 0 or self.header_records != self.records_found

    def summary(self) -> str:
        """One line saying what was fixed, or that the file was already consistent."""
        duration = f"{self.records_found * self.record_s:g} s"
        if not self.changed:
            return f"{self.path}: already consistent ({self.records_found} records, {duration})"
        parts = [f"record count {self.header_records} -> {self.records_found} ({duration})"]
        if self.bytes_dropped:
            parts.append(f"dropped a partial record of {self.bytes_dropped} bytes")
        return f"{self.path}: repaired: " + ", ".join(parts)


def _record_s(header: EdfHeader) -> float:
    """The data record duration: one that cannot be right (0, -1, NaN) is refused as the readers
    refuse it (:func:`~acquisition.edf.stream_checks.checked_record_s`), but in an annotation-only
    EDF+ file, whose records EDF+ lets last 0 s."""
    labels = header.signal_texts("label")
    if labels and all(label in ANNOTATION_LABELS for label in labels):
        return header.record_s()
    return checked_record_s(header)


def repair_edf(path: str | os.PathLike) -> RepairReport:
    """Make a crashed EDF/BDF file consistent with its complete data records.

    Parameters
    ----------
    path : str or os.PathLike
        The file to repair in place.

    Returns
    -------
    RepairReport
        Records found, the count the header had, and the bytes dropped.

    Raises
    ------
    RecordingError
        When the file is not an EDF/BDF file, its header is unreadable or its data record
        duration cannot be right.
    FileNotFoundError
        When the file does not exist.
    """
    path = os.fspath(path)
    header = read_header(path)
    try:
        layout = header.layout()
        record_s = _record_s(header)
    except RecordingError:
        raise
    except ValueError as exc:
        raise RecordingError(path, str(exc)) from None
    data_bytes = header.file_bytes - layout.header_bytes
    records_found, partial = divmod(data_bytes, layout.record_bytes)
    report = RepairReport(
        path=path,
        fmt="bdf" if layout.bdf else "edf",
        header_records=layout.n_records,
        records_found=records_found,
        bytes_dropped=partial,
        record_s=record_s,
    )
    if report.changed:
        fd = os.open(path, os.O_WRONLY)
        try:
            if partial:
                os.ftruncate(fd, layout.header_bytes + records_found * layout.record_bytes)
            os.pwrite(fd, records_field(records_found), N_RECORDS_OFFSET)
            os.fsync(fd)
        finally:
            os.close(fd)
    return report
