"""Tonic firing is not twitching: one small unit firing regularly at a few hertz for a minute (a
calf not quite relaxed) among twitches, on independent scenes. Its discharges near the floor
correlate with each other only as far as the noise lets them, some fall under the floor and some
are not found at all; its train must still be found (classifier.trains.trains)."""

from __future__ import annotations

import numpy as np
import pytest
from accuracy_scoring import _match, fasciculation_onsets, run_calfwatch
from independent_scenes import SceneSpec, make_scene, random_potential

from classifier.config import default_config
from classifier.trains import _fitting_runs, regular_firing

TONIC_S = (60.0, 120.0)


def _tonic_scene(sfreq_hz: float, firing_hz: float, size_k: float, seed: int, cv: float = 0.1):
    """Twitches at 20/min (4.5 µV noise) and, from 60 to 120 s, one unit of ``size_k`` x the
    noise RMS (peak-to-peak) firing at ``firing_hz`` with an interval CV of ``cv`` (tonic
    firing: about 6 Hz, 1.3-18, ISI variability about 3.5 %, Muscle Nerve 2020;61:387)."""
    spec = SceneSpec(minutes=3.0, sfreq_hz=sfreq_hz, rate_per_min=20)
    scene = make_scene(spec, seed)
    rng = np.random.default_rng(seed)
    shape = random_potential(rng, sfreq_hz, size_k * scene.noise_rms_uv)
    t_s = TONIC_S[0]
    data = scene.data_uv.copy()
    while t_s < TONIC_S[1]:
        i = int(t_s * sfreq_hz)
        data[0, i:i + len(shape)] += shape
        t_s += rng.normal(1.0 / firing_hz, cv / firing_hz)
    return scene, data


@pytest.mark.parametrize(("sfreq_hz", "firing_hz", "size_k", "seed"), [
    (2000.0, 6.0, 9.0, 1), (2000.0, 6.0, 12.0, 2), (1000.0, 6.0, 9.0, 1),
    (1000.0, 10.0, 9.0, 2), (500.0, 6.0, 12.0, 1)])
def test_a_small_unit_firing_tonically_is_not_counted(sfreq_hz, firing_hz, size_k, seed):
    """At most 5 twitches counted in the tonic minute (it holds 360-600 discharges, of which
    the old rules counted up to 320: their shapes, compared as they are, correlated below the
    train's 0.9 at 10 x the noise; and where a chain of pairs broke, its pieces left twitches
    between them), and the twitches of >= 10 x the noise elsewhere are found (at least 95 %)."""
    scene, data = _tonic_scene(sfreq_hz, firing_hz, size_k, 950 + seed)
    _, cn = run_calfwatch(data, sfreq_hz)
    found = fasciculation_onsets(cn)[0]
    truth = scene.truth[(scene.truth["kind"] == "fasciculation") & (scene.truth["detail"] == "")]
    hit, used = _match(truth["onset_s"], truth["onset_s"] + truth["duration_s"], found)
    tonic = (found >= TONIC_S[0] - 0.5) & (found <= TONIC_S[1] + 0.5)
    assert np.sum(~used & tonic) <= 5
    outside = (truth["onset_s"] < TONIC_S[0] - 1.0) | (truth["onset_s"] > TONIC_S[1] + 1.0)
    big = outside & (truth["ptp_uv"] >= 10 * scene.noise_rms_uv)
    assert hit[big].mean() >= 0.95


@pytest.mark.parametrize(("sfreq_hz", "firing_hz", "size_k", "seed"), [
    (2000.0, 4.0, 15.0, 1), (2000.0, 4.0, 40.0, 2), (1000.0, 4.0, 15.0, 1), (500.0, 4.0, 15.0, 1)])
def test_a_unit_firing_tonically_below_5_hz_is_not_counted(sfreq_hz, firing_hz, size_k, seed):
    """Tonic firing at 4 Hz, slower than a train's 5 Hz and faster than a heart, as regular as
    tonic firing is (CV 0.035): at most 5 of its 240 discharges counted as twitches (the old
    rules counted them all)."""
    scene, data = _tonic_scene(sfreq_hz, firing_hz, size_k, 970 + seed, cv=0.035)
    _, cn = run_calfwatch(data, sfreq_hz)
    found = fasciculation_onsets(cn)[0]
    truth = scene.truth[(scene.truth["kind"] == "fasciculation") & (scene.truth["detail"] == "")]
    _, used = _match(truth["onset_s"], truth["onset_s"] + truth["duration_s"], found)
    assert np.sum(~used & (found >= TONIC_S[0] - 0.5) & (found <= TONIC_S[1] + 0.5)) <= 5


@pytest.mark.parametrize(("firing_hz", "size_k"), [(2.0, 9.0), (3.0, 40.0)])
def test_a_unit_firing_tonically_at_a_hearts_rate_is_not_counted(firing_hz, size_k):
    """Tonic firing at 2-3 Hz is at a heart's rate (120-180 per minute) too: the heart's rule may
    take it, but must take all of it. The old rule followed such a unit at two or three times
    its interval and left the discharges between as twitches (31 of 120 and 45 of 180 counted);
    at most 10 now."""
    scene, data = _tonic_scene(1000.0, firing_hz, size_k, 992, cv=0.035)
    _, cn = run_calfwatch(data, 1000.0)
    found = fasciculation_onsets(cn)[0]
    truth = scene.truth[(scene.truth["kind"] == "fasciculation") & (scene.truth["detail"] == "")]
    _, used = _match(truth["onset_s"], truth["onset_s"] + truth["duration_s"], found)
    assert np.sum(~used & (found >= TONIC_S[0] - 0.5) & (found <= TONIC_S[1] + 0.5)) <= 10


def test_a_missed_discharge_does_not_end_a_train_but_asks_for_more():
    """A bridged train holds one potential more and is regular within half the CV."""
    cfg = default_config().events
    assert regular_firing(np.array([0.16, 0.17, 0.15]), cfg)
    assert not regular_firing(np.array([0.16, 0.33, 0.15]), cfg)
    assert regular_firing(np.array([0.16, 0.33, 0.15, 0.17]), cfg)
    assert regular_firing(np.array([0.10, 0.15, 0.08, 0.12]), cfg)  # CV 0.2, nothing missed
    assert not regular_firing(np.array([0.10, 0.15, 0.08, 0.12, 0.22]), cfg)
    assert not regular_firing(np.array([0.16, 0.52, 0.15, 0.17, 0.16, 0.16, 0.17]), cfg)
    # five discharges of a twitching unit 36-98 ms apart by chance (independent scene, seed 44)
    assert not regular_firing(np.array([0.036, 0.058, 0.038, 0.098]), cfg)


def test_a_chain_is_cut_where_an_interval_does_not_fit_its_firing():
    """A link to the tail of a discharge (43 ms) or a period out of the 5-30-Hz range (220 ms as
    one period) cuts the chain; the runs on either side are judged alone."""
    cfg = default_config().events
    t_s = np.array([0.0, 0.167, 0.333, 0.376, 0.543, 0.71, 0.877])
    runs = _fitting_runs(np.arange(len(t_s)), np.diff(t_s), cfg)
    assert [run.tolist() for run in runs] == [[0, 1, 2], [3, 4, 5, 6]]
    slow = np.cumsum([0.0, 0.186, 0.207, 0.222])  # a twitching unit's four at about 5 Hz
    runs = _fitting_runs(np.arange(4), np.diff(slow), cfg)
    assert all(len(run) < cfg.train_min_potentials for run in runs)
