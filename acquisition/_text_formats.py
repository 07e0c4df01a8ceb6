"""Text recordings: OpenSignals / BioSPPy "Simple Text Format" and CSV with a time column.

Text files are small by nature and are loaded whole; the Raw they give is always preloaded.
"""

from __future__ import annotations

import codecs
import csv
import json
import re
import warnings
from datetime import UTC, datetime
from encodings import cp1252
from pathlib import Path
from typing import NamedTuple

import mne
import numpy as np

from acquisition.errors import RecordingError

#: BITalino EMG sensor: supply voltage (V) and gain of the sensor's amplifier.
BITALINO_VCC_V = 3.3
BITALINO_EMG_GAIN = 1009.0

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


#: Columns of clock time: Unix time (its unit told by its size) or ISO 8601 stamps.
CLOCK_NAMES = {"timestamp", "unix_time", "unix time", "unix", "epoch", "datetime", "date_time",
               "date time"}
#: A stamp this many seconds or more after 1970 (2001-09-09) is Unix time: no recording starts
#: 31 years after its own zero, and a microcontroller's millis() wraps after 49.7 days.
UNIX_TIME_FROM_S = 1e9
#: Seconds per unit of Unix time printed in s, ms or µs (in ns, 19 digits, a stamp is beyond
#: the 16 of a float64, which numbers are read as: its steps would not be regular).
_UNIX_UNITS_S = (1.0, 1e-3, 1e-6)
_ISO_STAMP = re.compile(r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?"
                        r"(?P<zone>Z|[+-]\d\d:?\d\d)?$")


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
_UNIT_SUFFIX = re.compile(r"^(?P<name>.*?)\s*(?:[_ ]|\(|\[)\s*(?P<unit>[nuµμm]?V)\s*[)\]]?$",
                          re.IGNORECASE)
_KEY_VALUE = re.compile(r"^#\s*(?P<key>[^:=]+?)\s*:=\s*(?P<value>.*)$")


class _TextRaw(mne.io.BaseRaw):
    """A preloaded Raw whose ``filenames`` names the text file it came from."""

    def __init__(self, info: mne.Info, data_v: np.ndarray, path: Path, first_samp: int,
                 orig_units: dict[str, str]) -> None:
        super().__init__(info, preload=np.ascontiguousarray(data_v, np.float64),
                         first_samps=[first_samp], filenames=[path], orig_units=orig_units,
                         verbose="error")


def _is_data(line: str) -> bool:
    """Whether ``line`` holds data: neither blank nor a ``#`` comment (as ``np.loadtxt`` skips)."""
    content = line.lstrip()
    return bool(content) and not content.startswith("#")


def _data_index(lines: list[str]) -> list[int]:
    """Indices of the ``lines`` that hold data (:func:`_is_data`, inlined: a night's CSV has
    tens of millions of lines)."""
    return [i for i, line in enumerate(lines) if line.strip()[:1] not in ("", "#")]


def _numbers(path: Path, lines: list[str]) -> np.ndarray:
    """The numeric rows of ``lines`` (a whole file's, ``#`` lines skipped), whitespace-separated,
    shape ``(n_rows, n_columns)``."""
    data = _data_index(lines)
    return _table(path, [lines[i] for i in data], np.array(data, np.int64) + 1, None)


def _table(path: Path, rows: list[str], lines_of: np.ndarray, delimiter: str | None,
           n_named: int | None = None) -> np.ndarray:
    """The numbers of the data ``rows``, shape ``(n_rows, n_columns)``; ``lines_of`` is the line
    of the file (from 1) each row is on, ``n_named`` the columns a header names."""
    try:
        with warnings.catch_warnings():  # "input contained no data": said below, in one line
            warnings.simplefilter("ignore", UserWarning)
            # quotechar: RFC 4180 quotes fields, ``"0.000","0.629"``, as R and many exporters do
            values = np.loadtxt(rows, comments="#", delimiter=delimiter, ndmin=2,
                                dtype=np.float64, quotechar='"')
    except ValueError as exc:
        # numpy counts rows from 0 after those skipped, and ends with advice on its own
        # arguments: the line of the file is what a user can find in an editor
        found = _bad_row(rows, lines_of, delimiter, n_named)
        problem = found or f"not numeric data ({' '.join(str(exc).split())})"
        raise RecordingError(path, problem) from None
    if values.size == 0:
        raise RecordingError(path, "no samples after the header")
    if n_named is not None and values.shape[1] != n_named:
        raise RecordingError(path, f"line {lines_of[0]}: {_values(values.shape[1])} where the "
                             f"header names {n_named} columns")
    if np.isnan(values).all():
        raise RecordingError(path, "every value is NaN")
    return values


def _values(n: int) -> str:
    return f"{n} value{'' if n == 1 else 's'}"


def _bad_row(rows: list[str], lines_of: np.ndarray, delimiter: str | None,
             n_named: int | None) -> str | None:
    """What is wrong with the first data row (of ``rows``, on lines ``lines_of``) that is not a
    row of ``n_named`` numbers (without a header, as many as the first row's); None when each
    is (numpy refused something Python's float reads).

    Examples
    --------
    >>> _bad_row(["0,1,2", "0.1,2"], np.array([2, 3]), ",", 3)
    'line 3: 2 values where the header names 3 columns'
    >>> _bad_row(["0 1", "1 x"], np.array([4, 6]), None, None)
    "line 6: 'x' is not numeric"
    """
    expected = f"the header names {n_named} columns"
    for row, line in zip(rows, lines_of, strict=True):
        cells = [cell.strip().strip('"') for cell in row.split("#", 1)[0].split(delimiter)]
        if n_named is None:
            n_named, expected = len(cells), f"line {line} has {len(cells)}"
        if len(cells) != n_named:
            return f"line {line}: {_values(len(cells))} where {expected}"
        for column, cell in enumerate(cells, 1):
            if not cell:
                return f"line {line}: column {column} is empty"
            try:
                numeric = float(cell) is not None and "_" not in cell  # numpy refuses 1_000
            except ValueError:
                numeric = False
            if not numeric:
                return f"line {line}: '{cell}' is not numeric"
    return None


#: Windows-1252 with the five bytes it leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D) as
#: Latin-1 reads them: every byte is a character, none is lost to U+FFFD.
_CP1252_OR_LATIN1 = "".join(chr(byte) if char == "\ufffe" else char
                            for byte, char in enumerate(cp1252.decoding_table))


def _decode(path: Path, data: bytes) -> str:
    """The text of a file's bytes ``data``: UTF-16 or UTF-8 as its byte-order mark says, else
    UTF-8, else Windows-1252 (a spreadsheet on Windows saves ``µ`` as byte 0xB5).

    Examples
    --------
    >>> _decode(Path("x.csv"), b"time,GM_\\xb5V")
    'time,GM_µV'
    >>> _decode(Path("x.csv"), "\\ufefftime".encode("utf-16-le"))
    'time'
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # Excel's "Unicode text"
        text = data.decode("utf-16", errors="replace")
    elif data.startswith(codecs.BOM_UTF8):  # a spreadsheet's "CSV UTF-8"
        text = data.decode("utf-8-sig", errors="replace")
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:  # not UTF-8: a Windows ("ANSI") code page
            text = codecs.charmap_decode(data, "strict", _CP1252_OR_LATIN1)[0]
    if "\x00" in text:  # not text, and no part of a one-line message
        raise RecordingError(path, "NUL bytes in the text (binary data, or UTF-16 without a "
                             "byte-order mark?); save it as UTF-8 text")
    return text


def _read_lines(path: Path) -> list[str]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RecordingError(path, f"cannot read ({exc.strerror or exc})") from None
    return _decode(path, data).splitlines()


# --- OpenSignals / BioSPPy simple text -----------------------------------------------------------


def _header_fields(lines: list[str]) -> dict[str, str]:
    fields = {}
    for line in lines:
        if not line.startswith("#"):
            break
        match = _KEY_VALUE.match(line.strip())
        if match:
            fields[match["key"].strip().lower()] = match["value"].strip()
    return fields


def _header_number(path: Path, fields: dict[str, str], key: str, what: str) -> float:
    found = next((v for k, v in fields.items() if k.startswith(key)), None)
    if found is None:
        raise RecordingError(path, f"{what} missing from the header")
    try:
        value = float(found)
    except ValueError:
        raise RecordingError(path, f"bad {what} '{found}' in the header") from None
    if not np.isfinite(value) or value <= 0:
        raise RecordingError(path, f"bad {what} '{found}' in the header")
    return value


def bitalino_emg_volts(adc: np.ndarray, resolution_bits: int) -> np.ndarray:
    """Convert BITalino EMG sensor ADC counts to volts at the electrodes.

    EMG(V) = (ADC / 2**n - 1/2) * VCC / G_EMG, with n the ADC resolution in bits, VCC = 3.3 V and
    G_EMG = 1009 (BITalino EMG Sensor Data Sheet, PLUX Wireless Biosignals S.A.).
    """
    return (adc / 2.0**resolution_bits - 0.5) * BITALINO_VCC_V / BITALINO_EMG_GAIN


def read_opensignals(path: Path) -> mne.io.BaseRaw:
    """Read an OpenSignals text file: the BioSPPy "Simple Text Format" or the JSON-header format.

    Simple Text Format: header lines ``# Sampling Rate (Hz):= 1000.00``, ``# Resolution:= 12``,
    ``# Labels:= EMG`` (one label per column, separated by tabs or commas), then one column of
    ADC counts per channel. OpenSignals (r)evolution format: a ``# {...}`` JSON header for one
    device (see :func:`_read_opensignals_json`). Counts are converted to volts with the BITalino
    EMG sensor transfer function (:func:`bitalino_emg_volts`). The whole file is loaded: text
    recordings are small by nature.
    """
    lines = _read_lines(path)
    json_line = next((ln for ln in lines[:5] if ln.lstrip("# ").startswith("{")), None)
    if json_line is not None:
        return _read_opensignals_json(path, lines, json_line.lstrip("# "))
    fields = _header_fields(lines)
    sfreq_hz = _header_number(path, fields, "sampling rate", "sampling rate")
    bits = _header_number(path, fields, "resolution", "ADC resolution")
    if bits != int(bits) or bits > 32:
        raise RecordingError(path, f"bad ADC resolution {bits:g} in the header")
    counts = _numbers(path, lines)
    labels = [s for s in re.split(r"[\t,;]+|\s{2,}", fields.get("labels", "")) if s]
    if len(labels) != counts.shape[1]:
        labels = [f"EMG{i + 1}" for i in range(counts.shape[1])] if counts.shape[1] > 1 else ["EMG"]
    info = mne.create_info(labels, sfreq_hz, "emg")
    data_v = bitalino_emg_volts(counts.T, int(bits))
    return _TextRaw(info, data_v, path, 0, {name: "V" for name in labels})


def _device_header(path: Path, text: str) -> dict:
    try:
        header = json.loads(text)
    except ValueError:
        raise RecordingError(path, "unreadable OpenSignals JSON header") from None
    devices = list(header.values()) if isinstance(header, dict) else []
    if len(devices) != 1 or not isinstance(devices[0], dict):
        raise RecordingError(path, "OpenSignals files with several devices are not supported")
    return devices[0]


def _json_meas_date(path: Path, device: dict) -> datetime | None:
    if not device.get("date") or not device.get("time"):
        return None
    try:
        day = datetime.strptime(str(device["date"]), "%Y-%m-%d").date()
        clock = datetime.strptime(str(device["time"]).split(".")[0], "%H:%M:%S").time()
    except ValueError:
        raise RecordingError(path, f"bad date/time '{device['date']} {device['time']}'") from None
    return datetime.combine(day, clock, tzinfo=UTC)


def _json_bits(path: Path, bits: list, col: int) -> int:
    """The ADC resolution of column ``col`` from a JSON header: a whole number of 1-32 bits."""
    try:
        value = float(bits[col])
    except (IndexError, TypeError, ValueError):
        value = float("nan")
    if not (np.isfinite(value) and value == int(value) and 1 <= value <= 32):
        raise RecordingError(path, f"bad ADC resolution "
                             f"'{bits[col] if col < len(bits) else 'missing'}' in the header")
    return int(value)


#: Values of the sequence number (``nSeq``) of BITalino and biosignalsplux samples: 4 bits.
SEQ_MODULUS = 16
#: Text of the annotation beside each ``BAD_ACQ_SKIP`` a sequence jump makes.
SEQ_GAP_TEXT = "acquisition gap: sequence number jump"
#: ... and a CSV time column's jump by whole steps (samples missing, their times known).
CSV_GAP_TEXT = "acquisition gap: time column jump"
#: Most samples (in seconds) a CSV's time column may say are missing: a text recording is read
#: whole, and a column that jumps by more than a day is a wrong stamp, not a pause to fill.
MAX_CSV_LOST_S = 24 * 3600.0


def sequence_losses(seq: np.ndarray) -> np.ndarray:
    """Samples lost after each sample but the last, from the sequence numbers ``seq`` (which
    step by one modulo :data:`SEQ_MODULUS`): the fewest a jump can mean; a further multiple of
    16 may be lost too, which the file cannot tell. Bluetooth drops packets; Bitbrain's exporter
    fills such losses, found from the sequence numbers, with NaN the same way.

    Examples
    --------
    >>> sequence_losses(np.array([14, 15, 0, 3, 4, 4])).tolist()
    [0, 0, 2, 0, 15]
    """
    return (np.diff(np.asarray(seq, np.int64)) - 1) % SEQ_MODULUS


def _with_losses(raw_args: tuple, lost: np.ndarray, describe) -> mne.io.BaseRaw:
    """A :class:`_TextRaw` of ``raw_args`` (info, data in V, path, first sample, units) with the
    samples at their places on the timeline, NaN for the ``lost[i]`` samples after sample ``i``,
    each loss annotated ``BAD_ACQ_SKIP`` (lost time) and ``describe(i, lost[i])`` (what it was)."""
    from acquisition.edf.constants import GAP_TEXT

    info, data_v, path, first_samp, units = raw_args
    at = np.flatnonzero(lost)
    if not at.size:
        return _TextRaw(info, data_v, path, first_samp, units)
    place = np.arange(data_v.shape[1]) + np.concatenate([[0], np.cumsum(lost)])
    out = np.full((data_v.shape[0], int(place[-1]) + 1), np.nan)
    out[:, place] = data_v
    raw = _TextRaw(info, out, path, first_samp, units)
    onset_s = (place[at] + 1) / info["sfreq"]  # from the first sample (orig_time None)
    duration_s = lost[at] / info["sfreq"]
    notes = [describe(i, n) for i, n in zip(at.tolist(), lost[at].tolist(), strict=True)]
    raw.set_annotations(mne.Annotations(np.repeat(onset_s, 2), np.repeat(duration_s, 2),
                                        [t for note in notes for t in (GAP_TEXT, note)]))
    return raw


def _read_opensignals_json(path: Path, lines: list[str], text: str) -> mne.io.BaseRaw:
    """OpenSignals (r)evolution text: JSON header with ``column``, ``label``, ``sensor``,
    ``resolution`` (per column), ``sampling rate``, ``date`` and ``time``; columns ``nSeq``,
    digital I/O, then the analog channels. Only channels whose sensor is ``EMG`` are read (the
    transfer function is the EMG sensor's); where the sequence numbers jump, samples were lost:
    they are lost time at their place (:func:`_with_losses`), not closed up.
    """
    device = _device_header(path, text)
    try:
        columns, labels = list(device["column"]), list(device["label"])
        sensors, bits = list(device["sensor"]), list(device["resolution"])
        sfreq_hz = float(device["sampling rate"])
    except (KeyError, TypeError, ValueError):
        raise RecordingError(path, "OpenSignals header lacks column, label, sensor, "
                             "resolution or sampling rate") from None
    if not (np.isfinite(sfreq_hz) and sfreq_hz > 0):
        raise RecordingError(path, f"bad sampling rate '{device['sampling rate']}' in the header")
    twice = sorted({str(c) for c in columns if columns.count(c) > 1} | {
        str(lab) for lab in labels if labels.count(lab) > 1})
    if twice:  # which column a label means would be a guess
        raise RecordingError(path, f"header names column '{twice[0]}' more than once")
    emg = [(lab, columns.index(lab)) for lab, sen in zip(labels, sensors, strict=False)
           if str(sen).upper().startswith("EMG") and lab in columns]
    if not emg:
        raise RecordingError(path, f"no EMG channel (sensors: {', '.join(map(str, sensors))})")
    values = _numbers(path, lines)
    if values.shape[1] != len(columns):
        raise RecordingError(path, f"{values.shape[1]} columns of data but the header names "
                             f"{len(columns)}")
    n_header = sum(1 for ln in lines if ln.startswith("#"))
    lost = (sequence_losses(values[:, columns.index("nSeq")]) if "nSeq" in columns
            else np.zeros(len(values) - 1, np.int64))
    data_v = np.vstack([bitalino_emg_volts(values[:, col], _json_bits(path, bits, col))
                        for _, col in emg])
    info = mne.create_info([lab for lab, _ in emg], sfreq_hz, "emg")
    with info._unlock():
        info["meas_date"] = _json_meas_date(path, device)
    units = {name: "V" for name in info["ch_names"]}

    def _describe(i: int, n: int) -> str:
        return (f"{SEQ_GAP_TEXT} before line {i + n_header + 2}: {n} or {n} + {SEQ_MODULUS} x k "
                "samples")

    return _with_losses((info, data_v, path, 0, units), lost, _describe)


# --- CSV with a time column ----------------------------------------------------------------------


def _delimiter(line: str) -> str:
    return max([",", ";", "\t"], key=line.count)


def _header_line(path: Path, lines: list[str]) -> int:
    """Index of the header in ``lines``: the first line neither blank nor a ``#`` comment (a
    logger's notes on the device and the subject come before it)."""
    header = next((i for i, line in enumerate(lines) if _is_data(line)), None)
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
        opensignals = any(_KEY_VALUE.match(ln.strip()) or ln.lstrip("# ").startswith("{")
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
    first = next((row for row in rows if _is_data(row)), "")
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
    at = next((i for i, row in enumerate(rows) if _is_data(row)), None)
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
    they differ. Clock time's unit is told by its size (:func:`_unix_start`): ``stated`` unused.
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


def _decimals(printed: list[str]) -> int:
    """The most decimals any of the printed time stamps has (at most 9)."""
    return min(max(len(t.split(".", 1)[1]) if "." in t else 0 for t in printed), 9)


def _sampling_rate(path: Path, time_s: np.ndarray, decimals: int, unit_s: float,
                   lines_of: np.ndarray) -> tuple[float, int, np.ndarray]:
    """Sampling rate from a regular time column, the first sample's index on that grid, and the
    samples missing after each row.

    Stamps are compared in "ticks", units of the column's last printed decimal. When every
    difference between consecutive stamps is a whole multiple of the commonest one (exact
    printing, e.g. 1000 Hz with 3 decimals), that is the step, and a double step is a missing
    sample, whose time the stamps state (at most ``MAX_CSV_LOST_S`` in all). Otherwise (rounded
    printing such as 1024 Hz with 3 decimals, or a jittery clock) the step is the slope of a
    least-squares line through the whole column and the stamps must lie on a regular grid to
    within rounding and 1 % of a step (:func:`_off_the_grid`): there a missing sample cannot be
    placed, and is refused, as is a repeated stamp.
    ``decimals`` is the most the column prints, in its unit of ``unit_s`` seconds;
    ``lines_of`` the line of the file each stamp is on, which messages name.
    """
    if time_s.size < 2 or not np.isfinite(time_s).all():
        raise RecordingError(path, "the time column needs at least two finite values")
    tick_s = 10.0 ** -decimals * unit_s
    ticks = np.round(time_s / tick_s).astype(np.int64)
    diffs = np.diff(ticks)
    if ticks[-1] <= ticks[0] or (diffs < 0).any():
        raise RecordingError(path, "the time column does not increase")
    values, counts = np.unique(diffs, return_counts=True)
    mode = int(values[np.argmax(counts)])
    lost = np.zeros(diffs.size, np.int64)
    if mode > 0 and (diffs > 0).all() and not (diffs % mode).any():
        step, bad = float(mode), np.zeros(diffs.size, bool)
        lost = diffs // mode - 1  # exact stamps: a longer step is samples missing, placed
    else:
        step = _slope(ticks)
        _refuse_repeated_stamps(path, time_s, diffs, step, lines_of)
        bad = _off_the_grid(ticks, diffs, step)
    if bad.any():
        i = int(np.argmax(bad))
        raise RecordingError(path, f"time column is not regular to within 1 % (step "
                             f"{step * tick_s:g} s; rows {lines_of[i]}-{lines_of[i + 1]}: "
                             f"{time_s[i]:g} -> {time_s[i + 1]:g} s); samples missing or "
                             "irregular clock")
    sfreq_hz = 1.0 / (step * tick_s)
    if abs(sfreq_hz - round(sfreq_hz)) <= sfreq_hz / (ticks[-1] - ticks[0]):
        sfreq_hz = float(round(sfreq_hz))
    first = time_s[0] * sfreq_hz
    first_samp = int(round(first)) if first >= 0 and abs(first - round(first)) < 0.01 else 0
    if lost.sum() > MAX_CSV_LOST_S * sfreq_hz:
        i = int(np.argmax(lost))
        raise RecordingError(path, f"the time column jumps by {time_s[i + 1] - time_s[i]:g} s "
                             f"(rows {lines_of[i]}-{lines_of[i + 1]}); more than "
                             f"{MAX_CSV_LOST_S / 3600:g} hours missing")
    return sfreq_hz, first_samp, lost


def _slope(ticks: np.ndarray) -> float:
    """Least-squares slope of ``ticks`` over their row numbers (closed form, no design matrix:
    a night's column has tens of millions of rows)."""
    n = ticks.size
    rows = np.arange(n, dtype=np.float64) - (n - 1) / 2
    centred = (ticks - ticks[0]).astype(np.float64)
    centred -= centred.mean()
    return float(np.dot(rows, centred) / (n * (n * n - 1) / 12.0))


def _refuse_repeated_stamps(path: Path, time_s: np.ndarray, diffs: np.ndarray,
                            step: float, lines_of: np.ndarray) -> None:
    """Refuse a stamp repeated where the step is a tick or more: there rounding cannot repeat
    one, and a row written twice would be a sample invented (and every later one late)."""
    if step >= 0.99 and (diffs == 0).any():
        i = int(np.argmax(diffs == 0))
        raise RecordingError(path, f"the time column repeats {time_s[i]:g} s (rows "
                             f"{lines_of[i]}-{lines_of[i + 1]}): a row written twice?")


def _off_the_grid(ticks: np.ndarray, diffs: np.ndarray, step: float) -> np.ndarray:
    """Which steps of rounded or jittery stamps leave a regular grid of ``step`` ticks: rounding
    moves a stamp by up to half a tick, so consecutive ones differ from the step by up to one
    tick and all of them lie within one tick of each other about the grid, with 1 % of a step
    for a clock's jitter either way. A missing sample moves the later stamps by a step: beyond
    that where the step is over a tick, and where it is less (2 kHz stamped to the millisecond)
    by half a tick more than rounding can, so it is found though it cannot be placed."""
    slack = 0.01 * step
    residual = ticks - step * np.arange(ticks.size)
    middle = (residual.max() + residual.min()) / 2
    bad = np.abs(diffs - step) > 1.0 + slack
    bad |= np.abs(residual - middle)[1:] > 0.5 + slack
    return bad


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
    lines = _read_lines(path)
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
    rows, iso = _iso_clock(path, rows, delimiter)
    ch_names, ch_units = _column_units(path, names[1:], units,
                                       units_row.channels if units_row else None)
    twice = sorted({n for n in ch_names if ch_names.count(n) > 1})
    if twice:
        raise RecordingError(path, f"header names column '{twice[0]}' more than once")
    data = _data_index(rows)
    data_rows = [rows[i] for i in data]
    lines_of = np.array(data, np.int64) + first_line
    values = _table(path, data_rows, lines_of, delimiter, len(names))
    if iso is not None:  # the date is the first stamp's, time runs from there
        start, unit_s, decimals = iso.start, 1.0, iso.decimals
        values[:, 0] = iso.seconds
    else:
        decimals = _decimals([row.partition(delimiter)[0].strip().strip('"')
                              for row in data_rows])
        start, unit_s = _unix_start(path, values[:, 0], unit_s, clock)
        if start is not None:  # Unix time: as ISO stamps
            values[:, 0] -= values[0, 0]
    sfreq_hz, first_samp, lost = _sampling_rate(path, values[:, 0] * unit_s, decimals, unit_s,
                                                lines_of)
    scale = np.array([VOLTS_PER_UNIT[u] for u in ch_units])[:, None]
    info = mne.create_info(ch_names, sfreq_hz, "emg")
    orig = {n: u.replace("u", "µ") for n, u in zip(ch_names, ch_units, strict=True)}

    def _describe(i: int, n: int) -> str:
        return (f"{CSV_GAP_TEXT} before row {lines_of[i + 1]}: {n} "
                f"sample{'s' if n > 1 else ''}")

    raw = _with_losses((info, values[:, 1:].T * scale, path, first_samp, orig), lost, _describe)
    if start is not None:
        raw.set_meas_date(start)
    return raw


def _unix_start(path: Path, stamps: np.ndarray, unit_s: float,
                clock: bool) -> tuple[datetime | None, float]:
    """The start (UTC) and seconds per unit of a time column of Unix time; (None, ``unit_s``)
    for time from the recording's own zero. Of a ``timestamp`` column the unit is the one that
    puts the first stamp after :data:`UNIX_TIME_FROM_S` and before 2100 (units 1000 x apart)."""
    first = float(stamps[0]) if stamps.size and np.isfinite(stamps[0]) else 0.0
    units = _UNIX_UNITS_S if clock else (unit_s,)
    unix = [u for u in units if UNIX_TIME_FROM_S <= first * u < _UNIX_TIME_TO_S]
    if not unix:
        if clock:
            raise RecordingError(path, f"the timestamp column's first value {first:g} is not "
                                 "Unix time (s, ms or us since 1970) nor an ISO 8601 "
                                 "stamp (name time from the start time, time_ms or time_us)")
        return None, unit_s
    start = datetime.fromtimestamp(round(first * unix[0], 6), UTC)
    return start, unix[0]


#: Unix time of 2100-01-01: a later stamp is not a date of a night recorded now.
_UNIX_TIME_TO_S = 4102444800.0


class _IsoClock(NamedTuple):
    """ISO 8601 stamps of a time column: the first (UTC), every stamp in seconds from it, and
    the most decimals of a second printed."""

    start: datetime
    seconds: np.ndarray
    decimals: int


def _iso_clock(path: Path, rows: list[str], delimiter: str) -> tuple[list[str], _IsoClock | None]:
    """``rows`` whose first column holds ISO 8601 stamps (``2026-12-07T22:00:00.125``, with or
    without a zone) with a 0 there instead, and the stamps (a stamp without a zone is taken as
    UTC, as MNE takes an EDF's start); rows of numbers as they are, and None."""
    first = next((row for row in rows if row.strip() and not row.lstrip().startswith("#")), "")
    if not _ISO_STAMP.match(first.split(delimiter, 1)[0].strip().strip('"')):
        return rows, None
    data = [i for i, row in enumerate(rows) if row.strip() and not row.lstrip().startswith("#")]
    stamps = [rows[i].split(delimiter, 1)[0].strip().strip('"') for i in data]
    try:
        when = [datetime.fromisoformat(stamp) for stamp in stamps]
    except ValueError as exc:
        raise RecordingError(path, f"bad ISO 8601 time stamp ({exc})") from None
    if len({w.tzinfo is None for w in when}) > 1:
        raise RecordingError(path, "ISO 8601 time stamps with and without a time zone")
    seconds = np.array([(w - when[0]).total_seconds() for w in when])
    decimals = max(len(m.group(2) or ".") - 1 for m in map(_ISO_STAMP.match, stamps) if m)
    out = list(rows)
    for i in data:
        out[i] = "0" + rows[i][rows[i].index(delimiter):] if delimiter in rows[i] else "0"
    start = when[0].replace(tzinfo=UTC) if when[0].tzinfo is None else when[0].astimezone(UTC)
    return out, _IsoClock(start, seconds, min(decimals, 6))
