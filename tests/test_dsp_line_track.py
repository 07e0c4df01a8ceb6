"""The notches follow the mains line (dsp._line_track): its frequency measured against a spectral
reference, the hum a wandering grid leaves, any split of the input, and the chain on independent
scenes whose line wanders."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal
from test_dsp_chain import _run as _run_chain

from dsp._line_track import TrackingFilter, measured_line_hz
from dsp.config import ChainConfig
from dsp.filters import StreamingFilter, design_sos

FS = 2000.0


def _wandering_hum(seconds: float, amp_uv: float, wander_hz: float, period_s: float = 240.0,
                   seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A 50-Hz line (and a third harmonic of 0.3) wandering sinusoidally, with 4.5 µV of noise;
    the noise alone too."""
    t = np.arange(int(seconds * FS)) / FS
    f = 50.0 + wander_hz * np.sin(2 * np.pi * t / period_s)
    phase = 2 * np.pi * np.cumsum(f) / FS
    noise = np.random.default_rng(seed).normal(0.0, 4.5, t.size)
    return amp_uv * (np.sin(phase) + 0.3 * np.sin(3 * phase + 1.0)) + noise, noise


@pytest.mark.parametrize("line_hz", [49.93, 50.0, 50.07, 59.96])
def test_the_line_measured_by_its_phase_is_the_spectral_peak(line_hz):
    """Ten one-second blocks demodulated at the nominal frequency: the mean phase step gives the
    line within 2 mHz of where a zero-padded periodogram (scipy) of the same 10 s peaks."""
    nominal = 60.0 if line_hz > 55 else 50.0
    t = np.arange(int(10 * FS)) / FS
    x = 20.0 * np.sin(2 * np.pi * line_hz * t + 0.4) + np.random.default_rng(1).normal(0, 4.5,
                                                                                     t.size)
    carrier = np.exp(-2j * np.pi * nominal * t)
    phasors = (x * carrier).reshape(10, -1).sum(axis=1)
    freqs, power = signal.periodogram(x, FS, window="hann", nfft=1 << 22)
    near = np.abs(freqs - nominal) < 0.5
    reference = freqs[near][np.argmax(power[near])]
    assert measured_line_hz(phasors, nominal, 1.0) == pytest.approx(reference, abs=0.002)


def test_no_steady_line_is_no_measurement():
    noise = np.random.default_rng(2).normal(0, 1, 10) + 1j * np.random.default_rng(3).normal(0, 1, 10)
    assert measured_line_hz(noise, 50.0, 1.0) is None
    assert measured_line_hz(np.full(10, np.nan + 0j), 50.0, 1.0) is None


def _tracking(line_hz: float = 50.0) -> TrackingFilter:
    return TrackingFilter(lambda hz: design_sos(FS, (20.0, 450.0), hz), line_hz, FS, 1, 5.0, 10.0)


def _run(filt, x: np.ndarray, sizes=None) -> np.ndarray:
    x = np.atleast_2d(x)
    y = np.empty(x.shape)
    pos, i = 0, 0
    while pos < x.shape[1]:
        n = x.shape[1] - pos if sizes is None else sizes[i % len(sizes)]
        piece = np.ascontiguousarray(x[:, pos:pos + n])
        out = np.empty(piece.shape)
        filt.advance_into(piece, out)
        y[:, pos:pos + n] = out
        pos, i = pos + n, i + 1
    return y[0, filt.latency_samples:]


def test_a_wandering_hum_is_removed_as_the_grid_moves():
    """100 µV of hum wandering +-0.1 Hz every 4 minutes: notches centred once pass it (the
    output's RMS over twice the noise's); notches that follow it leave the noise within 10 %."""
    x, noise = _wandering_hum(180.0, 100.0, 0.1)
    sos = design_sos(FS, (20.0, 450.0), 50.0)
    noise_rms = np.std(signal.sosfilt(sos, noise)[int(20 * FS):])
    fixed = _run(StreamingFilter(sos, 1), x)[int(20 * FS):]
    tracked = _run(_tracking(), x)[int(20 * FS):]
    assert np.std(fixed) > 2.0 * noise_rms
    assert np.std(tracked) < 1.1 * noise_rms


def test_the_notches_move_with_the_line():
    """Every re-centring is on the line between the window before it and the next re-centring,
    within 10 mHz."""
    x, _ = _wandering_hum(180.0, 100.0, 0.1)
    filt = _tracking()
    _run(filt, x)
    assert len(filt.history) > 10
    t = np.arange(x.size) / FS
    true_hz = 50.0 + 0.1 * np.sin(2 * np.pi * t / 240.0)
    for start, sos in filt.history[1:]:
        window = true_hz[max(0, start - int(10 * FS)):start + int(5 * FS)]
        assert window.min() - 0.01 <= _notch_hz(sos) <= window.max() + 0.01


def _notch_hz(sos: np.ndarray) -> float:
    """The lowest frequency where the cascade has zeros on the unit circle (its first notch)."""
    angles = [abs(np.angle(z)) for row in sos for z in np.roots(row[:3])
              if abs(abs(z) - 1.0) < 1e-6 and 1e-6 < abs(np.angle(z)) < np.pi - 1e-6]
    return float(min(angles)) * FS / (2 * np.pi)


def test_any_split_of_the_input_gives_the_same_output():
    x, _ = _wandering_hum(40.0, 100.0, 0.1)
    whole = _run(_tracking(), x)
    np.testing.assert_array_equal(_run(_tracking(), x, [997, 1, 4096, 333, 20000]), whole)


def _scene(wander_hz: float, seed: int):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from bench_accuracy import ind_scene

    return ind_scene(4.0, seed, rate_per_min=15, mains_uv=100.0, mains_wander_hz=wander_hz)


def _chain(data: np.ndarray, config: ChainConfig | None = None, sizes=None):
    """The chain's output, the mains line found as a recording's would be (not given)."""
    return _run_chain(data, sizes=sizes, mains_hz=None, config=config)[0]


def test_the_chain_finds_the_potentials_under_a_wandering_hum():
    """Independent scene, 100 µV of hum wandering +-0.1 Hz: with the notches centred once the
    noise floor reads about twice the background and the potentials near the floor are lost;
    following the line, the floor is the background's (within 15 %) and the candidates reaching
    the counting floor after the largest potentials (whose ringing is predicted with the cascade
    then in effect) are potentials of the truth."""
    data, fs, truth, noise_uv, _, _ = _scene(0.1, 64)
    fixed = _chain(data, ChainConfig(line_track_s=0.0))
    tracked = _chain(data)
    assert np.nanmedian(fixed.noise_uv) > 1.6 * noise_uv
    assert np.nanmedian(tracked.noise_uv) < 1.15 * noise_uv
    c = tracked.candidates
    counted = c[c["ptp_uv"] >= 9.0 * c["noise_uv"]]
    onsets = truth["onset_s"][truth["kind"] == "fasciculation"]
    ends = onsets + truth["duration_s"][truth["kind"] == "fasciculation"]
    t = counted["peak"] / fs
    real = np.array([np.any((t_ >= onsets - 0.02) & (t_ <= ends + 0.02)) for t_ in t])
    assert real.mean() >= 0.97


def test_the_chain_split_anyhow_gives_the_same_candidates_under_a_wandering_hum():
    data, *_ = _scene(0.1, 65)
    data = data[:, : int(90 * FS)]
    whole = _chain(data)
    parts = _chain(data, sizes=[997, 1, 4096, 333, 25000])
    np.testing.assert_array_equal(parts.candidates, whole.candidates)
    np.testing.assert_array_equal(parts.snippets, whole.snippets)


@pytest.mark.parametrize("mains_uv", [5.0, 50.0])
def test_movements_cramps_and_pops_do_not_move_the_notches(mains_uv):
    """A steady 50.0-Hz line under voluntary bursts, jerks, pops and motion (independent scene,
    with a 20-s cramp-like burst of 300 µV added): blocks that activity fills are left out, and
    the notches stay within 5 mHz of the line."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from bench_accuracy import ind_scene

    data, *_ = ind_scene(4.0, 66, rate_per_min=15, mains_uv=mains_uv, voluntary_per_min=2.0,
                         jerks_per_min=2.0, pops_per_min=1.0, motion_per_min=0.5)
    rng = np.random.default_rng(7)
    cramp = signal.sosfilt(signal.butter(2, [30, 300], "bandpass", fs=FS, output="sos"),
                           rng.normal(0, 1, int(20 * FS)))
    data[0, int(100 * FS):int(120 * FS)] += 300.0 * cramp / cramp.std()
    filt = _tracking()
    _run(filt, data[0])
    assert all(abs(_notch_hz(sos) - 50.0) <= 0.005 for _, sos in filt.history)
