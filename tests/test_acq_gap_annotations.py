"""Gap annotations never add records: the file is as long as the signal at any damage rate.

Each lost span is annotated exactly while the records have room; runs of short gaps beyond that
become one annotation over the run. Read back with MNE: every lost sample lies in a BAD_ACQ_SKIP
annotation, every sample kept has its value, and with sparse damage the annotations are the lost
spans exactly.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

import mne
import numpy as np
import pytest

from acquisition.recorder import Recorder
from acquisition.stream import SampleChunk, StreamInfo

SFREQ = 500.0
START = datetime(2026, 3, 1, 22, 30, 5, tzinfo=UTC)


def _stream(rng, n_total: int, mean_run: float):
    """Data runs of mean length ``mean_run`` separated by 1-12 sample gaps; sample i has value i mod 30000."""
    chunks, lost, pos = [], np.zeros(n_total, bool), 0
    while pos < n_total:
        n = min(n_total - pos, max(1, int(rng.exponential(mean_run))))
        chunks.append(SampleChunk(pos, (np.arange(pos, pos + n) % 30000.0)[None, :]))
        pos += n
        g = min(n_total - pos, int(rng.integers(1, 13)))
        if g:
            chunks.append(SampleChunk(pos, np.full((1, g), np.nan), gap=True, reason="sequence gap"))
            lost[pos : pos + g] = True
            pos += g
    return chunks, lost


def _record(tmp_path, chunks):
    info = StreamInfo(SFREQ, ["calf"], START, 16, 1.0, {"kind": "test"})
    rec = Recorder(tmp_path / "night.edf", info)
    for chunk in chunks:
        rec.write_chunk(chunk)
    rec.close()
    return rec


@pytest.mark.parametrize(("mean_run", "seed"), [(3.0, 0), (20.0, 1), (400.0, 2)])
def test_file_is_as_long_as_the_signal_and_every_loss_is_annotated(tmp_path, mean_run, seed):
    rng = np.random.default_rng(seed)
    n_total = int(SFREQ * 120)
    chunks, lost = _stream(rng, n_total, mean_run)
    rec = _record(tmp_path, chunks)
    raw = mne.io.read_raw_edf(rec.path, preload=True, verbose="error")
    spr = int(SFREQ)  # 1-s records
    assert raw.n_times == math.ceil(n_total / spr) * spr  # only the last record is padded
    skip = np.zeros(raw.n_times, bool)
    for ann in raw.annotations:
        if ann["description"] == "BAD_ACQ_SKIP":
            a = int(round(ann["onset"] * SFREQ))
            skip[a : a + int(round(ann["duration"] * SFREQ))] = True
    assert skip[:n_total][lost].all()  # no loss unannotated
    values = raw.get_data()[0, :n_total] * 1e6
    kept = ~lost
    np.testing.assert_allclose(values[kept], (np.arange(n_total) % 30000.0)[kept], atol=0.51)
    doc_merged = rec.sidecar()["counters"]["gaps_annotated_in_merged_runs"]
    if mean_run >= 400:  # sparse damage: exact spans, nothing merged
        assert doc_merged == 0
        np.testing.assert_array_equal(skip[:n_total], lost)
    else:
        assert doc_merged > 0
