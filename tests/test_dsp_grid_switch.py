"""A grid assumed without a hum (dsp._line_track): when a hum at the other grid's frequency comes
later the notches move to it, once; a hum at the assumed grid ends the watch. Checked against the
chain given the right grid, on independent scenes, split anyhow."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import signal
from test_dsp_chain import _run as _run_chain

from dsp._line_track import TrackingFilter
from dsp.filters import StreamingFilter, design_sos

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from bench_accuracy import ind_scene  # noqa: E402

FS = 2000.0
HUM_AT_S = 40.0


def _hum(n: int, line_hz: float, start_s: float, amp_uv: float = 20.0) -> np.ndarray:
    """A hum with a third harmonic from ``start_s`` on (a lamp switched on near the bed)."""
    t = np.arange(n) / FS
    line = 2 * np.pi * line_hz * t
    return amp_uv * (np.sin(line + 0.3) + 0.3 * np.sin(3 * line + 1.0)) * (t >= start_s)


def _late_hum_scene(line_hz: float, seed: int = 81):
    """An independent scene without hum (twitches at 15/min, 4.5 µV of noise) and a 20-µV hum
    at ``line_hz`` from ``HUM_AT_S`` on."""
    data, fs, truth, noise_uv, _, _ = ind_scene(3.0, seed, rate_per_min=15, mains_uv=0.0)
    assert fs == FS
    return data + _hum(data.shape[1], line_hz, HUM_AT_S), truth, noise_uv


def _truth_recall(cand: np.ndarray, truth: np.ndarray, noise_uv: float, after_s: float) -> float:
    """Share of the truth's potentials of 10 x the noise RMS or more after ``after_s`` that a
    candidate's peak falls in (20 ms either side)."""
    fasc = truth[(truth["kind"] == "fasciculation") & (truth["onset_s"] >= after_s)
                 & (truth["ptp_uv"] >= 10.0 * noise_uv)]
    t = cand["peak"] / FS
    found = [np.any((t >= r["onset_s"] - 0.02) & (t <= r["onset_s"] + r["duration_s"] + 0.02))
             for r in fasc]
    return float(np.mean(found))


def test_a_later_hum_at_the_other_grid_moves_the_notches():
    """No hum in the first 40 s, then 20 µV at 60 Hz: 50 Hz is assumed, and within 10 s of the
    hum the notches sit on 60 Hz. From 5 s after that the noise floor is the one the chain given
    60 Hz reads (within 10 %), the potentials of >= 10 x the noise are found as they are there,
    and the quality windows measure the hum at 60 Hz."""
    data, truth, noise_uv = _late_hum_scene(60.0)
    out, chain = _run_chain(data, mains_hz=None)
    given, _ = _run_chain(data, mains_hz=60.0)
    assert chain.mains_assumed and chain.mains_hz == 60.0
    assert abs(chain.line_hz - 60.0) < 0.01
    assert HUM_AT_S * FS < chain.mains_switch_sample <= (HUM_AT_S + 10.0) * FS
    settled = chain.mains_switch_sample / FS + 5.0
    frames = np.arange(out.noise_uv.shape[1]) * chain.grid.hop_samples / FS >= settled
    floor, floor_given = np.median(out.noise_uv[0, frames]), np.median(given.noise_uv[0, frames])
    assert floor == pytest.approx(floor_given, rel=0.1)
    assert floor < 2.0 * noise_uv
    recall = _truth_recall(out.candidates, truth, noise_uv, settled)
    assert recall >= 0.95
    assert recall >= _truth_recall(given.candidates, truth, noise_uv, settled) - 0.02
    q = out.quality
    after = q["start"] >= chain.mains_switch_sample
    assert np.all(q["mains_fraction"][after] > 0.5)
    assert np.all(q["mains_fraction"][q["stop"] <= HUM_AT_S * FS] < 0.1)


def test_the_switch_does_not_depend_on_the_split():
    data, _, _ = _late_hum_scene(60.0, seed=82)
    data = data[:, : int(80 * FS)]
    whole, chain = _run_chain(data, mains_hz=None)
    parts, chain_parts = _run_chain(data, mains_hz=None, sizes=[997, 1, 4096, 333, 25000])
    assert chain.mains_switch_sample == chain_parts.mains_switch_sample is not None
    np.testing.assert_array_equal(parts.candidates, whole.candidates)
    np.testing.assert_array_equal(parts.snippets, whole.snippets)
    np.testing.assert_array_equal(parts.quality, whole.quality)


@pytest.mark.parametrize("line_hz", [None, 50.0])
def test_no_hum_or_one_at_the_assumed_grid_leaves_the_notches(line_hz):
    """Without any hum, or with a later one at the grid assumed, the notches stay at 50 Hz."""
    data, fs, _, _, _, _ = ind_scene(2.0, 83, rate_per_min=15, mains_uv=0.0)
    if line_hz is not None:
        data = data + _hum(data.shape[1], line_hz, HUM_AT_S)
    _, chain = _run_chain(data, mains_hz=None)
    assert chain.mains_assumed and chain.mains_hz == 50.0
    assert chain.mains_switch_sample is None


def _design(sfreq_hz: float):
    return lambda hz: design_sos(sfreq_hz, (20.0, 450.0), hz)


def test_a_hum_at_the_assumed_grid_ends_the_watch():
    """A place has one grid: once the assumed grid's line stood out, a line at the other one
    that comes later does not move the notches."""
    n = int(60 * FS)
    x = np.random.default_rng(4).normal(0.0, 4.5, n) + _hum(n, 50.0, 10.0) + _hum(n, 60.0, 30.0)
    filt = TrackingFilter(_design(FS), 50.0, FS, 1, 5.0, 10.0, watch_hz=60.0)
    filt.advance_into(x[None], np.empty((1, n)))
    assert filt.watch_hz is None and filt.switched_at is None


def test_the_cascade_has_room_for_either_grid_from_the_start():
    """At 4 kHz a 50-Hz grid has more notches than a 60-Hz one: the filter started on 60 Hz with
    the 50-Hz grid watched has the latency of the longer cascade, and keeps it."""
    design = _design(4000.0)
    longer = StreamingFilter(design(50.0), 1).latency_samples
    assert StreamingFilter(design(60.0), 1).latency_samples < longer
    filt = TrackingFilter(design, 60.0, 4000.0, 1, 5.0, 10.0, watch_hz=50.0)
    assert filt.latency_samples == longer
    n = int(40 * 4000.0)
    t = np.arange(n) / 4000.0
    noise = np.random.default_rng(5).normal(0.0, 4.5, n)
    x = noise + 20.0 * np.sin(2 * np.pi * 50.0 * t) * (t >= 10.0)
    y = np.empty((1, n))
    filt.advance_into(x[None], y)
    assert filt.switched_at is not None and filt.latency_samples == longer
    settled = filt.switched_at + int(5 * 4000.0)
    reference = signal.sosfilt(design(50.0), noise)[settled:n - longer]
    assert np.std(y[0, settled + longer:]) < 1.1 * np.std(reference)
