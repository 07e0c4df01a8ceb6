"""The header record the writers put at the start of an EDF+/BDF+ file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from acquisition.edf.constants import (
    BDF_MAGIC,
    FIXED_HEADER_BYTES,
    N_RECORDS_WIDTH,
    SIGNAL_FIELDS,
)
from acquisition.edf.fields import field_bytes


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
    n_records: int = -1,
) -> bytes:
    """Return the whole header record (record count -1 by default: recording in progress)."""
    n_signals = len(signals)
    version = BDF_MAGIC if bdf else field_bytes("0", 8)
    parts = [
        version,
        field_bytes(patient, 80),
        field_bytes(recording, 80),
        field_bytes(f"{start.day:02d}.{start.month:02d}.{start.year % 100:02d}", 8),
        field_bytes(f"{start.hour:02d}.{start.minute:02d}.{start.second:02d}", 8),
        field_bytes(str(FIXED_HEADER_BYTES * (n_signals + 1)), 8),
        field_bytes("BDF+C" if bdf else "EDF+C", 44),
        records_field(n_records),
        field_bytes(record_s_text, 8),
        field_bytes(str(n_signals), 4),
    ]
    for name, width in SIGNAL_FIELDS:
        for sig in signals:
            value = "" if name == "reserved" else str(getattr(sig, name))
            parts.append(field_bytes(value, width))
    header = b"".join(parts)
    assert len(header) == FIXED_HEADER_BYTES * (n_signals + 1)
    return header


def records_field(n_records: int) -> bytes:
    """The 8 bytes of the record-count field for ``n_records``."""
    return field_bytes(str(n_records), N_RECORDS_WIDTH)
