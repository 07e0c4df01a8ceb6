"""Unit grouping does not split one unit into many: on simulated nights whose units are known, the
units reported with at least 20 discharges are the true units with at least 20 detected discharges,
within one, and each reported unit is mostly one true unit."""

from __future__ import annotations

import collections

import numpy as np
import pytest

from acquisition.stream import SampleChunk
from calfwatch.engine import NightEngine
from calfwatch.simulator import load_profile, simulate_night

MIN_DISCHARGES = 20


def _units(profile: str, duration_s: float, seed: int):
    """(detected discharges per true unit, reported unit sizes, purity of each reported unit)."""
    night = simulate_night(load_profile(profile, duration_s=duration_s, n_channels=1), seed=seed)
    engine = NightEngine(night.info, mains_hz=50.0)
    engine.feed(SampleChunk(0, night.data_uv()))
    result = engine.finish()
    truth = [t for t in night.truth if t.kind == "fasciculation"]
    onsets = np.array([t.onset_s for t in truth])
    true_unit = np.array([t.unit for t in truth])
    ev = result.classified.events
    ev = ev[(ev["kind"] == "fasciculation") & ~ev["doublet"]]
    detected = collections.Counter()
    members = collections.defaultdict(collections.Counter)
    for e in ev:
        i = int(np.argmin(np.abs(onsets - e["onset_s"])))
        if abs(onsets[i] - e["onset_s"]) < 0.01:  # a detection of that true discharge
            detected[int(true_unit[i])] += 1
            if e["unit"] >= 0:
                members[int(e["unit"])][int(true_unit[i])] += 1
    sizes = [u["count"] for u in result.summary["morphology"]["channels"]["calf_left"]["units"]]
    purity = [max(c.values()) / sum(c.values()) for c in members.values()]
    return detected, sizes, purity


#: Half the complex profile's units are unstable (component jitter and blocking); with the
#: physiological simulator's polyphasic shapes one such night splits into small fragments
#: (13 units reported for 8 true on seed 9, the big ones still within one): a known limit.
_UNSTABLE_SPLIT = pytest.mark.xfail(reason="unstable complex units split into fragments",
                                    strict=False)


@pytest.mark.parametrize("profile, duration_s, seed", [
    ("quiet", 1200.0, 8), ("benign-night", 1800.0, 2), ("busy-night", 1200.0, 4),
    ("busy-night", 1200.0, 5), ("complex", 600.0, 3), ("complex", 900.0, 1),
    pytest.param("complex", 900.0, 9, marks=_UNSTABLE_SPLIT),
])
def test_reported_units_match_the_true_units(profile, duration_s, seed):
    detected, sizes, purity = _units(profile, duration_s, seed)
    true_big = sum(n >= MIN_DISCHARGES for n in detected.values())
    reported_big = sum(n >= MIN_DISCHARGES for n in sizes)
    assert true_big >= 1  # the comparison is not vacuous
    assert abs(reported_big - true_big) <= 1, (sorted(detected.values()), sizes)
    assert len(sizes) <= len(detected) + 2  # not many small fragments either
    assert np.median(purity) >= 0.9
