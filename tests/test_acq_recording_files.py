"""Recording files: one name per recording, never another file's bytes, never world-readable."""

from __future__ import annotations

import stat
from datetime import UTC, datetime

import mne
import numpy as np
import pytest

from acquisition.recorder import Recorder
from acquisition.stream import SampleChunk, StreamInfo

START = datetime(2026, 3, 1, 22, 30, 5, tzinfo=UTC)


def _info(bits: int = 24) -> StreamInfo:
    return StreamInfo(sfreq_hz=200.0, ch_names=["calf"], meas_date=START, resolution_bits=bits,
                      uv_per_count=0.5, device={"kind": "test"})


def _record(folder, value: float, bits: int = 24) -> Recorder:
    rec = Recorder.create(folder, _info(bits))
    rec.write_chunk(SampleChunk(0, np.full((1, 400), value)))
    rec.close()
    return rec


def test_two_recordings_started_in_the_same_second_keep_both_nights(tmp_path):
    first = _record(tmp_path, 100.0)
    second = _record(tmp_path, -100.0)
    assert first.path != second.path and first.sidecar_path != second.sidecar_path
    for rec, value in ((first, 100.0), (second, -100.0)):
        raw = mne.io.read_raw_bdf(rec.path, preload=True, verbose="error")
        np.testing.assert_allclose(raw.get_data()[0] * 1e6, value, atol=0.5)
        assert rec.sidecar_path.exists()


def test_an_edf_and_a_bdf_of_one_start_do_not_share_a_sidecar(tmp_path):
    bdf = _record(tmp_path, 1.0, bits=24)
    edf = _record(tmp_path, 1.0, bits=16)
    assert bdf.sidecar_path != edf.sidecar_path


def test_an_existing_file_is_never_truncated(tmp_path):
    stem = Recorder.create(tmp_path, _info())
    stem.close()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    taken = stem.path.with_name(stem.path.stem + "-2.bdf")
    taken.symlink_to(victim)  # a planted link where the next recording would go
    rec = _record(tmp_path, 5.0)
    assert rec.path not in (stem.path, taken)
    assert victim.read_text() == "precious"


def test_recording_and_sidecar_are_private(tmp_path):
    rec = _record(tmp_path, 1.0)
    for path in (rec.path, rec.sidecar_path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_recorder_refuses_an_existing_path(tmp_path):
    path = tmp_path / "night.bdf"
    path.write_bytes(b"another night")
    with pytest.raises(FileExistsError):
        Recorder(path, _info())
    assert path.read_bytes() == b"another night"
