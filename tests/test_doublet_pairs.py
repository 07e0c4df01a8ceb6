"""A doublet whose second discharge starts before the first potential ends is one candidate with
twice a potential's phases: it is one fasciculation (detail ``pair``), not a jerk, while a compound
of independent units of the same length and phases stays a jerk. Scenes from the independent
potential generator (band-limited random shapes), through the detection chain and classifier."""

from __future__ import annotations

import numpy as np
import pytest
from accuracy_scoring import run_calfwatch
from independent_scenes import coloured_noise, random_potential
from scipy import signal

FS = 2000.0
NOISE_UV = 4.5


def _pairs_and_jerks(seed: int, lag_ms: float):
    """Eight doublets of a 26-ms, 130-Hz potential ``lag_ms`` apart and eight jerks (compound
    bursts of 40-70 ms: an interference pattern of 60-150 µV RMS), 4 s apart. Returns signal,
    doublet and jerk onsets (s)."""
    rng = np.random.default_rng(seed)
    n = int(80 * FS)
    x = coloured_noise(rng, n, FS, NOISE_UV)
    doublet_s, jerk_s = [], []
    for k in range(16):
        t0 = 4.0 + 4.0 * k + rng.uniform(0, 0.5)
        i = int(t0 * FS)
        if k % 2 == 0:
            w = random_potential(rng, FS, 300.0, peak_hz=130.0, duration_ms=26.0)
            j = i + int(lag_ms * FS / 1000)
            x[i:i + w.size] += w
            x[j:j + w.size] += w * rng.uniform(0.8, 1.25)
            doublet_s.append(t0)
        else:
            m = int(rng.uniform(0.04, 0.07) * FS)
            x[i:i + m] += coloured_noise(rng, m, FS, rng.uniform(60.0, 150.0)) * (
                signal.windows.tukey(m, 0.5))
            jerk_s.append(t0)
    return x[None, :], np.array(doublet_s), np.array(jerk_s)


def _kinds_at(ev, onsets_s, span_s=0.06):
    out = []
    for t in onsets_s:
        near = ev[(ev["onset_s"] >= t - 0.01) & (ev["onset_s"] <= t + span_s)]
        out.append(sorted({f"{k}/{d}" if d else str(k) for k, d in zip(near["kind"], near["detail"],
                                                                         strict=True)}))
    return out


@pytest.mark.parametrize("lag_ms", [14.0, 20.0])
def test_an_overlapping_doublet_is_one_fasciculation_and_a_jerk_stays_a_jerk(lag_ms):
    data, doublet_s, jerk_s = _pairs_and_jerks(5, lag_ms)
    _, cn = run_calfwatch(data, FS)
    ev = cn.events
    pairs = _kinds_at(ev, doublet_s)
    jerks = _kinds_at(ev, jerk_s, 0.1)
    counted = [any(k.startswith("fasciculation") and "doublet" not in k for k in p) for p in pairs]
    assert sum(counted) >= 7, pairs  # each pair counted (once) as a fasciculation
    assert sum("myoclonus" in p for p in pairs) <= 1, pairs
    assert sum("myoclonus" in j for j in jerks) >= 6, jerks
    fasc = ev[(ev["kind"] == "fasciculation") & ~ev["doublet"]]
    for t in doublet_s:  # never twice
        assert np.sum((fasc["onset_s"] >= t - 0.01) & (fasc["onset_s"] <= t + 0.06)) <= 1


def test_a_long_high_frequency_potential_is_one_fasciculation_whatever_its_phases():
    """A 28-ms surface potential peaking at 150 Hz has about 2 x 150 x 0.028 = 8 phases, and some
    shapes show 10-12 at 1 kHz: within one potential's span that is still one potential, not a
    compound of many units (which spreads over longer)."""
    fs = 1000.0
    rng = np.random.default_rng(11)
    x = coloured_noise(rng, int(100 * fs), fs, NOISE_UV)
    w = random_potential(np.random.default_rng(15), fs, 1000.0, peak_hz=150.0, duration_ms=28.0)
    onsets_s = 2.0 + 4.0 * np.arange(24) + rng.uniform(0, 0.5, 24)
    for t in onsets_s:
        i = int(t * fs)
        x[i:i + w.size] += w * rng.uniform(0.9, 1.1)
    night, cn = run_calfwatch(x[None, :], fs)
    assert np.sum(night.features["phases"] >= 10) >= 12  # the rule is exercised
    kinds = _kinds_at(cn.events, onsets_s, 0.03)
    assert sum(k == ["fasciculation"] for k in kinds) >= 23, kinds


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_two_copy_fit_equals_least_squares(seed):
    """The fit of a merged candidate by two copies of a shape (classifier.potentials, built from
    correlations) against numpy's least squares on the explicit two-column design matrix."""
    from classifier.potentials import _pair_fits

    rng = np.random.default_rng(seed)
    shape = rng.normal(0, 1, 21)
    y = rng.normal(0, 1, 90)
    lo, hi = 10, 40
    p, q, amp_p, amp_q, explained = _pair_fits(y, shape, lo, hi)
    pairs = [(a, a + d) for a in range(y.size - shape.size + 1) for d in range(lo, hi + 1)
             if a + d <= y.size - shape.size]
    assert sorted(zip(p.tolist(), q.tolist(), strict=True)) == pairs
    for k in rng.choice(len(p), 12, replace=False):
        design = np.zeros((y.size, 2))
        design[p[k]:p[k] + shape.size, 0] = shape
        design[q[k]:q[k] + shape.size, 1] = shape
        amps = np.linalg.lstsq(design, y, rcond=None)[0]
        np.testing.assert_allclose([amp_p[k], amp_q[k]], amps, rtol=1e-9, atol=1e-12)
        assert explained[k] == pytest.approx(1 - np.sum((y - design @ amps) ** 2) / (y @ y))


def _two_units_doubling(seed: int, distinct: bool):
    """Eight times, two units each discharging twice 25 ms apart, the second unit 75 ms after the
    first (``distinct``: four units of spectral peaks 45-190 Hz instead), 10 s apart, among twitches of other units
    at 40 a minute (one a second and a half). Returns signal and the eight onsets (s)."""
    rng = np.random.default_rng(seed)
    n = int(100 * FS)
    x = coloured_noise(rng, n, FS, NOISE_UV)
    at = 5.0 + 10.0 * np.arange(8)
    others = np.cumsum(rng.exponential(1.5, 100))
    for t in others[(others < 98.0) & (np.min(np.abs(others[:, None] - at), axis=1) > 0.4)]:
        w = random_potential(rng, FS, rng.uniform(60.0, 400.0))
        x[int(t * FS):int(t * FS) + w.size] += w
    for t0 in at:
        peaks_hz = (45.0, 75.0, 120.0, 190.0) if distinct else (None, None)
        units = [random_potential(rng, FS, rng.uniform(150.0, 300.0), peak_hz=hz, duration_ms=8.0)
                 for hz in peaks_hz]
        for k, lag_s in enumerate((0.0, 0.025, 0.075, 0.100)):
            w = units[k] if distinct else units[k // 2] * rng.uniform(0.9, 1.1)
            i = int((t0 + lag_s) * FS)
            x[i:i + w.size] += w
    return x[None, :], at


def _events_at(cn, t0: float) -> list[tuple[str, str]]:
    ev = cn.events[(cn.events["onset_s"] > t0 - 0.01) & (cn.events["onset_s"] < t0 + 0.12)]
    return sorted((str(k), str(d)) for k, d in zip(ev["kind"], ev["detail"], strict=True))


@pytest.mark.parametrize("seed", [32, 33])
def test_two_doublets_close_together_are_two_units_not_a_jerk(seed):
    """Four discharges within 110 ms are "many units within 150 ms", a jerk, only when they are
    four units: two units firing a doublet each are two fasciculations and their doublets (at
    40 twitches a minute two units within 75 ms are no rare coincidence). Six of the eight were
    a jerk."""
    x, at = _two_units_doubling(seed, distinct=False)
    _, cn = run_calfwatch(x, FS)
    found = [_events_at(cn, t0) for t0 in at]
    assert sum(("myoclonus", "") in kinds for kinds in found) <= 1, found
    assert sum(kinds.count(("fasciculation", "")) >= 2 for kinds in found) >= 7, found


@pytest.mark.parametrize("seed", [33, 34])
def test_four_units_close_together_stay_a_jerk(seed):
    """The same timing with four units of different spectral peaks is still a jerk's units
    found one by one, at most events: the doublet's shape test takes some short, slow units for
    one (two of eight here, where the count of discharges made five or six jerks)."""
    x, at = _two_units_doubling(seed, distinct=True)
    _, cn = run_calfwatch(x, FS)
    found = [_events_at(cn, t0) for t0 in at]
    assert sum(kinds == [("myoclonus", "")] for kinds in found) >= 4, found
