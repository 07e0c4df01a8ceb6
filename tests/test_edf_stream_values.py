"""EdfStream's µV: the stored counts (read by pyedflib) through the EDF formula, bit for bit, for
EDF and BDF, at record boundaries and across them."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from acquisition.edf.stream import EdfStream
from acquisition.recorder import Recorder
from acquisition.stream import SampleChunk, StreamInfo

SFREQ = 250.0


@pytest.mark.parametrize("suffix", ["edf", "bdf"])
def test_stream_values_are_the_counts_through_the_edf_formula(tmp_path, suffix):
    pyedflib = pytest.importorskip("pyedflib")
    rng = np.random.default_rng(5)
    path = tmp_path / f"night.{suffix}"
    info = StreamInfo(SFREQ, ["a", "b", "c"], datetime(2026, 2, 3, tzinfo=UTC),
                      24 if suffix == "bdf" else 16, 0.37, {})
    with Recorder(path, info) as rec:
        rec.write_chunk(SampleChunk(0, rng.normal(0.0, 400.0, (3, 20_000))))
    with pyedflib.EdfReader(str(path)) as f:
        idx = [i for i, label in enumerate(f.getSignalLabels()) if "Annotations" not in label]
        counts = np.array([f.readSignal(i, digital=True) for i in idx], dtype=np.float64)
    stream = EdfStream(path)
    expected = stream.scaling.to_physical(counts) * stream._unit_uv
    spr = stream.spr
    spans = [(0, stream.n_times), (spr, 3 * spr), (7, spr + 3), (spr - 1, spr), (stream.n_times - 5,
                                                                                stream.n_times)]
    spans += [tuple(sorted(rng.integers(0, stream.n_times, 2))) for _ in range(10)]
    for a, b in spans:
        got = stream.get_uv(a, b)
        assert got.shape == (3, b - a) and got.flags.c_contiguous
        np.testing.assert_array_equal(got.view(np.int64), expected[:, a:b].view(np.int64))
