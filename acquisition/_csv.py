"""CSV recordings: a time column, then one column per channel, as spreadsheets, loggers and
other programs write them.

Text files are small by nature and are loaded whole; the Raw they give is always preloaded.
"""

from __future__ import annotations

import csv
import re
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

import mne
import numpy as np

from acquisition._csv_time import (
    CLOCK_NAMES,
    IsoClock,
    decimals_printed,
    iso_clock,
    sampling_rate,
    unix_start,
)
from acquisition._text_common import KEY_VALUE, data_index, is_data, read_lines, table, with_losses
from acquisition.errors import RecordingError

#: Volts per unit for the units a CSV header or the ``units`` argument may name.
VOLTS_PER_UNIT = {"v": 1.0, "mv": 1e-3, "uv": 1e-6, "µv": 1e-6, "μv": 1e-6, "nv": 1e-9}
TIME_NAMES = {"time", "t", "time_s", "time (s)", "time[s]", "time [s]", "t_s", "seconds"}
#: Time columns in milliseconds (a microcontroller's ``millis()``) and microseconds (``micros()``).
TIME_NAMES_MS = {"time_ms", "time (ms)", "time[ms]", "time [ms]", "t_ms", "ms", "millis",
                 "milliseconds"}
TIME_NAMES_US = {"time_us", "time (us)", "time[us]", "time [us]", "time_µs", "time (µs)", "t_us",
                 "us", "micros", "microseconds"}
#: Names of a time column that state no unit: seconds, unless a units row says otherwise.
_TIME_NAMES_WITHOUT_UNIT = {"time", "t"}
#: Seconds per unit of the time units a units row under the header may name.
_TIME_UNITS_S = {"s": 1.0, "sec": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "μs": 1e-6}


def time_unit_s(name: str) -> float | None:
    """Seconds per unit of a CSV time column named ``name`` (None: not a time column's name).

    Examples
    --------
    >>> time_unit_s("Time (ms)"), time_unit_s("t"), time_unit_s("GM_uV")
    (0.001, 1.0, None)
    """
    key = name.strip().strip('"').lower()
    return (1.0 if key in TIME_NAMES else 1e-3 if key in TIME_NAMES_MS
            else 1e-6 if key in TIME_NAMES_US else None)


#: A unit at the end of a channel's name: ``GM_uV``, ``GM (mV)``, ``GM [V]``.
_UNIT_SUFFIX = re.compile(r"^(?P<name>.*?)\s*(?:[_ ]|\(|\[)\s*(?P<unit>[nuµμm]?V)\s*[)\]]?$",
                          re.IGNORECASE)
#: Text of the annotation beside each ``BAD_ACQ_SKIP`` of a time column's jump by whole steps
#: (samples missing, their times known).
CSV_GAP_TEXT = "acquisition gap: time column jump"


# --- CSV with a time column ----------------------------------------------------------------------


def _delimiter(line: str) -> str:
    return max([",", ";", "\t"], key=line.count)


def _header_line(path: Path, lines: list[str]) -> int:
    """Index of the header in ``lines``: the first line neither blank nor a ``#`` comment (a
    logger's notes on the device and the subject come before it)."""
    header = next((i for i, line in enumerate(lines) if is_data(line)), None)
    if header is None:
        raise RecordingError(path, "empty file" if not any(ln.strip() for ln in lines) else
                             "no header line, only '#' comment lines")
    return header


def _cells(line: str, delimiter: str) -> list[str]:
    """The fields of a header or units line, unquoted and stripped (a quoted name may hold the
    delimiter, ``"GM, left (uV)"``)."""
    try:
        fields = next(csv.reader([line], delimiter=delimiter))
    except csv.Error:  # a field beyond csv's limit (128 KiB): not a header; said by the caller
        fields = line.split(delimiter)
    return [field.strip().strip('"').strip() for field in fields]


def _time_column(path: Path, name: str, comments: list[str]) -> tuple[float, bool]:
    """Seconds per unit of the time column named ``name`` and whether it is clock time; refused
    when ``name`` is not a time column's (``comments``: the ``#`` lines above the header)."""
    clock = name.strip().lower() in CLOCK_NAMES
    unit_s = 1.0 if clock else time_unit_s(name)
    if unit_s is None:
        # an OpenSignals file renamed .csv is read as a CSV: its '#' lines are skipped as notes
        opensignals = any(KEY_VALUE.match(ln.strip()) or ln.lstrip("# ").startswith("{")
                          for ln in comments)
        hint = ("; the '#' lines before it look like an OpenSignals header: name the file .txt"
                if opensignals else "")
        raise RecordingError(path, f"first column must be time (named time, t or time_s in "
                             f"seconds, time_ms or time_us, or timestamp: Unix time or ISO "
                             f"8601), not '{name}'{hint}")
    return unit_s, clock


def _without_empty_last_columns(names: list[str], rows: list[str],
                                delimiter: str) -> tuple[list[str], list[str]]:
    """``names`` and ``rows`` without the columns at the end that have no name and no value in
    any row: Excel and LabVIEW end every line with the delimiter. Where a row has a value under
    a column without a name, both are returned as they are (refused by the caller).

    Examples
    --------
    >>> _without_empty_last_columns(["time", "GM_uV", ""], ["0,1.5,", "# note", "0.001,2.5,"], ",")
    (['time', 'GM_uV'], ['0,1.5', '', '0.001,2.5'])
    """
    named = len(names)
    while named > 1 and not names[named - 1]:
        named -= 1
    first = next((row for row in rows if is_data(row)), "")
    if named == len(names) and not first.split("#", 1)[0].rstrip(" ").endswith(delimiter):
        return names, rows  # the common case, at no cost per row
    # comments go too (np.loadtxt would drop them), their lines kept as blank ones
    trimmed = [row.split("#", 1)[0].rstrip(delimiter + " ") for row in rows]
    widest = max((row.count(delimiter) + 1 for row in trimmed if row.strip()), default=0)
    if widest > named:
        return names, rows
    return names[:named], trimmed


def _refuse_unnamed(path: Path, names: list[str]) -> None:
    """Refuse a column without a name: its values would be a channel without one."""
    unnamed = [column for column, name in enumerate(names, 1) if not name]
    if unnamed:
        raise RecordingError(path, f"column {unnamed[0]} has no name in the header")


class _UnitsRow(NamedTuple):
    """A units row under the header, as written (brackets off; "" where it names none)."""

    time: str
    channels: list[str]


def _units_row(path: Path, rows: list[str], first_line: int,
               n_columns: int, delimiter: str) -> tuple[_UnitsRow | None, list[str]]:
    """The units row under the header if the first row of ``rows`` (from line ``first_line``)
    is one (LabChart, Spike2, AcqKnowledge: ``s,uV,uV``), and ``rows`` with it blanked, so that
    each row keeps its line; (None, ``rows``) when it is a row of data.

    It is one when its first field is a time unit (s, ms, us), or is empty beside a voltage
    unit; then every other field must be a voltage unit or empty.

    Examples
    --------
    >>> _units_row(Path("x.csv"), ["[s],[uV]", "0,1.5"], 2, 2, ",")
    (_UnitsRow(time='s', channels=['uV']), ['', '0,1.5'])
    """
    at = next((i for i, row in enumerate(rows) if is_data(row)), None)
    if at is None:
        return None, rows
    cells = [cell.strip("()[] ") for cell in _cells(rows[at], delimiter)]
    is_volts = [_unit_key(cell) in VOLTS_PER_UNIT for cell in cells[1:]]
    if not (cells[0].lower() in _TIME_UNITS_S or (not cells[0] and any(is_volts))):
        return None, rows
    line = first_line + at
    if len(cells) > n_columns:
        raise RecordingError(path, f"line {line} looks like a units row, but has {len(cells)} "
                             f"fields where the header names {n_columns} columns")
    odd = [cell for cell, volts in zip(cells[1:], is_volts, strict=True) if cell and not volts]
    if odd:
        raise RecordingError(path, f"line {line} looks like a units row, but '{odd[0]}' is not "
                             "a unit calfwatch reads (uV, mV or V)")
    blanked = list(rows)
    blanked[at] = ""
    return _UnitsRow(cells[0], cells[1:] + [""] * (n_columns - len(cells))), blanked


def _time_unit_with_row(path: Path, name: str, unit_s: float, clock: bool, stated: str) -> float:
    """Seconds per unit of the time column ``name`` (``unit_s`` by its name) given the unit a
    units row ``stated`` for it: that one where the name states none (``time``); refused where
    they differ. Clock time's unit is told by its size (:func:`unix_start`): ``stated`` unused.
    """
    if not stated or clock:
        return unit_s
    row_s = _TIME_UNITS_S[stated.lower()]
    if name.strip().strip('"').lower() in _TIME_NAMES_WITHOUT_UNIT:
        return row_s
    if row_s != unit_s:
        raise RecordingError(path, f"the units row's '{stated}' contradicts the time column "
                             f"'{name}'")
    return unit_s


def _decimal_points(path: Path, rows: list[str], delimiter: str) -> list[str]:
    """``rows`` with decimal commas as points: a spreadsheet in a German, French, Italian or
    Spanish locale writes ``0,001;12,5``. Only where commas cannot be the delimiter; a row with
    points too (``1.234,5``: points grouping thousands) is refused, not guessed.

    Examples
    --------
    >>> _decimal_points(Path("x.csv"), ["0,001;12,5", "# note, kept"], ";")
    ['0.001;12.5', '# note, kept']
    """
    data = [i for i, row in enumerate(rows) if "," in row and not row.lstrip().startswith("#")]
    if delimiter == "," or not data:
        return rows
    if any("." in rows[i] for i in data):
        raise RecordingError(path, "numbers with both commas and points (thousands grouped?); "
                             "export them without thousands separators")
    out = list(rows)
    for i in data:
        out[i] = rows[i].replace(",", ".")
    return out


def _unit_key(unit: str) -> str:
    """The key of ``unit`` in :data:`VOLTS_PER_UNIT` (if it is one): ``µV`` and ``μV`` as uv."""
    return unit.lower().replace("μ", "u").replace("µ", "u")


def _column_units(path: Path, names: list[str], units: str | None,
                  row_units: list[str] | None = None) -> tuple[list[str], list[str]]:
    """Channel names without unit suffixes, and one unit per channel (header suffix or units
    row ``row_units``, else ``units``)."""
    clean, found, said = [], [], []
    for name, row_unit in zip(names, row_units or [""] * len(names), strict=True):
        match = _UNIT_SUFFIX.match(name)
        clean.append(match["name"] if match and match["name"] else name)
        suffix = _unit_key(match["unit"]) if match else None
        if suffix and row_unit and _unit_key(row_unit) != suffix:
            raise RecordingError(path, f"the units row's '{row_unit}' contradicts the header "
                                 f"column '{name}'")
        found.append(suffix or (_unit_key(row_unit) if row_unit else None))
        said.append(f"header column '{name}'" if suffix else f"units row's '{row_unit}'")
    if units is not None:
        key = _unit_key(units)
        if key not in VOLTS_PER_UNIT:
            raise RecordingError(path, f"unknown units '{units}'; use 'uV', 'mV' or 'V'")
        clash = [w for u, w in zip(found, said, strict=True) if u is not None and u != key]
        if clash:
            raise RecordingError(path, f"units='{units}' contradicts the {clash[0]}")
        found = [key] * len(names)
    if any(u is None for u in found):
        raise RecordingError(path, "units of the channels are unknown; give them with "
                             "--units uV|mV|V (units= in Python) or a column suffix like _uV")
    return clean, found


def _clock_or_zero(path: Path, values: np.ndarray, data_rows: list[str], delimiter: str,
                   unit_s: float, clock: bool,
                   iso: IsoClock | None) -> tuple[datetime | None, float, int]:
    """The start a clock-stamped time column states (None for time from zero), its seconds per
    unit and the decimals it prints; a clock column in ``values`` is made to run from zero."""
    if iso is not None:  # ISO stamps, already seconds from the first
        values[:, 0] = iso.seconds
        return iso.start, 1.0, iso.decimals
    decimals = decimals_printed([row.partition(delimiter)[0].strip().strip('"')
                                 for row in data_rows])
    start, unit_s = unix_start(path, values[:, 0], unit_s, clock)
    if start is not None:  # Unix time: from its first stamp, as ISO stamps
        values[:, 0] -= values[0, 0]
    return start, unit_s, decimals


def read_csv(path: Path, units: str | None = None) -> mne.io.BaseRaw:
    """Read a CSV whose first column is time in seconds and whose other columns are channels.

    The header row names the columns; the first must be ``time``, ``t`` or ``time_s`` (seconds),
    ``time_ms`` or ``time_us`` (a microcontroller's clock), or ``timestamp``. Stamps of the
    clock, Unix time (s, ms or µs; from 2001 on, under any of those names) or ISO 8601, give
    ``meas_date`` (UTC; ISO without a zone taken as UTC), and time runs from the first. Units come
    from a suffix of each channel name (``GM_uV``, ``GM (mV)``, ``GM [V]``), from a units row
    right under the header (``s,uV,uV``; its time unit, s, ms or us, that of a column named
    ``time`` or ``t``), or from ``units``. ``#`` lines (before the header too) and blank lines are
    skipped; fields may be quoted (``"0.001"``); a delimiter ending every line (an empty last
    column) is ignored. Text is UTF-8, UTF-16 with a byte-order mark, or else Windows-1252.
    Errors name the line of the file.
    The sampling rate is taken from the time column, which must be regular to within 1 %; where
    exact stamps skip whole steps, the samples missing are lost time at their place (NaN,
    ``BAD_ACQ_SKIP``). When the first time stamp lies on the sample grid, ``raw.first_samp`` keeps
    it (``raw.first_time`` equals the first time stamp). The whole file is loaded: CSV recordings
    are small by nature.
    """
    lines = read_lines(path)
    header = _header_line(path, lines)
    delimiter = _delimiter(lines[header])
    names = _cells(lines[header], delimiter)
    unit_s, clock = _time_column(path, names[0], lines[:header])
    first_line = header + 2  # the file's line (from 1) of the first row under the header
    rows = _decimal_points(path, lines[header + 1 :], delimiter)
    names, rows = _without_empty_last_columns(names, rows, delimiter)
    _refuse_unnamed(path, names)
    if len(names) < 2:
        raise RecordingError(path, "no channel columns after the time column")
    units_row, rows = _units_row(path, rows, first_line, len(names), delimiter)
    if units_row is not None:
        unit_s = _time_unit_with_row(path, names[0], unit_s, clock, units_row.time)
    rows, iso = iso_clock(path, rows, delimiter)
    ch_names, ch_units = _column_units(path, names[1:], units,
                                       units_row.channels if units_row else None)
    twice = sorted({n for n in ch_names if ch_names.count(n) > 1})
    if twice:
        raise RecordingError(path, f"header names column '{twice[0]}' more than once")
    data = data_index(rows)
    data_rows = [rows[i] for i in data]
    lines_of = np.array(data, np.int64) + first_line
    values = table(path, data_rows, lines_of, delimiter, len(names))
    start, unit_s, decimals = _clock_or_zero(path, values, data_rows, delimiter, unit_s, clock,
                                             iso)
    sfreq_hz, first_samp, lost = sampling_rate(path, values[:, 0] * unit_s, decimals, unit_s,
                                               lines_of)
    scale = np.array([VOLTS_PER_UNIT[u] for u in ch_units])[:, None]
    info = mne.create_info(ch_names, sfreq_hz, "emg")
    orig = {n: u.replace("u", "µ") for n, u in zip(ch_names, ch_units, strict=True)}

    def _describe(i: int, n: int) -> str:
        return (f"{CSV_GAP_TEXT} before row {lines_of[i + 1]}: {n} "
                f"sample{'s' if n > 1 else ''}")

    raw = with_losses((info, values[:, 1:].T * scale, path, first_samp, orig), lost, _describe)
    if start is not None:
        raw.set_meas_date(start)
    return raw
