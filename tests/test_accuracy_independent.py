"""Accuracy on scenes made independently of calfwatch's simulator (tests/independent_scenes.py).

Each test guards one case of the fasciculation-accuracy work: the rate stays linear as twitching
increases, large potentials are counted once, electrode pops are not twitches, chance neighbours of
other units are each a twitch, and doublets are marked. Floors are the issue's targets, scored by
tests/accuracy_scoring.py against the potentials at or above the detection floor.
"""

from __future__ import annotations

import numpy as np
import pytest
from accuracy_scoring import (
    MATCH_S,
    fasciculation_onsets,
    kind_recall,
    run_calfwatch,
    score_detections,
)
from hermite_shapes import hermite_templates
from independent_scenes import SceneSpec, coloured_noise, make_scene, random_potential

from classifier.kinds import ARTIFACT, FASCICULATION, MYOCLONUS, VOLUNTARY


def analyse(spec: SceneSpec, seed: int):
    scene = make_scene(spec, seed)
    night, cn = run_calfwatch(scene.data_uv, scene.sfreq_hz)
    rest_true = spec.minutes * spec.n_channels
    score = score_detections(scene.truth, fasciculation_onsets(cn), scene.noise_rms_uv, rest_true)
    return scene, cn, score


@pytest.mark.parametrize(("rate", "seed"), [(5, 1), (40, 2), (100, 3)])
def test_rate_is_linear_in_the_true_rate(rate, seed):
    """The reported rate follows the true one from a few to 100 per minute (it saturated at
    about 45/min when neighbours of other units were grouped)."""
    minutes = 6.0 if rate < 20 else 2.0
    spec = SceneSpec(minutes=minutes, rate_per_min=rate, ptp_range_uv=(60.0, 2000.0))
    _, cn, score = analyse(spec, seed)
    assert score["true_rate"] > 0.5 * rate
    assert cn.rates["fasciculations_per_min_rest"] == pytest.approx(score["true_rate"], rel=0.10)
    assert score["f1"] >= 0.90, score


def test_large_potentials_are_each_counted_once():
    """Units of 0.45-2 mV at 4.5 µV noise: none lost for being large or long, none doubled by
    the filters' ringing after it."""
    _, cn, score = analyse(SceneSpec(minutes=2.0, rate_per_min=20, ptp_range_uv=(450, 2000)), 4)
    assert score["recall"] >= 0.95 and score["fp"] == 0, score
    assert not np.any(np.isin(cn.events["kind"], [VOLUNTARY, MYOCLONUS]))


def test_a_large_slow_biphasic_potential_is_a_fasciculation_not_a_pop():
    """A 20-ms biphasic potential at 600 µV with its spectral peak near 40 Hz (normal for a large
    surface potential) returns to baseline: a fasciculation, whatever its frequency content."""
    rng = np.random.default_rng(5)
    fs = 2000.0
    x = rng.standard_normal(int(60 * fs)) * 4.5
    t = (np.arange(int(0.02 * fs)) - 0.01 * fs) / fs
    wave = -t / 0.004 * np.exp(-(t / 0.005) ** 2)  # biphasic, 20 ms
    wave *= 600.0 / np.ptp(wave)
    onsets = np.arange(5.0, 55.0, 2.5)
    for t0 in onsets:
        i = int(t0 * fs)
        x[i:i + wave.size] += wave
    _, cn = run_calfwatch(x[None, :], fs, mains_hz=50.0)
    fasc = cn.events[cn.events["kind"] == FASCICULATION]
    assert len(fasc) == len(onsets)
    assert not np.any(cn.events["kind"] == ARTIFACT)


def test_a_twitch_just_before_a_large_one_is_no_pop():
    """The raw baseline after a 45-µV potential holds a 2-mV one (with a slow lead-in or tail)
    of another unit that follows 35-50 ms later: its 'step' is the large potential, not a
    displaced baseline. Both are fasciculations. (The two units fire independently, so the lag
    changes from one pair to the next: at a fixed lag the small one would be a part of the
    large one's potential, classifier.potentials.time_locked.)"""
    rng = np.random.default_rng(0)
    fs = 2000.0
    x = rng.standard_normal(int(60 * fs)) * 4.5
    small = random_potential(rng, fs, 45.0, peak_hz=80.0, duration_ms=10.0)
    large = random_potential(rng, fs, 2000.0, duration_ms=18.0, slow=True)
    onsets = np.arange(5.0, 55.0, 5.0)
    for t0, lag_s in zip(onsets, rng.uniform(0.035, 0.05, onsets.size), strict=True):
        i, j = int(t0 * fs), int((t0 + lag_s) * fs)
        x[i:i + small.size] += small
        x[j:j + large.size] += large
    _, cn = run_calfwatch(x[None, :], fs, mains_hz=50.0)
    assert cn.count(FASCICULATION) == 2 * len(onsets)
    assert not np.any(cn.events["kind"] == ARTIFACT)


def test_pops_on_every_channel_are_artifacts_not_twitches():
    spec = SceneSpec(minutes=3.0, n_channels=2, rate_per_min=0, pops_per_min=2.0)
    scene, cn, _ = analyse(spec, 6)
    assert cn.count(FASCICULATION) == 0
    hits, total = kind_recall(scene.truth, cn, ARTIFACT)
    assert total >= 6 and hits / total >= 0.8


def test_neighbours_of_independent_units_are_not_grouped():
    """At 80/min a quarter of potentials have another unit's within 250 ms: none of them becomes
    a jerk or voluntary activity, and the rest time is the whole scene."""
    _, cn, score = analyse(SceneSpec(minutes=2.0, rate_per_min=80, ptp_range_uv=(60, 600)), 7)
    assert score["f1"] >= 0.93, score
    assert not np.any(cn.events["kind"] == VOLUNTARY)
    assert cn.rates["rest_minutes"] >= 0.95 * 2.0


@pytest.mark.parametrize("seed", [42, 44])
def test_a_chance_overlap_among_large_twitches_is_no_movement(seed):
    """Large units at 80/min raise the envelope into a burst, and now and then two of them overlap
    into one many-phased candidate: a brief superposition, not a contraction's interference
    pattern, so the burst is still the twitches in it (1 kHz, where overlaps stay one candidate)."""
    spec = SceneSpec(minutes=2.0, sfreq_hz=1000.0, rate_per_min=80, ptp_range_uv=(400.0, 2000.0))
    _, cn, score = analyse(spec, seed)
    assert not np.any(cn.events["kind"] == VOLUNTARY)
    assert cn.rates["rest_minutes"] >= 0.98 * 2.0
    assert score["f1"] >= 0.95, score


def test_heartbeats_leaking_into_the_channel_are_not_twitches():
    """A strong ECG (200 µV QRS, 60 per minute) on a night without twitches: each beat passes
    the band-pass as a potential well above the floor. They are not counted, the rest time is
    kept, and the quality section says how many beats there were, at the heart's rate."""
    spec = SceneSpec(minutes=3.0, rate_per_min=0, ecg_uv=200.0, heart_rate_per_min=60.0)
    scene = make_scene(spec, 95)
    night, cn = run_calfwatch(scene.data_uv, scene.sfreq_hz)
    assert cn.count(FASCICULATION) <= 0.1 * 3.0 * 60  # a tenth of the beats at most
    assert cn.rates["rest_minutes"] >= 0.95 * 3.0
    beats = next(iter(cn.cardiac.values()))
    assert beats["beats"] >= 0.8 * 3.0 * 60
    assert 55.0 <= beats["rate_per_min"] <= 65.0


def test_a_weak_heartbeat_near_the_floor_is_not_counted_as_twitches():
    """A weak ECG (45 µV QRS, 75 per minute) on nights without twitches: the band-pass leaves
    its beats near the floor, the detector finds about half of them, missing three to six in a
    row at times, and noise lifts a few over the floor. They are the heart's all the same: at
    most 0.2 false twitches per rest minute over five such scenes (the issue's target for nights
    without any)."""
    false = rest_min = 0.0
    for seed in range(701, 706):
        spec = SceneSpec(minutes=4.0, rate_per_min=0, ecg_uv=45.0, heart_rate_per_min=75.0)
        scene = make_scene(spec, seed)
        _, cn = run_calfwatch(scene.data_uv, scene.sfreq_hz)
        false, rest_min = false + cn.count(FASCICULATION), rest_min + cn.rates["rest_minutes"]
    assert rest_min >= 0.95 * 5 * 4.0
    assert false <= 0.2 * rest_min


def test_doublets_are_marked_and_their_first_potential_counted():
    _, cn, score = analyse(SceneSpec(minutes=3.0, rate_per_min=15, doublet_fraction=0.3,
                                     ptp_range_uv=(60, 600)), 8)
    assert score["recall"] >= 0.85, score
    assert cn.rates["doublets"] >= 5


def test_random_potentials_have_their_spectral_peak_in_the_surface_band():
    """The independent shapes span what surface electrodes record (spectral peak at 40-140 Hz,
    median 60-120 Hz at the surface: De Luca 1997; short windows spread it)."""
    rng = np.random.default_rng(9)
    fs = 2000.0
    peaks = []
    for _ in range(40):
        w = random_potential(rng, fs, 100.0, slow=False)
        spec = np.abs(np.fft.rfft(w, 4096))
        f = np.fft.rfftfreq(4096, 1 / fs)
        band = (f >= 20) & (f <= 450)
        peaks.append(f[band][np.argmax(spec[band])])
    lo, mid, hi = np.percentile(peaks, [5, 50, 95])
    assert 40 <= mid <= 140 and 20 <= lo and hi <= 250, (lo, mid, hi)


def test_no_count_is_below_the_stated_detection_floor():
    """summary.json says rates count potentials above detection_floor_uv: every counted one is,
    on a scene whose units straddle the floor and whose noise level changes half-way."""
    from classifier.summary import night_summary

    spec = SceneSpec(minutes=3.0, rate_per_min=30, ptp_range_uv=(20.0, 120.0))
    scene = make_scene(spec, 10)
    half = scene.data_uv.shape[1] // 2
    scene.data_uv[:, half:] += np.random.default_rng(11).standard_normal(half) * 3.0
    night, cn = run_calfwatch(scene.data_uv, scene.sfreq_hz)
    floor = night_summary(cn, {}, night.quality)["channels"]["ch0"]["detection_floor_uv"]
    fasc = cn.events[cn.events["kind"] == FASCICULATION]
    assert len(fasc) >= 10
    assert np.all(fasc["peak_to_peak_uv"] >= floor)


@pytest.mark.parametrize(("line_hz", "seed"), [(49.9, 31), (60.12, 32)])
def test_hum_off_the_nominal_grid_frequency_hides_no_potential(line_hz, seed):
    """40 µV of hum 0.1 Hz off nominal (grids run that far off; a notch at the nominal frequency
    passed a quarter of it, and recall at >= 10 x the noise fell to 0.79): the notches follow the
    measured line, and the quality windows see the hum at its own frequency."""
    spec = SceneSpec(minutes=3.0, sfreq_hz=1000.0, rate_per_min=20, mains_hz=line_hz,
                     mains_uv=40.0, ptp_range_uv=(45.0, 2000.0))
    scene = make_scene(spec, seed)
    night, cn = run_calfwatch(scene.data_uv, scene.sfreq_hz)
    score = score_detections(scene.truth, fasciculation_onsets(cn), scene.noise_rms_uv,
                             spec.minutes)
    assert score["recall_10x"] >= 0.95 and score["precision"] >= 0.95
    assert np.median(night.quality["mains_fraction"]) > 0.5


def _quiet_minute(rng, fs: float) -> np.ndarray:
    """A minute of Gaussian noise at 4.5 µV RMS: a calf at rest."""
    return rng.standard_normal(int(60 * fs)) * 4.5


def _quiet_units(seed: int, fs: float, *units: tuple[float, float, float]):
    """A quiet minute (:func:`_quiet_minute`), one random potential per ``(peak-to-peak µV,
    spectral peak Hz, duration ms)`` and onsets every 2.5 s from 5 s."""
    rng = np.random.default_rng(seed)
    x = _quiet_minute(rng, fs)
    waves = [random_potential(rng, fs, ptp, peak_hz=hz, duration_ms=ms) for ptp, hz, ms in units]
    return x, waves, np.arange(5.0, 55.0, 2.5)


def _place(x: np.ndarray, fs: float, wave: np.ndarray, onsets_s, lag_s: float = 0.0) -> None:
    """Add ``wave`` to ``x`` at each onset (plus ``lag_s``)."""
    for t0 in onsets_s:
        i = int((t0 + lag_s) * fs)
        x[i:i + wave.size] += wave


def _drift(n: int, fs: float) -> np.ndarray:
    """The electrode potential wandering: 300 µV at 0.3 Hz and 100 µV at 1.1 Hz."""
    t = np.arange(n) / fs
    return 300.0 * np.sin(2 * np.pi * 0.3 * t) + 100.0 * np.sin(2 * np.pi * 1.1 * t + 1.0)


def test_a_large_potentials_slow_tail_is_counted_with_it():
    """A 900-µV potential with a slow tail a fifth of its size (a surface potential's
    non-propagating component at the fibre ends): the band-pass makes of the tail a lobe the
    detector finds apart from the main phases, but it is one potential."""
    rng = np.random.default_rng(11)
    fs = 2048.0
    x = _quiet_minute(rng, fs)
    main = random_potential(rng, fs, 900.0, peak_hz=110.0, duration_ms=18.0)
    onsets = np.arange(5.0, 55.0, 2.5)
    _place(x, fs, np.concatenate([main, np.hanning(int(0.014 * fs)) * 0.2 * np.ptp(main)]),
           onsets)
    _, cn = run_calfwatch(x[None, :], fs, mains_hz=50.0)
    assert cn.count(FASCICULATION) == len(onsets)


def test_a_faster_potential_just_after_a_large_one_is_a_twitch_of_its_own():
    """Another unit's smaller, faster potential 6-12 ms after a large one is no slow wave of it.
    The other unit fires at its own times (a unit that followed the large one at a fixed lag
    would be part of it); eight of its twenty discharges fall just after the large one."""
    fs = 2048.0
    x, (large, small), onsets = _quiet_units(12, fs, (900.0, 50.0, 20.0), (150.0, 140.0, 8.0))
    rng = np.random.default_rng(13)
    _place(x, fs, large, onsets)
    near = (np.arange(len(onsets)) % 2 == 0) & (np.arange(len(onsets)) < 16)
    lag_s = np.where(near, large.size / fs + rng.uniform(0.006, 0.012, len(onsets)),
                     rng.uniform(0.5, 1.5, len(onsets)))
    _place(x, fs, small, onsets + lag_s)
    _, cn = run_calfwatch(x[None, :], fs, mains_hz=50.0)
    assert cn.count(FASCICULATION) == 2 * len(onsets)


def test_twitches_on_a_drifting_baseline_are_not_pops():
    """The electrode-skin potential drifts by hundreds of µV at 0.1-2 Hz (breathing, sweat,
    pressure). Across a potential the raw baseline then moves by tens of µV, as after a pop, but
    it moved as much before: a drift is no step, and the twitches are fasciculations."""
    rng = np.random.default_rng(13)
    fs = 1000.0
    x = _quiet_minute(rng, fs)
    x += _drift(x.size, fs)
    onsets = np.arange(5.0, 55.0, 2.5)
    for t0, ptp in zip(onsets, rng.uniform(150.0, 400.0, len(onsets)), strict=True):
        _place(x, fs, random_potential(rng, fs, ptp, duration_ms=15.0), [t0])
    _, cn = run_calfwatch(x[None, :], fs, mains_hz=50.0)
    assert cn.count(FASCICULATION) == len(onsets)
    assert not np.any(cn.events["kind"] == ARTIFACT)


def test_pops_on_a_drifting_baseline_are_still_pops():
    """The drift is taken out of the step, not the step itself: pops on the same drift."""
    spec = SceneSpec(minutes=3.0, n_channels=2, rate_per_min=0, pops_per_min=2.0)
    scene = make_scene(spec, 6)
    drift = _drift(scene.data_uv.shape[1], scene.sfreq_hz)
    _, cn = run_calfwatch(scene.data_uv + drift, scene.sfreq_hz)
    assert cn.count(FASCICULATION) == 0
    hits, total = kind_recall(scene.truth, cn, ARTIFACT)
    assert total >= 6 and hits / total >= 0.8


def test_a_pop_on_a_frame_boundary_is_a_pop_not_a_movement():
    """An 800-µV step of the electrode potential recovering over 0.3 s, each at a whole second:
    its candidate peaks a sample before the envelope frame its burst starts in, and the burst is
    still the pop's recovery, not a movement."""
    rng = np.random.default_rng(14)
    fs = 1000.0
    x = _quiet_minute(rng, fs)
    onsets = np.arange(5.0, 55.0, 5.0)
    for t0 in onsets:
        i = int(t0 * fs)
        x[i:] += 800.0 * np.exp(-np.arange(x.size - i) / fs / 0.3)
    _, cn = run_calfwatch(x[None, :], fs, mains_hz=50.0)
    assert cn.count(ARTIFACT) == len(onsets)
    assert not np.any(np.isin(cn.events["kind"], [VOLUNTARY, FASCICULATION]))


def test_a_twitch_merged_with_a_smaller_potential_before_it_is_timed_by_its_own_onset():
    """A 150-µV potential (a heartbeat's QRS, another unit) 25 ms before a 900-µV twitch, without a
    return to the noise between: the detector's candidate starts at the small one, but the
    twitch's event starts where the twitch does."""
    rng = np.random.default_rng(15)
    fs = 2000.0
    x = _quiet_minute(rng, fs)
    onsets = np.arange(5.0, 55.0, 2.5)
    _place(x, fs, random_potential(rng, fs, 150.0, peak_hz=40.0, duration_ms=20.0), onsets,
           lag_s=-0.025)
    _place(x, fs, random_potential(rng, fs, 900.0, peak_hz=100.0, duration_ms=12.0), onsets)
    _, cn = run_calfwatch(x[None, :], fs, mains_hz=50.0)
    fasc = cn.events[cn.events["kind"] == FASCICULATION]
    late = fasc["onset_s"][:, None] - onsets[None, :]
    assert np.all(np.min(np.abs(late), axis=0) <= 0.005), np.min(np.abs(late), axis=0)


def test_sharp_twitches_sampled_at_500_hz_keep_their_size_and_stay_twitches():
    """A consumer sensor sampling at 500 Hz: a 300-µV potential peaking at 150 Hz spans only a
    few samples. A digital low-pass at 0.45 x the sampling rate would take a third of its size
    and ring for tens of ms after it, into a many-phased "compound" (a jerk)."""
    fs = 500.0
    x, (wave,), onsets = _quiet_units(16, fs, (300.0, 150.0, 18.0))
    _place(x, fs, wave, onsets)
    _, cn = run_calfwatch(x[None, :], fs, mains_hz=50.0)
    fasc = cn.events[cn.events["kind"] == FASCICULATION]
    assert len(fasc) == len(onsets)
    assert np.all(fasc["peak_to_peak_uv"] >= 0.85 * np.ptp(wave))


def _beats_and_twitches(qrs_uv: float, lag_s: float) -> tuple[np.ndarray, float, np.ndarray]:
    """Three minutes at rest (2 kHz) with a QRS-T at 60 per minute (2 % beat-to-beat jitter)
    of ``qrs_uv`` peak-to-peak, and a 1000-µV twitch ``lag_s`` after every seventh R wave
    (before it when negative): the data, the rate and the twitch onsets (s)."""
    rng = np.random.default_rng(17)
    fs = 2000.0
    x = np.concatenate([_quiet_minute(rng, fs) for _ in range(3)])
    t = np.arange(-0.1, 0.45, 1 / fs)
    qrs = (-0.1 * np.exp(-0.5 * ((t + 0.025) / 0.008) ** 2) + np.exp(-0.5 * (t / 0.009) ** 2)
           - 0.3 * np.exp(-0.5 * ((t - 0.025) / 0.009) ** 2)
           + 0.25 * np.exp(-0.5 * ((t - 0.25) / 0.04) ** 2))
    qrs *= qrs_uv / np.ptp(qrs[np.abs(t) <= 0.05])
    r_waves_s = np.cumsum(1.0 + 0.02 * rng.standard_normal(175))
    _place(x, fs, qrs, r_waves_s, lag_s=-0.1)
    onsets = r_waves_s[20:170:7] + lag_s
    _place(x, fs, random_potential(rng, fs, 1000.0, peak_hz=90.0, duration_ms=15.0), onsets)
    return x[None, :], fs, onsets


def _assert_twitches_at(cn, onsets: np.ndarray, within_s: float = 0.005) -> None:
    """Every event is a fasciculation starting within ``within_s`` of its twitch's onset."""
    ev = cn.events
    assert set(ev["kind"]) == {FASCICULATION}, ev[ev["kind"] != FASCICULATION]
    assert len(ev) == len(onsets)
    late = ev["onset_s"][:, None] - onsets[None, :]
    assert np.all(np.min(np.abs(late), axis=0) <= within_s), np.min(np.abs(late), axis=0)


def test_a_twitch_riding_on_a_weak_heartbeat_is_one_twitch():
    """A 60-µV QRS, near the floor, and a twitch 30 ms after its R wave. The QRS comes to the
    detector in pieces; a piece the twitch's candidate is reached from, a piece the twitch has
    shaped, or a slow stub cut off from the rest, is the beat's, not a twitch, nor a link making
    of the twitch a jerk or a movement."""
    data, fs, onsets = _beats_and_twitches(60.0, 0.03)
    _, cn = run_calfwatch(data, fs, mains_hz=50.0)
    _assert_twitches_at(cn, onsets)


def test_a_twitch_on_a_strong_heartbeats_tail_is_timed_by_its_own_onset():
    """A 200-µV QRS and a twitch 50 ms after its R wave: the twitch's candidate starts on the
    QRS's last phase, a tenth of the twitch's size or less, but the event starts with the twitch."""
    data, fs, onsets = _beats_and_twitches(200.0, 0.05)
    _, cn = run_calfwatch(data, fs, mains_hz=50.0)
    _assert_twitches_at(cn, onsets)


def test_a_twitch_just_before_a_strong_heartbeat_is_no_movement():
    """A twitch 20 ms before a 200-µV QRS: the two raise the envelope for longer than a jerk,
    but the QRS's frames are the heart's, not a movement's."""
    data, fs, onsets = _beats_and_twitches(200.0, -0.02)
    _, cn = run_calfwatch(data, fs, mains_hz=50.0)
    _assert_twitches_at(cn, onsets)


def test_triplets_of_one_unit_are_counted_once():
    """A unit firing triplets, 9 then 32 ms apart (its first two discharges merge into one
    candidate) or 30 then 9 ms apart (its last two do). Each triplet is one fasciculation, and
    what follows its first potential is marked a doublet, not counted."""
    fs = 2000.0
    x, (wave,), onsets = _quiet_units(18, fs, (300.0, 80.0, 14.0))
    for k, t0 in enumerate(onsets):
        gaps = (0.009, 0.032) if k % 2 else (0.030, 0.009)
        _place(x, fs, wave, [t0, t0 + gaps[0], t0 + gaps[0] + gaps[1]])
    _, cn = run_calfwatch(x[None, :], fs, mains_hz=50.0)
    counted = fasciculation_onsets(cn)[0]
    assert len(counted) == len(onsets)
    assert np.all(np.abs(counted - onsets) <= 0.005)
    assert int(cn.events["doublet"].sum()) == len(onsets)


@pytest.mark.parametrize(("qrs_uv", "lag_s"), [(200.0, 0.075), (120.0, 0.08)])
def test_a_twitch_reached_from_a_strong_qrs_is_no_movement(qrs_uv, lag_s):
    """A twitch 75-80 ms after a strong QRS: the detector reaches it from the QRS without a
    return to the noise, and the two outlast the longest piece it cuts activity into. A run that
    short holding a beat is a QRS and a twitch, not a movement (nor a "PLM" series at the
    heart's pace), and the twitch is counted from its own onset."""
    data, fs, onsets = _beats_and_twitches(qrs_uv, lag_s)
    _, cn = run_calfwatch(data, fs, mains_hz=50.0)
    _assert_twitches_at(cn, onsets, within_s=MATCH_S)  # the QRS's last ripple may lead it


@pytest.mark.parametrize(("qrs_uv", "lag_s"), [(300.0, 0.06), (400.0, 0.085)])
def test_a_twitch_in_a_strong_qrs_is_one_twitch_however_long_the_beat(qrs_uv, lag_s):
    """A twitch 60-85 ms after a 300-400 µV R wave. The QRS with its filters' ringing fills a
    piece the detector cuts at its longest, and the twitch's piece, or the QRS's tail after the
    twitch, continues it: a run longer than a QRS and a potential together, whose pieces other
    than the beat's are no longer than that. One twitch, not a jerk nor a movement."""
    data, fs, onsets = _beats_and_twitches(qrs_uv, lag_s)
    _, cn = run_calfwatch(data, fs, mains_hz=50.0)
    _assert_twitches_at(cn, onsets, within_s=MATCH_S)  # the QRS's last ripple may lead it


@pytest.mark.parametrize("qrs_uv", [300.0, 400.0])
def test_a_twitch_after_a_strong_qrs_is_no_jerk_with_the_qrs_end(qrs_uv):
    """A twitch 120 ms after a 300-400 µV QRS: the QRS and its filters' ringing fill a piece the
    detector cuts at its longest, and the QRS's slow end follows as small pieces 50-70 ms after
    that piece's peak, just before the twitch. They are the beat's, not a jerk's units making
    one of the twitch."""
    data, fs, onsets = _beats_and_twitches(qrs_uv, 0.12)
    _, cn = run_calfwatch(data, fs, mains_hz=50.0)
    _assert_twitches_at(cn, onsets)


@pytest.mark.parametrize("seed", [21, 24])
def test_a_doublet_reached_without_a_return_to_baseline_is_no_jerk(seed):
    """A unit (140 µV, 22 ms) firing doublets 21 ms apart: the detector reaches the second
    discharge from the first without a return to the noise at some of them, the mark of units
    superimposed into a jerk's compound. The second repeats the first's shape at a doublet's
    interval: one unit firing twice, counted once and marked a doublet, not a jerk."""
    fs = 2000.0
    x, (wave,), onsets = _quiet_units(seed, fs, (140.0, 140.0, 22.0))
    _place(x, fs, wave, onsets)
    _place(x, fs, wave, onsets + 0.021)
    night, cn = run_calfwatch(x[None, :], fs, mains_hz=50.0)
    assert night.candidates["joined"].any()  # the case this test is about
    assert MYOCLONUS not in set(cn.events["kind"])
    counted = fasciculation_onsets(cn)[0]
    assert len(counted) == len(onsets)
    assert np.all(np.abs(counted - onsets) <= 0.005)


def test_a_doublet_starting_in_the_first_discharges_tail_is_timed_peak_to_peak():
    """A large slow unit (1400 µV, 35 ms) firing doublets 26 ms apart: the second discharge
    starts in the first's tail, and the detector finds it only where the tail has settled,
    more than 40 ms after the first's onset. Its peak is 26 ms after the first's: a doublet,
    counted once."""
    fs = 2000.0
    x, (wave,), onsets = _quiet_units(21, fs, (1400.0, 70.0, 35.0))
    _place(x, fs, wave, onsets)
    _place(x, fs, wave, onsets + 0.026)
    _, cn = run_calfwatch(x[None, :], fs, mains_hz=50.0)
    counted = fasciculation_onsets(cn)[0]
    assert len(counted) == len(onsets)
    assert np.all(np.abs(counted - onsets) <= 0.005)


def test_a_triplet_beside_another_unit_is_no_jerk():
    """A triplet 9 then 32 ms apart (its first two discharges merged into one candidate), and
    another unit's twitch 35-50 ms after its last (the units fire independently: the lag
    changes): three potentials each within 50 ms of the one before, but two units, the
    triplet's repeats being its own. Two twitches, no jerk."""
    fs = 2000.0
    x, (unit, other), onsets = _quiet_units(19, fs, (300.0, 80.0, 14.0), (250.0, 130.0, 10.0))
    for t0 in onsets:
        _place(x, fs, unit, [t0, t0 + 0.009, t0 + 0.041])
    lags_s = np.random.default_rng(20).uniform(0.035, 0.05, onsets.size)
    _place(x, fs, other, onsets + 0.041 + lags_s)
    _, cn = run_calfwatch(x[None, :], fs, mains_hz=50.0)
    assert np.sum(cn.events["kind"] == MYOCLONUS) <= 2  # the noise can blur a repeat's shape
    assert cn.count(FASCICULATION) >= 0.9 * 2 * len(onsets)


def test_a_long_polyphasic_unit_is_a_twitch_at_each_discharge():
    """A reinnervated unit's surface potential can outlast ``potential_max_s`` with more phases
    than ``myoclonus_min_phases`` (here 45 ms, 16 phases), as a jerk's compound does; but it is
    the same at each of its 20 discharges, where a jerk's compound is a new superposition each
    time. Before the rule that looks for its recurrence, each discharge was a jerk."""
    rng = np.random.default_rng(31)
    fs = 2000.0
    x = _quiet_minute(rng, fs)
    unit = random_potential(rng, fs, 300.0, peak_hz=150.0, duration_ms=45.0)
    onsets = np.arange(5.0, 55.0, 2.5)
    _place(x, fs, unit, onsets)
    _, cn = run_calfwatch(x[None, :], fs, mains_hz=50.0)
    assert cn.count(FASCICULATION) == len(onsets)
    assert not np.any(cn.events["kind"] == MYOCLONUS)


def test_jerks_of_new_superpositions_stay_jerks():
    """Jerks (30-120 ms bursts of many units) on an independent scene stay jerks: a compound's
    shape does not recur."""
    spec = SceneSpec(minutes=3.0, rate_per_min=0, jerks_per_min=4.0)
    scene = make_scene(spec, 32)
    _, cn = run_calfwatch(scene.data_uv, scene.sfreq_hz)
    hits, total = kind_recall(scene.truth, cn, MYOCLONUS)
    assert total >= 8 and hits / total >= 0.8
    assert cn.count(FASCICULATION) <= 1


@pytest.mark.parametrize("seed", [0, 4])
def test_a_moved_electrode_is_one_motion_artifact_and_a_lone_pop_a_pop(seed):
    """Three 3.4-s motion waves (three sines of 1-10 Hz, 0.2-0.6 mV each) shake the electrode
    potential in steps the detector finds one after the other: each wave is one motion artifact,
    not a string of pops (10-20 per wave before). Two lone steps recovering over 0.3 s stay pops."""
    rng = np.random.default_rng(seed)
    fs = 2000.0
    x = _quiet_minute(rng, fs)
    t = np.arange(int(3.4 * fs)) / fs
    waves_s = (10.0, 30.0, 50.0)
    for t0 in waves_s:
        wave = sum(rng.uniform(200, 600) * np.sin(2 * np.pi * rng.uniform(1, 10) * t
                                                   + rng.uniform(0, 6)) for _ in range(3))
        _place(x, fs, wave * np.hanning(t.size), [t0])
    for t0 in (20.0, 40.0):
        i = int(t0 * fs)
        x[i:] += 600.0 * np.exp(-np.arange(x.size - i) / fs / 0.3)
    _, cn = run_calfwatch(x[None, :], fs, mains_hz=50.0)
    art = cn.events[cn.events["kind"] == ARTIFACT]
    for t0 in waves_s:
        inside = art[(art["onset_s"] >= t0) & (art["onset_s"] < t0 + 3.4)]
        assert len(inside) <= 2 and np.all(inside["detail"] == "motion")
    assert np.sum(art["detail"] == "motion") >= 2
    for t0 in (20.0, 40.0):
        (lone,) = art[np.abs(art["onset_s"] - t0) < 0.1]
        assert lone["detail"] == "pop"


@pytest.mark.parametrize(("rate", "seed"), [(15, 615), (40, 640)])
def test_deep_units_with_real_shapes_are_each_counted(sample_data, rate, seed):
    """Real units' shapes seen through deep tissue (tests/needle_shapes.py, DEEP_CORNER_HZ): their
    spectral peaks lie at 33-117 Hz, most of them low in the surface band, and they last 20-40 ms.
    Slow and long as they are, each discharge is one twitch: F1 and the recall of potentials of
    10 x the noise or more reach the issue's 0.95, and the false twitches stay under 0.2 per rest
    minute."""
    from needle_shapes import DEEP_CORNER_HZ, needle_templates

    bank = needle_templates(str(sample_data))
    if bank is None:
        pytest.skip("wfdb is not installed")
    spec = SceneSpec(minutes=4.0, rate_per_min=rate, shape_bank=bank, mains_uv=8.0,
                     tissue_corner_hz=DEEP_CORNER_HZ)
    _, _, score = analyse(spec, seed)
    assert score["f1"] >= 0.95, score
    assert score["recall_10x"] >= 0.95, score
    assert score["false_per_rest_min"] <= 0.2, score


@pytest.mark.parametrize(("ptp_uv", "after_ms"), [(1000.0, 0.5), (1500.0, 2.0)])
def test_a_large_twitch_whose_spike_leads_is_a_twitch_at_any_frame_phase(ptp_uv, after_ms):
    """A large potential whose largest phase comes first (a sharp spike, slower phases after
    it), with its spike just after the start of a 50-ms envelope frame: the chain times the
    candidate a few ms before the frame its energy raises, and the mains notch rings after it
    above the movement level for a quarter of a second. It is a twitch, not a movement nor a
    pop (before, at 1 mV 17 of 20 were movements and 3 pops, at 1.5 mV all 20 movements)."""
    fs = 2000.0
    x = coloured_noise(np.random.default_rng(11), int(60 * fs), fs, 4.5)
    t = np.arange(int(0.018 * fs)) / fs
    spike = -np.exp(-(((t - 0.0015) / 0.0006) ** 2))
    later = 0.6 * np.sin(2 * np.pi * 70 * (t - 0.003)) * np.exp(-(t - 0.003) / 0.006) * (t > 0.003)
    wave = (spike + later) * ptp_uv / np.ptp(spike + later)
    spike_at = np.arange(5.0, 55.0, 2.5) + after_ms / 1e3  # frames start at multiples of 50 ms
    for s in spike_at:
        i = int(round((s - 0.0015) * fs))
        x[i:i + wave.size] += wave
    _, cn = run_calfwatch(x[None, :], fs, mains_hz=50.0)
    kinds = cn.events["kind"]
    assert np.sum(kinds == FASCICULATION) == len(spike_at)
    assert not np.any(np.isin(kinds, [VOLUNTARY, ARTIFACT]))


@pytest.mark.parametrize(("rate", "seed"), [(15, 815), (40, 840)])
def test_potentials_of_a_volume_conductor_model_are_each_counted(rate, seed):
    """Potentials from the physics of a discharge (tests/volume_conductor_shapes.py): sharp
    fronts where the waves leave the end-plates, fibre-end components, 3-7 phases. Units of
    60 µV to 2 mV (13 x the noise and more), so that the floor plays no part: F1 and the recall
    of potentials >= 10 x the noise reach the issue's 0.95, with at most one false twitch in the
    four minutes."""
    spec = SceneSpec(minutes=4.0, rate_per_min=rate, volume_conductor=True, mains_uv=8.0,
                     ptp_range_uv=(60.0, 2000.0))
    _, _, score = analyse(spec, seed)
    assert score["f1"] >= 0.95, score
    assert score["recall_10x"] >= 0.95, score
    assert score["fp"] <= 1, score


@pytest.mark.parametrize(("rate", "seed"), [(40, 940), (120, 920)])
def test_potentials_of_hermite_rodriguez_functions_are_each_counted(rate, seed):
    """Potentials of the textbook analytic model (tests/hermite_shapes.py: biphasic and triphasic
    Hermite-Rodriguez functions, half of them complex), a family no rule was measured on. Units
    of 60 µV to 2 mV, so that the floor plays no part: F1 reaches the issue's 0.95, and so does
    the recall of potentials >= 10 x the noise at 40 per minute (0.93 at 120, where two units'
    potentials 5-25 ms apart are at times taken as one, or as a doublet when alike; measured
    0.98 and 0.96), with at most one false twitch."""
    spec = SceneSpec(minutes=4.0, rate_per_min=rate, surface_bank=hermite_templates(),
                     ptp_range_uv=(60.0, 2000.0))
    _, _, score = analyse(spec, seed)
    assert score["f1"] >= 0.95, score
    assert score["recall_10x"] >= (0.95 if rate <= 40 else 0.93), score
    assert score["fp"] <= 1, score


def test_a_fast_heart_under_dense_twitching_is_not_counted_as_twitches():
    """A 100-µV QRS at 85 per minute under 40 twitches per minute of up to 2 mV: beats fall in the
    notch's ringing after large twitches and are measured with it on them, and the rhythm may
    run through a QRS's small S wave and leave its R wave. Both are still the beat's: false
    twitches per rest minute at most 0.8 over eight scenes (1.3 when such beats counted), and the
    twitches are found."""
    false = rest_min = hits = n = 0.0
    for seed in range(720, 728):
        spec = SceneSpec(minutes=3.0, rate_per_min=40, ecg_uv=100.0, heart_rate_per_min=85.0)
        scene = make_scene(spec, seed)
        _, cn = run_calfwatch(scene.data_uv, scene.sfreq_hz)
        rest = cn.rates["rest_minutes"]
        score = score_detections(scene.truth, fasciculation_onsets(cn), scene.noise_rms_uv, rest)
        false, rest_min = false + score["fp"], rest_min + rest
        hits, n = hits + score["tp"], n + score["tp"] + score["fn"]
    assert rest_min >= 0.9 * 8 * 3.0
    assert false <= 0.8 * rest_min
    assert hits >= 0.9 * n
