"""Rest accounting charges a gap for its own length plus the filter's settling time after it (no
margin around it), and the summary's quality says the same lost time, so quality and rest agree."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from acquisition.stream import SampleChunk, StreamInfo
from calfwatch.engine import NightEngine
from dsp.filters import design_sos, settling_time_s
from dsp.types import ENVELOPE_HOP_S

FS = 2000.0
DURATION_S = 120.0


def _summary(gap_starts_s, gap_samples: int) -> dict:
    info = StreamInfo(FS, ["calf"], datetime(2026, 3, 1, 22, 0, tzinfo=UTC))
    data = np.random.default_rng(4).normal(0.0, 5.0, (1, int(DURATION_S * FS)))
    engine = NightEngine(info, mains_hz=50.0)
    pos = 0
    for a in (int(round(t * FS)) for t in gap_starts_s):
        engine.feed(SampleChunk(pos, data[:, pos:a]))
        engine.feed(SampleChunk(a, np.full((1, gap_samples), np.nan), gap=True, reason="link"))
        pos = a + gap_samples
    engine.feed(SampleChunk(pos, data[:, pos:]))
    return engine.finish().summary


@pytest.mark.parametrize("gap_samples", [1, 8, 200])
def test_each_gap_costs_its_length_plus_the_settling_time(gap_samples):
    settle_s = settling_time_s(design_sos(FS, (20.0, 450.0), 50.0), FS)
    assert 0.3 < settle_s < 1.0  # what the impulse response says, not a margin of 0.5 s a side
    clean = _summary([], 0)
    starts = np.arange(5.0, DURATION_S - 5.0, 3.0)
    gapped = _summary(starts, gap_samples)
    assert gapped["counts"] == clean["counts"]  # pure noise: nothing but rest either way
    lost_s = (clean["rest_minutes"] - gapped["rest_minutes"]) * 60.0
    per_gap_s = lost_s / len(starts)
    assert per_gap_s == pytest.approx(gap_samples / FS + settle_s, abs=ENVELOPE_HOP_S)
    # quality says the same: the usable time is the rest time here (no events, no flat stretch)
    q = gapped["quality"]["calf"]
    usable_s = q["usable_fraction"] * gapped["duration_s"]
    assert usable_s == pytest.approx(gapped["rest_minutes"] * 60.0, abs=ENVELOPE_HOP_S)
    assert q["samples_lost_fraction"] == pytest.approx(len(starts) * gap_samples / FS / DURATION_S,
                                                      rel=0.01)
