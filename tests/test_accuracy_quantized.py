"""Accuracy on recordings from a coarse converter: steps of the converter are not twitches.

A 10-bit converter, as on BITalino's EMG sensor (3.3 V over 1024 levels after a gain of 1009: a
step of 3.2 µV), may step by more than the sensor's noise. The signal then sits on one level and
moves by whole steps; the noise measured from it reads near zero, and before the noise floor was
bounded by the converter's step (``dsp._stage_noise.resolution_sigmas``) each step was a twitch:
a quiet scene of 0.5 µV noise on 3.2-µV steps gave 30 false twitches a minute. Scenes from
tests/independent_scenes.py without mains hum (a hum would dither the converter), quantized.
"""

from __future__ import annotations

import numpy as np
import pytest
from accuracy_scoring import fasciculation_onsets, run_calfwatch, score_detections
from independent_scenes import SceneSpec, make_scene

from firmware_io.devices import DEVICES

#: Step of BITalino's EMG channel (µV): 3.3 V / 1009 / 2^10.
BITALINO_STEP_UV = DEVICES["bitalino"].uv_per_count


def quantized_scene(step_uv: float, noise_uv: float, rate_per_min: float, seed: int):
    spec = SceneSpec(minutes=4.0, sfreq_hz=1000.0, rate_per_min=rate_per_min,
                     noise_rms_uv=noise_uv, mains_uv=0.0)
    scene = make_scene(spec, seed)
    night, cn = run_calfwatch(np.round(scene.data_uv / step_uv) * step_uv, spec.sfreq_hz)
    # scored on the potentials of 8.5 steps or more (or of the noise, when larger): well above
    # what the converter resolves
    score = score_detections(scene.truth, fasciculation_onsets(cn),
                             max(scene.noise_rms_uv, step_uv), spec.minutes)
    return cn, score


@pytest.mark.parametrize(("steps", "noise_uv"), [(1, 0.5), (2, 1.0)])
def test_the_steps_of_a_coarse_converter_are_not_twitches(steps, noise_uv):
    cn, score = quantized_scene(steps * BITALINO_STEP_UV, noise_uv, 0.0, seed=11)
    assert score["false_per_rest_min"] <= 0.2
    assert cn.count("fasciculation") <= 0.2 * 4.0


@pytest.mark.parametrize(("steps", "noise_uv"), [(1, 1.0), (2, 2.0)])
def test_twitches_on_a_coarse_converter_are_counted(steps, noise_uv):
    """Noise of a third of a step: the floor is set by the step, and the potentials well above
    it are counted."""
    _, score = quantized_scene(steps * BITALINO_STEP_UV, noise_uv, 20.0, seed=12)
    assert score["recall"] >= 0.95
    assert score["false_per_rest_min"] <= 0.2
