"""Rhythmic bursts are not twitches (classifier.rhythm): a clonus-like rhythm of a few small units
firing together at 6 Hz among twitches, on independent scenes; and chance does not make a rhythm
of independent twitches."""

from __future__ import annotations

import numpy as np
import pytest
from accuracy_scoring import _match, fasciculation_onsets, run_calfwatch
from independent_scenes import SceneSpec, make_scene, random_potential

from classifier.config import default_config
from classifier.rhythm import rhythmic_runs

CLONUS_S = (60.0, 90.0)


def _clonus_scene(sfreq_hz: float, n_units: int, size_k: float, seed: int):
    """Twitches at 20/min (4.5 µV noise) and, from 60 to 90 s, ``n_units`` units of about
    ``size_k`` x the noise firing together at each beat of a 6-Hz rhythm (interval SD 15 ms),
    each at 80 % of the beats, 0-25 ms apart within a beat (ankle clonus: 5-8 Hz)."""
    scene = make_scene(SceneSpec(minutes=3.0, sfreq_hz=sfreq_hz, rate_per_min=20), seed)
    rng = np.random.default_rng(seed)
    units = [random_potential(rng, sfreq_hz, size_k * scene.noise_rms_uv * rng.uniform(0.7, 1.4))
             for _ in range(n_units)]
    data, t_s = scene.data_uv.copy(), CLONUS_S[0]
    while t_s < CLONUS_S[1]:
        for shape in units:
            if rng.random() < 0.8:
                i = int((t_s + rng.uniform(0.0, 0.025)) * sfreq_hz)
                data[0, i:i + len(shape)] += shape
        t_s += rng.normal(1.0 / 6.0, 0.015)
    return scene, data


@pytest.mark.parametrize(("sfreq_hz", "n_units", "size_k", "seed"), [
    (2000.0, 5, 25.0, 991), (1000.0, 2, 8.0, 991), (2000.0, 2, 8.0, 993)])
def test_a_clonus_of_small_units_is_not_counted_as_twitches(sfreq_hz, n_units, size_k, seed):
    """At most 8 twitches counted in the 30 s of rhythm (its 180 beats gave 27-128 before), and
    the twitches of >= 10 x the noise elsewhere are found (at least 95 %)."""
    scene, data = _clonus_scene(sfreq_hz, n_units, size_k, seed)
    _, cn = run_calfwatch(data, sfreq_hz)
    found = fasciculation_onsets(cn)[0]
    truth = scene.truth[(scene.truth["kind"] == "fasciculation") & (scene.truth["detail"] == "")]
    hit, used = _match(truth["onset_s"], truth["onset_s"] + truth["duration_s"], found)
    assert np.sum(~used & (found >= CLONUS_S[0] - 0.5) & (found <= CLONUS_S[1] + 0.5)) <= 8
    outside = (truth["onset_s"] < CLONUS_S[0] - 1.0) | (truth["onset_s"] > CLONUS_S[1] + 1.0)
    big = outside & (truth["ptp_uv"] >= 10 * scene.noise_rms_uv)
    assert hit[big].mean() >= 0.95


def test_a_beat_without_a_potential_is_bridged():
    cfg = default_config().events
    beats = np.delete(np.arange(14) * 0.16, [5])  # the sixth beat left no potential
    assert np.all(rhythmic_runs(beats, cfg) == 0)
    assert np.all(rhythmic_runs(beats[:8], cfg) == -1)  # too few beats


@pytest.mark.parametrize(("per_min", "most_runs"), [(120.0, 5), (60.0, 0)])
def test_independent_twitches_rarely_make_a_rhythm(per_min, most_runs):
    """Poisson twitches on a channel, 100 ten-minute stretches (1000 minutes, two nights): at
    most 5 chance rhythms at 120 a minute (each takes about 10 twitches), none at 60."""
    cfg = default_config().events
    rng = np.random.default_rng(5)
    runs = 0
    for _ in range(100):
        peaks = np.cumsum(rng.exponential(60.0 / per_min, int(11 * per_min)))
        label = rhythmic_runs(peaks[peaks < 600.0], cfg)
        runs += len(np.unique(label[label >= 0]))
    assert runs <= most_runs
