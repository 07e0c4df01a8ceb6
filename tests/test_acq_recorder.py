"""Recorder: EDF+/BDF+ read back by MNE and edfio, gaps annotated exactly, sidecar counts, live pty device."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime

import edfio
import mne
import numpy as np
import pytest
from _acq_pty_device import PtyDevice, sample_values, tiny_spec

from acquisition.recorder import Recorder, run_recording
from acquisition.serial_source import SerialSource
from acquisition.stream import SampleChunk, StreamInfo

START = datetime(2026, 3, 1, 22, 30, 5, tzinfo=UTC)


def _info(bits: int, sfreq_hz: float = 200.0, n_ch: int = 2, uv: float = 0.5) -> StreamInfo:
    return StreamInfo(
        sfreq_hz=sfreq_hz,
        ch_names=[f"calf{i}" for i in range(n_ch)],
        meas_date=START,
        resolution_bits=bits,
        uv_per_count=uv,
        device={"kind": "test", "firmware": "1.2.3"},
    )


def _plan(rng, info: StreamInfo, n_pieces: int):
    """Random data pieces and gaps; returns chunks, the truth (NaN in gaps) and the gap spans."""
    chunks, truth, spans, pos = [], [], [], 0
    for _ in range(n_pieces):
        n = int(rng.integers(1, 400))
        if rng.random() < 0.3:
            chunks.append(
                SampleChunk(pos, np.full((info.n_channels, n), np.nan), gap=True, reason="sequence gap")
            )
            truth.append(np.full((info.n_channels, n), np.nan))
            spans.append((pos, n))
        else:
            counts = rng.integers(-30000, 30000, size=(info.n_channels, n))
            chunks.append(SampleChunk(pos, counts * info.uv_per_count))
            truth.append(counts * info.uv_per_count)
        pos += n
    return chunks, np.concatenate(truth, axis=1), spans


def _skip_spans(annotations, sfreq_hz: float) -> list[tuple[int, int]]:
    out = []
    for onset, duration, text in zip(
        annotations.onset, annotations.duration, annotations.description, strict=True
    ):
        if text == "BAD_ACQ_SKIP":
            out.append((int(round(onset * sfreq_hz)), int(round(duration * sfreq_hz))))
    return out


@pytest.mark.parametrize("bits", [16, 24])
def test_recorded_file_matches_the_stream_in_mne_and_edfio(tmp_path, bits):
    info = _info(bits)
    rng = np.random.default_rng(bits)
    chunks, truth, spans = _plan(rng, info, 40)
    with Recorder.create(tmp_path, info, subject="s01", side="left") as rec:
        for chunk in chunks:
            rec.write_chunk(chunk)
        path, sidecar = rec.path, rec.sidecar_path
    assert path.suffix == (".edf" if bits == 16 else ".bdf")
    n = truth.shape[1]
    raw = mne.io.read_raw_edf(path, preload=True, verbose="error") if bits == 16 else (
        mne.io.read_raw_bdf(path, preload=True, verbose="error")
    )
    got_uv = raw.get_data()[:, :n] * 1e6
    ok = np.isfinite(truth)
    step_uv = info.uv_per_count
    assert np.max(np.abs(got_uv[ok] - truth[ok])) <= 0.5 * step_uv * (1 + 1e-6)
    skip = _skip_spans(raw.annotations, info.sfreq_hz)
    # the recording's own gaps, then the padding of the last record
    assert skip[: len(spans)] == spans
    assert raw.info["meas_date"] == START
    if bits == 16:  # edfio reads EDF only
        edf = edfio.read_edf(path)
        got2 = np.array([s.data for s in edf.signals])[:, :n]
        assert np.max(np.abs(got2[ok] - truth[ok])) <= 0.5 * step_uv * (1 + 1e-6)
    doc = json.loads(sidecar.read_text())
    assert doc["closed_cleanly"] is True
    assert doc["counters"]["samples_received"] == int(ok[0].sum())
    assert doc["counters"]["samples_lost"] == sum(s[1] for s in spans)
    assert doc["start_utc"] == START.isoformat()
    assert doc["device"]["firmware"] == "1.2.3"
    assert doc["format"] == ("edf" if bits == 16 else "bdf")


def test_overlapping_chunk_is_refused(tmp_path):
    info = _info(16)
    with Recorder(tmp_path / "x.edf", info) as rec:
        rec.write_chunk(SampleChunk(0, np.zeros((2, 10))))
        with pytest.raises(ValueError, match="overlaps"):
            rec.write_chunk(SampleChunk(5, np.zeros((2, 10))))


def test_live_device_with_unplugs_recorded_exactly(tmp_path):
    device = PtyDevice(str(tmp_path / "ttyREC"), n_channels=2, sfreq_hz=500.0)
    try:
        source = SerialSource(device.link, tiny_spec(2, 500.0))
        rec = Recorder.create(tmp_path / "out", source.info, source_stats=source.stats)
        worker = threading.Thread(target=run_recording, args=(source, rec), daemon=True)
        worker.start()
        time.sleep(0.4)
        for k, pause_s in enumerate((0.3, 0.7), start=1):
            device.unplug()
            time.sleep(pause_s)
            device.plug()
            deadline = time.monotonic() + 10.0  # back-off and a loaded machine: wait for it
            while source.stats()["reconnects"] < k and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(0.4)
        source.close()
        worker.join(timeout=5)
        rec.close()
    finally:
        device.close()
    raw = mne.io.read_raw_edf(rec.path, preload=True, verbose="error")
    doc = json.loads(rec.sidecar_path.read_text())
    n = doc["counters"]["samples_on_timeline"]
    lost = np.zeros(n, bool)
    for a, b in device.lost:
        lost[a : min(b, n)] = True
    got = raw.get_data()[:, :n] * 1e6
    expected = sample_values(np.arange(n), 2) * 0.5
    assert np.max(np.abs(got[:, ~lost] - expected[:, ~lost])) <= 0.25 * (1 + 1e-6)
    spans = _skip_spans(raw.annotations, 500.0)
    edges = np.flatnonzero(np.diff(np.r_[0, lost.astype(int), 0]))
    truth = [(int(a), int(b - a)) for a, b in zip(edges[::2], edges[1::2], strict=True)]
    assert spans[: len(truth)] == truth
    assert doc["counters"]["reconnects"] == 2
    assert doc["counters"]["samples_lost"] == int(lost.sum())
    assert doc["counters"]["samples_received"] == int((~lost).sum())


DISK_FULL_CHILD = """
import resource, signal, sys
from datetime import UTC, datetime
import numpy as np
from acquisition.recorder import Recorder
from acquisition.stream import SampleChunk, StreamInfo

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (40000, 40000))
info = StreamInfo(200.0, ["a", "b"], datetime(2026, 1, 1, tzinfo=UTC), 16, 0.5, {})
rec = Recorder(sys.argv[1], info)
pos = 0
try:
    while True:
        rec.write_chunk(SampleChunk(pos, np.zeros((2, 100))))
        pos += 100
except OSError as exc:
    print(str(exc))
    sys.exit(3)
"""


def test_disk_full_stops_with_a_clear_message_and_a_valid_file(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "full.edf"
    out = subprocess.run([sys.executable, "-c", DISK_FULL_CHILD, str(path)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 3, out.stderr
    message = out.stdout.strip()
    assert "\n" not in message and str(path) in message
    raw = mne.io.read_raw_edf(path, preload=True, verbose="error")
    assert raw.n_times > 0
    doc = json.loads(path.with_suffix(".json").read_text())
    assert doc["closed_cleanly"] is False
    assert doc["error"] == message
