"""The sample-stream interface shared by the serial source, replay and file reading.

Every source of samples (a live device, a replayed recording, a file read at full speed) yields
:class:`SampleChunk` objects in order on one sample timeline. Lost spans are chunks whose ``gap`` flag is
set and whose data are all NaN, so consumers never see invented samples: the recorder writes them as a
flat value annotated ``BAD_ACQ_SKIP``, the dsp layer restarts its filters after them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

import numpy as np

#: Largest size of a sample (µV, either sign) a recording may hold: 1 kV, far beyond any voltage on
#: skin or any amplifier's input. A file past it has a wrong scale or corrupt values, and samples
#: of about 1e300 µV overflow the first sums of squares.
MAX_SAMPLE_UV = 1e9


@dataclass(frozen=True)
class StreamInfo:
    """What a source tells about itself before its first chunk.

    Attributes
    ----------
    sfreq_hz : float
        Sampling rate.
    ch_names : list of str
        One name per channel, e.g. ``["calf_left"]``.
    meas_date : datetime or None
        Time of the first sample, timezone-aware UTC (sub-second included); None when the
        recording does not state its date.
    resolution_bits : int
        ADC resolution; 16 or less is recorded as EDF+, more as BDF+.
    uv_per_count : float
        Scale of the device counts (informative; chunks are already in µV).
    device : dict
        Free-form device facts: ``kind``, ``device_id``, ``firmware``, ``site``, ``serial_number``.
    orig_time : datetime or None
        The start MNE's reader of the file states (its ``meas_date``), when the file is read by
        MNE; None means the EDF/BDF convention: ``meas_date`` cut to the whole second, as in the
        header (see :func:`annotation_origin`).
    first_time_s : float
        Seconds from ``orig_time`` to the first sample as MNE reads the file (FIF files may start
        after their ``meas_date``); not used without a date, where MNE counts annotations from
        the first sample.
    """

    sfreq_hz: float
    ch_names: list[str]
    meas_date: datetime | None
    resolution_bits: int = 24
    uv_per_count: float = 1.0
    device: dict = field(default_factory=dict)
    orig_time: datetime | None = None
    first_time_s: float = 0.0

    @property
    def n_channels(self) -> int:
        """Number of channels."""
        return len(self.ch_names)


def annotation_origin(info: StreamInfo) -> tuple[datetime | None, float]:
    """The time zero MNE gives the recording, and where the first sample lies after it (s).

    Annotations written against this origin land on their samples in MNE: an EDF/BDF header
    states its start to the whole second (the sub-second rest is in the first data record, which
    MNE reads as the start of the data), so for those files and for recordings written by
    calfwatch the origin is ``meas_date`` cut to the second; files MNE reads otherwise carry
    their own (``info.orig_time``, ``info.first_time_s``).

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> info = StreamInfo(1000.0, ["calf_left"], datetime(2026, 1, 5, 22, 0, 3, 720000, tzinfo=UTC))
    >>> annotation_origin(info)
    (datetime.datetime(2026, 1, 5, 22, 0, 3, tzinfo=datetime.timezone.utc), 0.0)
    """
    if info.orig_time is not None:
        return info.orig_time, float(info.first_time_s)
    if info.meas_date is None:
        return None, 0.0  # MNE counts annotations without orig_time from the first sample
    return info.meas_date.astimezone(UTC).replace(microsecond=0), 0.0


@dataclass
class SampleChunk:
    """Samples ``start_sample .. start_sample + n`` of the timeline, in µV, shape ``(n_channels, n)``.

    ``gap`` marks a span the source knows it lost (data all NaN); ``reason`` says why
    (``"sequence gap"``, ``"unplugged"``, ``"stall"``, ``"overflow"``...).
    """

    start_sample: int
    data_uv: np.ndarray
    gap: bool = False
    reason: str = ""

    @property
    def n_samples(self) -> int:
        """Number of samples in the chunk."""
        return int(self.data_uv.shape[1])

    @property
    def stop_sample(self) -> int:
        """One past the last sample of the chunk."""
        return self.start_sample + self.n_samples


class SampleStream(Protocol):
    """A source of samples: ``info`` first, then ``chunks()`` until the source ends or is closed."""

    info: StreamInfo

    def chunks(self) -> Iterator[SampleChunk]:
        """Yield chunks in timeline order, gaps included."""
        ...

    def close(self) -> None:
        """Stop the source and release its resources."""
        ...
