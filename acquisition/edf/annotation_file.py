"""EDF+ annotation-only files: a recording's events beside it, readable by any EDF+ reader.

EDF+ allows a file whose only signal is ``EDF Annotations`` (data records of duration 0). Its
header states the same start as the recording (the whole second; the sub-second rest in the first
time-keeping TAL, as EDF+ specifies), so EDFbrowser imports it onto the recording's timeline and
MNE, pyedflib and edfio read each onset as seconds from the recording's first sample. An event on
one channel is written ``<kind>@@<channel>``, the form MNE's EDF reader puts on that channel.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from acquisition.edf.constants import EDF_ANNOTATIONS, EDF_DIGITAL_RANGE
from acquisition.edf.fields import EDF_YEARS, edfplus_date, header_start, subfield
from acquisition.edf.header import read_header
from acquisition.edf.header_build import SignalSpec, build_header
from acquisition.edf.tal import clean_text, decimal_seconds, iter_tals, tal_bytes, timekeeping_bytes

#: Bytes per data record of an annotation file (each record opens with its time-keeping TAL).
RECORD_BYTES = 4096
#: Header start of a file whose recording states no date (EDF+: ``Startdate X``).
_NO_DATE = datetime(1985, 1, 1)
#: Separator between an annotation's text and its channel (MNE's convention for EDF+).
CHANNEL_SEPARATOR = "@@"


@dataclass(frozen=True)
class EdfAnnotation:
    """One annotation: ``onset_s`` from the first sample, ``duration_s``, text, optional channel."""

    onset_s: float
    duration_s: float
    text: str
    channel: str = ""


def _records(payloads: list[bytes], first: bytes) -> list[bytes]:
    """Pack the TALs into records of RECORD_BYTES, each opening with the time-keeping TAL."""
    records, current = [], [first]
    for payload in payloads:
        if len(first) + len(payload) > RECORD_BYTES:
            raise ValueError(f"annotation of {len(payload)} bytes does not fit in a data record")
        if sum(map(len, current)) + len(payload) > RECORD_BYTES:
            records.append(b"".join(current))
            current = [first]
        current.append(payload)
    records.append(b"".join(current))
    return [r.ljust(RECORD_BYTES, b"\x00") for r in records]


def write_annotation_edf(
    path: str | os.PathLike,
    meas_date: datetime | None,
    annotations: Iterable[EdfAnnotation],
    *,
    equipment: str = "calfwatch",
) -> str:
    """Write an EDF+ file holding only annotations; return its path.

    Parameters
    ----------
    path : str or os.PathLike
        File to create (replaced atomically: a reader never sees half a file).
    meas_date : datetime or None
        Time of the recording's first sample (aware; written in UTC like calfwatch recordings,
        sub-second kept in the first time-keeping TAL); None when the recording has no date. A
        date outside the years an EDF header states (:data:`acquisition.edf.fields.EDF_YEARS`) is written as no date
        (``Startdate X``), the onsets still from the first sample: see
        :func:`annotation_edf_bytes`.
    annotations : iterable of EdfAnnotation
        Onsets in seconds from the recording's first sample.
    equipment : str
        Equipment subfield of the recording field.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> import mne, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "events.edf")
    >>> _ = write_annotation_edf(path, datetime(2026, 1, 5, 22, 0, 3, 720000, tzinfo=UTC),
    ...                          [EdfAnnotation(2.0, 0.012, "fasciculation", "calf_left")])
    >>> ann = mne.read_annotations(path)
    >>> float(ann.onset[0]), str(ann.description[0])
    (2.0, 'fasciculation@@calf_left')
    """
    content = annotation_edf_bytes(meas_date, annotations, equipment=equipment)
    path = os.fspath(path)
    _replace_atomically(path, content)
    return path


def dates_in_header(meas_date: datetime | None) -> bool:
    """Whether an EDF header can state ``meas_date`` (its UTC year in :data:`acquisition.edf.fields.EDF_YEARS`)."""
    return meas_date is not None and meas_date.astimezone(UTC).year in EDF_YEARS


def annotation_edf_bytes(
    meas_date: datetime | None,
    annotations: Iterable[EdfAnnotation],
    *,
    equipment: str = "calfwatch",
) -> bytes:
    """The bytes of an EDF+ annotation-only file (see :func:`write_annotation_edf`).

    A ``meas_date`` whose year an EDF header cannot state (before 1985, the header's two-digit
    year's clipping date; after 2084, where EDF+ leaves the year to the recording field alone and
    readers such as MNE fail) is written as no date: the file then places its events from the
    first sample, as for a recording without a date, rather than on a date it does not hold (a
    device clock never set reads 1970).
    """
    if not dates_in_header(meas_date):
        start, start_us, date_text = _NO_DATE, 0, "X"
    else:
        start, start_us = header_start(meas_date.astimezone(UTC))
        date_text = edfplus_date(start)
    offset = Decimal(start_us) / Decimal(1_000_000)
    records = _records(_payloads(annotations, offset), timekeeping_bytes(offset))
    signals = [SignalSpec(EDF_ANNOTATIONS, "", "", "-1", "1", *EDF_DIGITAL_RANGE, "",
                          RECORD_BYTES // 2)]
    header = build_header(
        bdf=False, patient="X X X X",
        recording=f"Startdate {date_text} X X {subfield(equipment)}",
        start=start, record_s_text="0", signals=signals, n_records=len(records),
    )
    return header + b"".join(records)


def _payloads(annotations: Iterable[EdfAnnotation], offset: Decimal) -> list[bytes]:
    """The TALs of ``annotations`` in onset order, onsets ``offset`` after the header's second."""
    payloads = []
    for a in sorted(annotations, key=lambda a: (a.onset_s, a.channel, a.text)):
        text = clean_text(a.text) + (f"{CHANNEL_SEPARATOR}{clean_text(a.channel)}"
                                     if a.channel else "")
        payloads.append(tal_bytes(offset + decimal_seconds(a.onset_s),
                                  decimal_seconds(a.duration_s), [text]))
    return payloads


def _replace_atomically(path: str, content: bytes) -> None:
    """Write ``content`` to ``path`` (0600) through a temporary file and a rename."""
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def read_annotation_edf(path: str | os.PathLike) -> tuple[datetime | None, list[EdfAnnotation]]:
    """Read an annotation-only EDF+ file written by :func:`write_annotation_edf`.

    Returns
    -------
    (datetime or None, list of EdfAnnotation)
        The header's start second (UTC; None for ``Startdate X``) and the annotations, onsets in
        seconds from the first sample (the first time-keeping TAL).
    """
    header = read_header(path)
    layout = header.layout()
    with open(path, "rb") as fid:
        fid.seek(layout.header_bytes)
        body = fid.read()
    start = None if header.states_no_date() else header.start()
    found, offset = [], None
    for onset, duration, texts in iter_tals(body):
        if offset is None:
            offset = onset
        for raw in texts:
            text, _, channel = raw.decode("utf-8", "replace").partition(CHANNEL_SEPARATOR)
            found.append(EdfAnnotation(onset - offset, duration, text, channel))
    return start, found
