"""The simulator's ground truth and signal: statistics checked against the configuration."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal, stats

from calfwatch.simulator import PROFILES, SimulationError, load_profile, simulate_night
from classifier.kinds import EVENT_KINDS, NON_REST_KINDS

QUIET_BACKGROUND = dict(noise_rms_uv=0.0, mains_uv=0.0, wander_uv=0.0)


def _union_length(spans, lo, hi):
    """Length of the union of spans clipped to [lo, hi] (a reference written for the test)."""
    grid = np.zeros(int(round((hi - lo) * 1000)) + 1, dtype=bool)  # 1 ms resolution
    for a, b in spans:
        i, j = int(np.ceil((max(a, lo) - lo) * 1000)), int(np.floor((min(b, hi) - lo) * 1000))
        grid[i:j] = True
    return grid.sum() / 1000.0


def _rest_minutes(night, channel):
    m = night.params.rest_margin_s
    spans = [(e.onset_s - m, e.stop_s + m) for e in night.truth
             if e.channel == channel and e.kind in NON_REST_KINDS]
    return (night.params.duration_s - _union_length(spans, 0, night.params.duration_s)) / 60.0


def test_every_profile_loads_and_every_field_is_overridable():
    assert {"quiet", "benign-night", "busy-night", "no-twitch", "complex"} <= set(PROFILES)
    for name in PROFILES:
        p = load_profile(name, duration_s=60, sfreq_hz=1000, n_channels=3, fasc_units=2)
        assert (p.duration_s, p.sfreq_hz, p.n_channels, p.fasc_units) == (60, 1000, 3, 2)
        assert p.profile == name
    assert PROFILES["no-twitch"].fasc_rate_per_min == 0
    assert PROFILES["no-twitch"].voluntary_per_h == PROFILES["busy-night"].voluntary_per_h


@pytest.mark.parametrize(
    "overrides",
    [dict(sfreq_hz=499), dict(sfreq_hz=4001), dict(n_channels=0), dict(n_channels=9),
     dict(no_such_field=1), dict(plm_interval_s=(4.0, 40.0)), dict(myoclonus_ms=(10.0, 50.0)),
     dict(mains_hz=55.0), dict(fasc_rate_per_min=-1.0)],
)
def test_bad_parameters_raise_one_line_errors(overrides):
    with pytest.raises(SimulationError) as info:
        load_profile("quiet", **overrides)
    assert "\n" not in str(info.value)
    with pytest.raises(SimulationError):
        load_profile("no-such-profile")


def test_stream_info_and_channel_names():
    night = simulate_night(load_profile("quiet", duration_s=10, n_channels=4, sfreq_hz=500), 0)
    assert night.info.ch_names == ["calf_left", "calf_right", "calf_left_2", "calf_right_2"]
    assert night.info.sfreq_hz == 500
    assert night.info.meas_date.utcoffset().total_seconds() == 0
    assert night.info.device["kind"] == "simulator"
    assert {e.kind for e in night.truth} <= set(EVENT_KINDS)


@pytest.mark.parametrize("rate", [2.0, 20.0, 90.0])
def test_fasciculation_count_within_poisson_bounds(rate):
    params = load_profile("busy-night", duration_s=3600, n_channels=2, fasc_rate_per_min=rate)
    for seed in range(3):
        night = simulate_night(params, seed)
        for ch in night.info.ch_names:
            rest = _rest_minutes(night, ch)
            n = sum(1 for e in night.truth if e.channel == ch and e.kind == "fasciculation"
                    and e.detail != "doublet")
            lo, hi = stats.poisson.ppf([0.0005, 0.9995], rate * rest)
            assert lo <= n <= hi, (seed, ch, n, rate * rest)


def test_truth_summary_matches_an_independent_count():
    night = simulate_night(load_profile("busy-night", duration_s=3600, n_channels=2,
                                        fasc_rate_per_min=60, fasc_doublet_prob=0.3,
                                        plm_series_per_h=3), 5)
    s = night.truth_summary()
    total_fasc, total_rest = 0, 0.0
    for ch in night.info.ch_names:
        c = s["channels"][ch]
        rest = _rest_minutes(night, ch)
        n = sum(1 for e in night.truth if e.channel == ch and e.kind == "fasciculation"
                and e.detail != "doublet" and not e.overlaps)
        overlapped = sum(1 for e in night.truth if e.channel == ch and e.kind == "fasciculation"
                         and e.detail != "doublet" and e.overlaps)
        assert c["overlapped"] == overlapped > 0
        assert c["rest_minutes"] == pytest.approx(rest, abs=0.01)
        assert c["fasciculations"] == n
        assert c["fasciculations_per_min_rest"] == pytest.approx(n / rest, rel=1e-3)
        total_fasc, total_rest = total_fasc + n, total_rest + rest
    assert s["fasciculations_per_min_rest"] == pytest.approx(total_fasc / total_rest, rel=1e-3)
    assert s["seed"] == 5 and s["profile"] == "busy-night"
    assert s["params"]["duration_s"] == 3600


def _packaged_k() -> float:
    """``detectable_ptp_k`` read straight from the packaged thresholds file."""
    import tomllib
    from importlib import resources

    text = resources.files("classifier").joinpath("thresholds.toml").read_text(encoding="utf-8")
    return float(tomllib.loads(text)["detection"]["detectable_ptp_k"])


@pytest.mark.parametrize(("profile", "noise_rms_uv"), [("busy-night", 6.0), ("quiet", 3.0),
                                                        ("busy-night", 12.0)])
def test_detectable_fasciculations_match_an_independent_count(profile, noise_rms_uv):
    """Detectable: p-p >= k x the configured noise RMS; doublets excluded; rate over the same rest."""
    night = simulate_night(load_profile(profile, duration_s=1200, n_channels=2,
                                        noise_rms_uv=noise_rms_uv, fasc_doublet_prob=0.2), 9)
    s = night.truth_summary()
    floor_uv = _packaged_k() * noise_rms_uv
    total_det, total_rest = 0, 0.0
    for ch in night.info.ch_names:
        c = s["channels"][ch]
        ptp = np.array([e.peak_to_peak_uv for e in night.truth if e.channel == ch
                        and e.kind == "fasciculation" and e.detail != "doublet"
                        and not e.overlaps])
        n = int(np.sum(ptp >= floor_uv))
        assert c["detectable_fasciculations"] == n <= c["fasciculations"]
        rest = _rest_minutes(night, ch)
        assert c["detectable_fasciculations_per_min_rest"] == pytest.approx(n / rest, rel=1e-3)
        total_det, total_rest = total_det + n, total_rest + rest
    assert s["detectable_fasciculations"] == total_det
    assert s["detectable_fasciculations_per_min_rest"] == pytest.approx(total_det / total_rest,
                                                                        rel=1e-3)
    assert total_det > 0
    assert total_det < s["fasciculations"] or noise_rms_uv < 12.0  # the loud night drops some
    floor = s["detection_floor"]
    assert floor["noise_rms_uv"] == noise_rms_uv and floor["floor_uv"] == pytest.approx(floor_uv)
    assert floor["detectable_ptp_k"] == _packaged_k() and floor["noise_band_hz"] == [20.0, 450.0]


def test_myoclonus_does_not_remove_rest():
    night = simulate_night(load_profile("quiet", duration_s=600, myoclonus_per_h=300), 2)
    jerks = [e for e in night.truth if e.kind == "myoclonus"]
    assert len(jerks) > 10
    assert night.truth_summary()["rest_minutes"] == pytest.approx(10.0)


def test_fasciculations_avoid_every_non_rest_span_with_margin():
    params = load_profile("busy-night", duration_s=3600, n_channels=2, fasc_rate_per_min=60,
                          rest_margin_s=0.7, pop_per_h=30, motion_per_h=30)
    night = simulate_night(params, 1)
    m = params.rest_margin_s
    for ch in night.info.ch_names:
        spans = np.array([(e.onset_s - m, e.stop_s + m) for e in night.truth
                          if e.channel == ch and e.kind in NON_REST_KINDS])
        assert len(spans) > 20
        fasc = [e for e in night.truth if e.channel == ch and e.kind == "fasciculation"]
        for e in fasc:
            assert not np.any((spans[:, 0] < e.stop_s) & (spans[:, 1] > e.onset_s)), e


def test_doublets_and_triplets_of_one_unit_5_to_40_ms_apart():
    params = load_profile("complex", duration_s=1800, fasc_rate_per_min=40, fasc_doublet_prob=0.3,
                          fasc_triplet_prob=0.2)
    night = simulate_night(params, 3)
    fasc = [e for e in night.truth if e.kind == "fasciculation"]
    by_unit: dict[int, list] = {}
    for e in fasc:
        by_unit.setdefault(e.unit, []).append(e)
    runs = []  # length of each multiplet (1, 2 or 3 potentials)
    intervals = []
    for mine in by_unit.values():
        assert mine[0].detail != "doublet"
        for prev, cur in zip([None, *mine], mine, strict=False):
            if cur.detail == "doublet":
                intervals.append(cur.onset_s - prev.onset_s)
                runs[-1] += 1
            else:
                runs.append(1)
    intervals = np.array(intervals)
    assert intervals.min() >= 0.005 - 1e-9 and intervals.max() <= 0.040 + 1e-9
    # Intervals spread over the whole 5-40 ms range, not only the F-wave latency.
    assert np.mean(intervals < 0.020) > 0.3 and np.mean(intervals > 0.030) > 0.2
    counts = np.bincount(runs, minlength=4)[1:]
    firsts = counts.sum()
    assert max(runs) == 3  # triplets exist, never more than three
    assert counts[1] / firsts == pytest.approx(0.3, abs=0.05)
    assert counts[2] / firsts == pytest.approx(0.2, abs=0.05)
    summary = night.truth_summary()["channels"]["calf_left"]
    assert summary["doublets"] == int(counts[1] + 2 * counts[2])


def test_merged_train_has_no_dead_time_across_units():
    """Units fire independently: at 40/min the gaps between first potentials are exponential."""
    rate_per_min = 40.0
    params = load_profile("quiet", duration_s=3 * 3600, fasc_rate_per_min=rate_per_min,
                          fasc_units=8)
    night = simulate_night(params, 21)
    onsets = np.array([e.onset_s for e in night.truth
                       if e.kind == "fasciculation" and e.detail != "doublet"])
    gaps = np.diff(onsets)
    rate_hz = rate_per_min / 60.0
    expected = 1.0 - np.exp(-rate_hz * 0.25)  # P(gap < 250 ms) for a Poisson train
    assert np.mean(gaps < 0.25) == pytest.approx(expected, abs=0.02)
    assert np.mean(gaps < 0.05) == pytest.approx(1.0 - np.exp(-rate_hz * 0.05), abs=0.01)
    assert gaps.min() < 0.005  # two units may discharge almost together
    assert stats.kstest(gaps, "expon", args=(0, 1 / rate_hz)).pvalue > 1e-3


def test_each_unit_fires_irregularly_with_its_own_refractory_period():
    params = load_profile("quiet", duration_s=4 * 3600, fasc_rate_per_min=30, fasc_units=4,
                          fasc_refractory_ms=5.0, fasc_doublet_prob=0.2)
    night = simulate_night(params, 4)
    fasc = [e for e in night.truth if e.kind == "fasciculation"]
    cvs = []
    for u in {e.unit for e in fasc}:
        onsets = np.array([e.onset_s for e in fasc if e.unit == u])
        assert np.diff(onsets).min() >= 0.005 - 1e-9
        first = np.array([e.onset_s for e in fasc if e.unit == u and e.detail != "doublet"])
        isi = np.diff(first)
        if isi.size > 100:
            cvs.append(isi.std() / isi.mean())
    assert len(cvs) >= 2
    assert all(0.85 < cv < 1.15 for cv in cvs), cvs  # Poisson-like, unlike voluntary firing


def test_plm_series_follow_aasm_rules():
    params = load_profile("busy-night", duration_s=4 * 3600, plm_series_per_h=2,
                          plm_per_series=(4, 12), plm_interval_s=(5.0, 90.0), plm_s=(0.5, 10.0))
    night = simulate_night(params, 4)
    plms = [e for e in night.truth if e.kind == "plm"]
    series: dict[str, list] = {}
    for e in plms:
        series.setdefault(e.detail, []).append(e)
    assert len(series) >= 3
    for events in series.values():
        assert len(events) >= 4
        onsets = np.array([e.onset_s for e in events])
        assert np.all((np.diff(onsets) >= 5.0) & (np.diff(onsets) <= 90.0))
        assert all(0.5 <= e.duration_s <= 10.0 for e in events)
        assert all(a.stop_s < b.onset_s for a, b in zip(events, events[1:], strict=False))
    hours = params.duration_s / 3600
    assert night.truth_summary()["plm_index_per_h"] == pytest.approx(len(plms) / hours)


def test_myoclonus_durations_and_other_kinds_present():
    night = simulate_night(load_profile("busy-night", duration_s=2 * 3600, cramp_per_h=4), 6)
    kinds = {e.kind for e in night.truth}
    assert set(EVENT_KINDS) <= kinds | {"plm"}
    jerks = [e for e in night.truth if e.kind == "myoclonus"]
    assert jerks and all(0.025 <= e.duration_s <= 0.150 for e in jerks)
    cramps = [e for e in night.truth if e.kind == "cramp"]
    assert cramps and all(10 <= e.duration_s <= 90 for e in cramps)
    details = {e.detail for e in night.truth if e.kind == "artifact"}
    assert details == {"pop", "motion", "lead-off", "saturation"}


def test_no_twitch_profile_has_no_fasciculation():
    night = simulate_night(load_profile("no-twitch", duration_s=3600, n_channels=2), 0)
    assert not [e for e in night.truth if e.kind == "fasciculation"]
    assert len(night.truth) > 50


def _band_rms(x, sfreq_hz, lo_hz, hi_hz):
    """RMS in a band by an FFT brick-wall mask (independent of the simulator's filters)."""
    spec = np.fft.rfft(x - x.mean())
    f = np.fft.rfftfreq(x.size, 1 / sfreq_hz)
    spec[(f < lo_hz) | (f > hi_hz)] = 0
    return np.sqrt(np.mean(np.fft.irfft(spec, x.size) ** 2))


@pytest.mark.parametrize("sfreq_hz,rms_uv", [(2000, 3.0), (2000, 8.0), (1000, 5.0), (4000, 5.0)])
def test_noise_rms_in_the_semg_band(sfreq_hz, rms_uv):
    params = load_profile("quiet", duration_s=60, sfreq_hz=sfreq_hz, noise_rms_uv=rms_uv,
                          mains_uv=0.0, wander_uv=0.0, fasc_rate_per_min=0.0)
    night = simulate_night(params, 0)
    assert night.truth == []
    x = night.data_uv()[0]
    hi = min(450.0, 0.45 * sfreq_hz)
    assert _band_rms(x, sfreq_hz, 20.0, hi) == pytest.approx(rms_uv, rel=0.05)
    assert np.sqrt(np.mean(x**2)) < 2 * rms_uv  # realistic: little power outside the band


@pytest.mark.parametrize("mains_hz", [50.0, 60.0])
def test_mains_peak_at_the_configured_frequency(mains_hz):
    params = load_profile("quiet", duration_s=20, mains_hz=mains_hz, mains_uv=4.0,
                          fasc_rate_per_min=0.0)
    x = simulate_night(params, 1).data_uv()[0]
    f, psd = signal.welch(x, fs=params.sfreq_hz, nperseg=8000)
    band = (f > 30) & (f < 200)
    assert f[band][np.argmax(psd[band])] == pytest.approx(mains_hz, abs=0.5)
    assert psd[np.argmin(np.abs(f - 3 * mains_hz))] > 20 * np.median(psd[band])  # 3rd harmonic
    spec = np.abs(np.fft.rfft(x)) * 2 / x.size
    amp = spec[np.argmin(np.abs(np.fft.rfftfreq(x.size, 1 / params.sfreq_hz) - mains_hz))]
    assert amp == pytest.approx(4.0, rel=0.1)


def _isolated(events, margin_s=0.1):
    """Fasciculation potentials with no other potential within ``margin_s`` of their span."""
    fasc = [e for e in events if e.kind == "fasciculation"]
    onsets = np.array([e.onset_s for e in fasc])
    out = []
    for e in fasc:
        near = (onsets > e.onset_s - margin_s - 0.03) & (onsets < e.stop_s + margin_s)
        if near.sum() == 1:
            out.append(e)
    return out


def test_fasciculation_ptp_and_shape_match_noise_free_render():
    params = load_profile("complex", duration_s=120, sfreq_hz=4000, fasc_rate_per_min=60,
                          fasc_doublet_prob=0.2, voluntary_per_h=0, plm_series_per_h=0,
                          myoclonus_per_h=0, pop_per_h=0, motion_per_h=0, leadoff_per_h=0,
                          saturation_per_h=0, **QUIET_BACKGROUND)
    night = simulate_night(params, 2)
    x = night.data_uv()[0]
    fs = params.sfreq_hz
    fasc = [e for e in night.truth if e.kind == "fasciculation"]
    assert len(fasc) > 80
    lonely = _isolated(night.truth)
    assert len(lonely) > 20
    for e in lonely:
        seg = x[int(np.floor(e.onset_s * fs)):int(np.ceil(e.stop_s * fs)) + 1]
        assert seg.max() - seg.min() == pytest.approx(e.peak_to_peak_uv, rel=0.02, abs=0.5)
    for e in fasc:
        assert 15 * 0.9 <= e.peak_to_peak_uv <= 2000 * 1.2
        assert 0.005 <= e.duration_s <= 0.030 + 1e-9
    # Outside the truth spans (with 4 ms for sub-threshold tails) the noise-free signal is ~zero.
    mask = np.ones(x.size, bool)
    for e in fasc:
        mask[int((e.onset_s - 0.004) * fs):int((e.stop_s + 0.004) * fs) + 1] = False
    assert np.abs(x[mask]).max() < 0.02 * max(e.peak_to_peak_uv for e in fasc)


def test_overlapping_main_phases_are_marked_and_counted_once():
    """Truth ``overlaps``: main phases (50 % of the peak, read off the rendered signal) overlap."""
    params = load_profile("quiet", duration_s=900, sfreq_hz=4000, fasc_rate_per_min=120,
                          fasc_units=6, fasc_doublet_prob=0.2, time_jitter_ms=0.0, amp_jitter=0.0,
                          **QUIET_BACKGROUND)
    night = simulate_night(params, 6)
    x = night.data_uv()[0]
    fs = params.sfreq_hz
    main = {}  # unit -> (start, stop) of its main phases relative to its onset, from the signal
    for e in _isolated(night.truth):
        if e.unit in main:
            continue
        i0 = int(np.floor((e.onset_s - 0.005) * fs))
        seg = np.abs(x[i0:int(np.ceil((e.stop_s + 0.005) * fs))])
        big = np.flatnonzero(seg >= 0.5 * seg.max())
        main[e.unit] = ((i0 + big[0]) / fs - e.onset_s, (i0 + big[-1]) / fs - e.onset_s)
    fasc = [e for e in night.truth if e.kind == "fasciculation"]
    assert set(main) == {e.unit for e in fasc}
    start = np.array([e.onset_s + main[e.unit][0] for e in fasc])
    stop = np.array([e.onset_s + main[e.unit][1] for e in fasc])
    order = np.argsort(start)
    close = np.diff(start[order]) < 0.5e-3  # which of two starts comes first is a sample's call
    tie = np.zeros(len(fasc), bool)
    tie[order[1:]] |= close
    tie[order[:-1]] |= close
    checked = marked = 0
    latest = -np.inf
    for i in order:
        if not tie[i] and abs(start[i] - latest) > 0.5e-3:  # clear of the boundary by 2 samples
            assert fasc[i].overlaps == (start[i] < latest), fasc[i]
            checked += 1
        marked += fasc[i].overlaps
        latest = max(latest, stop[i])
    assert checked > 0.95 * len(fasc) and marked > 20
    s = night.truth_summary()["channels"]["calf_left"]
    assert s["fasciculations"] == sum(1 for e in fasc if e.detail != "doublet" and not e.overlaps)
    assert s["overlapped"] == sum(1 for e in fasc if e.detail != "doublet" and e.overlaps)


def _phases(wave):
    """Baseline crossings + 1 of excursions above 5 % of the peak (reference for the test)."""
    big = wave[np.abs(wave) > 0.05 * np.abs(wave).max()]
    return 1 + int(np.sum(big[1:] * big[:-1] < 0))


def _spectral_peak_hz(wave, fs):
    """Peak of |FFT| in 20-450 Hz, zero-padded to 0.25 Hz bins (reference for the test)."""
    n = int(4 * fs)
    f = np.fft.rfftfreq(n, 1 / fs)
    spec = np.abs(np.fft.rfft(wave - 0.0, n))
    band = (f >= 20) & (f <= 450)
    return f[band][np.argmax(spec[band])]


FAMILY_DETAIL = {"simple": "", "polyphasic": "complex", "slow": "slow"}
FAMILY_PHASES = {"": (2, 4), "complex": (5, 8), "slow": (2, 4)}
FAMILY_PEAK_HZ = {"": (30, 150), "complex": (30, 150), "slow": (30, 70)}


@pytest.mark.parametrize("shape", ["simple", "polyphasic", "slow", "mixed"])
def test_shape_families_phases_and_spectral_peaks(shape):
    """Every unit's phases and spectral peak (20-450 Hz) fall in its family's range."""
    params = load_profile("complex", duration_s=300, sfreq_hz=4000, fasc_rate_per_min=30,
                          fasc_units=12, fasc_shape=shape, fasc_doublet_prob=0.0,
                          fasc_unstable_fraction=0.0, time_jitter_ms=0.0, voluntary_per_h=0,
                          plm_series_per_h=0, myoclonus_per_h=0, pop_per_h=0, motion_per_h=0,
                          leadoff_per_h=0, saturation_per_h=0, **QUIET_BACKGROUND)
    night = simulate_night(params, 8)
    x = night.data_uv()[0]
    fs = params.sfreq_hz
    seen: dict[str, set] = {}
    for e in _isolated(night.truth):
        if e.detail == "":
            assert shape in ("simple", "mixed")
        else:
            assert shape in ("mixed", next(k for k, v in FAMILY_DETAIL.items() if v == e.detail))
        seg = x[int(e.onset_s * fs) - 8:int(e.stop_s * fs) + 9]
        lo, hi = FAMILY_PHASES[e.detail]
        assert lo <= _phases(seg) <= hi, e
        wide = x[int((e.onset_s - 0.03) * fs):int((e.stop_s + 0.06) * fs)]
        lo_hz, hi_hz = FAMILY_PEAK_HZ[e.detail]
        assert lo_hz - 2 <= _spectral_peak_hz(wide, fs) <= hi_hz + 2, e
        seen.setdefault(e.detail, set()).add(e.unit)
    assert sum(len(units) for units in seen.values()) >= 8
    if shape == "mixed":
        assert {"", "slow"} <= set(seen)


def test_unstable_units_vary_more_than_stable_ones():
    params = load_profile("complex", duration_s=1800, fasc_rate_per_min=60, fasc_units=10,
                          fasc_shape="polyphasic", fasc_unstable_fraction=0.5)
    night = simulate_night(params, 9)
    bank = night.schedule.channels[0].units.fasc
    cv = {}
    for u in range(bank.n_units):
        ptp = np.array([e.peak_to_peak_uv for e in night.truth
                        if e.kind == "fasciculation" and e.unit == u])
        if ptp.size > 30:
            cv.setdefault(bool(bank.unstable[u]), []).append(ptp.std() / ptp.mean())
    assert max(cv[False]) < 0.08  # stable: a few percent
    assert np.median(cv[True]) > np.median(cv[False])


def test_burst_truth_spans_and_ptp_match_the_render():
    params = load_profile("busy-night", duration_s=900, cramp_per_h=16, plm_series_per_h=8,
                          fasc_rate_per_min=0, pop_per_h=0, motion_per_h=0, leadoff_per_h=0,
                          saturation_per_h=0, plm_per_series=(4, 6), cramp_s=(10.0, 40.0),
                          **QUIET_BACKGROUND)
    night = simulate_night(params, 11)
    x = night.data_uv()[0]
    fs = params.sfreq_hz
    kinds = set()
    mask = np.ones(x.size, bool)
    for e in night.truth:
        kinds.add(e.kind)
        seg = x[int(np.floor(e.onset_s * fs)):int(np.ceil(e.stop_s * fs)) + 1]
        assert seg.max() - seg.min() == pytest.approx(e.peak_to_peak_uv, rel=1e-6)
        i0, i1, w = int(round(e.onset_s * fs)), int(round(e.stop_s * fs)), int(0.015 * fs)
        before, first = np.abs(x[i0 - w // 3:i0 - 1]).max(), np.abs(x[i0:i0 + w]).max()
        last, after = np.abs(x[i1 - w:i1]).max(), np.abs(x[i1 + 1:i1 + w // 3]).max()
        assert first > 5 * before and before < 0.02 * e.peak_to_peak_uv  # starts at the onset
        assert last > 5 * after and after < 0.02 * e.peak_to_peak_uv  # ends at the stop
        mask[int((e.onset_s - 0.005) * fs):int((e.stop_s + 0.005) * fs)] = False
    assert {"voluntary", "cramp", "plm", "myoclonus"} <= kinds
    assert np.abs(x[mask]).max() < 5.0


def test_artifacts_in_the_signal():
    params = load_profile("busy-night", duration_s=900, n_channels=2, leadoff_per_h=12,
                          saturation_per_h=12, pop_per_h=12, motion_per_h=12, noise_rms_uv=4.0)
    night = simulate_night(params, 12)
    x = night.data_uv()
    fs, rail = params.sfreq_hz, params.rail_uv
    names = night.info.ch_names
    saturated = np.zeros(x.shape, bool)
    seen = set()
    for e in (e for e in night.truth if e.kind == "artifact"):
        seen.add(e.detail)
        ch = names.index(e.channel)
        span = slice(int(np.ceil(e.onset_s * fs)), int(np.ceil(e.stop_s * fs)))
        seg = x[ch, span]
        if e.detail == "lead-off":
            assert np.ptp(seg) == 0 and abs(seg[0]) < rail
        elif e.detail == "saturation":
            assert np.all(np.abs(seg) == rail)
            saturated[ch, span] = True
        elif e.detail == "pop":
            step = x[ch, int(round(e.onset_s * fs))] - x[ch, int(round(e.onset_s * fs)) - 1]
            assert abs(step) == pytest.approx(e.peak_to_peak_uv, abs=40)
        elif e.detail == "motion":
            f, psd = signal.welch(seg - seg.mean(), fs=fs, nperseg=min(seg.size, int(2 * fs)))
            assert 0.4 <= f[np.argmax(psd)] <= 10.5
            assert np.ptp(seg) > 0.5 * e.peak_to_peak_uv
    assert seen == {"lead-off", "saturation", "pop", "motion"}
    assert np.all(np.abs(x[~saturated]) < rail)


@pytest.mark.parametrize("shared_prob", [0.0, 0.5, 1.0])
def test_pops_of_a_shared_electrode_appear_on_every_channel_of_the_leg(shared_prob):
    params = load_profile("quiet", duration_s=3600, n_channels=4, pop_per_h=40,
                          pop_shared_prob=shared_prob, fasc_rate_per_min=0.0, mains_uv=0.0,
                          wander_uv=0.0, noise_rms_uv=2.0)
    night = simulate_night(params, 5)
    pops = [e for e in night.truth if e.kind == "artifact" and e.detail == "pop"]
    legs = {"left": ["calf_left", "calf_left_2"], "right": ["calf_right", "calf_right_2"]}
    shared = 0
    for e in pops:
        partner = next(c for c in legs["left" if "left" in e.channel else "right"]
                       if c != e.channel)
        same = [o for o in pops if o.channel == partner and abs(o.onset_s - e.onset_s) < 1e-9]
        shared += bool(same)
    n_per_channel = len(pops) / 4
    lo, hi = stats.poisson.ppf([0.0005, 0.9995], 40)
    assert lo <= n_per_channel <= hi
    assert shared / len(pops) == pytest.approx(shared_prob, abs=0.2)
    if shared_prob == 1.0:  # in the signal: the same step, same sign, on both channels at once
        x = night.data_uv()
        fs = params.sfreq_hz
        names = night.info.ch_names
        for e in (e for e in pops if e.channel in ("calf_left", "calf_right")):
            i = int(round(e.onset_s * fs))
            steps = [x[names.index(c), i] - x[names.index(c), i - 1]
                     for c in legs["left" if "left" in e.channel else "right"]]
            assert np.sign(steps[0]) == np.sign(steps[1])
            assert 0.4 <= abs(steps[0] / steps[1]) <= 2.5
            assert min(abs(s) for s in steps) > 100


@pytest.mark.parametrize("chunk_s", [0.013, 1.0, 7.3, 100.0])
def test_samples_do_not_depend_on_chunk_size(chunk_s):
    night = simulate_night(load_profile("busy-night", duration_s=40, n_channels=2,
                                        voluntary_per_h=200, pop_per_h=200), 7)
    whole = night.data_uv()
    start, parts = 0, []
    for chunk in night.chunks(chunk_s):
        assert chunk.start_sample == start and not chunk.gap
        assert chunk.data_uv.dtype == np.float64 and chunk.data_uv.shape[0] == 2
        start += chunk.n_samples
        parts.append(chunk.data_uv)
    assert start == night.n_samples == 40 * 2000
    assert np.array_equal(np.concatenate(parts, axis=1), whole)


def test_same_seed_same_night_and_different_seeds_differ():
    params = load_profile("benign-night", duration_s=30, n_channels=2, voluntary_per_h=300)
    a, b, c = (simulate_night(params, s) for s in (3, 3, 4))
    assert a.truth == b.truth and np.array_equal(a.data_uv(), b.data_uv())
    assert a.truth != c.truth
    assert not np.allclose(a.data_uv(), c.data_uv())
    with pytest.raises(SimulationError):
        simulate_night(params, -1)


def test_voluntary_units_fire_regularly_at_8_to_30_hz():
    params = load_profile("benign-night", duration_s=1800, voluntary_per_h=60, firing_cv=0.1)
    night = simulate_night(params, 13)
    pool = night.schedule.channels[0].pool
    bouts = [e for e in night.truth if e.kind == "voluntary"]
    assert len(bouts) > 10
    medians, cvs = [], []
    for e in bouts:
        inside = (pool.onset_s >= e.onset_s) & (pool.onset_s <= e.stop_s)
        units = pool.unit[inside]
        assert len(set(units.tolist())) >= 5  # many units
        for u in set(units.tolist()) - {0}:  # unit 0 carries the span anchors
            isi = np.diff(np.sort(pool.onset_s[inside][units == u]))
            if isi.size >= 10:
                medians.append(np.median(isi))
                cvs.append(isi[2:-2].std() / isi[2:-2].mean())
    assert 1 / 30 * 0.95 <= min(medians) and max(medians) <= 1 / 8 * 1.05
    assert np.median(cvs) < 0.3  # regular, unlike fasciculations
