"""Event kinds, rest and rates on hand-made nights (candidates and envelopes built by the test)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classifier.config import EventRules, config_with, load_config
from classifier.kinds import CRAMP, FASCICULATION, MYOCLONUS, PLM, VOLUNTARY
from classifier.night import NightData, classify_night
from dsp.types import (
    CANDIDATE_DTYPE,
    ENVELOPE_HOP_S,
    FEATURE_DTYPE,
    QUALITY_DTYPE,
    SNIPPET_LEN,
)

SF = 1000.0
NOISE_UV = 5.0


def wave(ptp_uv: float, kind: int = 0) -> np.ndarray:
    """A peak-centred snippet: biphasic (kind 0) or triphasic (kind 1) with the given p-p."""
    x = (np.arange(SNIPPET_LEN) - SNIPPET_LEN // 2) / SF
    if kind == 0:
        w = -x / 0.002 * np.exp(-(x / 0.003) ** 2)
    else:
        w = np.cos(2 * np.pi * 120 * x) * np.exp(-(x / 0.004) ** 2)
    return (w / (w.max() - w.min()) * ptp_uv).astype(np.float32)


def make_night(duration_s=300.0, n_ch=1, cands=(), bursts=(), flats=(), meta=None) -> NightData:
    """``cands``: (channel, time_s, ptp_uv[, shape[, continuous[, joined]]]); ``bursts``/``flats``:
    (channel, t0, t1, rms)."""
    hop = round(ENVELOPE_HOP_S * SF)
    n_frames = int(duration_s * SF) // hop
    env = np.full((n_ch, n_frames), NOISE_UV)
    for ch, a, b, rms in list(bursts) + list(flats):
        env[ch, int(a * SF) // hop: int(b * SF) // hop] = rms
    cands = sorted(cands, key=lambda c: (c[1], c[0]))
    c = np.zeros(len(cands), CANDIDATE_DTYPE)
    f = np.zeros(len(cands), FEATURE_DTYPE)
    snips = np.zeros((len(cands), SNIPPET_LEN), np.float32)
    for i, item in enumerate(cands):
        ch, t, ptp = item[:3]
        shape = item[3] if len(item) > 3 else 0
        continuous = item[4] if len(item) > 4 else False
        joined = item[5] if len(item) > 5 else False
        peak = int(round(t * SF))
        snips[i] = wave(ptp, shape)
        energy = float(np.sum(snips[i].astype(float) ** 2) / SF)
        c[i] = (ch, peak - 5, peak + 7, peak, ptp / 2, ptp, NOISE_UV, continuous, joined, 0.0,
                energy)
        f[i] = (ptp, 0.012, 3 if shape == 0 else 5, 3, ptp * 0.005, 0.005, 120.0)
    return NightData(c, f, snips, env, np.full((n_ch, n_frames), NOISE_UV), 0,
                     np.zeros(0, QUALITY_DTYPE),
                     SF, [f"calf_{i}" for i in range(n_ch)], int(duration_s * SF),
                     meta=dict(meta or {}))


def twitching(rate_per_min: float, duration_s: float = 300.0, channel: int = 0) -> list:
    """Twitches of another shape at ``rate_per_min``, evenly spaced, none within 10 s of 100 s:
    the channel's background against which potentials near 100 s are judged."""
    t = np.arange(60.0 / rate_per_min / 2, duration_s, 60.0 / rate_per_min)
    return [(channel, float(x), 120.0, 1) for x in t[np.abs(t - 100.0) > 10.0]]


def kinds(cn, kind, doublets=False):
    ev = cn.events
    return ev[(ev["kind"] == kind) & (ev["doublet"] == doublets)]


def test_isolated_candidate_in_quiet_rest_is_a_fasciculation():
    cn = classify_night(make_night(cands=[(0, 100.0, 120.0), (0, 200.0, 90.0)]))
    fasc = kinds(cn, FASCICULATION)
    assert len(fasc) == 2 and len(cn.events) == 2
    assert fasc["onset_s"] == pytest.approx([99.995, 199.995])
    rest = cn.rates["channels"]["calf_0"]["rest_minutes"]
    assert rest == pytest.approx(5.0)
    # per minute of live rest: rest less the two candidates' spans (12 samples each)
    assert cn.rates["blind_minutes"] == pytest.approx(2 * 12 / SF / 60)
    assert cn.rates["fasciculations_per_min_rest"] == pytest.approx(2 / (5.0 - 2 * 12 / SF / 60))


def test_ten_hz_train_is_voluntary_not_fasciculations():
    train = [(0, 50.0 + k * 0.1, 150.0) for k in range(30)]
    cn = classify_night(make_night(cands=train + [(0, 150.0, 150.0)]))
    assert len(kinds(cn, VOLUNTARY)) == 1
    vol = kinds(cn, VOLUNTARY)[0]
    assert vol["onset_s"] <= 50.0 and vol["onset_s"] + vol["duration_s"] >= 52.9
    fasc = kinds(cn, FASCICULATION)
    assert fasc["onset_s"] == pytest.approx([149.995])
    # The train is not rest: 2.9 s plus two margins of 0.5 s are gone.
    assert cn.rest["calf_0"].minutes == pytest.approx((300 - 2.912 - 1.0) / 60, abs=1e-3)


def test_train_rate_limits_come_from_the_configuration():
    train = [(0, 50.0 + k * 0.3, 150.0) for k in range(10)]  # 3.3 Hz: slower than 5 Hz firing
    night = make_night(cands=train)
    cn = classify_night(night)  # tonic firing that slow is a slow train
    assert len(kinds(cn, FASCICULATION)) == 0 and len(kinds(cn, VOLUNTARY)) == 1
    no_slow = {"slow_train_interval_s": [0.2, 0.25]}
    assert len(kinds(classify_night(night, config_with({"events": no_slow})), FASCICULATION)) == 10
    cn = classify_night(night, config_with({"events": {**no_slow,
                                                       "train_interval_s": [0.033, 0.4]}}))
    assert len(kinds(cn, FASCICULATION)) == 0 and len(kinds(cn, VOLUNTARY)) == 1


def test_neighbours_of_other_units_are_each_a_fasciculation():
    """Independent units: potentials 60-250 ms apart with a return to baseline are separate
    twitches, whatever their number, unless one unit repeats regularly."""
    rng = np.random.default_rng(7)
    times = 60.0 + np.cumsum(rng.uniform(0.06, 0.25, 12))
    cands = [(0, t, 100.0 + 40 * (k % 4), k % 2) for k, t in enumerate(times)]
    cn = classify_night(make_night(cands=cands))
    assert cn.count(FASCICULATION) + cn.rates["doublets"] == 12
    assert len(kinds(cn, VOLUNTARY)) == 0 and len(kinds(cn, MYOCLONUS)) == 0


def test_doublet_is_marked_and_not_counted():
    cn = classify_night(make_night(cands=[(0, 100.0, 200.0), (0, 100.032, 150.0)]))
    assert len(kinds(cn, FASCICULATION)) == 1
    dbl = kinds(cn, FASCICULATION, doublets=True)
    assert len(dbl) == 1 and dbl[0]["detail"] == "doublet"
    assert cn.count(FASCICULATION) == 1 and cn.rates["doublets"] == 1
    # 10 ms later, the same shape: a doublet too; a third 15 ms after that makes a triplet.
    cn = classify_night(make_night(cands=[(0, 100.0, 200.0), (0, 100.010, 190.0),
                                          (0, 100.025, 180.0)]))
    assert cn.count(FASCICULATION) == 1 and cn.rates["doublets"] == 2
    # 60 ms later is no doublet: two fasciculations (where the channel twitches a few times a
    # minute, chance puts two so close; classifier.potentials.unlikely_clusters).
    other = twitching(3.0)
    cn = classify_night(make_night(cands=[(0, 100.0, 200.0), (0, 100.060, 150.0)] + other))
    assert cn.count(FASCICULATION) == 2 + len(other) and cn.rates["doublets"] == 0


def test_other_shapes_within_the_jerk_link_are_a_jerk_only_in_threes():
    """Two potentials of different shapes 20 ms apart are two twitches where the channel
    twitches a few times a minute (independent units fall that close by chance); a third within
    50 ms makes a run no chance explains: a jerk. On a channel without other twitches the pair
    alone is no chance either."""
    other = twitching(3.0)
    cn = classify_night(make_night(cands=[(0, 100.0, 200.0), (0, 100.020, 150.0, 1)] + other))
    assert cn.count(FASCICULATION) == 2 + len(other) and len(kinds(cn, MYOCLONUS)) == 0
    cn = classify_night(make_night(cands=[(0, 100.0, 200.0), (0, 100.020, 150.0, 1)]))
    assert cn.count(FASCICULATION) == 0 and len(kinds(cn, MYOCLONUS)) == 1
    cn = classify_night(make_night(cands=[(0, 100.0, 200.0), (0, 100.020, 150.0, 1),
                                          (0, 100.060, 300.0, 0)]))
    assert cn.count(FASCICULATION) == 0 and len(kinds(cn, MYOCLONUS)) == 1


def test_a_unit_below_the_floor_links_a_run_of_a_jerk():
    """Units of a jerk 30 ms apart, the middle one under the counting floor (30 µV at 5 µV
    noise): a run of three, one jerk, no twitch."""
    cn = classify_night(make_night(cands=[(0, 100.0, 200.0), (0, 100.030, 30.0, 1),
                                          (0, 100.060, 150.0, 0)]))
    assert cn.count(FASCICULATION) == 0 and len(kinds(cn, MYOCLONUS)) == 1


def test_potentials_at_the_edges_of_a_jerk_are_its_units():
    """A piece of compound activity with discrete potentials after it, each starting 8 and 32 ms
    after the one before ends, and one ending 20 ms before it (the first unit recruited): one
    jerk of about 110 ms, no twitch. A potential starting 150 ms after the compound, or ending
    150 ms before it, is a fasciculation of its own."""
    pieces = [(0, 100.0, 300.0, 0, True), (0, 100.020, 250.0, 0, False)]
    for edges in ([(0, 99.968, 150.0, 1), (0, 100.064, 150.0, 1)], [(0, 99.968, 150.0, 1)]):
        cn = classify_night(make_night(cands=pieces + edges))
        assert len(kinds(cn, MYOCLONUS)) == 1 and cn.count(FASCICULATION) == 0
    for apart in ((0, 100.180, 150.0, 1), (0, 99.838, 150.0, 1)):
        cn = classify_night(make_night(cands=pieces + [apart]))
        assert len(kinds(cn, MYOCLONUS)) == 1 and cn.count(FASCICULATION) == 1


def test_copies_of_one_shape_reached_without_a_return_to_baseline_are_a_doublet():
    """A unit's second discharge 12 or 30 ms after its first, reached from it without a return
    to baseline: a doublet (the first counted, the second marked), neither one potential in
    pieces nor a jerk."""
    for lag_s in (0.012, 0.030):
        cn = classify_night(make_night(cands=[(0, 100.0, 100.0),
                                              (0, 100.0 + lag_s, 120.0, 0, False, True)]))
        assert cn.count(FASCICULATION) == 1 and len(kinds(cn, MYOCLONUS)) == 0
        assert int(cn.events["doublet"].sum()) == 1


def test_pieces_of_one_potential_are_one_fasciculation():
    """The detector cuts a slow potential where it dips between phases; pieces reached without
    a return to baseline that span 24 ms with 6 phases are one potential, counted once at its
    largest piece. Pieces spanning 42 ms are more than one potential lasts: a jerk. (The pieces
    are of different shapes: copies of one shape so close are a doublet's discharges.)"""
    cn = classify_night(make_night(cands=[(0, 100.0, 80.0), (0, 100.012, 120.0, 1, False, True)]))
    fasc = kinds(cn, FASCICULATION)
    assert cn.count(FASCICULATION) == 1 and len(kinds(cn, MYOCLONUS)) == 0
    assert fasc["peak_to_peak_uv"][0] == 120.0
    cn = classify_night(make_night(cands=[(0, 100.0, 80.0), (0, 100.030, 120.0, 1, False, True)]))
    assert cn.count(FASCICULATION) == 0 and len(kinds(cn, MYOCLONUS)) == 1


def test_a_potential_with_a_small_lead_in_reached_without_return_is_one_fasciculation():
    """Pieces spanning 42 ms as above, but the first is a quarter of the second's size and under
    the floor: a potential with its slow lead-in (the lobes a surface potential's non-propagating
    components leave after the band-pass), not units superimposed. One fasciculation at its
    large piece; with a lead-in two fifths of its size, two units: a jerk."""
    floor_uv = load_config().detection.detectable_ptp_k * NOISE_UV
    cn = classify_night(make_night(cands=[(0, 100.0, 30.0), (0, 100.030, 120.0, 1, False, True)]))
    assert 30.0 < floor_uv <= 120.0
    fasc = kinds(cn, FASCICULATION)
    assert cn.count(FASCICULATION) == 1 and len(kinds(cn, MYOCLONUS)) == 0
    assert fasc["peak_to_peak_uv"][0] == 120.0
    cn = classify_night(make_night(cands=[(0, 100.0, 48.0), (0, 100.030, 120.0, 1, False, True)]))
    assert cn.count(FASCICULATION) == 0 and len(kinds(cn, MYOCLONUS)) == 1


def test_brief_multi_unit_group_is_myoclonus_and_keeps_rest():
    jerk = [(0, 80.0 + k * 0.012, 100.0 + 10 * k, 0, k < 4) for k in range(5)]
    cn = classify_night(make_night(cands=jerk, bursts=[(0, 80.0, 80.1, 30.0)]))
    assert len(kinds(cn, MYOCLONUS)) == 1 and cn.count(FASCICULATION) == 0
    assert cn.rest["calf_0"].minutes == pytest.approx(5.0)


def test_series_of_four_bursts_twenty_seconds_apart_are_plm():
    bursts = [(0, 40.0 + 20 * k, 42.0 + 20 * k, 25.0) for k in range(4)]
    cn = classify_night(make_night(duration_s=600, bursts=bursts))
    plm = kinds(cn, PLM)
    assert len(plm) == 4
    assert plm["onset_s"] == pytest.approx([40.0, 60.0, 80.0, 100.0])
    assert cn.rates["plm_index_per_h"] == pytest.approx(4 / (600 / 3600))
    # Three are no series: voluntary movements.
    cn = classify_night(make_night(duration_s=600, bursts=bursts[:3]))
    assert len(kinds(cn, PLM)) == 0 and len(kinds(cn, VOLUNTARY)) == 3


def test_irregular_or_slow_chains_of_movements_are_not_plm():
    # Valid AASM intervals (5-90 s) but not periodic: 60-80 s apart, a median far above 20-40 s.
    slow = [(0, 40.0 + t, 42.0 + t, 25.0) for t in (0.0, 70.0, 130.0, 210.0, 275.0)]
    cn = classify_night(make_night(duration_s=600, bursts=slow))
    assert len(kinds(cn, PLM)) == 0 and len(kinds(cn, VOLUNTARY)) == 5
    assert cn.rates["plm_index_per_h"] == 0
    # A regular series of five, 25 s apart, keeps its members; a movement 8 s before it and one
    # 75 s after it are out of step (more than 2x off the median interval) and stay voluntary.
    series = [(0, 100.0 + 25 * k, 102.0 + 25 * k, 25.0) for k in range(5)]
    extra = [(0, 92.0, 93.5, 25.0), (0, 275.0, 277.0, 25.0)]
    cn = classify_night(make_night(duration_s=600, bursts=series + extra))
    assert kinds(cn, PLM)["onset_s"] == pytest.approx([100.0 + 25 * k for k in range(5)])
    assert sorted(kinds(cn, VOLUNTARY)["onset_s"]) == pytest.approx([92.0, 275.0])


def test_burst_at_the_edge_of_a_flat_stretch_is_an_artifact():
    cn = classify_night(make_night(duration_s=600, flats=[(0, 100.0, 130.0, 0.0)],
                                   bursts=[(0, 130.0, 131.0, 25.0)]))
    assert len(kinds(cn, VOLUNTARY)) == 0 and len(kinds(cn, PLM)) == 0


def test_plm_interval_limits_break_a_series():
    bursts = [(0, 40.0 + 20 * k, 42.0 + 20 * k, 25.0) for k in range(4)]
    bursts += [(0, 300.0 + 20 * k, 302.0 + 20 * k, 25.0) for k in range(3)]  # 200 s gap > 90 s
    cn = classify_night(make_night(duration_s=600, bursts=bursts))
    assert len(kinds(cn, PLM)) == 4


def _burst_of(cands: list, t0_s: float, t1_s: float) -> tuple:
    """The envelope burst over [t0_s, t1_s] whose energy is exactly that of ``cands``."""
    snip = [wave(ptp, shape).astype(float) for _, _, ptp, shape in cands]
    energy_uv2_s = sum(float(np.sum(w**2)) / SF for w in snip)
    return (0, t0_s, t1_s, float(np.sqrt(energy_uv2_s / (t1_s - t0_s))))


def test_plm_cut_into_discrete_potentials_is_still_a_movement():
    """At 500 Hz the detector cuts a PLM's interference pattern into discrete potentials, none
    flagged continuous, whose energy is the whole burst's. Firing at 25 per second is the movement
    itself, not independent twitches: four such bursts 20 s apart are a PLM series. The same
    energy in two large twitches 0.3 s apart is no movement: two fasciculations."""
    cands, bursts = [], []
    for k in range(4):
        t0 = 40.0 + 20 * k
        fire = [(0, t0 + 0.02 + 0.04 * i, 150.0, i % 2) for i in range(50)]
        cands += fire
        bursts.append(_burst_of(fire, t0, t0 + 2.0))
    cn = classify_night(make_night(duration_s=600, cands=cands, bursts=bursts))
    assert kinds(cn, PLM)["onset_s"] == pytest.approx([40.0, 60.0, 80.0, 100.0])
    assert cn.count(FASCICULATION) == 0
    twitches = [(0, 200.1, 1500.0, 0), (0, 200.4, 1500.0, 1)]
    cn = classify_night(make_night(duration_s=600, cands=twitches,
                                   bursts=[_burst_of(twitches, 200.0, 200.6)]))
    assert cn.count(FASCICULATION) == 2
    assert len(kinds(cn, VOLUNTARY)) == 0 and len(kinds(cn, PLM)) == 0


def test_long_loud_burst_is_a_cramp_and_long_moderate_one_voluntary():
    # A cramp: sudden, loud, then fading out (self-extinguishing).
    cramp = [(0, 100.0, 115.0, 20 * NOISE_UV), (0, 115.0, 123.0, 12 * NOISE_UV),
             (0, 123.0, 130.0, 4 * NOISE_UV)]
    cn = classify_night(make_night(bursts=cramp + [(0, 200.0, 230.0, 4 * NOISE_UV)]))
    assert kinds(cn, CRAMP)["onset_s"] == pytest.approx([100.0])
    assert kinds(cn, VOLUNTARY)["onset_s"] == pytest.approx([200.0])


def test_long_loud_steady_burst_without_decline_is_voluntary():
    cn = classify_night(make_night(bursts=[(0, 100.0, 113.0, 15 * NOISE_UV)]))
    assert len(kinds(cn, CRAMP)) == 0
    assert kinds(cn, VOLUNTARY)["onset_s"] == pytest.approx([100.0])


def test_candidates_inside_bursts_are_not_fasciculations():
    cands = [(0, 101.0, 100.0), (0, 103.0, 100.0), (0, 250.0, 100.0)]
    cn = classify_night(make_night(cands=cands, bursts=[(0, 100.0, 105.0, 20.0)]))
    assert kinds(cn, FASCICULATION)["onset_s"] == pytest.approx([249.995])
    # One just after the burst, inside the 0.5 s rest margin, is not counted either.
    cn = classify_night(make_night(cands=[(0, 105.3, 100.0)], bursts=[(0, 100.0, 105.0, 20.0)]))
    assert cn.count(FASCICULATION) == 0


def test_flat_stretch_is_an_artifact_and_not_rest():
    cn = classify_night(make_night(flats=[(0, 100.0, 110.0, 0.0)]))
    art = cn.events[cn.events["kind"] == "artifact"]
    assert len(art) == 1 and art[0]["detail"] == "flat"
    edge = load_config().events.flat_edge_s + load_config().rest.margin_s
    assert cn.rest["calf_0"].minutes == pytest.approx((300 - 10 - 2 * edge) / 60)


def test_channels_are_independent_and_pooled():
    night = make_night(n_ch=2, cands=[(0, 10.0, 100.0), (1, 20.0, 100.0), (1, 40.0, 100.0)],
                       bursts=[(1, 100.0, 160.0, 4 * NOISE_UV)])
    cn = classify_night(night)
    ch = cn.rates["channels"]
    assert ch["calf_0"]["fasciculations"] == 1 and ch["calf_1"]["fasciculations"] == 2
    assert ch["calf_0"]["rest_minutes"] == pytest.approx(5.0)
    assert ch["calf_1"]["rest_minutes"] == pytest.approx((300 - 61) / 60)
    assert cn.rates["fasciculations_per_min_rest"] == pytest.approx(
        3 / (10 - 61 / 60 - 3 * 12 / SF / 60))


def test_per_hour_rates_follow_clock_hours():
    cands = [(0, 60.0 * k + 5, 100.0) for k in range(100)]  # one per minute for 100 min
    night = make_night(duration_s=6000.0, cands=cands,
                       meta={"meas_date": "2026-01-05T22:30:00+00:00"})
    hours = classify_night(night).rates["channels"]["calf_0"]["hours"]
    assert [h["hour"][:13] for h in hours] == ["2026-01-05T22", "2026-01-05T23", "2026-01-06T00"]
    assert [h["fasciculations"] for h in hours] == [30, 60, 10]
    assert [h["rest_minutes"] for h in hours] == pytest.approx([30.0, 60.0, 10.0])


def test_classification_is_deterministic():
    rng = np.random.default_rng(3)
    cands = [(int(c), float(t), float(a)) for c, t, a in
             zip(rng.integers(0, 2, 400), rng.uniform(1, 599, 400), rng.uniform(40, 400, 400),
                 strict=True)]
    night = make_night(duration_s=600, n_ch=2, cands=cands, bursts=[(0, 50, 60, 30.0)])
    a, b = classify_night(night), classify_night(night)
    assert np.array_equal(a.events, b.events)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(1, 290), st.floats(0.6, 20)), max_size=8),
       st.lists(st.floats(1, 299), max_size=30))
def test_rest_is_the_night_minus_widened_non_rest_events(bursts, times):
    night = make_night(cands=[(0, t, 100.0) for t in times],
                       bursts=[(0, a, min(a + d, 299.0), 30.0) for a, d in bursts])
    cn = classify_night(night)
    margin = cn.config.rest.margin_s
    grid = np.arange(0, 300, 0.01) + 0.005
    busy = np.zeros(len(grid), bool)
    for e in cn.events[np.isin(cn.events["kind"], ["plm", "cramp", "voluntary", "artifact"])]:
        busy |= (grid >= e["onset_s"] - margin) & (grid < e["onset_s"] + e["duration_s"] + margin)
    assert cn.rest["calf_0"].minutes == pytest.approx((~busy).sum() * 0.01 / 60, abs=0.01 / 60 * 4)
    fasc = kinds(cn, FASCICULATION)
    assert len(fasc) <= len(times)
    for t in fasc["onset_s"]:
        assert not busy[min(int(t / 0.01), len(grid) - 1)]


def test_time_the_chain_could_not_measure_is_not_rest():
    # After a flat stretch the chain's rolling noise floor can stay near zero: no potential can be
    # found there, so that time is not rest (rates would otherwise be too low).
    night = make_night(duration_s=300.0)
    hop = night.hop_s
    night.noise_uv[0, int(100 / hop): int(120 / hop)] = 1e-25
    cn = classify_night(night)
    assert cn.rest["calf_0"].minutes == pytest.approx((300 - 20) / 60)


def _rest_level_reference(noise_uv: np.ndarray, hop_s: float, cfg: EventRules) -> np.ndarray:
    """All channels at once with numpy's own nanmedian/nanquantile (the original formulation)."""
    import warnings

    n_ch, n = noise_uv.shape
    per = max(1, round(cfg.baseline_block_s / hop_s))
    nb = -(-n // per)
    padded = np.full((n_ch, nb * per), np.nan)
    padded[:, :n] = noise_uv
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        blocks = np.nanmedian(padded.reshape(n_ch, nb, per), axis=2)
        half = max(0, round(cfg.baseline_window_s / (2 * per * hop_s)))
        wide = np.pad(blocks, ((0, 0), (half, half)), constant_values=np.nan)
        win = np.lib.stride_tricks.sliding_window_view(wide, 2 * half + 1, axis=1)
        level = np.nanquantile(win, cfg.baseline_quantile, axis=-1)
        fallback = np.nanmedian(noise_uv, axis=1, keepdims=True)
    level = np.where(np.isfinite(level), level, np.nan_to_num(fallback, nan=1.0))
    return np.repeat(np.maximum(level, 1e-3), per, axis=1)[:, :n]


def test_a_long_flat_stretch_leaves_the_resting_level_alone():
    """A lead off for the first 2 of 5 minutes, where the chain's noise floor is zero: left in,
    it made the resting level zero for minutes around it, every frame after it "active" and one
    burst at the flat's edge that took the rest of the night out of rest."""
    night = make_night(duration_s=300.0, cands=[(0, t, 100.0) for t in (150.0, 200.0, 250.0)],
                       flats=[(0, 0.0, 120.0, 0.0)])
    night.noise_uv[0, : int(120 / night.hop_s)] = 0.0
    cn = classify_night(night)
    assert [str(e["detail"]) for e in cn.events if e["kind"] == "artifact"] == ["flat"]
    edge = load_config().events.flat_edge_s + load_config().rest.margin_s
    assert cn.rest["calf_0"].minutes == pytest.approx((300 - 120 - edge) / 60, abs=0.01)
    assert cn.count(FASCICULATION) == 3


def test_rest_level_per_channel_equals_all_channels_at_once():
    """A small 4-channel night with gaps, an all-NaN channel and a loud stretch."""
    from classifier.events import rest_level

    cfg = dataclasses.replace(load_config().events, baseline_block_s=1.0, baseline_window_s=20.0)
    hop_s = 0.05
    rng = np.random.default_rng(7)
    noise = rng.uniform(2.0, 8.0, (4, 1234))
    noise[1, 300:700] *= 30.0  # sustained activity
    noise[2, 100:450] = np.nan  # a gap longer than the window
    noise[3] = np.nan  # a channel the chain never measured
    got = rest_level(noise, hop_s, cfg)
    np.testing.assert_allclose(got, _rest_level_reference(noise, hop_s, cfg), rtol=1e-12)
    for ch in range(4):
        np.testing.assert_array_equal(got[ch], rest_level(noise[ch:ch + 1], hop_s, cfg)[0])
