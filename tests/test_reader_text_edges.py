"""open_recording on CSV and EDF files as spreadsheets, loggers and other tools write them: a
trailing delimiter, quoted fields, Windows-1252 and UTF-16 text, comment lines and a units row
before the data; and bad ones refused in one line that names the file and the line."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from acquisition.edf.writer import EdfPlusWriter
from acquisition.errors import RecordingError
from acquisition.reader import open_recording
from acquisition.replay import ReplayStream

#: Samples and rate of every CSV written here: three seconds at 1 kHz, stamped to the ms.
N_ROWS, SFREQ_HZ = 3000, 1000


def _samples(n_channels: int, seed: int) -> np.ndarray:
    """Values as the CSV prints them (three decimals), shape ``(n_rows, n_channels)``."""
    return np.round(np.random.default_rng(seed).normal(0, 40, (N_ROWS, n_channels)), 3)


def _rows(values: np.ndarray, sep: str = ",", quote: str = "", end: str = "",
          stamp=lambda i: f"{i / SFREQ_HZ:.3f}") -> list[str]:
    """One CSV line per sample: the time stamp, then the values, each in ``quote``."""
    return [sep.join(f"{quote}{cell}{quote}" for cell in [stamp(i), *(f"{v:.3f}" for v in row)])
            + end for i, row in enumerate(values)]


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _assert_read(raw, names: list[str], values: np.ndarray, volts_per_unit: float) -> None:
    assert raw.ch_names == names
    assert raw.info["sfreq"] == SFREQ_HZ
    np.testing.assert_allclose(raw.get_data(), values.T * volts_per_unit, rtol=1e-12)


# --- 1. a trailing delimiter on every line -------------------------------------------------------


@pytest.mark.parametrize(("header", "sep", "units"), [
    ("time,GM_uV,SOL_uV,", ",", None),   # Excel, LabVIEW
    ("time,GM,SOL,", ",", "uV"),
    ("time;GM_uV;SOL_uV;", ";", None),
    ("time\tGM_uV\tSOL_uV\t", "\t", None),
])
def test_a_trailing_delimiter_on_every_line_is_an_empty_column_ignored(tmp_path, header, sep,
                                                                     units):
    values = _samples(2, seed=11)
    path = _write(tmp_path / "trailing.csv", [header, *_rows(values, sep, end=sep)])
    _assert_read(open_recording(path, units=units), ["GM", "SOL"], values, 1e-6)


def test_a_trailing_column_with_values_but_no_name_is_refused(tmp_path):
    values = _samples(2, seed=12)
    path = _write(tmp_path / "unnamed.csv", ["time,GM_uV,", *_rows(values)])
    with pytest.raises(RecordingError, match=r"unnamed\.csv: column 3 has no name in the header"):
        open_recording(path)


# --- 2. quoted fields ----------------------------------------------------------------------------


@pytest.mark.parametrize("sep", [",", ";"])
def test_quoted_fields_are_read(tmp_path, sep):
    """RFC 4180 quoting, as R's write.csv and many exporters write every field."""
    values = _samples(2, seed=21)
    rows = _rows(values, sep, quote='"')
    if sep == ";":  # a spreadsheet in a German locale: quoted decimal commas
        rows = [row.replace(".", ",") for row in rows]
    header = sep.join(['"time"', '"GM_uV"', '"SOL_uV"'])
    path = _write(tmp_path / "quoted.csv", [header, *rows])
    _assert_read(open_recording(path), ["GM", "SOL"], values, 1e-6)


# --- 3. and 4. text not in UTF-8 -----------------------------------------------------------------


def test_a_header_in_windows_1252_is_read(tmp_path):
    """µ is byte 0xB5 in Windows-1252 and Latin-1 (a spreadsheet's "CSV" on Windows); € is 0x80
    in Windows-1252 only."""
    values = _samples(2, seed=31)
    text = "\n".join(["# cost: 5 €", "time,GM_µV,SOL_µV", *_rows(values)]) + "\n"
    path = tmp_path / "cp1252.csv"
    path.write_bytes(text.encode("cp1252"))
    _assert_read(open_recording(path), ["GM", "SOL"], values, 1e-6)


def test_bytes_windows_1252_leaves_undefined_are_read_as_latin_1(tmp_path):
    values = _samples(1, seed=32)
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"time,GM\x81_\xb5V\n" + "\n".join(_rows(values)).encode() + b"\n")
    _assert_read(open_recording(path), ["GM\x81"], values, 1e-6)


@pytest.mark.parametrize("suffix", [".csv", ".txt", ""])
@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-8"])
def test_a_file_with_its_byte_order_mark_is_read(tmp_path, encoding, suffix):
    """Excel's "Unicode text": UTF-16 with a byte-order mark, tab-separated, saved as .txt;
    "CSV UTF-8": UTF-8 with one. Recognised by their content whatever the file is named."""
    values = _samples(2, seed=41)
    text = "\n".join(["time\tGM_µV\tSOL_µV", *_rows(values, "\t")]) + "\n"
    path = tmp_path / f"unicode{suffix}"
    path.write_bytes(("\ufeff" + text).encode(encoding))
    _assert_read(open_recording(path), ["GM", "SOL"], values, 1e-6)


def test_utf16_without_a_byte_order_mark_is_refused_in_words_not_nul_bytes(tmp_path):
    path = tmp_path / "nobom.csv"
    path.write_bytes("time\tGM_uV\n0\t1\n0.001\t2\n".encode("utf-16-le"))
    with pytest.raises(RecordingError, match=r"nobom\.csv: NUL bytes in the text \(binary data, "
                                             r"or UTF-16 without a byte-order mark\?\)") as info:
        open_recording(path)
    assert "\x00" not in str(info.value)


# --- 5. a column without a name ------------------------------------------------------------------


@pytest.mark.parametrize("units", [None, "uV"])
def test_a_column_without_a_name_is_refused_naming_it(tmp_path, units):
    values = _samples(2, seed=51)
    path = _write(tmp_path / "gap.csv", ["time,,SOL_uV" if units is None else "time,,SOL",
                                         *_rows(values)])
    with pytest.raises(RecordingError, match=r"gap\.csv: column 2 has no name in the header$"):
        open_recording(path, units=units)


# --- 6. comment lines and a units row before the data --------------------------------------------


def test_comment_lines_before_the_header_are_skipped(tmp_path):
    values = _samples(2, seed=61)
    path = _write(tmp_path / "commented.csv", ["# Device: MyAmp", "# Subject: anon", "",
                                               "time,GM_uV,SOL_uV", *_rows(values)])
    _assert_read(open_recording(path), ["GM", "SOL"], values, 1e-6)


def test_an_opensignals_file_named_csv_is_told_to_be_named_txt(tmp_path):
    path = _write(tmp_path / "bitalino.csv", ["# OpenSignals Text File Format",
                                              '# {"00:07:80:0F:30:CE": {"sampling rate": 1000}}',
                                              "# EndOfHeader", "0\t0\t512", "1\t0\t515"])
    with pytest.raises(RecordingError, match=r"bitalino\.csv: first column must be time .*not "
                                             r"'0'; the '#' lines before it look like an "
                                             r"OpenSignals header: name the file \.txt"):
        open_recording(path)


@pytest.mark.parametrize(("header", "units_row", "stamp", "volts_per_unit"), [
    ("time,GM,SOL", "s,uV,uV", lambda i: f"{i / SFREQ_HZ:.3f}", 1e-6),
    ("Time;GM;SOL", "[s];[mV];[mV]", lambda i: f"{i / SFREQ_HZ:.3f}", 1e-3),
    ("time,GM,SOL", "ms,µV,µV", lambda i: f"{i}", 1e-6),
    ("t,GM,SOL", "us,V,V", lambda i: f"{i * 1000}", 1.0),
    ("time,GM_uV,SOL_uV", "s,uV,uV", lambda i: f"{i / SFREQ_HZ:.3f}", 1e-6),
])
def test_a_units_row_under_the_header_gives_the_units(tmp_path, header, units_row, stamp,
                                                      volts_per_unit):
    """LabChart, Spike2 and Biopac exports put the units on the line below the names."""
    values = _samples(2, seed=62)
    sep = ";" if ";" in header else ","
    rows = _rows(values, sep, stamp=stamp)
    if sep == ";":
        rows = [row.replace(".", ",") for row in rows]
    path = _write(tmp_path / "units_row.csv", [header, units_row, *rows])
    _assert_read(open_recording(path), ["GM", "SOL"], values, volts_per_unit)


def test_a_units_row_keeps_lost_samples_at_their_file_lines(tmp_path):
    values = _samples(1, seed=63)
    rows = _rows(values)
    del rows[100]  # the sample at 0.100 s, which would be on line 103 (header, units row)
    path = _write(tmp_path / "lost.csv", ["time,GM", "s,uV", *rows])
    raw = open_recording(path)
    expected = values[:, 0] * 1e-6
    expected[100] = np.nan
    np.testing.assert_allclose(raw.get_data()[0], expected, rtol=1e-12)
    assert [a["description"] for a in raw.annotations if a["description"] != "BAD_ACQ_SKIP"] == [
        "acquisition gap: time column jump before row 103: 1 sample"]


@pytest.mark.parametrize(("lines", "units", "problem"), [
    (["time,GM,SOL", "s,uV,degC"], None,
     r"line 2 looks like a units row, but 'degC' is not a unit calfwatch reads \(uV, mV or V\)"),
    (["time,GM_uV,SOL_uV", "s,mV,uV"], None,
     r"the units row's 'mV' contradicts the header column 'GM_uV'"),
    (["time_ms,GM,SOL", "s,uV,uV"], None,
     r"the units row's 's' contradicts the time column 'time_ms'"),
    (["time,GM,SOL", "s,uV,uV"], "mV", r"units='mV' contradicts the units row's 'uV'"),
])
def test_a_units_row_that_cannot_be_right_is_refused(tmp_path, lines, units, problem):
    values = _samples(2, seed=64)
    path = _write(tmp_path / "bad_units.csv", [*lines, *_rows(values)])
    with pytest.raises(RecordingError, match=rf"bad_units\.csv: {problem}"):
        open_recording(path, units=units)


# --- 7. errors in the file's own line numbers ----------------------------------------------------


@pytest.mark.parametrize(("line", "bad_row", "problem"), [
    (102, "0.099,1.5", "line 102: 2 values where the header names 3 columns$"),
    (102, "0.099,1.5,2.5,3.5", "line 102: 4 values where the header names 3 columns$"),
    (7, "0.004,x,2.5", "line 7: 'x' is not numeric$"),
])
def test_a_bad_row_is_named_by_its_line_in_the_file(tmp_path, line, bad_row, problem):
    values = _samples(2, seed=71)
    lines = ["time,GM_uV,SOL_uV", *_rows(values)]
    lines.insert(4, "# a comment among the rows, on line 5")
    lines[line - 1] = bad_row
    path = _write(tmp_path / "ragged.csv", lines)
    with pytest.raises(RecordingError, match=rf"ragged\.csv: {problem}") as info:
        open_recording(path)
    assert "usecols" not in str(info.value)
    assert path.read_text().splitlines()[line - 1] == bad_row


def test_rows_shorter_than_the_header_all_through_are_named_by_the_first_line(tmp_path):
    values = _samples(1, seed=72)
    path = _write(tmp_path / "short.csv", ["# logger v2", "time,GM_uV,SOL_uV", *_rows(values)])
    with pytest.raises(RecordingError,
                       match=r"short\.csv: line 3: 2 values where the header names 3 columns$"):
        open_recording(path)


def test_a_time_column_jump_is_named_by_its_lines_in_the_file(tmp_path):
    rows = _rows(_samples(1, seed=73))[:6]
    rows[5] = "100000.005" + rows[5][5:]  # on line 9, after the header on line 3
    path = _write(tmp_path / "pause.csv", ["# one", "# two", "time,GM_uV", *rows])
    with pytest.raises(RecordingError, match=r"pause\.csv: the time column jumps by 100000 s "
                                             r"\(rows 8-9\)"):
        open_recording(path)


# --- 8. EDF physical dimensions ------------------------------------------------------------------


def _edf_with_unit(path: Path, unit: bytes) -> Path:
    """One signal of 2 physical units in every sample, its physical dimension field ``unit``."""
    with EdfPlusWriter(path, ["calf"], 500.0, datetime(2026, 1, 1, 22, tzinfo=UTC),
                       physical_min_uv=-5.0, physical_max_uv=5.0) as writer:
        writer.write(np.full((1, 1000), 2.0))
    data = bytearray(path.read_bytes())
    offset = 256 + 96 * int(data[252:256])  # the first signal's physical dimension
    data[offset : offset + 8] = unit.ljust(8)
    path.write_bytes(bytes(data))
    return path


def test_megavolts_are_refused_saying_how_millivolts_are_spelt(tmp_path):
    """Other cases of uV and mV, and µ in UTF-8, are read (tests/test_reader_units_and_nan.py);
    a capital M is the SI prefix of mega, and no voltage on skin is in megavolts."""
    path = _edf_with_unit(tmp_path / "spelt.edf", b"MV")
    hint = r"'MV' is megavolts; a signal in millivolts is 'mV'"
    for read in (open_recording, ReplayStream):
        with pytest.raises(RecordingError, match=r"spelt\.edf: channel 'calf' has unknown "
                                                 rf"units .*; {hint}"):
            read(path)
