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
    (the unit as its writer meant it, :func:`as_written`; see :func:`unit_to_uv`).

    They are left out (a BioSemi ``Status`` channel, a sleep study's oxygen saturation in %); a
    file with no data signal in a voltage unit is refused (:class:`RecordingError` naming
    ``path``; for ``MV``, megavolts, the message says that millivolts are ``mV``).
    """
    refuse_annotations_only(path, header)
    odd, n_data, first_unit = [], 0, ""
    units = header.signal_texts("physical_dimension")
    for label, unit in zip(header.signal_texts("label"), units, strict=True):
        if label in ANNOTATION_LABELS:
            continue
        n_data += 1
        if unit_to_uv(unit) is None:
            first_unit = first_unit or unit
            odd.append((label, as_written(unit)))
    if odd and len(odd) == n_data:
        label, unit = odd[0]
        more = f" (and {len(odd) - 1} more)" if len(odd) > 1 else ""
        raise RecordingError(Path(path), f"channel {label!r} has unknown units {unit!r}{more}; "
                             "calfwatch reads signals in V, mV, uV or nV"
                             f"{_spelling_hint(first_unit)}")
    return odd


def refuse_annotations_only(path: str | os.PathLike, header: EdfHeader) -> None:
    """Refuse (:class:`RecordingError` naming ``path``) an EDF+/BDF+ file whose only signals are
    annotations (EDF+ allows it, with data records of duration 0: calfwatch's own
    ``events.edf``): there is no signal to analyse."""
    labels = header.signal_texts("label")
    if labels and all(label in ANNOTATION_LABELS for label in labels):
        raise RecordingError(Path(path), "no signal to analyse, only annotations")


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


#: µV per unit of the voltage units, by their lower case (µ as the micro sign or the Greek mu).
_UV_PER_LOWER = {"v": 1e6, "mv": 1e3, "uv": 1.0, "\u00b5v": 1.0, "\u03bcv": 1.0, "nv": 1e-3}


def _spelling_hint(unit: str) -> str:
    """What to write instead of a unit ``unit`` (as read, Latin-1) that spells millivolts in
    capitals, for a message; "" for any other unit.

    A capital M is the SI prefix of mega: ``MV`` is megavolts, not read as millivolts (no
    voltage on skin is in megavolts, so the writer meant something the header does not say).

    Examples
    --------
    >>> _spelling_hint("MV")
    "; 'MV' is megavolts; a signal in millivolts is 'mV'"
    >>> _spelling_hint("degC")
    ''
    """
    meant = as_written(unit)
    if meant.startswith("M") and meant.lower() == "mv":
        return f"; {meant!r} is megavolts; a signal in millivolts is 'mV'"
    return ""


def left_out_signals(path: str | os.PathLike) -> list[tuple[str, str]]:
    """Signals of an EDF/BDF file that calfwatch leaves out, as (label, unit): not in a voltage
    unit (:func:`unit_to_uv`).

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
    """µV per physical unit ``unit`` (a header field as read, Latin-1); None for a unit that is
    not a voltage calfwatch reads.

    EDF spells its voltages ``V``, ``mV``, ``uV`` (or ``µV``) and ``nV``; writers also use other
    cases (``UV``, ``uv``) and put ``µ`` in UTF-8 (read as ``Âµ``, :func:`as_written`): those are
    looked up in any case, but for a capital ``M`` (megavolts: see :func:`_spelling_hint`).

    Examples
    --------
    >>> unit_to_uv("mV"), unit_to_uv("UV"), unit_to_uv("\u00c2\u00b5V"), unit_to_uv("nv")
    (1000.0, 1.0, 1.0, 0.001)
    >>> unit_to_uv("MV"), unit_to_uv("degC"), unit_to_uv("")
    (None, None, None)
    """
    unit = unit.strip()
    if unit in UV_PER_UNIT:
        return UV_PER_UNIT[unit]
    meant = as_written(unit)
    if meant.startswith("M"):
        return None
    return _UV_PER_LOWER.get(meant.lower())
