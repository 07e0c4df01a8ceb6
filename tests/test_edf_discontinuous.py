"""A discontinuous EDF+ file (EDF+D, a recording that paused) is read at its true times.

The file is made from a contiguous EDF+ of a simulated night by setting its type to EDF+D and
moving the time-keeping annotation of every record after the pause on by the pause, as a recorder
that paused would have written it (EDF+ specification, section 2.2.4): the samples are the same,
only their times differ. Read as contiguous (MNE does), every sample after the pause would sit
100 s early.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from analyze_cli import run_analyze

from acquisition.edf.stream import EdfStream
from acquisition.edf.writer import EdfPlusWriter
from acquisition.errors import RecordingError
from acquisition.reader import open_recording
from calfwatch.outputs import read_events_tsv
from calfwatch.simulator import load_profile, simulate_night

PAUSE_S = 100.0
PAUSE_AFTER_RECORDS = 90  # records of 1 s
SETTLE_S = 2.0  # the chain restarts its filters after a gap


def _contiguous(path: Path, fmt: str = "edf") -> Path:
    night = simulate_night(load_profile("benign-night", duration_s=180, n_channels=1,
                                        fasc_rate_per_min=40.0), seed=11)
    with EdfPlusWriter(path, night.info.ch_names, night.info.sfreq_hz, night.info.meas_date,
                       fmt=fmt) as writer:
        writer.write(night.data_uv())
    return path


def _layout(data: bytes) -> tuple[int, int, int, int]:
    """(header bytes, record bytes, annotation offset in a record, its length)."""
    n = int(data[252:256])
    labels = [data[256 + 16 * i : 272 + 16 * i].decode().strip() for i in range(n)]
    spr = [int(data[256 + 216 * n + 8 * i : 264 + 216 * n + 8 * i]) for i in range(n)]
    width = 3 if data[:1] == b"\xff" else 2
    k = labels.index("EDF Annotations" if width == 2 else "BDF Annotations")
    return 256 * (n + 1), width * sum(spr), width * sum(spr[:k]), width * spr[k]


def _with_pause(source: Path, target: Path, onsets_s=None, kind: bytes = b"+D") -> Path:
    """``source`` as EDF+D (or ``kind``) whose records after ``PAUSE_AFTER_RECORDS`` start
    ``PAUSE_S`` later (or at ``onsets_s``, one per record)."""
    data = bytearray(source.read_bytes())
    assert data[192:197] in (b"EDF+C", b"BDF+C")
    data[195:197] = kind
    head, rec, off, length = _layout(bytes(data))
    n_records = (len(data) - head) // rec
    for r in range(n_records):
        onset = r + (PAUSE_S if r >= PAUSE_AFTER_RECORDS else 0.0)
        if onsets_s is not None:
            onset = onsets_s[r]
        a = head + r * rec + off
        old = bytes(data[a : a + length])
        rest = old[old.index(b"\x14\x00") + 2 :].rstrip(b"\x00")  # the record's other TALs
        data[a : a + length] = (f"+{onset:g}\x14\x14\x00".encode() + rest).ljust(length, b"\x00")
    target.write_bytes(bytes(data))
    return target


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("edfd")
    plain = _contiguous(d / "plain.edf")
    return {"plain": plain, "paused": _with_pause(plain, d / "paused.edf")}


def test_samples_after_the_pause_are_at_their_time_and_the_pause_is_lost(files):
    plain, paused = EdfStream(files["plain"]), EdfStream(files["paused"])
    fs, cut = plain.sfreq_hz, int(PAUSE_AFTER_RECORDS * plain.sfreq_hz)
    shift = int(PAUSE_S * fs)
    assert paused.n_times == plain.n_times + shift
    whole = paused.get_uv(0, paused.n_times)
    np.testing.assert_array_equal(whole[:, :cut], plain.get_uv(0, cut))
    assert np.isnan(whole[:, cut : cut + shift]).all()
    np.testing.assert_array_equal(whole[:, cut + shift :], plain.get_uv(cut, plain.n_times))
    assert paused.gap_spans("BAD_ACQ_SKIP") == [(cut, cut + shift)]


@pytest.mark.parametrize("chunk", [1, 777, 2000, 123457])
def test_any_slicing_gives_the_whole_read(files, chunk):
    paused = EdfStream(files["paused"])
    whole = paused.get_uv(0, paused.n_times)
    parts = np.concatenate([paused.get_uv(a, a + chunk) for a in range(0, paused.n_times, chunk)],
                           axis=1)
    np.testing.assert_array_equal(parts, whole)


def test_events_after_the_pause_are_at_their_time(files, tmp_path):
    for name in ("plain", "paused"):
        proc = run_analyze(files[name], tmp_path / name)
        assert proc.returncode in (0, 4), proc.stderr
    plain = read_events_tsv(tmp_path / "plain" / "events.tsv")
    paused = read_events_tsv(tmp_path / "paused" / "events.tsv")
    before = [(e["onset"], e["kind"]) for e in plain if e["onset"] < PAUSE_AFTER_RECORDS - 1]
    assert len(before) >= 10
    assert [(e["onset"], e["kind"]) for e in paused if e["onset"] < PAUSE_AFTER_RECORDS - 1] \
        == before
    after = [(round(e["onset"] + PAUSE_S, 6), e["kind"]) for e in plain
             if e["onset"] > PAUSE_AFTER_RECORDS + SETTLE_S]
    assert len(after) >= 10
    moved = [(e["onset"], e["kind"]) for e in paused
             if e["onset"] > PAUSE_AFTER_RECORDS + PAUSE_S + SETTLE_S]
    assert moved == after
    assert not [e for e in paused if PAUSE_AFTER_RECORDS < e["onset"] < PAUSE_AFTER_RECORDS
                + PAUSE_S and e["kind"] != "BAD_ACQ_SKIP"]


def test_overlapping_records_are_refused_in_one_line(files, tmp_path):
    onsets = np.arange(180.0)
    onsets[120] = 119.5  # starts inside the record before
    path = _with_pause(files["plain"], tmp_path / "overlap.edf", onsets)
    proc = run_analyze(path, tmp_path / "out")
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        f"calfwatch: error: {path}: EDF+D record 120 starts at 119.5 s, before record 119 ends "
        "(119 s + 1 s): records overlap"]


def test_readers_that_would_close_the_pause_up_refuse_it(files, tmp_path):
    with pytest.raises(RecordingError, match=r"paused\.edf: discontinuous EDF\+D: the recording "
                                             r"pauses at 90 s for 100 s"):
        open_recording(files["paused"])
    unpaused = _with_pause(files["plain"], tmp_path / "unpaused.edf", np.arange(180.0))
    assert open_recording(unpaused).n_times == open_recording(files["plain"]).n_times


def test_bids_refuses_a_file_that_pauses(files, tmp_path):
    pytest.importorskip("mne_bids")
    proc = subprocess.run([sys.executable, "-m", "calfwatch", "bids", str(files["paused"]),
                           "--root", str(tmp_path / "ds"), "--subject", "01"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        f"calfwatch: error: {files['paused']}: discontinuous EDF+D: the recording pauses at 90 s "
        "for 100 s, and this reader would close the pause up; calfwatch analyze places each "
        "record at its time"]


def test_a_paused_bdf_is_placed_too(tmp_path):
    plain = _contiguous(tmp_path / "plain.bdf", "bdf")
    paused = EdfStream(_with_pause(plain, tmp_path / "paused.bdf"))
    assert paused.gap_spans("BAD_ACQ_SKIP") == [(int(PAUSE_AFTER_RECORDS * paused.sfreq_hz),
                                                 int((PAUSE_AFTER_RECORDS + PAUSE_S)
                                                     * paused.sfreq_hz))]


def test_a_contiguous_file_whose_records_pause_is_refused_in_one_line(files, tmp_path):
    lying = _with_pause(files["plain"], tmp_path / "lying.edf", kind=b"+C")
    line = (f"{lying}: EDF+C (contiguous) but record {PAUSE_AFTER_RECORDS} starts at "
            f"{PAUSE_AFTER_RECORDS + PAUSE_S:g} s by its time-keeping annotation, not at "
            f"{PAUSE_AFTER_RECORDS} s: the header and the records disagree on when it was recorded")
    proc = run_analyze(lying, tmp_path / "out")
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [f"calfwatch: error: {line}"]
    with pytest.raises(RecordingError) as info:
        open_recording(lying)
    assert str(info.value) == line


def test_onsets_written_to_a_few_decimals_are_contiguous(files, tmp_path):
    stream = EdfStream(files["plain"])
    r = np.arange(180)
    rounded = np.round(r + 0.9 / stream.sfreq_hz * (-1.0) ** r * (r > 0), 4)  # within a sample
    path = _with_pause(files["plain"], tmp_path / "rounded.edf", rounded, kind=b"+C")
    assert EdfStream(path).n_times == stream.n_times
    assert open_recording(path).n_times == stream.n_times
