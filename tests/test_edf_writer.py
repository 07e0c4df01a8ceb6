"""EdfPlusWriter: MNE and edfio read back the samples, gaps and annotations that were written."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import warnings
from datetime import UTC, datetime
from pathlib import Path

import edfio
import mne
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acquisition.edf.writer import EdfPlusWriter, RecordingWriteError

MEAS_DATE = datetime(2024, 3, 9, 23, 14, 7, tzinfo=UTC)
DIGITAL_SPAN = {"edf": 65535, "bdf": 16777215}


def read_mne(path: Path, fmt: str) -> tuple[np.ndarray, list[tuple[float, float, str]], mne.io.Raw]:
    reader = mne.io.read_raw_edf if fmt == "edf" else mne.io.read_raw_bdf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = reader(path, preload=True, verbose="error")
    anns = [
        (float(a["onset"]), float(a["duration"]), str(a["description"])) for a in raw.annotations
    ]
    return raw.get_data() * 1e6, sorted(anns), raw


def read_edfio(path: Path, fmt: str) -> tuple[np.ndarray, list[tuple[float, float, str]], object]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        edf = (edfio.read_edf if fmt == "edf" else edfio.read_bdf)(path)
    data = np.array([sig.data for sig in edf.signals])
    anns = [(float(a.onset), float(a.duration or 0.0), a.text) for a in edf.annotations]
    return data, sorted(anns), edf


def assert_annotations_equal(got, expected, tol_s: float = 1e-9) -> None:
    expected = sorted(expected)
    assert [a[2] for a in got] == [e[2] for e in expected]
    np.testing.assert_allclose([a[0] for a in got], [e[0] for e in expected], atol=tol_s, rtol=0)
    np.testing.assert_allclose([a[1] for a in got], [e[1] for e in expected], atol=tol_s, rtol=0)


def signal(n_channels: int, n: int, seed: int, amp_uv: float = 1500.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(rng.normal(0.0, amp_uv, size=(n_channels, n)), -4900.0, 4900.0)


CASES = [
    (1, 250.0, 1.0),
    (2, 500.0, 0.5),
    (4, 1000.0, 1.0),
    (8, 2000.0, 0.5),
    (3, 2000.0, 1.0),
    (2, 250.0, 0.5),
]


@pytest.mark.parametrize("fmt", ["edf", "bdf"])
@pytest.mark.parametrize(("n_channels", "sfreq_hz", "record_s"), CASES)
def test_round_trip_mne_and_edfio(tmp_path, fmt, n_channels, sfreq_hz, record_s):
    spr = int(sfreq_hz * record_s)
    n = int(4.3 * sfreq_hz) + 7  # not a whole number of records: the last one is padded
    data = signal(n_channels, n, seed=n_channels)
    data[0, 10] = 9000.0  # outside the physical range: clipped
    data[-1, 20] = -7000.0
    pmin = [-5000.0 - 100 * i for i in range(n_channels)]
    pmax = [5000.0 + 50 * i for i in range(n_channels)]
    expected_clipped = int(
        np.sum((data < np.array(pmin)[:, None]) | (data > np.array(pmax)[:, None]))
    )
    annotations = [(0.0, 0.0, "start"), (1.2345, 0.012, "fasciculation"), (3.0, 1.5, "cramp")]
    path = tmp_path / f"night.{fmt}"
    names = [f"calf{i}" for i in range(n_channels)]
    rng = np.random.default_rng(1)
    with EdfPlusWriter(
        path,
        names,
        sfreq_hz,
        MEAS_DATE,
        fmt=fmt,
        record_s=record_s,
        physical_min_uv=pmin,
        physical_max_uv=pmax,
    ) as writer:
        for onset, duration, text in annotations:
            writer.annotate(onset, duration, text)
        pos = 0
        while pos < n:
            step = int(rng.integers(1, 3 * spr))
            writer.write(data[:, pos : pos + step])
            pos += step
    assert writer.clipped_samples == expected_clipped
    n_records = -(-n // spr)
    pad = n_records * spr - n
    expected_anns = annotations + [
        (n / sfreq_hz, pad / sfreq_hz, "BAD_ACQ_SKIP"),
        (n / sfreq_hz, pad / sfreq_hz, "acquisition gap: padding to a whole data record"),
    ]
    expected = np.clip(data, np.array(pmin)[:, None], np.array(pmax)[:, None])
    step_uv = (np.array(pmax) - np.array(pmin)) / DIGITAL_SPAN[fmt]
    for reader in (read_mne, read_edfio):
        got, anns, _ = reader(path, fmt)
        assert got.shape == (n_channels, n_records * spr)
        err = np.abs(got[:, :n] - expected).max(axis=1)
        assert np.all(err <= step_uv), (reader.__name__, err, step_uv)
        assert np.all(np.abs(got[:, n:]) <= step_uv[:, None])  # padding is flat zero
        assert_annotations_equal(anns, expected_anns)
    _, _, raw = read_mne(path, fmt)
    assert raw.info["sfreq"] == sfreq_hz
    assert raw.ch_names == names
    assert raw.info["meas_date"] == MEAS_DATE
    with open(path, "rb") as fid:
        head = fid.read(256)
    assert head[236:244].strip() == str(n_records).encode()
    assert head[192:197] == (b"EDF+C" if fmt == "edf" else b"BDF+C")


@pytest.mark.parametrize("fmt", ["edf", "bdf"])
def test_gaps_are_flat_and_annotated_exactly(tmp_path, fmt):
    sfreq_hz, n_channels = 500.0, 2
    data = signal(n_channels, 3000, seed=5)
    path = tmp_path / f"gaps.{fmt}"
    # (start sample, n lost): at the very start, inside a record, across several records.
    plan = [
        ("gap", 13, "stall"),
        ("data", 400),
        ("gap", 1, "sequence gap"),
        ("data", 1100),
        ("gap", 1234, ""),
        ("data", 1500),
    ]
    expected_anns, pieces = [], []
    pos_timeline, pos_data = 0, 0
    with EdfPlusWriter(path, ["l", "r"], sfreq_hz, MEAS_DATE, fmt=fmt) as writer:
        for item in plan:
            if item[0] == "gap":
                _, n, reason = item
                writer.write_gap(n, reason)
                expected_anns.append((pos_timeline / sfreq_hz, n / sfreq_hz, "BAD_ACQ_SKIP"))
                if reason:
                    expected_anns.append(
                        (pos_timeline / sfreq_hz, n / sfreq_hz, f"acquisition gap: {reason}")
                    )
                pieces.append(np.full((n_channels, n), np.nan))
            else:
                n = item[1]
                writer.write(data[:, pos_data : pos_data + n])
                pieces.append(data[:, pos_data : pos_data + n])
                pos_data += n
            pos_timeline += n
    assert writer.samples_written == pos_timeline
    expected = np.clip(np.concatenate(pieces, axis=1), -5000.0, 5000.0)
    total = expected.shape[1]
    n_records = -(-total // 500)
    pad = n_records * 500 - total
    expected_anns += [
        (total / sfreq_hz, pad / sfreq_hz, "BAD_ACQ_SKIP"),
        (total / sfreq_hz, pad / sfreq_hz, "acquisition gap: padding to a whole data record"),
    ]
    step_uv = 10000.0 / DIGITAL_SPAN[fmt]
    lost = np.isnan(expected)
    for reader in (read_mne, read_edfio):
        got, anns, _ = reader(path, fmt)
        assert_annotations_equal(anns, expected_anns, tol_s=0.0)
        got = got[:, :total]
        assert np.all(np.abs(got[lost]) <= step_uv)
        assert np.all(np.abs(got[~lost] - expected[~lost]) <= step_uv)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    chunks=st.lists(st.integers(min_value=1, max_value=900), min_size=1, max_size=12),
    fmt=st.sampled_from(["edf", "bdf"]),
)
def test_chunking_does_not_change_the_file(tmp_path_factory, chunks, fmt):
    folder = tmp_path_factory.mktemp("chunks")
    n = sum(chunks)
    data = signal(2, n, seed=n)
    whole, chunked = folder / f"whole.{fmt}", folder / f"chunked.{fmt}"
    with EdfPlusWriter(whole, ["a", "b"], 250.0, MEAS_DATE, fmt=fmt) as writer:
        writer.annotate(0.5, 0.1, "x")
        writer.write(data)
    with EdfPlusWriter(chunked, ["a", "b"], 250.0, MEAS_DATE, fmt=fmt) as writer:
        writer.annotate(0.5, 0.1, "x")
        pos = 0
        for size in chunks:
            writer.write(data[:, pos : pos + size])
            pos += size
    assert whole.read_bytes() == chunked.read_bytes()


@pytest.mark.parametrize("fmt", ["edf", "bdf"])
def test_many_annotations_are_carried_over_none_lost(tmp_path, fmt):
    path = tmp_path / f"many.{fmt}"
    chars = 240
    events = [(2.0 + k * 0.001, 0.005, f"event number {k}") for k in range(60)]
    late = [(0.25, 0.0, "late: its record was already on disk")]
    beyond = [(50.0, 1.0, "after the end of the data")]
    with EdfPlusWriter(
        path, ["a"], 250.0, MEAS_DATE, fmt=fmt, annotation_chars_per_record=chars
    ) as writer:
        for onset, duration, text in events:
            writer.annotate(onset, duration, text)
        writer.write(signal(1, 250 * 3, seed=2))
        writer.annotate(*late[0])
        writer.write(signal(1, 250 * 20, seed=3))
        writer.annotate(*beyond[0])
    n_records = writer.records_written
    added = [
        (23.0 + k, 1.0, text)
        for k in range(n_records - 23)
        for text in ("BAD_ACQ_SKIP", "acquisition gap: record added to hold annotations")
    ]
    expected = events + late + added
    _, anns, _ = read_edfio(path, fmt)
    assert_annotations_equal(anns, expected + beyond)
    _, anns, _ = read_mne(path, fmt)  # MNE leaves out annotations past the end of the data
    assert_annotations_equal(anns, expected)
    # They really were spread over records: count TALs per record in the annotation signal.
    per_record = _tals_per_record(path, n_records, fmt)
    assert per_record[0] == 1 and per_record[1] == 1  # time-keeping only
    assert per_record[2] > 1 and sum(per_record[3:]) > 1
    assert sum(per_record) == n_records + len(events) + 2 + (n_records - 23)


def _tals_per_record(path: Path, n_records: int, fmt: str) -> list[int]:
    raw = path.read_bytes()
    n_signals = int(raw[252:256])
    header_bytes = 256 * (n_signals + 1)
    bps = 3 if fmt == "bdf" else 2
    spr_field = raw[256 + n_signals * 216 : 256 + n_signals * 224]
    spr = [int(spr_field[8 * i : 8 * i + 8]) for i in range(n_signals)]
    record = sum(spr) * bps
    ann_start = sum(spr[:-1]) * bps
    counts = []
    for k in range(n_records):
        base = header_bytes + k * record + ann_start
        counts.append(raw[base : base + spr[-1] * bps].count(b"\x14\x00"))
    return counts


def test_header_is_sanitised_ascii(tmp_path):
    path = tmp_path / "names.edf"
    with EdfPlusWriter(
        path,
        ["Wade ü links", "rechts\tcalf"],
        500.0,
        MEAS_DATE,
        patient_id="Müller Hans",
        recording_id="Nacht drei – Zürich",
        equipment="Open BCI Cyton",
        transducer="Ag/AgCl électrodes",
        prefilter="HP:0.5Hz LP:500Hz",
    ) as writer:
        writer.write(signal(2, 500, seed=9))
    head = path.read_bytes()[: 256 * 4]
    assert all(32 <= b <= 126 for b in head), "header must be printable ASCII"
    recording = head[88:168].decode().split()
    assert recording[:5] == ["Startdate", "09-MAR-2024", "X", "X", "Open_BCI_Cyton"]
    assert " ".join(recording[5:]) == "Nacht drei _ Zurich"
    assert head[8:88].decode().rstrip() == "Muller Hans"
    assert head[168:184] == b"09.03.2423.14.07"
    _, _, edf = read_edfio(path, "edf")
    assert edf.recording.startdate == MEAS_DATE.date()
    assert [s.label for s in edf.signals] == ["Wade u links", "rechts calf"]
    assert edf.signals[0].transducer_type == "Ag/AgCl electrodes"


def test_header_says_minus_one_while_recording_and_mne_opens_it(tmp_path):
    path = tmp_path / "live.edf"
    data = signal(2, 2600, seed=11)
    writer = EdfPlusWriter(path, ["a", "b"], 1000.0, MEAS_DATE)
    writer.annotate(0.5, 0.0, "early")
    writer.write(data)
    writer.flush()
    raw_bytes = path.read_bytes()
    assert raw_bytes[236:244].strip() == b"-1"
    record_bytes = (2 * 1000 * 2) + 600
    assert len(raw_bytes) == 256 * 4 + 2 * record_bytes  # two whole records; 600 samples wait
    got, anns, _ = read_mne(path, "edf")
    assert got.shape == (2, 2000)
    assert np.all(np.abs(got - data[:, :2000]) <= 10000 / 65535)
    assert anns == [(0.5, 0.0, "early")]
    writer.close()
    assert path.read_bytes()[236:244].strip() == b"3"


def test_subsecond_start_keeps_onsets(tmp_path):
    start = MEAS_DATE.replace(microsecond=250000)
    path = tmp_path / "subsecond.edf"
    with EdfPlusWriter(path, ["a"], 250.0, start) as writer:
        writer.annotate(1.1, 0.2, "x")
        writer.write(signal(1, 500, seed=1))
    _, anns, _ = read_mne(path, "edf")
    assert_annotations_equal(anns, [(1.1, 0.2, "x")], tol_s=1e-9)
    _, anns, edf = read_edfio(path, "edf")
    assert_annotations_equal(anns, [(1.1, 0.2, "x")], tol_s=1e-9)
    assert edf.starttime.microsecond == 250000


def test_bad_arguments_are_value_errors(tmp_path):
    with pytest.raises(ValueError, match="sfreq_hz \\* record_s"):
        EdfPlusWriter(tmp_path / "a.edf", ["a"], 250.0, MEAS_DATE, record_s=0.3333)
    with pytest.raises(ValueError, match="fmt"):
        EdfPlusWriter(tmp_path / "a.edf", ["a"], 250.0, MEAS_DATE, fmt="gdf")
    with EdfPlusWriter(tmp_path / "b.edf", ["a", "b"], 250.0, MEAS_DATE) as writer:
        bad = np.zeros((2, 10))
        bad[1, 3] = np.nan
        with pytest.raises(ValueError, match="write_gap"):
            writer.write(bad)
        with pytest.raises(ValueError, match="shape"):
            writer.write(np.zeros((3, 10)))
        with pytest.raises(ValueError):
            writer.annotate(-1.0, 0.0, "x")
        with pytest.raises(ValueError, match="does not fit"):
            writer.annotate(1.0, 0.0, "x" * 1000)
    with pytest.raises(ValueError, match="closed"):
        writer.write(np.zeros((2, 10)))


_DISK_FULL_CHILD = textwrap.dedent(
    """
    import resource, signal, sys
    from datetime import UTC, datetime
    import numpy as np
    from acquisition.edf.writer import EdfPlusWriter
    limit = int(sys.argv[2])
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    writer = EdfPlusWriter(sys.argv[1], ["a", "b"], 1000.0, datetime(2024, 1, 1, tzinfo=UTC),
                           fmt=sys.argv[3])
    n = 0
    try:
        while True:
            writer.annotate(n / 1000.0, 0.0, f"chunk {n}")
            writer.write(np.full((2, 700), (n % 1000) * 1.0))
            n += 700
    except OSError as exc:
        print(type(exc).__name__, exc, sep="|")
        sys.exit(3)
    """
)


@pytest.mark.parametrize("fmt", ["edf", "bdf"])
def test_disk_full_leaves_a_valid_file_and_a_clear_error(tmp_path, fmt):
    path = tmp_path / f"full.{fmt}"
    record_bytes = 2 * 1000 * (3 if fmt == "bdf" else 2) + (600 if fmt == "bdf" else 600)
    limit = 256 * 4 + 7 * record_bytes + record_bytes // 2  # room for 7.5 records
    proc = subprocess.run(
        [sys.executable, "-c", _DISK_FULL_CHILD, str(path), str(limit), fmt],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 3, proc.stderr
    kind, message = proc.stdout.strip().split("|")
    assert kind == "RecordingWriteError" and "\n" not in message
    assert str(path) in message and "7 complete records" in message
    assert os.path.getsize(path) == 256 * 4 + 7 * record_bytes
    assert path.read_bytes()[236:244].strip() == b"7"
    got, anns, _ = read_mne(path, fmt)
    expected = np.repeat(np.arange(0, 7000, 700) % 1000 * 1.0, 700)[:7000]
    assert np.all(np.abs(got - expected) <= 10000 / DIGITAL_SPAN[fmt])
    assert [a[2] for a in anns] == [f"chunk {n}" for n in range(0, 7000, 700)]
    got_edfio, _, _ = read_edfio(path, fmt)
    assert got_edfio.shape == (2, 7000)


def test_write_error_class_is_an_oserror():
    err = RecordingWriteError("x.edf", 28, "cannot write data record 3 (disk full)")
    assert isinstance(err, OSError) and str(err) == "x.edf: cannot write data record 3 (disk full)"


def test_fsync_once_per_record_in_real_time_batched_when_faster(tmp_path, monkeypatch):
    import acquisition.edf.record_file as module

    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(module.os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd)))
    clock = [0.0]
    monkeypatch.setattr(module.time, "monotonic", lambda: clock[0])
    data = signal(1, 250 * 20, seed=4)
    # Real time: one 1 s record per second of wall time -> every record is synced.
    with EdfPlusWriter(tmp_path / "live.edf", ["a"], 250.0, MEAS_DATE) as writer:
        n_header = len(synced)
        for k in range(10):
            clock[0] += 1.0
            writer.write(data[:, 250 * k : 250 * (k + 1)])
            assert len(synced) == n_header + k + 1
    # Faster than real time: 20 records within 0.1 s of wall time -> no per-record fsync...
    synced.clear()
    with EdfPlusWriter(tmp_path / "fast.edf", ["a"], 250.0, MEAS_DATE) as writer:
        n_header = len(synced)
        for k in range(20):
            clock[0] += 0.005
            writer.write(data[:, 250 * k : 250 * (k + 1)])
        assert len(synced) == n_header
        writer.flush()  # ...but flush() always makes them durable
        assert len(synced) == n_header + 1
        clock[0] += 1.0
        writer.write(data[:, :250])  # a wall second later the next record is synced
        assert len(synced) == n_header + 2
