"""Constant-memory reading of EDF/EDF+/BDF/BDF+ for replay: slices of samples and the gap annotations.

MNE's EDF reader, even with ``preload=False``, reads the annotation signal of every record at open and
needs about twice the file size in memory; an 8-hour recording at 2 kHz does not fit the replay's
budget that way. :class:`EdfStream` reads only the records a slice needs, and scans the annotations
record block by record block, keeping only the ``BAD_ACQ_SKIP`` spans. Physical values follow the EDF
formula MNE uses (:class:`~acquisition.edf.scaling.EdfScaling`).

A discontinuous file (``EDF+D``, a recording that paused) has each record placed at the start its
time-keeping annotation states, the holes between records lost time (NaN, and gap spans)
(:mod:`~acquisition.edf.discontinuous`); a file typed contiguous (``EDF+C``) whose records'
time-keeping says they paused is refused. Files with different sample rates per data signal are
read here only for signals of one rate (``signals``); for all of them the replay falls back to the
general reader.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

import numpy as np

from acquisition.edf.constants import ANNOTATION_LABELS, bytes_per_sample
from acquisition.edf.discontinuous import check_contiguous, holes, record_starts
from acquisition.edf.header import read_header
from acquisition.edf.labels import channel_names, signal_type
from acquisition.edf.scaling import EdfScaling
from acquisition.edf.stream_checks import (
    BadEdfHeader,
    UnsupportedEdf,
    check_header,
    checked_layout,
    checked_record_s,
    voltage_signals,
)
from acquisition.edf.tal import iter_tals
from acquisition.edf.units import refuse_annotations_only, unit_to_uv

__all__ = ["BadEdfHeader", "EdfStream", "UnsupportedEdf", "data_signal_rates", "data_signal_types",
           "merge_spans"]

#: Records read at once when scanning annotations (bounded temporary memory).
_SCAN_RECORDS = 256


def data_signal_rates(path: str | os.PathLike) -> list[tuple[str, float]]:
    """``(name, sampling rate)`` of each data signal :class:`EdfStream` can read (those in a
    voltage unit), in file order, named as :class:`EdfStream` names its channels."""
    labels, rates_hz = _data_labels_and_rates(path)
    return list(zip(channel_names(labels), rates_hz, strict=True))


def data_signal_types(path: str | os.PathLike) -> list[str | None]:
    """The MNE channel type each data signal's EDF+ label states (``"eeg"`` of ``EEG Fpz-Cz``),
    None where it states none, in the order of :func:`data_signal_rates`."""
    return [signal_type(label) for label in _data_labels_and_rates(path)[0]]


def _data_labels_and_rates(path: str | os.PathLike) -> tuple[list[str], list[float]]:
    """Labels and rates of the data signals in a voltage unit; :class:`BadEdfHeader` (or
    another :class:`~acquisition.errors.RecordingError`) naming the file for a header that
    gives them no rate: annotations only, or a record duration that cannot be right."""
    header = read_header(path)
    checked_layout(header)
    refuse_annotations_only(header.path, header)
    record_s = checked_record_s(header)
    fields = header.fields()
    data = voltage_signals(fields)
    return ([fields["label"][i] for i in data],
            [int(fields["samples_per_record"][i]) / record_s for i in data])


def _unit_to_uv(unit: str) -> float:
    """µV per physical unit; an unknown unit is left to the general reader, which refuses it."""
    scale = unit_to_uv(unit)
    if scale is None:
        raise UnsupportedEdf(f"unknown physical dimension {unit.strip()!r}")
    return scale


class EdfStream:
    """Slices of an EDF/BDF file in µV, read on demand.

    Parameters
    ----------
    path : str or os.PathLike
        The file.

    signals : sequence of int, optional
        Which data signals to read (0-based, in file order, counting only the signals in a
        voltage unit, as :func:`data_signal_rates` lists them); all of them when omitted.

    Raises
    ------
    ValueError
        Not an EDF/BDF file; :class:`UnsupportedEdf` for mixed sample rates.
    """

    def __init__(self, path: str | os.PathLike, signals: Sequence[int] | None = None) -> None:
        header = read_header(path)
        self.path = header.path
        layout = checked_layout(header)
        self.bdf = layout.bdf
        self._bps = bytes_per_sample(self.bdf)
        fields = header.fields()
        labels, units = fields["label"], fields["physical_dimension"]
        self._ann = [i for i, lab in enumerate(labels) if lab in ANNOTATION_LABELS]
        # signals not in a voltage unit are left out, as the general reader does
        self._data = voltage_signals(fields)
        if not self._data:
            raise UnsupportedEdf(f"{self.path}: no data signal")
        names = channel_names([labels[i] for i in self._data])
        if signals is not None:
            self._data, names = [self._data[i] for i in signals], [names[i] for i in signals]
        check_header(header, fields, self._data)
        spr_n = layout.samples_per_record
        if len({spr_n[i] for i in self._data}) != 1:
            raise UnsupportedEdf(f"{self.path}: data signals with different sample rates")
        self.spr = spr_n[self._data[0]]
        self.record_s = header.record_s()
        self.sfreq_hz = self.spr / self.record_s
        self.ch_names = names
        #: Each data signal's prefilter field (its hardware filter, EDF+ syntax).
        self.prefilters = [fields["prefilter"][i] for i in self._data]
        self.scaling = EdfScaling.from_fields(fields, self._data)
        self._unit_uv = np.array([_unit_to_uv(units[i]) for i in self._data])[:, None]
        self.uv_per_count = float(self.scaling.cal[0] * self._unit_uv[0, 0])
        self._place_records(layout, header.file_bytes, spr_n)
        start = None if header.states_no_date() else header.start()  # EDF+ "Startdate X"
        self._tk0 = self._first_timekeeping() if self._ann else 0.0
        self.meas_date = start if not (self._tk0 and start) else _add_seconds(start, self._tk0)
        #: Timeline sample of each record's start when the file pauses (EDF+D), else None.
        self.record_starts = None
        self._place_in_time(header.text("reserved")[:5])

    def _place_in_time(self, kind: str) -> None:
        """EDF+D: each record at its time-keeping onset; EDF+C: refused if its onsets say the
        records do not follow each other (:mod:`~acquisition.edf.discontinuous`)."""
        if not self._ann or kind not in ("EDF+C", "EDF+D", "BDF+C", "BDF+D"):
            return
        paused = kind.endswith("D")
        onsets_s = self._record_onsets_s(required=paused, kind=kind)
        if not paused:
            check_contiguous(onsets_s, self.sfreq_hz, self.spr, self.path, kind)
            return
        self.record_starts = record_starts(onsets_s, self.sfreq_hz, self.spr, self.path)
        if self.record_starts is not None:
            self.n_times = int(self.record_starts[-1]) + self.spr

    def _place_records(self, layout, file_bytes: int, spr_n: tuple[int, ...]) -> None:
        """Record count from the file size, and where each signal lies in a record."""
        self._header_bytes = layout.header_bytes
        self._record_bytes = layout.record_bytes
        self.n_records = max(0, (file_bytes - layout.header_bytes) // layout.record_bytes)
        if layout.n_records != -1 and self.n_records < layout.n_records:
            # Cut short with a positive count: the general reader refuses it, naming the file.
            raise UnsupportedEdf(f"{self.path}: {self.n_records} of {layout.n_records} records")
        self.n_times = self.n_records * self.spr
        offsets = np.cumsum([0] + [spr_n[i] * self._bps for i in range(layout.n_signals)])
        self._sig_bytes = [(int(offsets[i]), int(offsets[i + 1])) for i in range(layout.n_signals)]

    # ---------------------------------------------------------------------------------- samples
    def _records(self, r0: int, r1: int) -> np.ndarray:
        count = (r1 - r0) * self._record_bytes
        with open(self.path, "rb") as fid:
            fid.seek(self._header_bytes + r0 * self._record_bytes)
            raw = np.frombuffer(fid.read(count), dtype=np.uint8)
        return raw.reshape(r1 - r0, self._record_bytes)

    def _counts_into(self, block: np.ndarray, signal: int, out: np.ndarray) -> None:
        """Write the stored counts of ``signal`` in the records ``block`` to ``out`` (float64,
        records x samples per record), converted straight from the file's bytes."""
        a, b = self._sig_bytes[signal]
        part = block[:, a:b]
        if not self.bdf:
            out[...] = part.view("<i2")
            return
        b3 = part.reshape(out.shape[0], out.shape[1], 3).astype(np.int32)
        value = b3[..., 0] | (b3[..., 1] << 8) | (b3[..., 2] << 16)
        out[...] = np.where(value >= 1 << 23, value - (1 << 24), value)

    def get_uv(self, start: int, stop: int) -> np.ndarray:
        """Samples ``start:stop`` of every data signal in µV, shape ``(n_channels, stop - start)``.

        The counts go from the file's bytes into the float64 result, which is then scaled in
        place (:meth:`EdfScaling.to_physical_in_place`): the numbers of the EDF formula, without
        a temporary array per step.
        """
        start, stop = max(0, int(start)), min(self.n_times, int(stop))
        if stop <= start:
            return np.zeros((len(self._data), 0))
        if self.record_starts is not None:
            return self._placed_uv(start, stop)
        r0, r1 = start // self.spr, -(-stop // self.spr)
        values = self._records_uv(r0, r1)
        lo = start - r0 * self.spr
        if lo or stop - start < values.shape[1]:  # not on record boundaries: the slice alone
            values = np.ascontiguousarray(values[:, lo : lo + (stop - start)])
        return values

    def _records_uv(self, r0: int, r1: int) -> np.ndarray:
        """Records ``r0:r1`` of the file in µV, one after the other."""
        block = self._records(r0, r1)
        values = np.empty((len(self._data), (r1 - r0) * self.spr))
        for row, signal in zip(values, self._data, strict=True):
            self._counts_into(block, signal, row.reshape(r1 - r0, self.spr))
        return self.scaling.to_physical_in_place(values, self._unit_uv)

    def _placed_uv(self, start: int, stop: int) -> np.ndarray:
        """Samples ``start:stop`` of a file that pauses: each record at its own start, NaN in
        the holes between records (lost time, annotated by :meth:`gap_spans`)."""
        starts, spr = self.record_starts, self.spr
        out = np.full((len(self._data), stop - start), np.nan)
        r0 = max(0, int(np.searchsorted(starts, start, "right")) - 1)
        r1 = int(np.searchsorted(starts, stop, "left"))
        if r1 <= r0:
            return out
        values = self._records_uv(r0, r1)
        for r in range(r0, r1):  # one copy per record, not per sample
            a, b = max(start, int(starts[r])), min(stop, int(starts[r]) + spr)
            if b > a:
                k = (r - r0) * spr + a - int(starts[r])
                out[:, a - start : b - start] = values[:, k : k + b - a]
        return out

    # ------------------------------------------------------------------------------ annotations
    def _ann_bytes(self, block: np.ndarray) -> list[bytes]:
        out = []
        for row in block:
            out.append(b"".join(row[slice(*self._sig_bytes[s])].tobytes() for s in self._ann))
        return out

    def _record_onsets_s(self, required: bool = True, kind: str = "EDF+D") -> np.ndarray:
        """Each record's time-keeping onset, seconds from the first record's (EDF+ puts it
        first in the record's annotations); read record block by record block. A record without
        one is refused when ``required``, else NaN."""
        onsets = np.full(self.n_records, np.nan)
        for r0 in range(0, self.n_records, _SCAN_RECORDS):
            r1 = min(self.n_records, r0 + _SCAN_RECORDS)
            for r, record in enumerate(self._ann_bytes(self._records(r0, r1)), r0):
                first = next(iter_tals(record), None)
                if first is not None:
                    onsets[r] = first[0] - self._tk0
                elif required:
                    raise BadEdfHeader(self.path, f"{kind} record {r} has no time-keeping "
                                                  "annotation")
        return onsets

    def _first_timekeeping(self) -> float:
        if self.n_records == 0:
            return 0.0
        first = next(iter_tals(self._ann_bytes(self._records(0, 1))[0]), None)
        return first[0] if first else 0.0

    def annotations(self, prefix: str = "") -> list[tuple[float, float, str]]:
        """``(onset_s, duration_s, text)`` of the annotations whose text starts with ``prefix``,
        onsets in seconds from the first sample; read record block by record block."""
        found = []
        want = prefix.encode("utf-8")
        for r0 in range(0, self.n_records, _SCAN_RECORDS):
            r1 = min(self.n_records, r0 + _SCAN_RECORDS)
            for record in self._ann_bytes(self._records(r0, r1)):
                for onset, duration, texts in iter_tals(record):
                    found.extend((onset - self._tk0, duration, text.decode("utf-8", "replace"))
                                 for text in texts if text.startswith(want))
        return found

    def gap_spans(self, text: str, *, also: Sequence[tuple[float, float]] = ()
                  ) -> list[tuple[int, int]]:
        """Sample spans ``[start, stop)`` annotated ``text``, the ``also`` spans (onset and
        duration in seconds), and the pauses between the records of an EDF+D file, merged and
        clipped to the data."""
        spans = [(o, d) for o, d, t in self.annotations(text) if t == text] + list(also)
        items = sorted(
            [(int(round(o * self.sfreq_hz)), int(round((o + d) * self.sfreq_hz)))
             for o, d in spans]
            + (holes(self.record_starts, self.spr) if self.record_starts is not None else [])
        )
        return merge_spans(items, self.n_times)

    def marked_bad(self) -> list[tuple[float, float, str]]:
        """``(onset_s, duration_s, text)`` of the spans annotated ``BAD...`` other than lost
        samples: marked to be left out, as MNE's browser marks them."""
        return [(o, d, t) for o, d, t in self.annotations()
                if is_marked_bad(t) and d > 0]


def is_marked_bad(text: str) -> bool:
    """Whether an annotation marks data to leave out: its text begins with ``BAD`` (in any case,
    MNE's ``reject_by_annotation``), other than a span of lost samples (``BAD_ACQ_SKIP``).

    Examples
    --------
    >>> is_marked_bad("BAD_movement"), is_marked_bad("bad cough"), is_marked_bad("BAD_ACQ_SKIP")
    (True, True, False)
    """
    upper = str(text).upper()
    return upper.startswith("BAD") and not upper.startswith("BAD_ACQ_SKIP")


def merge_spans(spans: Iterable[tuple[int, int]], n_times: int) -> list[tuple[int, int]]:
    """Sample spans ``[start, stop)`` (in order of start) clipped to ``[0, n_times)``, empty ones
    dropped, overlapping or touching ones merged.

    Examples
    --------
    >>> merge_spans([(-5, 3), (2, 6), (6, 8), (9, 9), (10, 99)], 20)
    [(0, 8), (10, 20)]
    """
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        a, b = max(0, int(a)), min(n_times, int(b))
        if b <= a:
            continue
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def _add_seconds(start: datetime, seconds: float) -> datetime:
    return start + timedelta(seconds=seconds)
