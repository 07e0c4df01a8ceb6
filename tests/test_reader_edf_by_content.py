"""An EDF/BDF file is known by its first bytes, not its name: PhysioNet's Sleep-EDF names its EDF+
files ``.rec``. Named so, or with no suffix, it is read as the same file named ``.edf``: its
records placed in time, its header checked; a header that cannot be right (a data record of 0 s)
and a file of annotations only are refused in one line on every path."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from bad_recordings import PMAX, PMIN, RECORD_S, _patch, _signal_field_offset, _valid
from test_edf_discontinuous import _with_pause

import calfwatch
from acquisition.edf.annotation_file import EdfAnnotation, write_annotation_edf
from acquisition.edf.repair import repair_edf
from acquisition.errors import RecordingError

SECONDS = 20
PAUSE_AT_RECORD, PAUSE_S = 8, 5.0
RESERVED = 192  # the header's reserved field: "EDF+C", "EDF+D" or blank (plain EDF)


def _paused(folder: Path) -> Path:
    """An EDF+D of 20 one-second records pausing 5 s after record 8."""
    plain = _valid(folder / "plain.edf", seconds=SECONDS, n_ch=1)
    onsets_s = [r + (PAUSE_S if r >= PAUSE_AT_RECORD else 0.0) for r in range(SECONDS)]
    return _with_pause(plain, folder / "paused.edf", onsets_s)


def _renamed(path: Path, name: str) -> Path:
    return Path(shutil.copyfile(path, path.parent / name))


def _error(call, path: Path) -> str:
    """The problem ``call(path)`` raises as a RecordingError, without the file name."""
    with pytest.raises(RecordingError) as caught:
        call(path)
    assert str(caught.value).startswith(f"{path}: "), caught.value
    return caught.value.problem


@pytest.mark.parametrize("name", ["paused.rec", "paused", "paused.txt"])
def test_an_edf_plus_d_named_otherwise_is_placed_in_time_as_named_edf(tmp_path, name):
    edf = _paused(tmp_path)
    other = _renamed(edf, name)
    night = calfwatch.analyze(other, mains_hz=50, verbose="WARNING")
    gaps = night.summary["recording"]["gaps_s"]
    assert gaps == calfwatch.analyze(edf, mains_hz=50, verbose="WARNING").summary[
        "recording"]["gaps_s"]
    assert gaps == [[float(PAUSE_AT_RECORD), PAUSE_S]]
    assert night.summary["recording"]["duration_s"] == SECONDS + PAUSE_S


def test_a_bdf_named_edf_is_read_as_a_bdf(tmp_path):
    bdf = _valid(tmp_path / "night.bdf", fmt="bdf", seconds=3, n_ch=1)
    named = _renamed(bdf, "night.edf")
    expected = calfwatch.read_recording(bdf, preload=True).get_data()
    np.testing.assert_array_equal(calfwatch.read_recording(named, preload=True).get_data(),
                                  expected)


def _plain_edf(path: Path) -> Path:
    """A file of 3 s as plain EDF (not EDF+, which the reader checks through its records)."""
    return _patch(_valid(path, seconds=3, n_ch=1), RESERVED, "", 44)


def _record_0(folder: Path) -> Path:
    return _patch(_plain_edf(folder / "rec0.edf"), RECORD_S, "0", 8)


def _record_tiny(folder: Path) -> Path:
    return _patch(_plain_edf(folder / "tiny.edf"), RECORD_S, "1e-300", 8)


def _physical_equal(folder: Path) -> Path:
    path = _plain_edf(folder / "pminmax.edf")
    at = _signal_field_offset(2, PMAX)  # two signals: calf0 and the annotations
    maximum = path.read_bytes()[at : at + 8].decode()
    return _patch(path, _signal_field_offset(2, PMIN), maximum, 8)


def _analyze(path: Path):
    return calfwatch.analyze(path, mains_hz=50, verbose="WARNING")


@pytest.mark.parametrize("make", [_record_0, _record_tiny, _physical_equal])
@pytest.mark.parametrize("name", [None, "night.rec", "night"])
def test_a_header_that_cannot_be_right_is_refused_alike_whatever_the_name(tmp_path, make, name):
    """analyze and read_recording (behind report --recording, review, bids) refuse it in the
    words the record-by-record reader uses for a file named .edf."""
    edf = make(tmp_path)
    path = edf if name is None else _renamed(edf, name)
    problem = _error(_analyze, path)
    assert problem.startswith(("data record duration", "signal 'calf0': physical range")), problem
    assert _error(calfwatch.read_recording, path) == problem


@pytest.mark.parametrize(("make", "problem"), [
    (_record_0, "data record duration '0' is not a positive number of seconds"),
    (_record_tiny, "data record duration '1e-300' s is shorter than any recorder writes "
                   "(1e-06 s at least)"),
])
def test_a_record_of_no_duration_is_refused_by_every_reader_and_by_repair(tmp_path, make,
                                                                           problem):
    path = make(tmp_path)
    assert _error(_analyze, path) == problem
    assert _error(calfwatch.read_recording, path) == problem
    assert _error(repair_edf, path) == problem


def test_an_annotation_only_edf_says_there_is_no_signal(tmp_path):
    """calfwatch's own events.edf (records of 0 s, as EDF+ allows for annotations only)."""
    path = Path(write_annotation_edf(tmp_path / "events.edf", datetime(2026, 1, 5, tzinfo=UTC),
                                     [EdfAnnotation(2.0, 0.01, "fasciculation", "calf")]))
    problem = "no signal to analyse, only annotations"
    assert _error(_analyze, path) == problem
    assert _error(calfwatch.read_recording, path) == problem
    assert _error(_analyze, _renamed(path, "events.rec")) == problem
    assert not repair_edf(path).changed  # a consistent file, records of 0 s included
