"""Crash-safe streaming EDF+/BDF+ writer.

The file is valid at every moment: the header is written first with the record count -1 (allowed
while recording), then each data record is written whole as soon as its samples are in, and the
file is fsynced at least once per second of wall time (and on :meth:`EdfPlusWriter.flush` and
:meth:`EdfPlusWriter.close`). A crash loses at most the partial record in memory; MNE opens such a
file as it is, and :func:`acquisition.repair.repair_edf` fixes the header and drops a torn record.

Annotations are kept in the EDF+ way: each data record's annotation signal opens with the
time-keeping TAL and carries the annotations whose onset falls in it. Annotations that arrive after
their record is on disk, or that do not fit in their record, go into the next record written (a
TAL's onset is absolute). Lost samples are written as a flat value and annotated ``BAD_ACQ_SKIP``.
"""

from __future__ import annotations

import errno
import math
import os
import time
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

import numpy as np

from acquisition import _edf_header as hdr
from acquisition._edf_labels import edf_label
from acquisition._tal import (
    TIMEKEEPING_MAX_BYTES,
    AnnotationQueue,
    clean_text,
    decimal_seconds,
    tal_bytes,
    timekeeping_bytes,
)

#: Annotation text of spans without real samples (gaps, padding), as MNE names acquisition skips.
GAP_TEXT = "BAD_ACQ_SKIP"
#: Samples per channel converted at once (bounds temporary memory for very long writes).
_SLICE_SAMPLES = 1 << 18
#: fsync when this much wall time passed since the last one (with unsynced records)...
_SYNC_WALL_S = 1.0
#: ...or when a second of signal is unsynced and at least this much wall time passed.
_SYNC_MIN_WALL_S = 0.5
#: Room kept in every record for the gap TAL the writer itself may add.
_GAP_TAL_MAX_BYTES = 100


class RecordingWriteError(OSError):
    """Writing a data record failed (disk full, file size limit...); the file was left valid.

    The message is one line: the file, the problem, and how much of the recording the file keeps.
    """

    def __init__(self, path: str, err: int | None, problem: str) -> None:
        super().__init__(err, problem)
        self.path = path
        self.problem = problem

    def __str__(self) -> str:
        return f"{self.path}: {self.problem}"


def _per_channel(value: float | Sequence[float], n_channels: int, name: str) -> list[float]:
    values = [float(value)] * n_channels if np.isscalar(value) else [float(v) for v in value]
    if len(values) != n_channels:
        raise ValueError(f"{name} has {len(values)} values for {n_channels} channels")
    return values


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
        if fmt not in ("edf", "bdf"):
            raise ValueError(f"fmt must be 'edf' or 'bdf', got {fmt!r}")
        self._bdf = fmt == "bdf"
        self.n_channels = len(ch_names)
        if self.n_channels < 1:
            raise ValueError("at least one channel is needed")
        self.sfreq_hz = float(sfreq_hz)
        self._configure_timing(record_s)
        self._configure_ranges(physical_min_uv, physical_max_uv)
        bytes_per_sample = 3 if self._bdf else 2
        n_ann = math.ceil(int(annotation_chars_per_record) / bytes_per_sample)
        capacity = n_ann * bytes_per_sample
        if capacity < TIMEKEEPING_MAX_BYTES + 2 * _GAP_TAL_MAX_BYTES:
            raise ValueError(
                f"annotation_chars_per_record={annotation_chars_per_record} is too small "
                f"(at least {TIMEKEEPING_MAX_BYTES + 2 * _GAP_TAL_MAX_BYTES})"
            )
        self._queue = AnnotationQueue(capacity - _GAP_TAL_MAX_BYTES)
        self._ann_bytes = capacity
        start, self._start_us = hdr.header_start(meas_date)
        self._offset_s = Decimal(self._start_us) / Decimal(1_000_000)
        if signal_type:
            ch_names = [edf_label(name, signal_type) for name in ch_names]
        signals = self._signal_specs(ch_names, transducer, prefilter, n_ann)
        recording = " ".join(
            ["Startdate", hdr.edfplus_date(start), "X", "X", hdr.subfield(equipment)]
            + ([hdr.ascii_text(recording_id)] if hdr.ascii_text(recording_id) else [])
        )
        header = hdr.build_header(
            bdf=self._bdf,
            patient=hdr.ascii_text(patient_id) or "X X X X",
            recording=recording,
            start=start,
            record_s_text=self._record_s_text,
            signals=signals,
        )
        self._header_bytes = len(header)
        self._record_bytes = (self.n_channels * self._spr * bytes_per_sample) + capacity
        self.samples_written = 0
        self.records_written = 0
        self.clipped_samples = 0
        self._pending = np.zeros((self.n_channels, self._spr), dtype=np.int32)
        self._fill = 0
        self._closed = False
        self._unsynced_records = 0
        replace_flag = os.O_TRUNC if overwrite else os.O_EXCL
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | replace_flag, 0o600)
        try:
            self._write_all(header)
        except OSError as exc:
            os.close(self._fd)
            self._closed = True
            raise RecordingWriteError(
                self.path, exc.errno, f"cannot write the EDF header ({exc.strerror or exc})"
            ) from exc
        os.fsync(self._fd)
        self._last_sync = time.monotonic()

    # ----------------------------------------------------------------------------- configuration
    def _configure_timing(self, record_s: float) -> None:
        if not (math.isfinite(self.sfreq_hz) and self.sfreq_hz > 0):
            raise ValueError(f"sfreq_hz must be positive, got {self.sfreq_hz!r}")
        if not (math.isfinite(record_s) and record_s > 0):
            raise ValueError(f"record_s must be positive, got {record_s!r}")
        self._record_s_text = hdr.format_number(float(record_s))
        self.record_s = float(self._record_s_text)
        if abs(self.record_s - record_s) > 1e-12 * record_s:
            raise ValueError(f"record_s={record_s!r} does not fit the 8-character header field")
        spr = self.sfreq_hz * self.record_s
        self._spr = round(spr)
        if self._spr < 1 or abs(spr - self._spr) > 1e-9 * max(spr, 1.0):
            raise ValueError(
                f"sfreq_hz * record_s must be a whole number of samples per record, "
                f"got {self.sfreq_hz!r} * {self.record_s!r} = {spr!r}"
            )
        self._record_s_dec = Decimal(self._record_s_text)

    def _configure_ranges(
        self, pmin: float | Sequence[float], pmax: float | Sequence[float]
    ) -> None:
        self._dmin, self._dmax = hdr.BDF_DIGITAL_RANGE if self._bdf else hdr.EDF_DIGITAL_RANGE
        pmins = _per_channel(pmin, self.n_channels, "physical_min_uv")
        pmaxs = _per_channel(pmax, self.n_channels, "physical_max_uv")
        self._pmin_text = [hdr.format_number(v) for v in pmins]
        self._pmax_text = [hdr.format_number(v) for v in pmaxs]
        # Convert with the values as written, so readers invert exactly what was done.
        self._pmin = np.array([float(t) for t in self._pmin_text])
        self._pmax = np.array([float(t) for t in self._pmax_text])
        if np.any(self._pmax <= self._pmin):
            raise ValueError("physical_max_uv must be above physical_min_uv for every channel")
        self._gain = (self._dmax - self._dmin) / (self._pmax - self._pmin)
        flat = np.rint((0.0 - self._pmin) * self._gain + self._dmin)
        self._flat = np.clip(flat, self._dmin, self._dmax).astype(np.int32)

    def _signal_specs(
        self, ch_names: list[str], transducer: str, prefilter: str, n_ann: int
    ) -> list[hdr.SignalSpec]:
        labels = [hdr.ascii_text(name)[:16].strip() for name in ch_names]
        ann_label = "BDF Annotations" if self._bdf else "EDF Annotations"
        if len(set(labels)) != len(labels) or "" in labels or ann_label in labels:
            raise ValueError(
                f"channel labels must be unique and non-empty in 16 ASCII characters: {labels}"
            )
        specs = [
            hdr.SignalSpec(
                label,
                hdr.ascii_text(transducer),
                "uV",
                self._pmin_text[i],
                self._pmax_text[i],
                self._dmin,
                self._dmax,
                hdr.ascii_text(prefilter),
                self._spr,
            )
            for i, label in enumerate(labels)
        ]
        specs.append(
            hdr.SignalSpec(ann_label, "", "", "-1", "1", self._dmin, self._dmax, "", n_ann)
        )
        return specs

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
            self._feed(self._to_digital(data[:, start : start + _SLICE_SAMPLES]))

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
            self._push(self.samples_written / self.sfreq_hz, n_samples / self.sfreq_hz, texts)
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
        self._push(onset_s, duration_s, [clean_text(text)])

    @property
    def annotation_room_bytes(self) -> int:
        """Bytes of annotations the record being filled can still take: an annotation larger
        than this waits for a later record, and what is still queued at close adds records."""
        return self._queue.capacity_bytes - TIMEKEEPING_MAX_BYTES - self._queue.pending_bytes

    def flush(self) -> None:
        """Make every complete record durable (records are written when complete; this fsyncs)."""
        self._check_open()
        self._sync()

    def close(self) -> None:
        """Pad the last record (flat, ``BAD_ACQ_SKIP``), write what is queued, patch the header.

        Annotations still queued go into the last record, adding flat annotated records if they
        do not fit. Closing twice does nothing.
        """
        if self._closed:
            return
        try:
            if self._fill:
                n_pad = self._spr - self._fill
                gap = self._gap_tal(self.samples_written, n_pad, "padding to a whole data record")
                self._pending[:, self._fill :] = self._flat[:, None]
                self._fill = 0
                self._write_records(self._pending[None].copy(), final=True, prefix=gap)
            while len(self._queue):
                start = self.records_written * self._spr
                gap = self._gap_tal(start, self._spr, "record added to hold annotations")
                block = np.repeat(self._flat[:, None], self._spr, axis=1)[None]
                self._write_records(block, final=True, prefix=gap)
            os.pwrite(self._fd, hdr.records_field(self.records_written), hdr.N_RECORDS_OFFSET)
            os.fsync(self._fd)
        except OSError as exc:
            if isinstance(exc, RecordingWriteError):
                raise
            raise self._fail(exc) from exc
        finally:
            if not self._closed:
                self._closed = True
                os.close(self._fd)

    def __enter__(self) -> EdfPlusWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ---------------------------------------------------------------------------------- internal
    def _check_open(self) -> None:
        if self._closed:
            raise ValueError(f"{self.path}: the EDF writer is closed")

    def _push(self, onset_s: float, duration_s: float, texts: list[str]) -> None:
        onset = self._offset_s + decimal_seconds(onset_s)
        self._queue.push(onset_s, tal_bytes(onset, decimal_seconds(duration_s), texts))

    def _gap_tal(self, start_sample: int, n_samples: int, reason: str) -> bytes:
        onset = self._offset_s + decimal_seconds(start_sample / self.sfreq_hz)
        texts = [GAP_TEXT, f"acquisition gap: {reason}"]
        return tal_bytes(onset, decimal_seconds(n_samples / self.sfreq_hz), texts)

    def _to_digital(self, data: np.ndarray) -> np.ndarray:
        pmin, pmax = self._pmin[:, None], self._pmax[:, None]
        self.clipped_samples += int(np.count_nonzero((data < pmin) | (data > pmax)))
        digital = np.rint((data - pmin) * self._gain[:, None] + self._dmin)
        np.clip(digital, self._dmin, self._dmax, out=digital)
        return digital.astype(np.int32)

    def _feed(self, digital: np.ndarray) -> None:
        """Queue digital samples ``(n_channels, n)``; write every record they complete."""
        n = digital.shape[1]
        self.samples_written += n
        pos = 0
        blocks = []
        if self._fill:
            take = min(self._spr - self._fill, n)
            self._pending[:, self._fill : self._fill + take] = digital[:, :take]
            self._fill += take
            pos = take
            if self._fill == self._spr:
                blocks.append(self._pending[None].copy())
                self._fill = 0
        n_full = (n - pos) // self._spr
        if n_full:
            full = digital[:, pos : pos + n_full * self._spr]
            blocks.append(full.reshape(self.n_channels, n_full, self._spr).transpose(1, 0, 2))
            pos += n_full * self._spr
        if pos < n:
            self._pending[:, : n - pos] = digital[:, pos:]
            self._fill = n - pos
        for block in blocks:
            self._write_records(block)

    def _record_signal_bytes(self, block: np.ndarray) -> np.ndarray:
        """Channel bytes of records ``block`` (n_records, n_channels, spr) as (n_records, bytes)."""
        k = block.shape[0]
        if self._bdf:
            raw = np.ascontiguousarray(block, dtype="<i4").view(np.uint8)
            return raw.reshape(k, -1, 4)[:, :, :3].reshape(k, -1)
        return np.ascontiguousarray(block, dtype="<i2").view(np.uint8).reshape(k, -1)

    def _write_records(self, block: np.ndarray, final: bool = False, prefix: bytes = b"") -> None:
        k = block.shape[0]
        ann = np.zeros((k, self._ann_bytes), dtype=np.uint8)
        for i in range(k):
            index = self.records_written + i
            start = self._offset_s + index * self._record_s_dec
            end_s = None if final else (index + 1) * self.record_s
            capacity = self._ann_bytes if final else None
            raw = self._queue.record_bytes(timekeeping_bytes(start) + prefix, end_s, capacity)
            ann[i, : len(raw)] = np.frombuffer(raw, dtype=np.uint8)
        payload = np.concatenate([self._record_signal_bytes(block), ann], axis=1)
        try:
            self._write_all(payload.tobytes())
        except OSError as exc:
            raise self._fail(exc) from exc
        self.records_written += k
        self._unsynced_records += k
        self._maybe_sync()

    def _write_all(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]

    def _maybe_sync(self) -> None:
        wall_s = time.monotonic() - self._last_sync
        signal_s = self._unsynced_records * self.record_s
        if wall_s >= _SYNC_WALL_S or (signal_s >= 1.0 and wall_s >= _SYNC_MIN_WALL_S):
            self._sync()

    def _sync(self) -> None:
        if self._unsynced_records:
            os.fsync(self._fd)
            self._unsynced_records = 0
        self._last_sync = time.monotonic()

    def _fail(self, exc: OSError) -> RecordingWriteError:
        """Cut the file back to its complete records, patch the header, close; return the error."""
        n = self.records_written
        try:
            os.ftruncate(self._fd, self._header_bytes + n * self._record_bytes)
            os.pwrite(self._fd, hdr.records_field(n), hdr.N_RECORDS_OFFSET)
            os.fsync(self._fd)
        except OSError:
            pass
        finally:
            self._closed = True
            os.close(self._fd)
        what = "disk full" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
        return RecordingWriteError(
            self.path,
            exc.errno,
            f"cannot write data record {n + 1} ({what}); the file keeps the {n} complete records "
            f"({n * self.record_s:g} s) written before",
        )
