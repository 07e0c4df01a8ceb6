"""The annotation signal of a file being written: what each data record's annotations hold.

Each data record's annotation signal opens with the time-keeping TAL and carries the annotations
whose onset falls in it. Annotations that arrive after their record is on disk, or that do not fit
in their record, go into the next record written (a TAL's onset is absolute).
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from acquisition.edf.constants import GAP_TEXT
from acquisition.edf.tal import (
    TIMEKEEPING_MAX_BYTES,
    AnnotationQueue,
    decimal_seconds,
    tal_bytes,
    timekeeping_bytes,
)

#: Room kept in every record for the gap TAL the writer itself may add.
GAP_TAL_MAX_BYTES = 100


class AnnotationChannel:
    """Annotations waiting for their data record, and the annotation bytes of each record.

    Parameters
    ----------
    capacity_bytes : int
        Bytes of the annotation signal in one data record.
    sfreq_hz : float
        Sampling rate (gap spans are given in samples).
    record_s_text : str
        Data record duration as written in the header.
    offset_s : Decimal
        Seconds from the header's start second to the first sample (added to every onset).
    """

    def __init__(self, capacity_bytes: int, sfreq_hz: float, record_s_text: str,
                 offset_s: Decimal) -> None:
        self.capacity_bytes = capacity_bytes
        self.sfreq_hz = sfreq_hz
        self._record_s_dec = Decimal(record_s_text)
        self._record_s = float(record_s_text)
        self._offset_s = offset_s
        self._queue = AnnotationQueue(capacity_bytes - GAP_TAL_MAX_BYTES)

    def __len__(self) -> int:
        return len(self._queue)

    @property
    def room_bytes(self) -> int:
        """Bytes of annotations the record being filled can still take."""
        return self._queue.capacity_bytes - TIMEKEEPING_MAX_BYTES - self._queue.pending_bytes

    def push(self, onset_s: float, duration_s: float, texts: list[str]) -> None:
        """Queue an annotation, ``onset_s`` seconds after the first sample."""
        onset = self._offset_s + decimal_seconds(onset_s)
        self._queue.push(onset_s, tal_bytes(onset, decimal_seconds(duration_s), texts))

    def gap_tal(self, start_sample: int, n_samples: int, reason: str) -> bytes:
        """The ``BAD_ACQ_SKIP`` TAL over samples the writer adds itself (padding)."""
        onset = self._offset_s + decimal_seconds(start_sample / self.sfreq_hz)
        texts = [GAP_TEXT, f"acquisition gap: {reason}"]
        return tal_bytes(onset, decimal_seconds(n_samples / self.sfreq_hz), texts)

    def records(self, first_index: int, n_records: int, final: bool = False,
                prefix: bytes = b"") -> np.ndarray:
        """Annotation bytes of records ``first_index...`` as ``(n_records, capacity_bytes)``.

        Each takes the queued annotations with onset before its end (all of them when ``final``,
        up to the whole capacity), after its time-keeping TAL and ``prefix``.
        """
        ann = np.zeros((n_records, self.capacity_bytes), dtype=np.uint8)
        for i in range(n_records):
            index = first_index + i
            start = self._offset_s + index * self._record_s_dec
            end_s = None if final else (index + 1) * self._record_s
            capacity = self.capacity_bytes if final else None
            raw = self._queue.record_bytes(timekeeping_bytes(start) + prefix, end_s, capacity)
            ann[i, : len(raw)] = np.frombuffer(raw, dtype=np.uint8)
        return ann
