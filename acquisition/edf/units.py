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
    """Data signals whose physical dimension is not a voltage calfwatch can scale, as (label, unit)
    (the unit as its writer meant it, :func:`as_written`).

    They are left out (a BioSemi ``Status`` channel, a sleep study's oxygen saturation in %); a
    file with no data signal in a voltage unit is refused (:class:`RecordingError` naming
    ``path``; where the unit is a voltage spelt otherwise than EDF spells it, ``uv`` or ``µV`` in
    UTF-8, the message says how to spell it).
    """
    odd, n_data, first_unit = [], 0, ""
    units = header.signal_texts("physical_dimension")
    for label, unit in zip(header.signal_texts("label"), units, strict=True):
        if label in ANNOTATION_LABELS:
            continue
        n_data += 1
        if unit not in UV_PER_UNIT:
            first_unit = first_unit or unit
            odd.append((label, as_written(unit)))
    if odd and len(odd) == n_data:
        label, unit = odd[0]
        more = f" (and {len(odd) - 1} more)" if len(odd) > 1 else ""
        raise RecordingError(Path(path), f"channel {label!r} has unknown units {unit!r}{more}; "
                             f"calfwatch reads signals in uV, mV or V{_spelling_hint(first_unit)}")
    return odd


def as_written(unit: str) -> str:
    """A physical dimension as its writer meant it: the field is ASCII, read as Latin-1, and a
    writer that put ``µV`` in UTF-8 there (bytes C2 B5) reads back as ``ÂµV``.

    Examples
    --------
    >>> as_written("\u00c2\u00b5V"), as_written("uV"), as_written("\u00b5V")
    ('µV', 'uV', 'µV')
    """
    try:
        return unit.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return unit


#: Voltage units in other letters than EDF's, by their lower case, as EDF spells them.
_EDF_SPELLING = {"uv": "uV", "\u00b5v": "uV", "\u03bcv": "uV", "mv": "mV", "v": "V"}


def _spelling_hint(unit: str) -> str:
    """How to spell a voltage unit ``unit`` (as read, Latin-1) that is not spelt as EDF
    spells it, for a message; "" for a unit that is not a voltage in other letters.

    They are refused, not read: MNE, which opens EDF files for :mod:`acquisition.reader`, scales
    only ``uV``, ``µV``, ``mV`` and ``V`` and would read any other spelling as volts.

    Examples
    --------
    >>> _spelling_hint("UV")
    "; EDF spells it 'uV': correct the header's physical dimension"
    >>> _spelling_hint("degC")
    ''
    """
    meant = as_written(unit)
    spelt = _EDF_SPELLING.get(meant.lower())
    if spelt is None:
        return ""
    if meant != unit:
        return f"; {meant!r} written in UTF-8; an EDF header is ASCII: write {spelt!r}"
    if unit.startswith("M"):  # the SI prefix of mega: millivolts in capitals is a guess
        return f"; {unit!r} is megavolts; a signal in millivolts is 'mV'"
    return f"; EDF spells it {spelt!r}: correct the header's physical dimension"


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
