"""A sensor's noise that changes is not a movement (classifier.events, ``noise`` artifacts), on
the detection chain's own output for scenes made independently of calfwatch
(tests/independent_scenes.py)."""

from __future__ import annotations

import numpy as np
import pytest
from accuracy_scoring import run_calfwatch
from independent_scenes import SceneSpec, coloured_noise, make_scene

MOVEMENTS = ("voluntary", "plm", "cramp", "myoclonus")


def _within(events: np.ndarray, start_s: float, stop_s: float) -> np.ndarray:
    """The events that overlap ``[start_s, stop_s)``."""
    return events[(events["onset_s"] < stop_s) & (events["onset_s"] + events["duration_s"] > start_s)]


def _covered_s(events: np.ndarray, start_s: float, stop_s: float) -> float:
    """Seconds of ``[start_s, stop_s)`` the (disjoint) ``events`` cover."""
    a = np.maximum(events["onset_s"], start_s)
    b = np.minimum(events["onset_s"] + events["duration_s"], stop_s)
    return float(np.sum(np.clip(b - a, 0.0, None)))


@pytest.mark.parametrize(("sfreq_hz", "seed", "raised_uv", "rate"),
                         [(2000.0, 1, 9.0, 0), (1000.0, 2, 8.0, 20), (500.0, 3, 12.0, 20)])
def test_a_step_in_the_noise_is_an_artifact_not_a_movement(sfreq_hz, seed, raised_uv, rate):
    """Minutes 2-4 of six with the noise raised from 3 µV to 8-12 µV RMS and held there (an
    electrode's contact changed): no movement is reported there, the stretch is one ``noise``
    artifact, and it is not rest. It was a "voluntary" movement of two minutes."""
    scene = make_scene(SceneSpec(minutes=6.0, sfreq_hz=sfreq_hz, rate_per_min=rate,
                                 noise_rms_uv=3.0), seed)
    x = scene.data_uv.copy()
    a, b = int(120 * sfreq_hz), int(240 * sfreq_hz)
    extra_uv = np.sqrt(raised_uv ** 2 - scene.noise_rms_uv ** 2)
    x[0, a:b] += coloured_noise(np.random.default_rng(seed), b - a, sfreq_hz, extra_uv)
    _, cn = run_calfwatch(x, sfreq_hz)
    ev = _within(cn.events, 120.0, 240.0)
    assert not np.isin(ev["kind"], MOVEMENTS).any(), ev[["kind", "onset_s", "duration_s"]]
    noise = ev[(ev["kind"] == "artifact") & (ev["detail"] == "noise")]
    assert len(noise) == 1 and _covered_s(noise, 120.0, 240.0) >= 110.0
    assert cn.rest["ch0"].minutes <= 4.1


def test_a_long_loud_contraction_stays_a_movement():
    """90 s of activity at 20 x the resting noise (louder than any change of a contact's noise,
    as loud as a cramp) that holds its level is still muscle: a cramp or a voluntary
    contraction, never the noise."""
    fs = 1000.0
    scene = make_scene(SceneSpec(minutes=4.0, sfreq_hz=fs, rate_per_min=0, noise_rms_uv=3.0), 7)
    x = scene.data_uv.copy()
    a, b = int(60 * fs), int(150 * fs)
    ramp = np.minimum(1.0, np.minimum(np.arange(b - a), np.arange(b - a)[::-1]) / (0.5 * fs))
    x[0, a:b] += ramp * coloured_noise(np.random.default_rng(7), b - a, fs, 60.0)
    _, cn = run_calfwatch(x, fs)
    ev = _within(cn.events, 60.0, 150.0)
    assert not np.any(ev["detail"] == "noise")
    moving = ev[np.isin(ev["kind"], ("voluntary", "cramp"))]
    assert _covered_s(moving, 60.0, 150.0) >= 80.0


@pytest.mark.parametrize("seed", [385, 386, 387])
def test_a_noise_that_swings_makes_no_movements_or_jerks(seed):
    """A contact that loosens and settles: the noise rises from 3 to 7.5 µV over 90 s and falls
    back, no muscle activity. The chain's floor lags the rise and noise peaks cross the trigger
    in runs; none of them stands out of the noise around it (``link_min_k``), so no jerk and no
    "dense firing" is reported (there were 1-3 such events, or 11, in each of these scenes)."""
    scene = make_scene(SceneSpec(minutes=3.0, rate_per_min=0, noise_rms_uv=3.0,
                                 noise_swing_uv=6.0), seed)
    _, cn = run_calfwatch(scene.data_uv, scene.sfreq_hz)
    assert not np.isin(cn.events["kind"], MOVEMENTS).any(), cn.events[["kind", "onset_s"]]
