"""The SOS cascade against scipy, in chunks against whole, through NaN gaps and denormal decays."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import signal

from dsp.filters import (
    LINE_SNAP_HZ,
    StreamingFilter,
    design_sos,
    detect_mains_hz,
    measure_line_hz,
    sosfilt,
)

FS = 2000.0
SOS = design_sos(FS)


def _at_rest(sos: np.ndarray, x: np.ndarray) -> np.ndarray:
    """scipy's ``sosfilt`` along the last axis, started at rest at the first sample's level
    (``sosfilt_zi`` x that sample), as the streaming filter starts."""
    x = np.asarray(x, np.float64)
    zi = signal.sosfilt_zi(sos)
    if x.ndim == 1:
        return signal.sosfilt(sos, x, zi=zi * x[0])[0]
    return signal.sosfilt(sos, x, axis=1, zi=zi[:, None, :] * x[None, :, :1])[0]


def _close(a: np.ndarray, b: np.ndarray, rtol: float = 1e-9) -> None:
    """Equal to ``rtol`` relative to the signal scale (NaN where the reference is NaN)."""
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    scale = np.nanmax(np.abs(b)) if np.isfinite(b).any() else 1.0
    np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * scale, equal_nan=True)


def test_design_notches_every_harmonic_below_nyquist():
    freqs = [50.0, 100.0, 150.0, 950.0]
    _, h = signal.sosfreqz(SOS, worN=freqs, fs=FS)
    assert np.all(np.abs(h) < 10 ** (-30 / 20))
    _, h = signal.sosfreqz(SOS, worN=[75.0, 125.0, 225.0], fs=FS)
    assert np.all(np.abs(20 * np.log10(np.abs(h))) < 1.0)


def test_design_keeps_band_below_nyquist_and_60_hz():
    sos = design_sos(500.0, mains_hz=60.0)
    _, h = signal.sosfreqz(sos, worN=[60.0, 180.0, 240.0], fs=500.0)
    assert np.all(np.abs(h) < 10 ** (-30 / 20))
    assert np.all(np.isfinite(sos))
    with pytest.raises(ValueError):
        design_sos(FS, band_hz=(500.0, 100.0))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matches_scipy_multichannel(dtype):
    x = np.random.default_rng(1).normal(0, 20, (3, 20000)).astype(dtype)
    _close(sosfilt(SOS, x), _at_rest(SOS, x))
    _close(sosfilt(SOS, x[0]), _at_rest(SOS, x[0]))


def test_matches_scipy_on_other_cascades():
    rng = np.random.default_rng(2)
    x = rng.normal(0, 1, 5000)
    for sos in (design_sos(1000.0, mains_hz=60.0), design_sos(FS, mains_hz=None, order=2)):
        _close(sosfilt(sos, x), _at_rest(sos, x))


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.integers(1, 700), min_size=1, max_size=40),
    st.integers(0, 2**32 - 1),
)
def test_any_chunking_equals_one_call(sizes, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 10, (2, sum(sizes)))
    x[:, rng.integers(0, x.shape[1], 3)] = np.nan
    whole = sosfilt(SOS, x)
    filt = StreamingFilter(SOS, 2)
    parts, pos = [], 0
    for n in sizes:
        parts.append(filt.process(x[:, pos : pos + n]))
        pos += n
    parts.append(filt.flush())
    np.testing.assert_array_equal(np.concatenate(parts, axis=1), whole)


def test_one_sample_chunks_equal_one_call():
    x = np.random.default_rng(3).normal(0, 1, (1, 300))
    filt = StreamingFilter(SOS, 1)
    parts = [filt.process(x[:, i : i + 1]) for i in range(x.shape[1])] + [filt.flush()]
    np.testing.assert_array_equal(np.concatenate(parts, axis=1), sosfilt(SOS, x))


def test_nan_gap_outputs_nan_and_restarts_the_filter():
    rng = np.random.default_rng(4)
    x = rng.normal(0, 10, 12000)
    x[3000:3400] = np.nan
    y = sosfilt(SOS, x)
    assert np.all(np.isnan(y[3000:3400]))
    assert np.all(np.isfinite(y[:3000])) and np.all(np.isfinite(y[3400:]))
    _close(y[:3000], _at_rest(SOS, x[:3000]))
    _close(y[3400:], _at_rest(SOS, x[3400:]))


def test_single_nan_sample_restarts_too():
    x = np.random.default_rng(5).normal(0, 1, 2000)
    x[700] = np.nan
    y = sosfilt(SOS, x)
    assert np.isnan(y).sum() == 1
    _close(y[701:], _at_rest(SOS, x[701:]))


@pytest.mark.parametrize("bad", [np.inf, -np.inf])
def test_an_infinite_sample_is_a_missing_one(bad):
    """One +-inf (a broken text file, an overflowing device) costs one sample, not the night."""
    x = np.random.default_rng(6).normal(0, 1, 2000)
    x[700] = bad
    y = sosfilt(SOS, x)
    assert np.isnan(y[700]) and np.isfinite(np.delete(y, 700)).all()
    _close(y[701:], _at_rest(SOS, x[701:]))


@pytest.mark.parametrize("n_channels", [1, 3])
def test_an_electrode_offset_rings_neither_at_the_start_nor_after_a_gap(n_channels):
    """A DC-coupled amplifier records the electrodes' offset (tens to hundreds of mV): each channel
    starts at rest at the level of its first sample, and of its first after a gap, so the output is
    that of the signal without the offset, one offset before the gap and another after."""
    x = np.random.default_rng(8).normal(0, 5, (n_channels, 12000))
    x[:, 5000:5400] = np.nan
    offset_uv = np.where(np.arange(x.shape[1]) < 5000, 150_000.0, -80_000.0)
    offset_uv = offset_uv * np.arange(1, n_channels + 1)[:, None]
    filt = StreamingFilter(SOS, n_channels)
    parts = [filt.process(x[:, a:a + 700] + offset_uv[:, a:a + 700]) for a in range(0, 12000, 700)]
    y = np.concatenate(parts + [filt.flush()], axis=1)
    np.testing.assert_allclose(y, sosfilt(SOS, x), rtol=0, atol=1e-6)
    # started from zero state instead, the offset's step rings far above the signal
    from_zero = signal.sosfilt(SOS, x[:, 5400:] + offset_uv[:, 5400:], axis=1)
    assert np.abs(from_zero - y[:, 5400:]).max() > 1000.0


def test_zeros_after_impulse_leave_no_denormal_state_and_match_scipy():
    x = np.zeros((1, int(300 * FS)))
    x[0, 10] = 1e4
    filt = StreamingFilter(SOS, 1)
    y = np.concatenate([filt.process(x), filt.flush()], axis=1)
    ref = signal.sosfilt(SOS, x[0])
    assert np.max(np.abs(y[0] - ref)) < 1e-20
    for state in (filt._z1, filt._z2):
        tiny = (state != 0) & (np.abs(state) < np.finfo(np.float64).tiny)
        assert not tiny.any()
    assert np.abs(filt._z1).max() < 1e-28 and np.abs(filt._z2).max() < 1e-28


def test_scipy_reaches_denormals_on_the_same_input():
    """The guard is needed: the plain recursion decays into subnormal numbers here."""
    x = np.zeros(int(300 * FS))
    x[10] = 1e4
    _, zf = signal.sosfilt(SOS, x, zi=np.zeros((SOS.shape[0], 2)))
    sub = (zf != 0) & (np.abs(zf) < np.finfo(np.float64).tiny)
    assert sub.any()


@pytest.mark.parametrize("mains", [50.0, 60.0])
def test_detect_mains(mains):
    rng = np.random.default_rng(int(mains))
    t = np.arange(int(10 * FS)) / FS
    x = rng.normal(0, 5, (2, t.size)) + 3.0 * np.sin(2 * np.pi * mains * t)
    x[1, 100:900] = np.nan
    assert detect_mains_hz(x, FS) == mains
    assert detect_mains_hz(x[0], FS) == mains


def test_detect_mains_defaults_to_50_without_a_line():
    x = np.random.default_rng(7).normal(0, 5, int(10 * FS))
    assert detect_mains_hz(x, FS) == 50.0


@pytest.mark.parametrize(("line_hz", "mains", "amp_uv", "third_uv"), [
    (49.9, 50.0, 40.0, 12.0), (50.17, 50.0, 8.0, 0.0), (59.87, 60.0, 20.0, 6.0),
    (50.08, 50.0, 0.5, 6.0),  # a fundamental under the noise: found from the third harmonic
])
def test_measure_line_finds_the_grid_frequency(line_hz, mains, amp_uv, third_uv):
    """10 s of 5-µV noise with spikes of 300 µV (broadband) and a hum off nominal: the line's
    frequency within 0.01 Hz; a channel with lost samples is left out."""
    rng = np.random.default_rng(int(line_hz * 100))
    t = np.arange(int(10 * FS)) / FS
    phase = 2 * np.pi * line_hz * t + rng.uniform(0, 2 * np.pi)
    x = rng.normal(0, 5, (2, t.size)) + amp_uv * np.sin(phase) + third_uv * np.sin(3 * phase)
    x[0, rng.integers(0, t.size - 20, 30)[:, None] + np.arange(20)] += 300.0 * rng.normal(size=20)
    x[1, 100:900] = np.nan
    assert measure_line_hz(x, FS, mains) == pytest.approx(line_hz, abs=0.01)


def test_measure_line_keeps_nominal_without_a_clear_line_or_close_to_it():
    rng = np.random.default_rng(3)
    t = np.arange(int(10 * FS)) / FS
    noise = rng.normal(0, 5, t.size)
    assert measure_line_hz(noise, FS, 50.0) == 50.0
    near = noise + 30.0 * np.sin(2 * np.pi * (50.0 + LINE_SNAP_HZ / 2) * t)
    assert measure_line_hz(near, FS, 50.0) == 50.0
    lost = near.copy()
    lost[5] = np.nan
    assert measure_line_hz(lost, FS, 50.0) == 50.0


def test_bad_shapes_are_refused():
    filt = StreamingFilter(SOS, 2)
    with pytest.raises(ValueError):
        filt.process(np.zeros((3, 10)))
    filt.flush()
    with pytest.raises(ValueError):
        filt.process(np.zeros((2, 10)))


@pytest.mark.parametrize(
    ("sfreq", "band", "order"), [(2000.0, (20.0, 450.0), 4), (2000.0, (20.0, 450.0), 3),
                                 (500.0, (20.0, 225.0), 4), (1000.0, (10.0, 300.0), 2)]
)
def test_band_pass_design_has_the_response_of_scipy_butter(sfreq, band, order):
    ours = design_sos(sfreq, band, None, order)
    ref = signal.butter(order, band, "bandpass", fs=sfreq, output="sos")
    freqs = np.linspace(1.0, sfreq / 2 - 1, 400)
    _, h_ours = signal.sosfreqz(ours, freqs, fs=sfreq)
    _, h_ref = signal.sosfreqz(ref, freqs, fs=sfreq)
    np.testing.assert_allclose(h_ours, h_ref, atol=1e-10)


@pytest.mark.parametrize(("sfreq", "order"), [(500.0, 4), (250.0, 3), (900.0, 2)])
def test_below_1_khz_the_band_is_a_high_pass_with_the_response_of_scipy_butter(sfreq, order):
    """The 450-Hz edge cannot be placed under 1 kHz sampling: the cascade is the high-pass."""
    ours = design_sos(sfreq, (20.0, 450.0), None, order)
    ref = signal.butter(order, 20.0, "highpass", fs=sfreq, output="sos")
    freqs = np.linspace(1.0, sfreq / 2 - 1, 400)
    _, h_ours = signal.sosfreqz(ours, freqs, fs=sfreq)
    _, h_ref = signal.sosfreqz(ref, freqs, fs=sfreq)
    np.testing.assert_allclose(h_ours, h_ref, atol=1e-10)


def test_notch_sections_equal_scipy_iirnotch():
    sos = design_sos(FS, mains_hz=60.0, notch_q=40.0)
    notches = sos[4:]
    for k, section in enumerate(notches, start=1):
        b, a = signal.iirnotch(60.0 * k, 40.0 * k, fs=FS)
        np.testing.assert_allclose(section, np.r_[b, a], rtol=1e-12, atol=1e-15)


def test_group_delay_matches_scipy():
    from dsp.filters import group_delay_samples

    bp = design_sos(FS, mains_hz=None)
    for freq in (40.0, 60.0, 95.0, 200.0):
        _, ref = signal.group_delay(signal.sos2tf(bp), w=[freq], fs=FS)
        assert group_delay_samples(bp, FS, freq) == pytest.approx(ref[0], rel=1e-4)


def test_channels_side_by_side_or_one_by_one_give_scipy_numbers():
    """Several channels run side by side as one row of lanes, one channel alone (a thread's slice of
    a long chunk) by itself: any mix of the two is scipy's output, and the same numbers as one call."""
    x = np.random.default_rng(4).normal(0, 20, (3, 30000)).astype(np.float32)
    filt = StreamingFilter(SOS, 3)
    parts, pos = [], 0
    for n in [5000, 37, 4096, 1, 700, 9000] * 2:
        parts.append(filt.process(x[:, pos : pos + n]))
        pos += n
    parts += [filt.process(x[:, pos:]), filt.flush()]
    y = np.concatenate(parts, axis=1)
    _close(y, _at_rest(SOS, x))
    np.testing.assert_array_equal(y, sosfilt(SOS, x))


@pytest.mark.parametrize("sfreq_hz, mains_hz", [(500.0, 50.0), (2000.0, 50.0), (1000.0, 60.0)])
def test_settling_time_is_where_the_impulse_response_stays_below_one_percent(sfreq_hz, mains_hz):
    from dsp.filters import SETTLE_TOL, settling_time_s

    sos = design_sos(sfreq_hz, (20.0, 450.0), mains_hz)
    settle = settling_time_s(sos, sfreq_hz)
    x = np.zeros(int(10 * sfreq_hz))
    x[0] = 1.0
    h = np.abs(signal.sosfilt(sos, x))  # scipy's impulse response, brute-force search
    last = max(i for i in range(h.size) if h[i] >= SETTLE_TOL * h.max())
    assert settle == (last + 1) / sfreq_hz
    # the worst restart, from zero state on 1 mV of offset and 100 µV of mains (StreamingFilter
    # restarts at the input's level, which spares it the offset's step): after the settling time
    # the output is within 2 % of the offset step of the uninterrupted filter's output, before not
    n = int(6 * sfreq_hz)
    t = np.arange(n) / sfreq_hz
    y = 1000.0 + 100.0 * np.sin(2 * np.pi * mains_hz * t + 0.3)
    k = n // 2
    diff = np.abs(signal.sosfilt(sos, y)[k:] - signal.sosfilt(sos, y[k:]))
    i = int(round(settle * sfreq_hz))
    assert diff[i:].max() < 0.02 * 1000.0 < diff[: i // 2].max()


@pytest.mark.parametrize("sfreq_hz, mains_hz", [(500.0, 50.0), (2000.0, 50.0), (1000.0, 60.0)])
def test_slowest_time_constant_is_the_decay_of_the_impulse_response(sfreq_hz, mains_hz):
    """The late impulse response of the cascade (scipy) decays by e per time constant; for Q 60
    notches that is the notch's Q / (pi f0)."""
    from dsp.filters import slowest_time_constant_s

    sos = design_sos(sfreq_hz, (20.0, 450.0), mains_hz)
    tau_s = slowest_time_constant_s(sos, sfreq_hz)
    x = np.zeros(int(4 * sfreq_hz))
    x[0] = 1.0
    h = np.abs(signal.sosfilt(sos, x))
    period = int(sfreq_hz / mains_hz)

    def peak_near(t_s):  # the envelope: the largest |h| over one period of the ringing
        i = int(t_s * sfreq_hz)
        return h[i:i + period].max()

    measured_s = 1.0 / np.log(peak_near(1.0) / peak_near(2.0))
    assert tau_s == pytest.approx(measured_s, rel=0.02)
    assert tau_s == pytest.approx(60.0 / (np.pi * mains_hz), rel=0.02)


def _switching_reference(soses: list, bounds: list[int], x: np.ndarray) -> np.ndarray:
    """scipy's sections one after another, each switching to the next cascade's coefficients
    where the pipelined kernel does: section ``k`` processes sample ``t - (k + 1) * SKEW`` at
    step ``t``, so a change at step ``b`` reaches it at sample ``b - (k + 1) * SKEW``."""
    from dsp import _filter_numba

    v = x.astype(np.float64) - x[:, :1]  # the input less its level (the filter starts at rest)
    for k in range(soses[0].shape[0]):
        starts = [max(0, b - (k + 1) * _filter_numba.SKEW) for b in bounds[:-1]] + [v.shape[1]]
        zi = np.zeros((1, v.shape[0], 2))
        parts = []
        for p, sos in enumerate(soses):
            out, zi = signal.sosfilt(sos[k : k + 1], v[:, starts[p] : starts[p + 1]], axis=1,
                                     zi=zi)
            parts.append(out)
        v = np.concatenate(parts, axis=1)
    return v


@pytest.mark.parametrize("n_channels", [1, 3])
def test_a_cascade_changed_between_samples_is_scipy_switching_there(n_channels):
    """A cascade whose notches move (the mains line followed, dsp._line_track) runs its pieces in
    one kernel call: every section switches with its state kept, as scipy's sections do when
    their filter is stopped there and continued with the new coefficients."""
    soses = [design_sos(FS, mains_hz=50.0), design_sos(FS, mains_hz=50.04),
             design_sos(FS, mains_hz=49.97)]
    x = np.random.default_rng(7).normal(0, 20, (n_channels, 9000))
    x[:, 3000:3400] += 300 * np.sin(2 * np.pi * 50.02 * np.arange(400) / FS)
    bounds = [0, 2500, 2501, 6000, 9000]
    soses = soses + [soses[0]]  # and back
    filt = StreamingFilter(soses[0], n_channels)
    coefs = np.stack([StreamingFilter(s, 1).coef for s in soses])
    lat = filt.latency_samples
    y, kept = np.empty(x.shape), np.empty(x.shape)
    filt.advance_pieces_into(x, y, kept, coefs, np.array(bounds))
    filt.coef[...] = coefs[-1]
    tail = filt.flush()
    out = np.concatenate([y, tail], axis=1)[:, lat:]
    np.testing.assert_array_equal(kept, x)
    _close(out, _switching_reference(soses, bounds, x))
    assert np.abs(out - signal.sosfilt(soses[0], x, axis=1)).max() > 1.0  # the switch is seen
