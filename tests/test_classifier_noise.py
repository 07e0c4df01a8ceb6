"""The resting noise behind the detection floor (classifier.noise), on the detection chain's own
output for scenes made independently of calfwatch (tests/independent_scenes.py)."""

from __future__ import annotations

import numpy as np
import pytest
from accuracy_scoring import run_calfwatch
from independent_scenes import SceneSpec, make_scene, noise_swing_rms_uv

from classifier.config import default_config
from classifier.noise import local_noise_uv, quiet_frames, resting_noise_uv
from classifier.potentials import median_noise_uv


@pytest.mark.parametrize("flat_s", [60.0, 150.0])
def test_a_lead_off_stretch_leaves_the_resting_noise_and_the_rest_alone(flat_s):
    """The first minute, or two and a half, of four flat (the electrodes not on yet, a rail, zeros
    for lost data): the resting noise is the valid minutes' own, they are rest, and their
    potentials count. Taken in, the flat frames read the noise 20 % low (one minute) or zero, and
    made the resting level zero: no rest and no twitch at all."""
    fs = 2000.0
    scene = make_scene(SceneSpec(minutes=4.0, sfreq_hz=fs, rate_per_min=20), 1)
    x = scene.data_uv.copy()
    x[:, : int(flat_s * fs)] = 0.0
    night, cn = run_calfwatch(x, fs)
    assert resting_noise_uv(night, 0, default_config()) == pytest.approx(scene.noise_rms_uv,
                                                                         rel=0.04)
    valid_min = (240.0 - flat_s) / 60
    assert 0.7 * valid_min <= cn.rates["rest_minutes"] <= valid_min
    truth = scene.truth[(scene.truth["kind"] == "fasciculation") & (scene.truth["detail"] == "")
                        & (scene.truth["onset_s"] > flat_s + 30.0)]
    big = int(np.sum(truth["ptp_uv"] >= 10 * scene.noise_rms_uv))
    assert big >= 10 and cn.count("fasciculation") >= 0.8 * big


@pytest.mark.parametrize(("sfreq_hz", "seed"), [(1000.0, 11), (500.0, 12), (2000.0, 13)])
def test_heavy_twitching_does_not_raise_the_resting_noise(sfreq_hz, seed):
    """At 120 potentials per minute of 15-2000 µV the quality windows read the noise high (and
    the floor with it); the resting noise stays within 4 % of the background's RMS in 20-450 Hz,
    as it does without twitching."""
    cfg = default_config()
    for rate in (0, 120):
        scene = make_scene(SceneSpec(minutes=2.0, sfreq_hz=sfreq_hz, rate_per_min=rate), seed)
        night, _ = run_calfwatch(scene.data_uv, sfreq_hz)
        resting = resting_noise_uv(night, 0, cfg)
        assert resting == pytest.approx(scene.noise_rms_uv, rel=0.04), rate
        if rate:
            assert median_noise_uv(night.quality, 0) > 1.08 * scene.noise_rms_uv


def test_quiet_frames_leave_out_each_potential_and_its_ringing():
    """A 2-mV potential rings in the 50-Hz notch for about a second: the frames from 10 ms before
    it to 0.38 s x ln(0.1 x its size / noise) after it are not quiet, a small one's 100 ms."""
    sfreq_hz = 1000.0
    scene = make_scene(SceneSpec(minutes=1.0, sfreq_hz=sfreq_hz, rate_per_min=0), 5)
    data = scene.data_uv.copy()
    t = np.arange(20) / sfreq_hz
    burst = np.sin(2 * np.pi * 80 * t) * np.hanning(20)
    for at_s, ptp_uv in ((20.0, 2000.0), (40.0, 60.0)):
        i = int(at_s * sfreq_hz)
        data[0, i:i + 20] += burst / np.ptp(burst) * ptp_uv
    night, _ = run_calfwatch(data, sfreq_hz)
    quiet = quiet_frames(night, 0, default_config().detection)
    frame_s = (night.envelope_start_frame + np.arange(len(quiet)) + 0.5) * night.hop_s
    noise = scene.noise_rms_uv
    for at_s, ptp_uv in ((20.0, 2000.0), (40.0, 60.0)):
        after_s = max(0.1, 0.38 * np.log(0.1 * ptp_uv / noise))
        inside = (frame_s > at_s) & (frame_s < at_s + 0.9 * after_s)
        assert not quiet[inside].any(), at_s
        beyond = (frame_s > at_s + 1.2 * after_s + 0.1) & (frame_s < at_s + 3.0)
        assert quiet[beyond].mean() > 0.9, at_s


def _rising_noise(minutes: float, rate_per_min: float, seed: int):
    """An independent scene at 3 µV whose noise rises to 7.5 µV and falls back over each
    3 minutes, with its true RMS in the detector's band per sample (both noises are drawn alike,
    so the band keeps the same share of each)."""
    spec = SceneSpec(minutes=minutes, rate_per_min=rate_per_min, noise_rms_uv=3.0,
                     noise_swing_uv=6.0)
    scene = make_scene(spec, seed)
    t_s = np.arange(scene.data_uv.shape[1]) / spec.sfreq_hz
    in_band = scene.noise_rms_uv / spec.noise_rms_uv
    return scene.data_uv, spec.sfreq_hz, noise_swing_rms_uv(t_s, spec) * in_band


def test_the_noise_around_a_potential_follows_a_rise_the_chain_lags():
    """The chain's floor (a low quantile of the past 30 s) reads a rising noise 30 % low; the
    median of the quiet frames in the +-10 s around each frame reads it within 10 %."""
    data, fs, true_uv = _rising_noise(6.0, 20, 600)
    night, _ = run_calfwatch(data, fs)
    around = local_noise_uv(night, 0, default_config().detection)
    frame_s = (night.envelope_start_frame + np.arange(len(around)) + 0.5) * night.hop_s
    truth = true_uv[np.minimum((frame_s * fs).astype(int), len(true_uv) - 1)]
    ok = np.isfinite(around) & (frame_s > 15.0)
    assert ok.mean() > 0.9
    assert np.mean(np.abs(around[ok] / truth[ok] - 1) < 0.1) > 0.95
    lagging = night.noise_uv[0][ok] / truth[ok]
    assert np.mean(lagging < 0.8) > 0.1  # the contrast: the chain's own floor lags


def test_a_rising_noise_gives_no_twitches():
    """Without any potential, the noise peaks of a rising noise reached the floor of the chain's
    lagging noise (10 twitches in these 12 minutes); measured against the noise around them, none
    does."""
    counted = 0
    for seed in (500, 501):
        data, fs, _ = _rising_noise(6.0, 0, seed)
        _, cn = run_calfwatch(data, fs)
        counted += int(np.sum(cn.events["kind"] == "fasciculation"))
    assert counted <= 1
