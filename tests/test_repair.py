"""Crash safety: a writer killed at random moments leaves a file MNE opens; repair completes it."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path

import edfio
import mne
import numpy as np
import pytest

from acquisition.edf.repair import repair_edf
from acquisition.edf.writer import EdfPlusWriter
from acquisition.errors import RecordingError

CHUNK = 137  # samples per write: records fill across calls
SFREQ_HZ = 1000.0
GAP_EVERY = 7  # chunk k is lost when k % GAP_EVERY == 3
FLUSH_EVERY = 3

_WRITER_CHILD = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime
    import numpy as np
    from acquisition.edf.writer import EdfPlusWriter

    path, fmt, record_s = sys.argv[1], sys.argv[2], float(sys.argv[3])
    sfreq, chunk, gap_every, flush_every = {sfreq}, {chunk}, {gap_every}, {flush_every}

    def values(start, n):
        i = np.arange(start, start + n)
        return np.stack([1000 * np.sin(2 * np.pi * i * 7.3 / sfreq),
                         800 * np.cos(2 * np.pi * i * 0.37 / sfreq + 1.0)])

    start = datetime(2024, 5, 2, 1, 2, 3, tzinfo=UTC)
    writer = EdfPlusWriter(path, ["left", "right"], sfreq, start,
                           fmt=fmt, record_s=record_s)
    print("ready", flush=True)
    k = pos = 0
    while True:
        writer.annotate((pos + chunk // 2) / sfreq, 0.01, f"event {{k}}")
        if k % gap_every == 3:
            writer.write_gap(chunk, "sequence gap")
        else:
            writer.write(values(pos, chunk))
        pos += chunk
        k += 1
        if k % flush_every == 0:
            writer.flush()
            print("flushed", pos, k, flush=True)
    """
).format(sfreq=SFREQ_HZ, chunk=CHUNK, gap_every=GAP_EVERY, flush_every=FLUSH_EVERY)


def expected_values(n: int) -> np.ndarray:
    """What the child wrote for samples 0..n (gaps as 0 µV), computed without the writer."""
    i = np.arange(n)
    data = np.stack(
        [
            1000 * np.sin(2 * np.pi * i * 7.3 / SFREQ_HZ),
            800 * np.cos(2 * np.pi * i * 0.37 / SFREQ_HZ + 1.0),
        ]
    )
    lost = (i // CHUNK) % GAP_EVERY == 3
    data[:, lost] = 0.0
    return data


def read_mne(path: Path, fmt: str) -> mne.io.BaseRaw:
    reader = mne.io.read_raw_edf if fmt == "edf" else mne.io.read_raw_bdf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return reader(path, preload=True, verbose="error")


def read_edfio(path: Path, fmt: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return (edfio.read_edf if fmt == "edf" else edfio.read_bdf)(path)


def run_and_kill(path: Path, fmt: str, record_s: float, after_s: float) -> tuple[int, int]:
    """Run the writer child, SIGKILL it ``after_s`` after it is ready.

    Returns the last flushed (samples, chunks) the child reported.
    """
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER_CHILD, str(path), fmt, str(record_s)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        time.sleep(after_s)
        os.kill(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    complete_lines = out.split("\n")[:-1]  # a line cut by the kill is not trusted
    flushed = [line.split() for line in complete_lines if line.startswith("flushed")]
    assert flushed, "the child never flushed: give it more time"
    return int(flushed[-1][1]), int(flushed[-1][2])


def check_crashed_file(
    path: Path, fmt: str, record_s: float, flushed_pos: int, flushed_k: int, use_cli: bool
) -> None:
    spr = int(SFREQ_HZ * record_s)
    bps = 3 if fmt == "bdf" else 2
    record_bytes = 2 * spr * bps + (600 if fmt == "bdf" else 600)
    size = path.stat().st_size
    n_records = (size - 256 * 4) // record_bytes
    assert path.read_bytes()[236:244].strip() == b"-1"

    raw = read_mne(path, fmt)  # before repair
    assert raw.n_times == n_records * spr

    if use_cli:
        proc = subprocess.run(
            [sys.executable, "-m", "calfwatch", "repair", str(path)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.count("\n") == 1 and "repaired" in proc.stdout
        assert f"-1 -> {n_records}" in proc.stdout
    else:
        report = repair_edf(path)
        assert (report.header_records, report.records_found) == (-1, n_records)
        assert report.bytes_dropped == size - 256 * 4 - n_records * record_bytes
        assert report.changed
    assert repair_edf(path).changed is False  # a second repair finds nothing to do

    n_disk = n_records * spr
    # At most the last second is lost: what was flushed is on disk, bar the partial record.
    assert n_disk >= flushed_pos - (spr - 1) and flushed_pos - n_disk < SFREQ_HZ
    expected = expected_values(n_disk)
    step_uv = 10000.0 / (16777215 if fmt == "bdf" else 65535)
    raw = read_mne(path, fmt)
    edf = read_edfio(path, fmt)
    assert np.abs(raw.get_data() * 1e6 - expected).max() <= step_uv
    assert np.abs(np.array([s.data for s in edf.signals]) - expected).max() <= step_uv

    duration_s = n_disk / SFREQ_HZ
    annotated_k = range(flushed_k)  # annotations made before the last flush that returned
    want_events = {
        (round((k * CHUNK + CHUNK // 2) / SFREQ_HZ, 9), f"event {k}")
        for k in annotated_k
        if (k * CHUNK + CHUNK // 2) / SFREQ_HZ < duration_s
    }
    want_gaps = {
        (round(k * CHUNK / SFREQ_HZ, 9), round(CHUNK / SFREQ_HZ, 9))
        for k in annotated_k
        if k % GAP_EVERY == 3 and k * CHUNK / SFREQ_HZ < duration_s
    }
    edfio_anns = edf.annotations
    got_events = {(round(a.onset, 9), a.text) for a in edfio_anns if a.text.startswith("event")}
    got_gaps = {
        (round(a.onset, 9), round(a.duration, 9)) for a in edfio_anns if a.text == "BAD_ACQ_SKIP"
    }
    assert want_events <= got_events and want_gaps <= got_gaps
    # Nothing invented: every annotation on disk is one the child made, at its onset.
    for onset, text in got_events:
        k = int(text.split()[1])
        assert onset == round((k * CHUNK + CHUNK // 2) / SFREQ_HZ, 9)
    for onset, duration in got_gaps:
        assert duration == round(CHUNK / SFREQ_HZ, 9) and round(onset * SFREQ_HZ) % CHUNK == 0
        assert (round(onset * SFREQ_HZ) // CHUNK) % GAP_EVERY == 3
    mne_events = {
        (round(a["onset"], 9), a["description"])
        for a in raw.annotations
        if a["description"].startswith("event")
    }
    assert want_events <= mne_events


def _trial(tmp_path: Path, seed: int, max_kill_s: float) -> None:
    rnd = random.Random(seed)
    fmt = ("edf", "bdf")[seed % 2]
    record_s = (1.0, 0.5)[(seed // 2) % 2]
    path = tmp_path / f"crash{seed}.{fmt}"
    flushed_pos, flushed_k = run_and_kill(path, fmt, record_s, rnd.uniform(0.05, max_kill_s))
    check_crashed_file(path, fmt, record_s, flushed_pos, flushed_k, use_cli=seed % 3 == 0)


@pytest.mark.parametrize("seed", range(10))
def test_killed_writer_leaves_a_repairable_file(tmp_path, seed):
    _trial(tmp_path, seed, max_kill_s=0.4)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(10, 50))
def test_killed_writer_soak(tmp_path, seed):
    _trial(tmp_path, seed, max_kill_s=4.0)


def _finished_file(path: Path, fmt: str, seconds: int = 5) -> np.ndarray:
    data = expected_values(int(seconds * SFREQ_HZ))
    with EdfPlusWriter(
        path, ["left", "right"], SFREQ_HZ, datetime(2024, 1, 2, tzinfo=UTC), fmt=fmt
    ) as writer:
        writer.annotate(1.5, 0.0, "marker")
        writer.write(data)
    return data


@pytest.mark.parametrize("fmt", ["edf", "bdf"])
def test_torn_last_record_is_cut_and_count_patched(tmp_path, fmt):
    path = tmp_path / f"torn.{fmt}"
    data = _finished_file(path, fmt)
    intact = path.read_bytes()
    record_bytes = (len(intact) - 256 * 4) // 5
    torn = bytearray(intact)
    torn[236:244] = b"-1      "
    torn += intact[256 * 4 : 256 * 4 + 1234]  # a crash in the middle of record 6
    path.write_bytes(bytes(torn))
    assert read_mne(path, fmt).n_times == 5000  # MNE already copes before repair
    report = repair_edf(path)
    assert (report.header_records, report.records_found, report.bytes_dropped) == (-1, 5, 1234)
    assert "1234 bytes" in report.summary() and str(path) in report.summary()
    assert path.read_bytes() == intact
    assert record_bytes * 5 + 256 * 4 == len(intact)
    np.testing.assert_allclose(read_edfio(path, fmt).signals[0].data, data[0], atol=0.16)


def test_wrong_positive_count_is_fixed(tmp_path):
    path = tmp_path / "stale.edf"
    _finished_file(path, "edf")
    blob = bytearray(path.read_bytes())
    blob[236:244] = b"9       "
    path.write_bytes(bytes(blob))
    report = repair_edf(path)
    assert (report.header_records, report.records_found, report.bytes_dropped) == (9, 5, 0)
    assert path.read_bytes()[236:244] == b"5       "


def test_consistent_file_is_left_untouched(tmp_path):
    path = tmp_path / "good.bdf"
    _finished_file(path, "bdf")
    before = path.read_bytes()
    os.utime(path, (1_000_000_000, 1_000_000_000))
    report = repair_edf(path)
    assert not report.changed and "already consistent" in report.summary()
    assert path.read_bytes() == before and path.stat().st_mtime == 1_000_000_000


def test_not_an_edf_file_is_a_recording_error(tmp_path):
    path = tmp_path / "notes.edf"
    path.write_text("these are not EMG samples\n" * 20)
    with pytest.raises(RecordingError, match="notes.edf: not an EDF or BDF"):
        repair_edf(path)
    short = tmp_path / "short.edf"
    short.write_bytes(b"0       ")
    with pytest.raises(RecordingError, match="short.edf"):
        repair_edf(short)


def test_cli_repair_lines_and_exit_codes(tmp_path):
    good, crashed, junk = tmp_path / "good.edf", tmp_path / "crashed.edf", tmp_path / "junk.edf"
    _finished_file(good, "edf")
    _finished_file(crashed, "edf")
    blob = bytearray(crashed.read_bytes())
    blob[236:244] = b"-1      "
    crashed.write_bytes(bytes(blob) + b"\x01" * 77)
    junk.write_bytes(b"PK\x03\x04" + b"\x00" * 400)
    cmd = [sys.executable, "-m", "calfwatch", "repair"]
    ok = subprocess.run(cmd + [str(good), str(crashed)], capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and ok.stderr == ""
    lines = ok.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(str(good)) and "already consistent" in lines[0]
    assert lines[1].startswith(str(crashed)) and "-1 -> 5" in lines[1] and "77 bytes" in lines[1]
    bad = subprocess.run(cmd + [str(junk)], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and bad.stdout == ""
    assert bad.stderr.count("\n") == 1 and str(junk) in bad.stderr and "Traceback" not in bad.stderr
    missing = subprocess.run(
        cmd + [str(tmp_path / "nope.edf")], capture_output=True, text=True, timeout=60
    )
    assert missing.returncode == 1 and "nope.edf" in missing.stderr
    assert missing.stderr.count("\n") == 1
