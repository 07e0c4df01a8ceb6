"""Whole-file writes (sidecars, outputs, reports): atomic, 0600, never through a planted link."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime

import numpy as np
import pytest

from acquisition.recorder import Recorder
from acquisition.safe_files import write_atomic
from acquisition.stream import SampleChunk, StreamInfo
from calfwatch.outputs import write_outputs

START = datetime(2026, 3, 1, 22, 30, 5, tzinfo=UTC)


def _victim(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious")
    return victim


def _plant(folder, names, victim) -> None:
    """Links at every temporary name the writers used to predict."""
    for name in names:
        for tmp in (f".{name}.{os.getpid()}.tmp", f"{name}.tmp"):
            (folder / tmp).symlink_to(victim)


def test_outputs_never_write_through_planted_links(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    victim = _victim(tmp_path)
    names = ("events.tsv", "summary.json", "annotations.txt")
    _plant(out, names, victim)
    (out / "summary.json").symlink_to(victim)  # even the target itself
    paths = write_outputs(out, [], {"nights": 1}, START)
    assert victim.read_text() == "precious"
    for path in paths.values():
        assert not path.is_symlink()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_sidecar_never_written_through_a_planted_link(tmp_path):
    victim = _victim(tmp_path)
    info = StreamInfo(200.0, ["calf"], START, 24, 0.5, {"kind": "test"})
    stem = "20260301T223005Z"
    _plant(tmp_path, (f"{stem}.json",), victim)
    rec = Recorder.create(tmp_path, info)
    rec.write_chunk(SampleChunk(0, np.zeros((1, 400))))
    rec.close()
    assert victim.read_text() == "precious"
    assert rec.sidecar_path.name == f"{stem}.json"
    assert stat.S_IMODE(rec.sidecar_path.stat().st_mode) == 0o600


def test_failed_write_leaves_target_and_no_temporary_file(tmp_path):
    target = tmp_path / "summary.json"
    target.write_text("old")
    (tmp_path / "sub").mkdir()
    with pytest.raises(IsADirectoryError):
        write_atomic(tmp_path / "sub", "new")  # the rename fails
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sub", "summary.json"]


def test_temporary_names_are_not_predictable(tmp_path, monkeypatch):
    seen = []
    real = os.replace

    def spy(src, dst):
        seen.append(os.path.basename(src))
        return real(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    write_atomic(tmp_path / "a.txt", "1")
    write_atomic(tmp_path / "a.txt", "2")
    assert len(set(seen)) == 2 and all(str(os.getpid()) not in name for name in seen)


def test_a_folder_that_cannot_be_written_is_named_not_the_temporary_file(tmp_path):
    """The error names the file asked for (a missing folder here), as a user gave it."""
    target = tmp_path / "absent" / "report.html"
    with pytest.raises(FileNotFoundError) as info:
        write_atomic(target, "x")
    assert info.value.filename == str(target)
    assert not (tmp_path / "absent").exists()
