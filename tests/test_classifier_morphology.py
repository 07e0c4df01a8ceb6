"""Morphology, units and the night-summary document on hand-made nights."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from test_classifier_events import NOISE_UV, make_night, wave

from classifier.config import default_config
from classifier.morphology import cluster_units
from classifier.night import classify_night
from classifier.summary import SCHEMA, night_summary


def test_two_shapes_make_two_units_with_their_counts():
    rng = np.random.default_rng(0)
    # Irregular times, as twitches come: a train exactly 1 s apart would be a heartbeat's rhythm.
    t_s = 2.0 + np.cumsum(0.1 + np.random.default_rng(1).exponential(1.5, 60))
    cands = [(0, float(t_s[k]), float(rng.uniform(150, 170)), k % 2) for k in range(60)]
    night = make_night(cands=cands)
    night.snippets += rng.normal(0, 2.0, night.snippets.shape).astype(np.float32)
    cn = classify_night(night)
    units = cn.morphology["channels"]["calf_0"]["units"]
    assert sorted(u["count"] for u in units) == [30, 30]
    fasc = cn.events[cn.events["kind"] == "fasciculation"]
    shape = np.array([c[3] for c in sorted(cands, key=lambda c: c[1])])
    for u in (0, 1):  # each unit holds one shape only
        assert len(set(shape[fasc["unit"] == u])) == 1
    assert all(u["stability"] > 0.95 for u in units)
    # Triphasic snippets were given 5 phases: polyphasic fraction is one half.
    assert cn.morphology["polyphasic_fraction"] == pytest.approx(0.5)
    assert "single" in cn.morphology["caveat"] or "surface" in cn.morphology["caveat"]


def test_amplitude_ratio_separates_same_shape_units():
    snips = np.array([wave(100.0)] * 10 + [wave(400.0)] * 10)
    cfg = dataclasses.replace(default_config().morphology, window_s=0.03, min_correlation=0.9,
                              max_amplitude_ratio=1.5, merge_lag_s=0.0, min_members=3,
                              seed_batch=4, max_rounds=6)
    labels = cluster_units(snips, np.array([100.0] * 10 + [400.0] * 10), 1000.0, cfg)
    assert len(set(labels[:10])) == 1 and len(set(labels[10:])) == 1
    assert labels[0] != labels[10]


def test_distributions_match_numpy():
    amps = [60.0, 80.0, 120.0, 250.0, 700.0]
    cn = classify_night(make_night(cands=[(0, 10.0 + 20 * i, a) for i, a in enumerate(amps)]))
    dist = cn.morphology["amplitude_uv"]
    edges = np.array(dist["bin_edges"])
    assert dist["counts"] == np.histogram(amps, bins=edges)[0].tolist()
    assert dist["quantiles"]["p50"] == pytest.approx(np.quantile(amps, 0.5))


def test_night_summary_is_versioned_json():
    night = make_night(n_ch=2, cands=[(0, 10.0, 100.0), (1, 30.0, 90.0)],
                       bursts=[(1, 100.0, 102.0, 30.0)],
                       meta={"meas_date": "2026-01-05T22:00:00+00:00"})
    cn = classify_night(night)
    doc = night_summary(cn, night.meta, night.quality)
    text = json.dumps(doc, allow_nan=False)
    back = json.loads(text)
    assert back["schema"] == SCHEMA and back["schema_version"] == 1
    assert back["fasciculations"] == 2 and "assessment" in back and back["assessment"] is None
    assert set(back["channels"]) == {"calf_0", "calf_1"}
    assert back["channels"]["calf_1"]["counts"]["voluntary"] == 1
    assert back["thresholds"]["events"]["doublet_s"] == [0.005, 0.040]
    assert back["versions"]["numpy"] == np.__version__
    assert back["recording"]["meas_date"].startswith("2026-01-05")
    assert any("PLM" in c for c in back["caveats"])


def test_summary_median_amplitude_reaches_the_history_point():
    from classifier.persistence import NightPoint

    rng = np.random.default_rng(1)
    amplitudes = rng.uniform(80, 400, 40)
    cands = [(0, 2.0 + 1.0 * k, float(a), 0) for k, a in enumerate(amplitudes)]
    start = "2026-11-01T22:00:00+00:00"
    night = make_night(cands=cands, meta={"meas_date": start, "start_utc": start, "start_local": start})
    cn = classify_night(night)
    fasc = cn.events[(cn.events["kind"] == "fasciculation") & ~cn.events["doublet"]]
    summary = night_summary(cn, night.meta, night.quality)
    point = NightPoint.from_summary(json.loads(json.dumps(summary)))
    assert point.median_ptp_uv == pytest.approx(float(np.median(fasc["peak_to_peak_uv"])))


def test_summary_states_the_detection_floor_per_channel():
    """detection_floor_uv = detectable_ptp_k (from the TOML) x the channel's resting noise: the
    RMS of envelope frames away from the potentials and their ringing (channel 0: 5 µV; its
    frames around a 100-µV potential read 50 µV). With under 10 s of quiet frames, the median
    finite noise of the quality windows stands in (channel 1), and without either, None."""
    import tomllib
    from importlib import resources

    from dsp.types import QUALITY_DTYPE

    night = make_night(n_ch=3, cands=[(0, 10.0, 100.0)])
    hop_s = night.hop_s
    night.envelope_uv[0, round(9.99 / hop_s):round(10.25 / hop_s)] = 50.0
    night.envelope_uv[1, round(5.0 / hop_s):] = np.nan  # 5 s of frames left
    night.envelope_uv[2] = np.nan
    q = np.zeros(7, QUALITY_DTYPE)
    q["channel"] = [0, 0, 0, 1, 1, 1, 2]
    q["start"], q["stop"] = np.arange(7) * 1000, np.arange(7) * 1000 + 1000
    q["noise_rms_uv"] = [3.0, 9.0, 4.0, 5.0, np.nan, 7.0, np.nan]
    night = dataclasses.replace(night, quality=q)
    cn = classify_night(night)
    doc = json.loads(json.dumps(night_summary(cn, night.meta, q), allow_nan=False))
    text = resources.files("classifier").joinpath("thresholds.toml").read_text(encoding="utf-8")
    k = tomllib.loads(text)["detection"]["detectable_ptp_k"]
    assert doc["detectable_ptp_k"] == k
    assert doc["channels"]["calf_0"]["detection_floor_uv"] == pytest.approx(k * NOISE_UV)
    assert doc["quality"]["calf_0"]["noise_rms_uv"] == pytest.approx(NOISE_UV)
    assert doc["channels"]["calf_1"]["detection_floor_uv"] == pytest.approx(k * 6.0)
    assert doc["channels"]["calf_2"]["detection_floor_uv"] is None
    assert any("detection_floor_uv" in c for c in doc["caveats"])
    assert any("ecg_beats" in c for c in doc["caveats"])
    assert any("drop independent twitches by chance" in c for c in doc["caveats"])
