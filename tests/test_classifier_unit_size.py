"""A potential near the floor is sized over its unit's discharges (classifier.unit_size)."""

from __future__ import annotations

import numpy as np
from accuracy_scoring import fasciculation_onsets, run_calfwatch, score_detections
from hermite_shapes import hermite_templates
from independent_scenes import SceneSpec, make_scene
from scipy import signal

from classifier.config import default_config
from classifier.similarity import half_window, shape_similarity
from classifier.unit_size import unit_min_correlation, unit_sizes_uv
from dsp.filters import design_sos
from dsp.types import CANDIDATE_DTYPE, SNIPPET_LEN

CFG = default_config().events


def plain_unit_sizes(cand, snips, size, floor, sfreq_hz, cfg, pool):
    """The rule of classifier.unit_size written as a plain loop over the candidates."""
    out = size.astype(float).copy()
    members = [int(p) for p in np.flatnonzero(pool)]
    half = half_window(snips, sfreq_hz, cfg)
    min_corr = unit_min_correlation(sfreq_hz, half, cfg)
    lo, hi = cfg.unit_size_band
    for n, i in enumerate(members):
        if not lo * floor[i] <= size[i] < hi * floor[i]:
            continue
        near = members[max(0, n - cfg.unit_size_neighbours):n]
        near += members[n + 1:n + 1 + cfg.unit_size_neighbours]
        alike = []
        for j in near:
            ratio = max(size[i], size[j]) / min(size[i], size[j])
            r = shape_similarity(snips, np.array([i]), np.array([j]), half)[0]
            if ratio <= cfg.train_max_amplitude_ratio and r >= min_corr:
                alike.append(size[j])
        if len(alike) >= cfg.unit_min_repeats:
            out[i] = np.median([size[i], *alike])
    return out


def random_candidates(rng, n, n_units):
    """Candidates of a few units (a shape each, sizes around its own) among noise peaks."""
    t = np.arange(SNIPPET_LEN) - SNIPPET_LEN // 2
    shapes = [np.sin(2 * np.pi * t / rng.uniform(8, 30) + rng.uniform(0, 6))
              * np.exp(-(t / rng.uniform(5, 15)) ** 2) for _ in range(n_units)]
    unit = rng.integers(-1, n_units, n)  # -1: a noise peak
    snips = rng.normal(0, 0.15, (n, SNIPPET_LEN))
    size = rng.uniform(20.0, 60.0, n)
    for k in range(n_units):
        snips[unit == k] += shapes[k]
        size[unit == k] = rng.normal(35.0 + 5 * k, 3.0, int(np.sum(unit == k)))
    cand = np.zeros(n, CANDIDATE_DTYPE)
    cand["peak"] = np.sort(rng.choice(10**7, n, replace=False))
    return cand, snips.astype(np.float32), size


def test_unit_sizes_match_a_plain_loop():
    """The vectorised rule gives what the plain loop gives, candidate for candidate, with
    candidates left out of the pool (pops, continuous activity) and at several rates."""
    rng = np.random.default_rng(5)
    for sfreq_hz, n in ((2000.0, 300), (1000.0, 150), (500.0, 200), (4000.0, 120)):
        cand, snips, size = random_candidates(rng, n, 3)
        pool = rng.random(n) > 0.1
        floor = np.full(n, 38.0)
        got = unit_sizes_uv(cand, snips, size, floor, sfreq_hz, CFG, pool)
        want = plain_unit_sizes(cand, snips, size, floor, sfreq_hz, CFG, pool)
        np.testing.assert_allclose(got, want)
        assert np.sum(got != size) > 0.05 * n  # the rule acts on these candidates


def noise_peak_snippets(sfreq_hz: float, seconds: float, rng) -> np.ndarray:
    """Snippets of Gaussian noise through the detection band, centred on peaks past 3 sigma."""
    x = signal.sosfilt(design_sos(sfreq_hz, (20.0, 450.0), None, 4),
                       rng.standard_normal(int(sfreq_hz * seconds)))
    height = 3 * np.median(np.abs(x)) / 0.6745
    peaks, _ = signal.find_peaks(np.abs(x), height=height, distance=int(0.05 * sfreq_hz))
    peaks = peaks[(peaks > SNIPPET_LEN) & (peaks < len(x) - SNIPPET_LEN)][:400]
    return np.stack([x[p - SNIPPET_LEN // 2:p + SNIPPET_LEN // 2] for p in peaks])


def chance_alike(snips: np.ndarray, sfreq_hz: float, min_corr: float) -> float:
    """Share of pairs of noise peaks whose shapes correlate at ``min_corr`` or more."""
    i, j = np.triu_indices(len(snips), 1)
    return float(np.mean(shape_similarity(snips, i, j, half_window(snips, sfreq_hz, CFG))
                         >= min_corr))


def test_the_shape_threshold_keeps_the_chance_of_noise_alike_at_500_hz():
    """Noise peaks in the narrower band of a 500-Hz sensor look alike by chance far more often
    than in the full band (0.026 of pairs at 0.8, against 0.0004 at 2 kHz); the raised threshold
    brings the chance back to the full band's."""
    rng = np.random.default_rng(11)
    full = noise_peak_snippets(2000.0, 600.0, rng)
    narrow = noise_peak_snippets(500.0, 1200.0, rng)
    assert len(full) >= 300 and len(narrow) >= 300
    base = chance_alike(full, 2000.0, unit_min_correlation(2000.0, half_window(full, 2000.0, CFG),
                                                           CFG))
    raised = unit_min_correlation(500.0, half_window(narrow, 500.0, CFG), CFG)
    assert chance_alike(narrow, 500.0, CFG.unit_size_min_correlation) >= 10 * max(base, 1e-4)
    assert chance_alike(narrow, 500.0, raised) <= 3 * max(base, 1e-4)


def test_a_unit_of_11x_the_noise_is_counted_at_nearly_every_discharge():
    """One unit (Hermite-Rodriguez shapes, tests/hermite_shapes.py) of 45 uV at 4.1 uV noise, 20
    discharges a minute, six scenes: >= 0.95 of its discharges counted (the issue's recall at
    >= 10 x the noise), with at most one false twitch in the 24 minutes. Sized one sweep at a
    time, the noise took 7 % of them under the floor (0.93 counted)."""
    hits = total = false = 0
    for seed in range(200, 206):
        spec = SceneSpec(minutes=4.0, rate_per_min=20, units=1, ptp_range_uv=(45.0, 45.0001),
                         surface_bank=hermite_templates())
        scene = make_scene(spec, seed)
        _, cn = run_calfwatch(scene.data_uv, scene.sfreq_hz)
        score = score_detections(scene.truth, fasciculation_onsets(cn), scene.noise_rms_uv, 4.0)
        false += score["fp"]
        n = int(np.sum(scene.truth["kind"] == "fasciculation"))
        hits, total = hits + round(score["recall_all"] * n), total + n
    assert hits >= 0.95 * total, (hits, total)
    assert false <= 1
