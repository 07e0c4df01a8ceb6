"""Forty-six bad recordings: each one line naming the file, a non-zero exit, no library warning, and a
batch that goes on past them to the good recording at its end."""

from __future__ import annotations

import subprocess
import sys

import pytest
from bad_recordings import MAKERS, make_all, make_valid

from calfwatch.cli import main


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad")
    return make_all(folder), make_valid(folder / "good")


def test_there_are_forty_six(files):
    bad, _ = files
    assert len(bad) == len(MAKERS) == 46


def test_a_batch_reports_each_bad_file_in_one_line_and_goes_on(files, tmp_path):
    bad, good = files
    proc = subprocess.run([sys.executable, "-m", "calfwatch", "analyze", *map(str, bad), str(good),
                           "--out", str(tmp_path / "out"), "--quiet"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == len(bad) + 1, proc.stderr  # one per file, and the closing count
    for path, line in zip(bad, lines, strict=False):
        assert line.startswith(f"calfwatch: error: {path}: "), line
    assert lines[-1].startswith(f"calfwatch: {len(bad)} of {len(bad) + 1} recordings failed")
    summaries = list((tmp_path / "out").rglob("summary.json"))  # the good night was analysed
    assert [p.parent.name for p in summaries] == ["good"]


@pytest.mark.parametrize("index", range(len(MAKERS)), ids=[m.__name__ for m in MAKERS])
def test_one_bad_file_alone_is_one_line(files, tmp_path, capsys, index):
    path = files[0][index]
    code = main(["analyze", str(path), "--out", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1 and str(path) in err and "internal error" not in err, err
    assert not (tmp_path / "out" / "summary.json").exists()
