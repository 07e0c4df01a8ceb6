"""Replay: chunks equal the whole-file read, gaps come back where the recorder put them, pacing, memory."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime

import mne
import numpy as np
import pytest

from acquisition.recorder import Recorder
from acquisition.replay import ReplayStream
from acquisition.stream import SampleChunk, StreamInfo

SFREQ = 200.0


def _record(path, rng, n_pieces=30):
    info = StreamInfo(SFREQ, ["a", "b"], datetime(2026, 2, 3, 1, 2, 3, tzinfo=UTC), 24, 0.25, {})
    spans, pos = [], 0
    with Recorder(path, info) as rec:
        for _ in range(n_pieces):
            n = int(rng.integers(1, 500))
            if rng.random() < 0.3:
                rec.write_chunk(SampleChunk(pos, np.full((2, n), np.nan), gap=True, reason="x"))
                spans.append((pos, pos + n))
            else:
                rec.write_chunk(SampleChunk(pos, rng.integers(-1000, 1000, (2, n)) * 0.25))
            pos += n
    return spans, pos


@pytest.mark.parametrize("by_path", [True, False])
@pytest.mark.parametrize("chunk_s", [0.37, 1.0, 5.0])
def test_replay_tiles_the_file_and_restores_gaps(tmp_path, chunk_s, by_path):
    rng = np.random.default_rng(7)
    path = tmp_path / "night.bdf"
    spans, n_written = _record(path, rng)
    whole = mne.io.read_raw_bdf(path, preload=True, verbose="error")
    ref_uv = whole.get_data() * 1e6
    source = path if by_path else mne.io.read_raw_bdf(path, preload=False, infer_types=True, verbose="error")
    stream = ReplayStream(source, chunk_s=chunk_s)
    assert stream.info.sfreq_hz == SFREQ and stream.info.ch_names == ["a", "b"]
    assert stream.info.meas_date == datetime(2026, 2, 3, 1, 2, 3, tzinfo=UTC)
    pos, gaps = 0, []
    for chunk in stream.chunks():
        assert chunk.start_sample == pos
        assert chunk.n_samples <= max(int(round(chunk_s * SFREQ)), 1) or chunk.gap
        if chunk.gap:
            assert np.isnan(chunk.data_uv).all()
            if gaps and gaps[-1][1] == chunk.start_sample:
                gaps[-1] = (gaps[-1][0], chunk.stop_sample)
            else:
                gaps.append((chunk.start_sample, chunk.stop_sample))
        else:
            ref = ref_uv[:, chunk.start_sample : chunk.stop_sample]
            np.testing.assert_allclose(chunk.data_uv, ref, rtol=1e-12, atol=1e-9)
        pos = chunk.stop_sample
    assert pos == whole.n_times
    # the recording's gaps, then the padding of the last record (if any)
    merged = []
    for a, b in spans:
        if merged and merged[-1][1] == a:
            merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    tail = [(n_written, whole.n_times)] if whole.n_times > n_written else []
    if tail and merged and merged[-1][1] == n_written:
        merged[-1] = (merged[-1][0], whole.n_times)
        tail = []
    assert gaps == merged + tail


def test_replay_paced_at_speed(tmp_path):
    rng = np.random.default_rng(1)
    path = tmp_path / "short.bdf"
    info = StreamInfo(SFREQ, ["a"], datetime(2026, 1, 1, tzinfo=UTC), 24, 1.0, {})
    with Recorder(path, info) as rec:
        rec.write_chunk(SampleChunk(0, rng.normal(size=(1, int(4 * SFREQ)))))
    stream = ReplayStream(mne.io.read_raw_bdf(path, infer_types=True, verbose="error"), speed=8.0, chunk_s=0.25)
    t0 = time.monotonic()
    n = sum(c.n_samples for c in stream.chunks())
    elapsed = time.monotonic() - t0
    assert n == 4 * SFREQ
    assert elapsed >= 4.0 / 8.0 * 0.95  # 4 s of signal at 8x cannot arrive sooner


MEMORY_CHILD = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime
    import numpy as np
    from acquisition.edf.writer import EdfPlusWriter
    from acquisition.replay import ReplayStream

    path, hours = sys.argv[1], float(sys.argv[2])
    sfreq = 2000.0
    block = (np.sin(np.arange(int(60 * sfreq)) * 0.01) * 100.0)[None, :]
    with EdfPlusWriter(path, ["calf"], sfreq, datetime(2026, 1, 1, tzinfo=UTC)) as w:
        for _ in range(int(hours * 60)):
            w.write(block)
    def vm_hwm_kb():  # this address space's peak; ru_maxrss would include the parent's at fork
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))

    base = vm_hwm_kb()
    n = 0
    for chunk in ReplayStream(path, chunk_s=10.0).chunks():
        n += chunk.n_samples
    peak = vm_hwm_kb()
    print(n, base, peak)
    """
)


def _replay_peak_kb(tmp_path, hours: float) -> tuple[int, int, int]:
    out = subprocess.run(
        [sys.executable, "-c", MEMORY_CHILD, str(tmp_path / "long.edf"), str(hours)],
        capture_output=True,
        text=True,
        timeout=900,
        check=True,
    )
    n, base, peak = (int(v) for v in out.stdout.split())
    return n, base, peak


def test_replay_memory_does_not_grow_with_the_file(tmp_path):
    n, _, peak_kb = _replay_peak_kb(tmp_path, 0.25)
    assert n >= 0.25 * 3600 * 2000
    assert peak_kb < 200 * 1024


@pytest.mark.slow
def test_replay_of_an_8_hour_file_stays_under_200_mb(tmp_path):
    n, _, peak_kb = _replay_peak_kb(tmp_path, 8.0)
    assert n >= 8 * 3600 * 2000
    assert peak_kb < 200 * 1024


def test_a_recording_served_as_an_emulated_device_streams_its_samples(tmp_path):
    import threading

    from acquisition.replay import emulate_recording
    from acquisition.serial_source import SerialSource

    rng = np.random.default_rng(3)
    path = tmp_path / "night.bdf"
    sfreq = 2000.0
    info = StreamInfo(sfreq, ["a", "b"], datetime(2026, 1, 1, tzinfo=UTC), 24, 0.1, {})
    with Recorder(path, info) as rec:
        rec.write_chunk(SampleChunk(0, rng.integers(-5000, 5000, (2, int(3 * sfreq))) * 0.1))
    file_uv = mne.io.read_raw_bdf(path, preload=True, verbose="error").get_data() * 1e6
    device = emulate_recording(path, "calfwatch", str(tmp_path / "ttyREPLAY"), speed=2.0).start()
    try:
        source = SerialSource(device.port_path, "calfwatch", clock_speed=2.0)
        chunks: list = []
        worker = threading.Thread(target=lambda: chunks.extend(source.chunks()), daemon=True)
        worker.start()
        assert device.finished.wait(20)
        time.sleep(0.3)
        source.close()
        worker.join(10)
    finally:
        device.stop()
    got = np.concatenate([c.data_uv for c in chunks], axis=1)
    assert not any(c.gap for c in chunks)
    assert got.shape == file_uv.shape
    np.testing.assert_allclose(got, file_uv, atol=0.05 + 1e-9)  # the device's 0.1 µV steps


@pytest.mark.parametrize(("value", "shown"), [(np.inf, "inf"), (-1e300, "-1e+300"),
                                              (2e9, "2e+09")])
def test_a_sample_beyond_any_voltage_on_skin_is_refused_where_it_is(tmp_path, value, shown):
    """NaN is a lost sample; an infinity or a size past 1 kV is a corrupt value or a wrong scale,
    named with its sample and channel (it had overflowed the chain's first sums of squares)."""
    from acquisition.errors import RecordingError

    data_uv = np.random.default_rng(6).normal(0, 10, (2, 3000))
    data_uv[1, 1234] = value
    data_uv[0, 100] = np.nan
    path = tmp_path / "night.csv"
    rows = [f"{i / 1000:.3f},{a:.6g},{b:.6g}" for i, (a, b) in enumerate(data_uv.T)]
    path.write_text("time,calf_uV,shin_uV\n" + "\n".join(rows) + "\n")
    stream = ReplayStream(path, chunk_s=1.0)
    chunks = stream.chunks()
    before = [next(chunks) for _ in range(3)]  # the first second passes, its NaN as lost time
    assert [(c.start_sample, c.stop_sample, c.gap) for c in before] == [
        (0, 100, False), (100, 101, True), (101, 1101, False)]
    assert np.isnan(before[1].data_uv).all()
    with pytest.raises(RecordingError, match=rf"night\.csv: sample 1234 of channel 'shin' is "
                                             rf"{re.escape(shown)} µV, beyond any voltage on "
                                             r"skin \(1 kV\)"):
        next(chunks)
