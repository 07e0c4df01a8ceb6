"""Physical <-> digital values of EDF/BDF signals, from the ranges their header states.

A sample is stored as the integer ``rint((x - pmin) * (dmax - dmin) / (pmax - pmin) + dmin)``,
clipped to the digital range, and read back as ``(d - dmin) * (pmax - pmin) / (dmax - dmin) + pmin``
(the EDF formula MNE uses). The writer, the record-by-record reader and the live view all convert
through :class:`EdfScaling`, with the ranges as written in the header, so they agree bit for bit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np


@dataclass(frozen=True, eq=False)
class EdfScaling:
    """Physical and digital ranges of data signals as the header states them, one per channel.

    Parameters
    ----------
    physical_min, physical_max, digital_min, digital_max : array of float, shape (n_channels,)
        The header's values (physical ones in the signal's unit).

    Examples
    --------
    >>> scaling = EdfScaling.from_texts(["-5000"], ["5000"], [-32768], [32767])
    >>> scaling.to_digital(np.array([[100.0, 1e9]])).tolist()
    [[655.0, 32767.0]]
    >>> scaling.stored_values(np.array([[0.1]])).round(6).tolist()
    [[0.076295]]
    """

    physical_min: np.ndarray
    physical_max: np.ndarray
    digital_min: np.ndarray
    digital_max: np.ndarray

    @classmethod
    def from_texts(cls, pmin: Sequence[str], pmax: Sequence[str], dmin: Sequence[float | str],
                   dmax: Sequence[float | str]) -> EdfScaling:
        """The scaling of header fields (numbers as written)."""
        def values(texts):
            return np.array([float(t) for t in texts])

        return cls(values(pmin), values(pmax), values(dmin), values(dmax))

    @classmethod
    def from_fields(cls, fields: Mapping[str, list[str]], signals: Sequence[int]) -> EdfScaling:
        """The scaling of ``signals`` (indices) from a header's per-signal fields."""
        return cls.from_texts(*([fields[name][i] for i in signals] for name in (
            "physical_min", "physical_max", "digital_min", "digital_max")))

    @property
    def n_channels(self) -> int:
        """Number of data signals."""
        return len(self.physical_min)

    @cached_property
    def gain(self) -> np.ndarray:
        """Digital counts per physical unit (the writer's direction)."""
        return (self.digital_max - self.digital_min) / (self.physical_max - self.physical_min)

    @cached_property
    def cal(self) -> np.ndarray:
        """Physical units per digital count (the reader's direction)."""
        return (self.physical_max - self.physical_min) / (self.digital_max - self.digital_min)

    @cached_property
    def offset(self) -> np.ndarray:
        """Physical value of the digital count 0."""
        return self.physical_min - self.digital_min * self.cal

    def clipped(self, data: np.ndarray) -> int:
        """How many samples of ``data`` (n_channels, n) lie outside the physical range."""
        pmin, pmax = self.physical_min[:, None], self.physical_max[:, None]
        return int(np.count_nonzero((data < pmin) | (data > pmax)))

    def to_digital(self, data: np.ndarray) -> np.ndarray:
        """Stored counts of ``data`` (n_channels, n) as floats: rounded, clipped (NaN stays)."""
        digital = np.rint((data - self.physical_min[:, None]) * self.gain[:, None]
                          + self.digital_min[:, None])
        np.clip(digital, self.digital_min[:, None], self.digital_max[:, None], out=digital)
        return digital

    def to_physical(self, digital: np.ndarray) -> np.ndarray:
        """Physical values of stored counts ``digital`` (n_channels, n)."""
        return digital * self.cal[:, None] + self.offset[:, None]

    def to_physical_in_place(self, values: np.ndarray,
                             factor: np.ndarray | None = None) -> np.ndarray:
        """Turn stored counts ``values`` (float64, n_channels x n) into physical values in place,
        times ``factor`` (n_channels, 1) when given; return ``values``.

        The operations of :meth:`to_physical` (then ``* factor``) in the same order, so the
        numbers are the same bit for bit, without the temporary arrays: a night of 8 channels is
        read several times faster. A factor of exactly 1 is skipped (``x * 1.0`` is ``x``).

        Examples
        --------
        >>> scaling = EdfScaling.from_texts(["-5000"], ["5000"], [-32768], [32767])
        >>> counts = np.array([[655.0, 32767.0]])
        >>> bool((scaling.to_physical_in_place(counts.copy())
        ...       == scaling.to_physical(counts)).all())
        True
        """
        np.multiply(values, self.cal[:, None], out=values)
        np.add(values, self.offset[:, None], out=values)
        if factor is not None and not np.all(factor == 1.0):
            np.multiply(values, factor, out=values)
        return values

    def stored_values(self, data: np.ndarray) -> np.ndarray:
        """What a file storing ``data`` (n_channels, n) gives back when read (NaN stays NaN)."""
        return self.to_physical(self.to_digital(data))
