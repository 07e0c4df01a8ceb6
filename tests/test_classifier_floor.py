"""The detection floor: where it lies, where the heartbeat raises it, and that counts obey it.

Scenes from tests/independent_scenes.py, scored by tests/accuracy_scoring.py against potentials
of >= 10 x the noise RMS in raw peak-to-peak (the issue's target), which the band-pass leaves
5-15 % smaller.
"""

from __future__ import annotations

import numpy as np
import pytest
from accuracy_scoring import fasciculation_onsets, run_calfwatch, score_detections
from independent_scenes import SceneSpec, make_scene

from classifier.config import default_config
from classifier.kinds import FASCICULATION
from classifier.summary import night_summary


def _scene(spec: SceneSpec, seed: int):
    scene = make_scene(spec, seed)
    night, cn = run_calfwatch(scene.data_uv, scene.sfreq_hz)
    return scene, night, cn


def test_small_units_of_ten_times_the_noise_are_counted():
    """Units of 45-60 µV at 4.5 µV noise (10-13 x) whose volume-conductor shapes lose up to 15 %
    in the band: at a floor of 9 x 0.94 of them were counted, at 8.5 x 0.97."""
    hit = total = 0
    for sfreq_hz in (2000.0, 1000.0):
        for seed in (41, 42, 43):
            spec = SceneSpec(minutes=4.0, sfreq_hz=sfreq_hz, rate_per_min=20,
                             ptp_range_uv=(45.0, 60.0), volume_conductor=True)
            scene, _, cn = _scene(spec, seed)
            score = score_detections(scene.truth, fasciculation_onsets(cn), scene.noise_rms_uv,
                                     spec.minutes)
            truth = scene.truth[(scene.truth["kind"] == FASCICULATION)
                                & (scene.truth["detail"] == "")]
            big = truth["ptp_uv"] >= 10 * scene.noise_rms_uv
            hit += int(np.sum(score["hits"][0] & big))
            total += int(big.sum())
            assert score["fp"] <= 1, (sfreq_hz, seed, score["fp"])
    assert total >= 400
    assert hit / total >= 0.95, (hit, total)


@pytest.mark.parametrize(("ecg_uv", "floor_key"), [(0.0, "detectable_ptp_k"),
                                                   (45.0, "cardiac_floor_k")])
def test_the_floor_stated_and_counted_per_channel(ecg_uv, floor_key):
    """A channel the heartbeat reaches counts from cardiac_floor_k x its noise, one it does not
    from detectable_ptp_k x: the summary states each channel's multiple and floor, and no count
    is below it."""
    rules = default_config().detection
    want_k = max(rules.detectable_ptp_k, getattr(rules, floor_key))
    spec = SceneSpec(minutes=4.0, rate_per_min=20, ptp_range_uv=(30.0, 200.0), ecg_uv=ecg_uv,
                     heart_rate_per_min=75.0)
    scene, night, cn = _scene(spec, 701)
    channel = night_summary(cn, {}, night.quality)["channels"]["ch0"]
    assert channel["detection_floor_k"] == pytest.approx(want_k)
    noise_uv = cn.noise_uv["ch0"]
    assert channel["detection_floor_uv"] == pytest.approx(want_k * noise_uv)
    fasc = cn.events[cn.events["kind"] == FASCICULATION]
    assert len(fasc) >= 40
    assert np.all(fasc["peak_to_peak_uv"] >= channel["detection_floor_uv"])


def test_a_weak_heartbeat_near_the_floor_is_no_twitch():
    """A QRS the band-pass leaves near the floor (45 µV at 75 per minute, found at only some
    beats) on nights without twitches: at most 0.2 false twitches per rest minute (0.42 at a
    floor of 8.5 x where the heartbeat reaches the channel)."""
    false = 0
    for seed in (96, 1096, 2096):
        spec = SceneSpec(minutes=4.0, rate_per_min=0, ecg_uv=45.0, heart_rate_per_min=75.0)
        _, _, cn = _scene(spec, seed)
        false += cn.count(FASCICULATION)
    assert false / 12.0 <= 0.2, false
