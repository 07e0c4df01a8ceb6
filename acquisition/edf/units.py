"""Physical dimensions of EDF/BDF signals: which ones calfwatch reads, and which it leaves out.

Apart from :mod:`acquisition.reader` so that a file replayed record by record
(:mod:`acquisition.replay`) can name its left-out signals without importing MNE.
"""

from __future__ import annotations

import os
from pathlib import Path

from acquisition.edf.constants import ANNOTATION_LABELS, BDF_MAGIC, EDF_MAGIC, UV_PER_UNIT
from acquisition.edf.header import EdfHeader, read_header
from acquisition.errors import RecordingError


def odd_signals(path: str | os.PathLike, header: EdfHeader) -> list[tuple[str, str]]:
    """Data signals whose physical dimension is not a voltage calfwatch can scale, as (label, unit).

    They are left out (a BioSemi ``Status`` channel, a sleep study's oxygen saturation in %); a
    file with no data signal in a voltage unit is refused (:class:`RecordingError` naming
    ``path``).
    """
    odd, n_data = [], 0
    units = header.signal_texts("physical_dimension")
    for label, unit in zip(header.signal_texts("label"), units, strict=True):
        if label in ANNOTATION_LABELS:
            continue
        n_data += 1
        if unit not in UV_PER_UNIT:
            odd.append((label, unit))
    if odd and len(odd) == n_data:
        label, unit = odd[0]
        more = f" (and {len(odd) - 1} more)" if len(odd) > 1 else ""
        raise RecordingError(Path(path), f"channel {label!r} has unknown units {unit!r}{more}; "
                             "calfwatch reads signals in uV, mV or V")
    return odd


def left_out_signals(path: str | os.PathLike) -> list[tuple[str, str]]:
    """Signals of an EDF/BDF file that calfwatch leaves out, as (label, unit): not in uV, mV or V.

    Empty for other formats and for files it cannot read (their readers say why).
    """
    try:
        header = read_header(path)
        if not header.fixed.startswith((EDF_MAGIC, BDF_MAGIC)):
            return []
        header.number("n_signals")
        return odd_signals(path, header)
    except (OSError, ValueError, RecordingError):
        return []


def unit_to_uv(unit: str) -> float | None:
    """µV per physical unit ``unit``; None for a unit that is not a voltage calfwatch reads."""
    return UV_PER_UNIT.get(unit.strip())
