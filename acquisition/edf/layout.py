"""The layout of the file an :class:`~acquisition.edf.writer.EdfPlusWriter` writes.

:func:`plan_layout` checks the writer's parameters and fixes what every data record holds: the
record duration as written, samples per record, the physical and digital ranges (as written, so
readers invert exactly what was done) and the bytes of the annotation signal.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import numpy as np

from acquisition.edf.annotation_channel import GAP_TAL_MAX_BYTES
from acquisition.edf.constants import annotation_label, bytes_per_sample, digital_range
from acquisition.edf.fields import ascii_text, format_number, header_start
from acquisition.edf.header_build import SignalSpec
from acquisition.edf.scaling import EdfScaling
from acquisition.edf.tal import TIMEKEEPING_MAX_BYTES


@dataclass(frozen=True)
class RecordLayout:
    """What each data record of a file being written holds, and where the file starts."""

    bdf: bool
    n_channels: int
    sfreq_hz: float
    record_s_text: str
    samples_per_record: int
    physical_min_text: tuple[str, ...]
    physical_max_text: tuple[str, ...]
    #: the ranges as stored in the header, what the live view converts with
    scaling: EdfScaling
    annotation_bytes: int
    #: header start (the whole second, UTC) and the microseconds past it
    start: datetime
    start_us: int

    @property
    def record_s(self) -> float:
        """Data record duration, as written in the header."""
        return float(self.record_s_text)

    @property
    def record_bytes(self) -> int:
        """Bytes of one data record (every channel and the annotation signal)."""
        signal = self.n_channels * self.samples_per_record * bytes_per_sample(self.bdf)
        return signal + self.annotation_bytes

    @property
    def offset_s(self) -> Decimal:
        """Seconds from the header's start second to the first sample."""
        return Decimal(self.start_us) / Decimal(1_000_000)

    def flat(self) -> np.ndarray:
        """The digital count of 0 µV per channel (int32), written for lost samples."""
        return self.scaling.to_digital(np.zeros((self.n_channels, 1)))[:, 0].astype(np.int32)

    def signal_specs(self, labels: list[str], transducer: str, prefilter: str) -> list[SignalSpec]:
        """The header's signals: one per channel, then the annotation signal."""
        dmin, dmax = digital_range(self.bdf)
        specs = [SignalSpec(label, ascii_text(transducer), "uV", self.physical_min_text[i],
                            self.physical_max_text[i], dmin, dmax, ascii_text(prefilter),
                            self.samples_per_record)
                 for i, label in enumerate(labels)]
        n_ann = self.annotation_bytes // bytes_per_sample(self.bdf)
        specs.append(SignalSpec(annotation_label(self.bdf), "", "", "-1", "1", dmin, dmax, "",
                                n_ann))
        return specs


def _per_channel(value: float | Sequence[float], n_channels: int, name: str) -> list[float]:
    values = [float(value)] * n_channels if np.isscalar(value) else [float(v) for v in value]
    if len(values) != n_channels:
        raise ValueError(f"{name} has {len(values)} values for {n_channels} channels")
    return values


def _timing(sfreq_hz: float, record_s: float) -> tuple[str, int]:
    """The record duration as written and the samples per record."""
    if not (math.isfinite(sfreq_hz) and sfreq_hz > 0):
        raise ValueError(f"sfreq_hz must be positive, got {sfreq_hz!r}")
    if not (math.isfinite(record_s) and record_s > 0):
        raise ValueError(f"record_s must be positive, got {record_s!r}")
    record_s_text = format_number(float(record_s))
    written_s = float(record_s_text)
    if abs(written_s - record_s) > 1e-12 * record_s:
        raise ValueError(f"record_s={record_s!r} does not fit the 8-character header field")
    spr = sfreq_hz * written_s
    spr_n = round(spr)
    if spr_n < 1 or abs(spr - spr_n) > 1e-9 * max(spr, 1.0):
        raise ValueError(
            f"sfreq_hz * record_s must be a whole number of samples per record, "
            f"got {sfreq_hz!r} * {written_s!r} = {spr!r}"
        )
    return record_s_text, spr_n


def _ranges(bdf: bool, pmin, pmax, n_channels: int) -> tuple[list[str], list[str], EdfScaling]:
    """The physical ranges as written, and the scaling they make with the digital range."""
    pmin_text = [format_number(v) for v in _per_channel(pmin, n_channels, "physical_min_uv")]
    pmax_text = [format_number(v) for v in _per_channel(pmax, n_channels, "physical_max_uv")]
    dmin, dmax = digital_range(bdf)
    scaling = EdfScaling.from_texts(pmin_text, pmax_text, [dmin] * n_channels,
                                    [dmax] * n_channels)
    if np.any(scaling.physical_max <= scaling.physical_min):
        raise ValueError("physical_max_uv must be above physical_min_uv for every channel")
    return pmin_text, pmax_text, scaling


def _annotation_bytes(bdf: bool, annotation_chars_per_record: int) -> int:
    """Bytes of the annotation signal: the chars asked for, rounded up to whole samples."""
    per_sample = bytes_per_sample(bdf)
    capacity = math.ceil(int(annotation_chars_per_record) / per_sample) * per_sample
    if capacity < TIMEKEEPING_MAX_BYTES + 2 * GAP_TAL_MAX_BYTES:
        raise ValueError(
            f"annotation_chars_per_record={annotation_chars_per_record} is too small "
            f"(at least {TIMEKEEPING_MAX_BYTES + 2 * GAP_TAL_MAX_BYTES})"
        )
    return capacity


def plan_layout(n_channels: int, sfreq_hz: float, meas_date: datetime, *, fmt: str,
                physical_min_uv: float | Sequence[float], physical_max_uv: float | Sequence[float],
                record_s: float, annotation_chars_per_record: int) -> RecordLayout:
    """Check the writer's parameters (ValueError saying which is wrong) and lay out its records.

    See :class:`~acquisition.edf.writer.EdfPlusWriter` for the parameters.
    """
    if fmt not in ("edf", "bdf"):
        raise ValueError(f"fmt must be 'edf' or 'bdf', got {fmt!r}")
    bdf = fmt == "bdf"
    if n_channels < 1:
        raise ValueError("at least one channel is needed")
    sfreq_hz = float(sfreq_hz)
    record_s_text, spr = _timing(sfreq_hz, record_s)
    pmin_text, pmax_text, scaling = _ranges(bdf, physical_min_uv, physical_max_uv, n_channels)
    ann_bytes = _annotation_bytes(bdf, annotation_chars_per_record)
    start, start_us = header_start(meas_date)
    return RecordLayout(bdf, n_channels, sfreq_hz, record_s_text, spr, tuple(pmin_text),
                        tuple(pmax_text), scaling, ann_bytes, start, start_us)
