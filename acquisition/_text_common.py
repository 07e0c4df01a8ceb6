"""What the text readers share: the Raw they give, their numbers read by line, their text decoded,
and lost samples placed on the timeline.

Text files are small by nature and are loaded whole; the Raw they give is always preloaded.
"""

from __future__ import annotations

import codecs
import re
import warnings
from encodings import cp1252
from pathlib import Path

import mne
import numpy as np

from acquisition.errors import RecordingError

#: A ``# key:= value`` line of an OpenSignals header.
KEY_VALUE = re.compile(r"^#\s*(?P<key>[^:=]+?)\s*:=\s*(?P<value>.*)$")


class TextRaw(mne.io.BaseRaw):
    """A preloaded Raw whose ``filenames`` names the text file it came from."""

    def __init__(self, info: mne.Info, data_v: np.ndarray, path: Path, first_samp: int,
                 orig_units: dict[str, str]) -> None:
        super().__init__(info, preload=np.ascontiguousarray(data_v, np.float64),
                         first_samps=[first_samp], filenames=[path], orig_units=orig_units,
                         verbose="error")


def is_data(line: str) -> bool:
    """Whether ``line`` holds data: neither blank nor a ``#`` comment (as ``np.loadtxt`` skips)."""
    content = line.lstrip()
    return bool(content) and not content.startswith("#")


def data_index(lines: list[str]) -> list[int]:
    """Indices of the ``lines`` that hold data (:func:`is_data`, inlined: a night's CSV has
    tens of millions of lines)."""
    return [i for i, line in enumerate(lines) if line.strip()[:1] not in ("", "#")]


def numbers(path: Path, lines: list[str]) -> np.ndarray:
    """The numeric rows of ``lines`` (a whole file's, ``#`` lines skipped), whitespace-separated,
    shape ``(n_rows, n_columns)``."""
    data = data_index(lines)
    return table(path, [lines[i] for i in data], np.array(data, np.int64) + 1, None)


def table(path: Path, rows: list[str], lines_of: np.ndarray, delimiter: str | None,
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


def read_lines(path: Path) -> list[str]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RecordingError(path, f"cannot read ({exc.strerror or exc})") from None
    return _decode(path, data).splitlines()


def with_losses(raw_args: tuple, lost: np.ndarray, describe) -> mne.io.BaseRaw:
    """A :class:`TextRaw` of ``raw_args`` (info, data in V, path, first sample, units) with the
    samples at their places on the timeline, NaN for the ``lost[i]`` samples after sample ``i``,
    each loss annotated ``BAD_ACQ_SKIP`` (lost time) and ``describe(i, lost[i])`` (what it was)."""
    from acquisition.edf.constants import GAP_TEXT

    info, data_v, path, first_samp, units = raw_args
    at = np.flatnonzero(lost)
    if not at.size:
        return TextRaw(info, data_v, path, first_samp, units)
    place = np.arange(data_v.shape[1]) + np.concatenate([[0], np.cumsum(lost)])
    out = np.full((data_v.shape[0], int(place[-1]) + 1), np.nan)
    out[:, place] = data_v
    raw = TextRaw(info, out, path, first_samp, units)
    onset_s = (place[at] + 1) / info["sfreq"]  # from the first sample (orig_time None)
    duration_s = lost[at] / info["sfreq"]
    notes = [describe(i, n) for i, n in zip(at.tolist(), lost[at].tolist(), strict=True)]
    raw.set_annotations(mne.Annotations(np.repeat(onset_s, 2), np.repeat(duration_s, 2),
                                        [t for note in notes for t in (GAP_TEXT, note)]))
    return raw
