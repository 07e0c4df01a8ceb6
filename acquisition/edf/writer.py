"""Crash-safe streaming EDF+/BDF+ writer.

The file is valid at every moment: the header is written first with the record count -1 (allowed
while recording), then each data record is written whole as soon as its samples are in, and the
file is fsynced at least once per second of wall time (and on :meth:`EdfPlusWriter.flush` and
:meth:`EdfPlusWriter.close`). A crash loses at most the partial record in memory; MNE opens such a
file as it is, and :func:`acquisition.edf.repair.repair_edf` fixes the header and drops a torn record.

Annotations are kept in the EDF+ way: each data record's annotation signal opens with the
time-keeping TAL and carries the annotations whose onset falls in it. Annotations that arrive after
their record is on disk, or that do not fit in their record, go into the next record written (a
TAL's onset is absolute). Lost samples are written as a flat value and annotated ``BAD_ACQ_SKIP``.

The work is shared out: :mod:`~acquisition.edf.layout` checks the parameters and lays out the
records, :class:`~acquisition.edf.record_buffer.RecordBuffer` gathers samples into records,
:class:`~acquisition.edf.annotation_channel.AnnotationChannel` fills each record's annotations and
:class:`~acquisition.edf.record_file.RecordFile` writes, fsyncs and patches the file.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from datetime import datetime

import numpy as np

from acquisition.edf.annotation_channel import AnnotationChannel
from acquisition.edf.constants import GAP_TEXT, annotation_label
from acquisition.edf.fields import ascii_text, edfplus_date, subfield
from acquisition.edf.header_build import build_header
from acquisition.edf.labels import edf_label
from acquisition.edf.layout import RecordLayout, plan_layout
from acquisition.edf.record_buffer import RecordBuffer, record_signal_bytes
from acquisition.edf.record_file import RecordFile, RecordingWriteError
from acquisition.edf.scaling import EdfScaling
from acquisition.edf.tal import clean_text

__all__ = ["GAP_TEXT", "EdfPlusWriter", "RecordingWriteError"]

#: Samples per channel converted at once (bounds temporary memory for very long writes).
_SLICE_SAMPLES = 1 << 18


def _labels(ch_names: list[str], signal_type: str, bdf: bool) -> list[str]:
    """Header labels of the channels; ValueError when they are not unique and printable."""
    if signal_type:
        ch_names = [edf_label(name, signal_type) for name in ch_names]
    labels = [ascii_text(name)[:16].strip() for name in ch_names]
    if len(set(labels)) != len(labels) or "" in labels or annotation_label(bdf) in labels:
        raise ValueError(
            f"channel labels must be unique and non-empty in 16 ASCII characters: {labels}"
        )
    return labels


def _header(layout: RecordLayout, labels: list[str], *, patient_id: str, recording_id: str,
            equipment: str, transducer: str, prefilter: str) -> bytes:
    recording = " ".join(
        ["Startdate", edfplus_date(layout.start), "X", "X", subfield(equipment)]
        + ([ascii_text(recording_id)] if ascii_text(recording_id) else [])
    )
    return build_header(
        bdf=layout.bdf,
        patient=ascii_text(patient_id) or "X X X X",
        recording=recording,
        start=layout.start,
        record_s_text=layout.record_s_text,
        signals=layout.signal_specs(labels, transducer, prefilter),
    )


class EdfPlusWriter:
    """Write a continuous EDF+ (16-bit) or BDF+ (24-bit) file while samples arrive.

    Parameters
    ----------
    path : str or os.PathLike
        File to create, mode 0600 (health data). An existing file is overwritten only with
        ``overwrite=True``; a symbolic link is never followed.
    ch_names : list of str
        Channel names (printable ASCII, at most 16 characters with ``signal_type`` once
        sanitised; must stay unique).
    sfreq_hz : float
        Sampling rate; ``sfreq_hz * record_s`` must be an integer.
    meas_date : datetime
        Recording start; aware datetimes are converted to UTC, naive ones are taken as UTC.
        Sub-second starts are kept in the first time-keeping TAL, as EDF+ specifies.
    fmt : {"edf", "bdf"}
        EDF+ (digital -32768..32767) or BDF+ (-8388608..8388607).
    physical_min_uv, physical_max_uv : float or sequence of float
        Physical range per channel in µV; values outside it are clipped and counted.
    record_s : float
        Data record duration in seconds.
    patient_id : str
        EDF+ patient field (code, sex, birthdate, name); anonymised ``X X X X`` by default.
    recording_id : str
        Free text after ``Startdate dd-MMM-yyyy X X <equipment>`` in the recording field.
    equipment : str
        Equipment code subfield of the recording field (``X`` when empty).
    transducer, prefilter : str
        Per-channel transducer and prefiltering fields (the hardware filter in EDF+ syntax,
        ``HP:20Hz LP:450Hz``; empty when unknown).
    annotation_chars_per_record : int
        Bytes reserved per data record for annotations (time-keeping included).
    signal_type : str
        EDF+ signal type written before every name (``"EMG"``: label ``EMG calf_left``, which
        MNE types as EMG with ``infer_types=True``); empty for the names as they are.
    overwrite : bool
        False: refuse an existing path (``FileExistsError``), as a recording must never replace
        another.

    Attributes
    ----------
    samples_written : int
        Samples per channel accepted on the timeline (data and gaps; not the closing padding).
    records_written : int
        Complete data records on disk.
    clipped_samples : int
        Samples (over all channels) clipped to the physical range.
    scaling : acquisition.edf.scaling.EdfScaling
        The physical and digital ranges per channel as stored in the header: what a reader of
        the file converts with (the live view maps samples through it).
    """

    def __init__(
        self,
        path: str | os.PathLike,
        ch_names: list[str],
        sfreq_hz: float,
        meas_date: datetime,
        *,
        fmt: str = "edf",
        physical_min_uv: float | Sequence[float] = -5000.0,
        physical_max_uv: float | Sequence[float] = 5000.0,
        record_s: float = 1.0,
        patient_id: str = "X X X X",
        recording_id: str = "",
        equipment: str = "",
        transducer: str = "surface EMG electrodes",
        prefilter: str = "",
        annotation_chars_per_record: int = 600,
        signal_type: str = "",
        overwrite: bool = True,
    ) -> None:
        self.path = os.fspath(path)
        self.layout = layout = plan_layout(
            len(ch_names), sfreq_hz, meas_date, fmt=fmt, physical_min_uv=physical_min_uv,
            physical_max_uv=physical_max_uv, record_s=record_s,
            annotation_chars_per_record=annotation_chars_per_record)
        header = _header(layout, _labels(ch_names, signal_type, layout.bdf), patient_id=patient_id,
                         recording_id=recording_id, equipment=equipment, transducer=transducer,
                         prefilter=prefilter)
        self.n_channels = layout.n_channels
        self.sfreq_hz = layout.sfreq_hz
        self.record_s = layout.record_s
        self._spr = layout.samples_per_record
        self._flat = layout.flat()
        self._annotations = AnnotationChannel(layout.annotation_bytes, self.sfreq_hz,
                                              layout.record_s_text, layout.offset_s)
        self._buffer = RecordBuffer(self.n_channels, self._spr)
        self.samples_written = 0
        self.clipped_samples = 0
        self._file = RecordFile(self.path, header, layout.record_bytes, self.record_s, overwrite)

    @property
    def scaling(self) -> EdfScaling:
        """Physical and digital ranges per channel as stored in the header."""
        return self.layout.scaling

    @property
    def records_written(self) -> int:
        """Complete data records on disk."""
        return self._file.n_records

    # ------------------------------------------------------------------------------------ public
    def write(self, data_uv: np.ndarray) -> None:
        """Append samples, shape ``(n_channels, n)`` in µV; complete records go to disk at once.

        Raises
        ------
        ValueError
            On a wrong shape or NaN/inf samples (lost samples go through :meth:`write_gap`).
        RecordingWriteError
            When the disk refuses the data; the file keeps every complete record before.
        """
        self._check_open()
        data = np.asarray(data_uv, dtype=np.float64)
        if data.ndim != 2 or data.shape[0] != self.n_channels:
            raise ValueError(
                f"{self.path}: data must have shape ({self.n_channels}, n), got {data.shape}"
            )
        if not np.isfinite(data).all():
            raise ValueError(
                f"{self.path}: NaN or infinite samples passed to write(); "
                "use write_gap() for lost samples"
            )
        for start in range(0, data.shape[1], _SLICE_SAMPLES):
            part = data[:, start : start + _SLICE_SAMPLES]
            self.clipped_samples += self.scaling.clipped(part)
            self._feed(self.scaling.to_digital(part).astype(np.int32))

    def write_gap(self, n_samples: int, reason: str = "", annotate: bool = True) -> None:
        """Append ``n_samples`` lost samples: flat, annotated ``BAD_ACQ_SKIP`` over exactly them.

        ``reason`` (e.g. ``"sequence gap"``) is kept as a second text of the same annotation,
        ``"acquisition gap: <reason>"``. ``annotate=False`` leaves the annotation to the caller
        (which may merge a run of short gaps into one, see :attr:`annotation_room_bytes`).
        """
        self._check_open()
        n_samples = int(n_samples)
        if n_samples < 0:
            raise ValueError(f"n_samples must be >= 0, got {n_samples}")
        if n_samples == 0:
            return
        texts = [GAP_TEXT] + ([f"acquisition gap: {clean_text(reason)}"] if reason else [])
        if annotate:
            self._annotations.push(self.samples_written / self.sfreq_hz,
                                   n_samples / self.sfreq_hz, texts)
        for start in range(0, n_samples, _SLICE_SAMPLES):
            n = min(_SLICE_SAMPLES, n_samples - start)
            self._feed(np.repeat(self._flat[:, None], n, axis=1))

    def annotate(self, onset_s: float, duration_s: float, text: str) -> None:
        """Add an annotation; ``onset_s`` is seconds from the recording start (>= 0).

        It is written in the data record containing its onset, or in the next record written when
        that one is already on disk or full.
        """
        self._check_open()
        onset_s, duration_s = float(onset_s), float(duration_s)
        if not (math.isfinite(onset_s) and onset_s >= 0):
            raise ValueError(f"onset_s must be finite and >= 0, got {onset_s!r}")
        if not (math.isfinite(duration_s) and duration_s >= 0):
            raise ValueError(f"duration_s must be finite and >= 0, got {duration_s!r}")
        self._annotations.push(onset_s, duration_s, [clean_text(text)])

    @property
    def annotation_room_bytes(self) -> int:
        """Bytes of annotations the record being filled can still take: an annotation larger
        than this waits for a later record, and what is still queued at close adds records."""
        return self._annotations.room_bytes

    def flush(self) -> None:
        """Make every complete record durable (records are written when complete; this fsyncs)."""
        self._check_open()
        self._file.sync()

    def close(self) -> None:
        """Pad the last record (flat, ``BAD_ACQ_SKIP``), write what is queued, patch the header.

        Annotations still queued go into the last record, adding flat annotated records if they
        do not fit. Closing twice does nothing.
        """
        if self._file.closed:
            return
        try:
            self._write_last_records()
            self._file.finish()
        except OSError as exc:
            if isinstance(exc, RecordingWriteError):
                raise
            raise self._file.fail(exc) from exc
        finally:
            self._file.close()

    def __enter__(self) -> EdfPlusWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ---------------------------------------------------------------------------------- internal
    def _check_open(self) -> None:
        if self._file.closed:
            raise ValueError(f"{self.path}: the EDF writer is closed")

    def _write_last_records(self) -> None:
        """The padded last record, then flat records for the annotations still queued."""
        if self._buffer.fill:
            n_pad = self._spr - self._buffer.fill
            gap = self._annotations.gap_tal(self.samples_written, n_pad,
                                            "padding to a whole data record")
            self._write_records(self._buffer.pad(self._flat), final=True, prefix=gap)
        while len(self._annotations):
            start = self.records_written * self._spr
            gap = self._annotations.gap_tal(start, self._spr, "record added to hold annotations")
            block = np.repeat(self._flat[:, None], self._spr, axis=1)[None]
            self._write_records(block, final=True, prefix=gap)

    def _feed(self, digital: np.ndarray) -> None:
        """Queue digital samples ``(n_channels, n)``; write every record they complete."""
        self.samples_written += digital.shape[1]
        for block in self._buffer.feed(digital):
            self._write_records(block)

    def _write_records(self, block: np.ndarray, final: bool = False, prefix: bytes = b"") -> None:
        k = block.shape[0]
        ann = self._annotations.records(self.records_written, k, final, prefix)
        payload = np.concatenate([record_signal_bytes(block, self.layout.bdf), ann], axis=1)
        self._file.append(payload.tobytes(), k)
