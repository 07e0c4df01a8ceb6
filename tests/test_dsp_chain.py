"""DetectionChain: recall and onset accuracy on potentials of known onset, false alarms on noise,
identical output for any chunking, NaN gaps, mains detection, envelope frames and quality rows."""

from __future__ import annotations

import numpy as np
import pytest
from dsp_signals import muap
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import signal

from classifier.config import default_config
from dsp.chain import DetectionChain, concat_outputs
from dsp.config import ChainConfig
from dsp.filters import design_sos
from dsp.types import ENVELOPE_HOP_S, SNIPPET_LEN

FS = 2000.0
SOS = design_sos(FS, mains_hz=50.0)


#: The detection floor (peak-to-peak / noise): the classifier counts no candidate below it.
FLOOR_K = default_config().detection.detectable_ptp_k

def _run(x: np.ndarray, sizes=None, mains_hz=50.0, config=None):
    x = np.atleast_2d(x)
    chain = DetectionChain(FS, x.shape[0], mains_hz=mains_hz, config=config)
    if sizes is None:
        outs = [chain.process(x, 0)]
    else:
        outs, pos, i = [], 0, 0
        while pos < x.shape[1]:
            n = sizes[i % len(sizes)]
            outs.append(chain.process(x[:, pos : pos + n], pos))
            pos, i = pos + n, i + 1
    outs.append(chain.flush())
    return concat_outputs(outs), chain


def _scene(duration_s, rate_per_min, amp_sigma, seed, noise_raw_uv=5.0):
    """Noise plus potentials whose peak-to-peak is ``amp_sigma`` x 2 x the in-band noise RMS."""
    rng = np.random.default_rng(seed)
    n = int(duration_s * FS)
    noise = rng.normal(0, noise_raw_uv, n)
    sigma_band = np.std(signal.sosfilt(SOS, noise)[int(FS) :])
    x = noise.copy()
    slots = np.arange(int(FS), n - int(FS), int(0.25 * FS))
    onsets = np.sort(rng.choice(slots, int(rate_per_min * duration_s / 60), replace=False))
    onsets = onsets + rng.integers(0, int(0.05 * FS), onsets.size)
    durs = rng.uniform(0.005, 0.02, onsets.size)
    for onset, dur in zip(onsets, durs, strict=True):
        ptp = 2 * sigma_band * rng.uniform(*amp_sigma)
        wave = muap(dur, FS, int(rng.integers(2, 4)), ptp) * rng.choice([-1.0, 1.0])
        x[onset : onset + wave.size] += wave
    return x, onsets, (durs * FS).astype(int), sigma_band


def _filtered(x: np.ndarray) -> np.ndarray:
    """scipy's cascade started at rest at the first sample's level, as the chain's filter is."""
    return signal.sosfilt(SOS, x, zi=signal.sosfilt_zi(SOS) * x[0])[0]


def _match(cands, onsets, lengths):
    """Index of the candidate whose peak falls inside each true potential (-1 when none)."""
    found = np.full(onsets.size, -1)
    for i, (onset, length) in enumerate(zip(onsets, lengths, strict=True)):
        inside = np.flatnonzero((cands["peak"] >= onset - 2) & (cands["peak"] <= onset + length + 2))
        if inside.size:
            found[i] = inside[0]
    return found


def _assert_onsets(err_ms: np.ndarray) -> None:
    """At least 95 % within +-5 ms of the true start, median error under 2 ms, none beyond 10 ms."""
    assert np.mean(np.abs(err_ms) <= 5.0) >= 0.95, np.sort(err_ms)
    assert abs(np.median(err_ms)) <= 2.0
    assert np.all(np.abs(err_ms) <= 10.0), err_ms[np.abs(err_ms) > 10]


def test_recall_and_onset_accuracy_for_potentials_of_six_sigma():
    """Potentials whose amplitude (half peak-to-peak) is 6-20 x the noise RMS."""
    x, onsets, lengths, _ = _scene(300, 60, (6.0, 20.0), seed=11)
    out, chain = _run(x)
    found = _match(out.candidates, onsets, lengths)
    assert np.mean(found >= 0) >= 0.98
    err_ms = (out.candidates["onset"][found[found >= 0]] - onsets[found >= 0]) / FS * 1e3
    _assert_onsets(err_ms)
    # a potential and its tail are one candidate: few extra candidates that could be counted
    assert np.sum(countable(out.candidates)) <= 1.05 * onsets.size


def test_onset_accuracy_over_pink_noise():
    rng = np.random.default_rng(12)
    n = int(120 * FS)
    spec = np.fft.rfft(rng.normal(size=n))
    freqs = np.arange(spec.size, dtype=float)
    freqs[0] = 1
    noise = np.fft.irfft(spec / np.sqrt(freqs), n)
    noise *= 5.0 / np.std(signal.sosfilt(SOS, noise))
    onsets = np.arange(int(2 * FS), n - int(FS), int(0.7 * FS))
    x = noise.copy()
    for k, onset in enumerate(onsets):
        wave = muap(0.006 + 0.002 * (k % 7), FS, 2 + k % 2, 150.0)
        x[onset : onset + wave.size] += wave
    out, _ = _run(x)
    found = _match(out.candidates, onsets, np.full(onsets.size, 40))
    assert np.mean(found >= 0) >= 0.98
    err = out.candidates["onset"][found[found >= 0]] - onsets[found >= 0]
    _assert_onsets(err / FS * 1e3)


def countable(c: np.ndarray) -> np.ndarray:
    """Candidates at or above the detection floor (the classifier counts no others)."""
    return c["ptp_uv"] >= FLOOR_K * c["noise_uv"]


def test_few_false_candidates_on_noise_alone():
    x = np.random.default_rng(13).normal(0, 5.0, int(600 * FS))
    out, _ = _run(x)
    # the 4-sigma trigger crosses noise a few times a minute; none reaches the floor
    assert len(out.candidates) / 10.0 < 10.0  # per minute
    assert np.sum(countable(out.candidates)) / 10.0 < 0.1


@settings(max_examples=12, deadline=None)
@given(st.lists(st.integers(1, 6000), min_size=1, max_size=12), st.integers(0, 3))
def test_any_chunking_gives_identical_output(sizes, seed):
    x, _, _, _ = _scene(24, 120, (6.0, 30.0), seed=seed)
    y, _, _, _ = _scene(24, 120, (6.0, 30.0), seed=seed + 10)
    data = np.vstack([x, y])
    data[1, int(9 * FS) : int(10.5 * FS)] = np.nan
    whole, _ = _run(data)
    parts, _ = _run(data, sizes=sizes + [1, 2, 3])
    for name in ("candidates", "features", "quality"):
        np.testing.assert_array_equal(getattr(parts, name), getattr(whole, name))
    for name in ("snippets", "envelope_uv", "noise_uv"):
        np.testing.assert_array_equal(getattr(parts, name), getattr(whole, name))
    assert parts.envelope_start_frame == whole.envelope_start_frame == 0


def test_nan_gap_yields_no_candidates_and_nan_frames():
    x, onsets, lengths, _ = _scene(60, 120, (8.0, 20.0), seed=21)
    gap = (int(20 * FS), int(25 * FS))
    x[gap[0] : gap[1]] = np.nan
    out, chain = _run(x)
    c = out.candidates
    settle = int(round(chain.settle_s * FS))
    assert not np.any((c["offset"] > gap[0]) & (c["onset"] < gap[1] + settle))
    hop = int(ENVELOPE_HOP_S * FS)
    frames = np.arange(out.envelope_start_frame, out.envelope_start_frame + out.n_frames)
    in_gap = (frames * hop >= gap[0]) & ((frames + 1) * hop <= gap[1])
    assert np.all(np.isnan(out.envelope_uv[0, in_gap]))
    assert np.all(np.isfinite(out.envelope_uv[0, frames * hop > gap[1] + settle]))
    after = (onsets > gap[1] + settle) & (onsets < x.size - FS)
    found = _match(c, onsets[after], lengths[after])
    assert np.mean(found >= 0) >= 0.98
    q = out.quality
    assert q["nan_fraction"][q["start"] == int(20 * FS)][0] == pytest.approx(0.5)


def test_an_electrode_offset_changes_nothing_at_the_start_or_after_a_gap():
    """A DC-coupled amplifier records the electrodes' offset (tens to hundreds of mV), and another
    once the electrode is back after a gap: the chain finds what it finds on the same signal
    without it (its filter starts at rest at the input's level), no transient at either restart."""
    x, *_ = _scene(40, 120, (8.0, 20.0), seed=23)
    gap = (int(20 * FS), int(21 * FS))
    x[gap[0] : gap[1]] = np.nan
    offset_uv = np.where(np.arange(x.size) < gap[0], 150_000.0, -80_000.0)
    plain, _ = _run(x)
    shifted, _ = _run(x + offset_uv)
    assert len(plain.candidates) > 50
    for name in ("onset", "peak", "offset"):
        np.testing.assert_array_equal(shifted.candidates[name], plain.candidates[name])
    np.testing.assert_allclose(shifted.candidates["ptp_uv"], plain.candidates["ptp_uv"],
                               rtol=1e-6)
    np.testing.assert_allclose(shifted.envelope_uv, plain.envelope_uv, rtol=1e-6, equal_nan=True)
    np.testing.assert_allclose(shifted.noise_uv, plain.noise_uv, rtol=1e-6, equal_nan=True)


def test_envelope_frames_are_the_rms_of_the_band_passed_signal():
    x = np.random.default_rng(22).normal(0, 5.0, int(30 * FS))
    x[int(10 * FS) : int(10 * FS) + 40] += 300 * np.hanning(40)
    out, chain = _run(x)
    hop = int(ENVELOPE_HOP_S * FS)
    y = _filtered(x)
    ref = np.sqrt(np.mean(y[: (y.size // hop) * hop].reshape(-1, hop) ** 2, axis=1))
    settle = int(np.ceil(chain.settle_s * FS / hop))
    np.testing.assert_allclose(out.envelope_uv[0, settle:], ref[settle:], rtol=1e-9)
    assert np.all(np.isnan(out.envelope_uv[0, :settle]))
    assert out.envelope_uv.shape == out.noise_uv.shape
    sigma = np.std(signal.sosfilt(SOS, np.random.default_rng(22).normal(0, 5.0, x.size)))
    assert np.nanmedian(out.noise_uv) == pytest.approx(sigma, rel=0.1)


def test_snippets_are_centred_on_the_peak():
    x, _, _, _ = _scene(30, 60, (10.0, 20.0), seed=23)
    out, chain = _run(x)
    y = _filtered(x)
    for cand, snip in zip(out.candidates, out.snippets, strict=True):
        at = cand["peak"] + chain.delay_samples
        ref = y[at - SNIPPET_LEN // 2 : at + SNIPPET_LEN // 2]
        np.testing.assert_allclose(snip, ref.astype(np.float32), rtol=1e-5, atol=1e-4)
        assert snip[SNIPPET_LEN // 2] == pytest.approx(cand["peak_uv"], rel=1e-6)
        seg = y[cand["onset"] + chain.delay_samples : cand["offset"] + chain.delay_samples]
        assert cand["ptp_uv"] == pytest.approx(np.ptp(seg), rel=1e-9)


@pytest.mark.parametrize("mains", [50.0, 60.0])
def test_mains_decided_from_the_first_seconds(mains):
    rng = np.random.default_rng(int(mains))
    t = np.arange(int(15 * FS)) / FS
    x = rng.normal(0, 5.0, t.size) + 20 * np.sin(2 * np.pi * mains * t)
    whole, chain = _run(x, mains_hz=None)
    parts, chain2 = _run(x, sizes=[137, 2000, 1], mains_hz=None)
    assert chain.mains_hz == chain2.mains_hz == mains
    np.testing.assert_array_equal(parts.envelope_uv, whole.envelope_uv)
    q = whole.quality
    expected = (20**2 / 2) / (20**2 / 2 + 25)
    assert q["mains_fraction"][0] == pytest.approx(expected, abs=0.02)


def test_quality_flags_flat_saturated_and_pops():
    rng = np.random.default_rng(31)
    x = rng.normal(0, 5.0, int(40 * FS))
    x[int(12 * FS) : int(13 * FS)] = 0.0  # flat second in window 1
    t = np.arange(int(2 * FS)) / FS
    clipped = np.clip(x[int(22 * FS) : int(24 * FS)] + 1000 * np.sin(2 * np.pi * 3 * t), -300, 300)
    x[int(22 * FS) : int(24 * FS)] = clipped  # movement driving the amplifier to its rails
    for k in range(3):  # electrode pops in window 3
        at = int((32 + 2 * k) * FS)
        x[at:] += 2000 * np.exp(-np.arange(x.size - at) / (0.2 * FS))
    out, _ = _run(x)
    q = out.quality
    assert q["flat_fraction"][1] == pytest.approx(0.1, abs=0.005)
    assert q["flat_fraction"][0] == 0 and q["saturated_fraction"][0] == 0
    rail = np.sum(np.abs(clipped) == 300) / (10 * FS)
    assert q["saturated_fraction"][2] == pytest.approx(rail, abs=0.01)
    assert q["pops"][3] == 3 and q["pops"][0] == 0
    assert list(q["start"]) == [0, 20000, 40000, 60000]


def test_refuses_gaps_in_the_timeline_and_bad_shapes():
    chain = DetectionChain(FS, 2, mains_hz=50.0)
    chain.process(np.zeros((2, 100)), 0)
    with pytest.raises(ValueError):
        chain.process(np.zeros((2, 100)), 150)
    with pytest.raises(ValueError):
        chain.process(np.zeros((3, 100)), 100)
    with pytest.raises(ValueError):
        DetectionChain(0.0, 1)


def test_simulated_night_if_the_simulator_is_there():
    sim = pytest.importorskip("calfwatch.simulator")
    params = sim.load_profile("quiet", duration_s=600)
    night = sim.simulate_night(params, seed=3)
    data = np.concatenate([c.data_uv for c in night.chunks(chunk_s=0.1)], axis=1)
    out, chain = _run(data, sizes=[200], mains_hz=None)
    truth = [e for e in night.truth if e.kind == "fasciculation"]
    settle_s = chain.settle_s  # the start of the stream is the filter's settling time
    big = [
        e for e in truth if e.peak_to_peak_uv >= 12 * params.noise_rms_uv and e.onset_s > settle_s
    ]
    assert big, "the profile has potentials above 6 x noise"
    onsets = np.array([round(e.onset_s * FS) for e in big])
    lengths = np.array([round(e.duration_s * FS) for e in big])
    found = _match(out.candidates, onsets, lengths)
    assert np.mean(found >= 0) >= 0.98
    err = out.candidates["onset"][found[found >= 0]] - onsets[found >= 0]
    _assert_onsets(err / FS * 1e3)


def test_sustained_activity_is_flagged_continuous_and_shows_in_the_envelope():
    rng = np.random.default_rng(41)
    x = rng.normal(0, 5.0, int(20 * FS))
    burst = slice(int(8 * FS), int(8.4 * FS))  # 400 ms of dense activity, longer than 100 ms
    x[burst] += rng.normal(0, 150.0, int(0.4 * FS))
    out, chain = _run(x)
    c = out.candidates
    inside = (c["onset"] < burst.stop) & (c["offset"] > burst.start)
    assert inside.sum() >= 2, "dense activity is not lost for being long"
    assert np.all(c["continuous"][inside]), "and is never a discrete potential"
    assert np.all(c["offset"][inside] - c["onset"][inside] <= round(0.12 * FS))
    hop = int(ENVELOPE_HOP_S * FS)
    frames = slice(burst.start // hop + 1, burst.stop // hop - 1)
    assert np.all(out.envelope_uv[0, frames] > 20 * np.nanmedian(out.noise_uv))


def test_phases_of_one_potential_merge_and_dead_time_splits_distant_ones():
    x = np.random.default_rng(42).normal(0, 2.0, int(12 * FS))
    wave = muap(0.01, FS, 2, 120.0)
    for start in (int(4 * FS), int(4 * FS) + wave.size + 4, int(7 * FS), int(7 * FS) + 200):
        x[start : start + wave.size] += wave
    out, _ = _run(x)
    c = out.candidates
    c = c[countable(c)]
    near4 = c[(c["peak"] > 4 * FS - 100) & (c["peak"] < 4 * FS + 200)]
    near7 = c[(c["peak"] > 7 * FS - 100) & (c["peak"] < 7 * FS + 400)]
    assert len(near4) == 1  # 2 ms apart: one candidate
    assert len(near7) == 2  # 100 ms apart: two
    assert np.all(np.diff(c["onset"]) > 0)


@pytest.mark.parametrize("batch_s", [0.1, 0.2, 0.25])
def test_candidates_come_out_within_the_stated_latency_at_50_ms_chunks(batch_s):
    """Live use: a candidate is returned by the call whose chunk ends at most ``batch_s`` +
    ``lookahead_s`` after its peak sample, and well under 0.5 s."""
    x, onsets, lengths, _ = _scene(40, 180, (8.0, 20.0), seed=51)
    chain = DetectionChain(FS, 1, mains_hz=50.0, config=ChainConfig(batch_s=batch_s))
    chunk = int(0.05 * FS)
    bound = batch_s + chain.lookahead_s
    assert bound < 0.5
    waits, outs = [], []
    for pos in range(0, x.size, chunk):
        out = chain.process(x[None, pos : pos + chunk], pos)
        outs.append(out)
        waits.extend((pos + chunk - out.candidates["peak"]) / FS)
    outs.append(chain.flush())
    found = _match(concat_outputs(outs).candidates, onsets, lengths)
    assert np.mean(found >= 0) >= 0.95
    assert len(waits) >= 0.9 * onsets.size
    assert max(waits) <= bound + 1e-9


def test_noise_of_the_own_block_is_chunk_independent_too():
    x, _, _, _ = _scene(24, 120, (6.0, 30.0), seed=52)
    config = ChainConfig(causal_noise=False)
    whole, _ = _run(x, config=config)
    parts, _ = _run(x, sizes=[333, 50, 1999], config=config)
    for name in ("candidates", "features", "snippets", "envelope_uv", "noise_uv", "quality"):
        np.testing.assert_array_equal(getattr(parts, name), getattr(whole, name))


def test_peeked_frames_are_the_frames_returned_later_and_the_last_floor():
    x, *_ = _scene(20.0, 60, (6, 12), seed=9)
    x = np.atleast_2d(x).copy()
    x[0, 23000:23300] = np.nan  # a gap inside a block: frames under half valid are NaN
    chain = DetectionChain(FS, 1, mains_hz=50.0, config=ChainConfig(batch_s=0.05))
    outs, peeks, floors = [], [], []
    for pos in range(0, x.shape[1], 130):
        outs.append(chain.process(x[:, pos : pos + 130], pos))
        env, noise, frame0 = chain.peek_frames()
        assert frame0 == outs[0].envelope_start_frame + sum(o.n_frames for o in outs)
        peeks.append((frame0, env))
        floors.append((frame0, noise, concat_outputs(outs).noise_uv[:, -1:]))
    outs.append(chain.flush())
    whole = concat_outputs(outs)
    checked = 0
    for frame0, env in peeks:
        if env.shape[1]:
            later = whole.envelope_uv[:, frame0 - whole.envelope_start_frame :][:, : env.shape[1]]
            np.testing.assert_allclose(env, later, rtol=1e-12, equal_nan=True)
            checked += env.shape[1]
    assert checked > 1000
    for _, noise, last in floors:
        if noise.shape[1] and last.shape[1]:
            np.testing.assert_array_equal(noise, np.repeat(last, noise.shape[1], axis=1))


def test_one_channel_filtered_ahead_on_a_thread_equals_the_serial_chain():
    import threading

    x, *_ = _scene(15.0, 120, (6, 12), seed=12)
    whole, _ = _run(x.astype(np.float32))  # 15 s at once: pieces filtered one ahead
    assert any(t.name.startswith("calfwatch-filter") for t in threading.enumerate())
    serial, _ = _run(x.astype(np.float32), sizes=[37, 1000, 613])  # too short to run ahead
    assert len(whole.candidates) > 10
    assert whole.candidates.tobytes() == serial.candidates.tobytes()
    assert whole.features.tobytes() == serial.features.tobytes()
    assert whole.quality.tobytes() == serial.quality.tobytes()
    for name in ("snippets", "envelope_uv", "noise_uv"):
        np.testing.assert_array_equal(getattr(whole, name), getattr(serial, name))


@pytest.mark.parametrize("after_s", [0.15, 0.3, 0.6])
def test_a_small_potential_in_the_ringing_of_a_large_one_is_found(after_s):
    """The notch rings for hundreds of ms after a 2-mV potential, at several times the noise; the
    kernel subtracts the filters' predicted response, so a potential of 14 x the noise in it is
    a candidate of its own, and the ringing itself gives none at the counting floor."""
    rng = np.random.default_rng(31)
    x = rng.normal(0, 4.5, int(6 * FS))
    sigma_band = np.std(signal.sosfilt(SOS, x)[int(FS):])
    big = muap(0.02, FS, 2, 2000.0)  # slow and large: much of its energy near 50 Hz
    small = muap(0.01, FS, 3, 14 * sigma_band)
    starts = []
    for t0 in (2.0, 4.0):
        i, j = int(t0 * FS), int((t0 + after_s) * FS)
        x[i:i + big.size] += big
        x[j:j + small.size] += small
        starts.append(j)
    out, _ = _run(x)
    c = out.candidates
    found = _match(c, np.array(starts), np.full(2, small.size))
    assert np.all(found >= 0)
    bigs = np.flatnonzero(c["ptp_uv"] > 100 * sigma_band)
    others = np.setdiff1d(np.arange(len(c)), np.r_[found, bigs])
    assert len(bigs) == 2
    assert not np.any(countable(c[others])), c[others]


@pytest.mark.parametrize("mains_hz", [50.0, 60.0])
def test_on_a_clean_sensor_the_ringing_of_a_large_potential_gives_nothing_to_count(mains_hz):
    """At 1.5 uV of noise a 2-mV potential is 1300 x the noise, and the notch's ringing after it
    decays with the notch's time constant (Q / (pi f0), 0.32-0.38 s): it is above the noise for
    about 2 s, past any fixed window sized for a noisier sensor. The prediction follows it until
    it is below the noise, so nothing in it reaches the counting floor."""
    rng = np.random.default_rng(33)
    x = rng.normal(0, 1.5, int(16 * FS))
    big = muap(0.02, FS, 2, 2000.0)
    ends = []
    for t0 in (2.0, 5.0, 8.0, 11.0):
        i = int(t0 * FS)
        x[i:i + big.size] += big
        ends.append(i + big.size)
    out, _ = _run(x, mains_hz=mains_hz)
    c = out.candidates
    after = np.zeros(len(c), bool)
    for end in ends:
        after |= (c["onset"] >= end) & (c["onset"] < end + int(2.9 * FS))
    assert not np.any(countable(c[after])), c[after & countable(c)]
    parts, _ = _run(x, sizes=[997, 1, 4096, 333], mains_hz=mains_hz)
    np.testing.assert_array_equal(parts.candidates, c)


def _after_a_tail(seed: int) -> tuple[np.ndarray, list[int], int]:
    """4.5 uV of noise; four 1.6-mV potentials, each with a slow raw tail (25 ms, 5 % of its size)
    that goes on past where the band-passed signal falls below a tenth of its peak, and a
    potential of 24 x the in-band noise 50 ms after the fast phases' end. Returns the signal, the
    small potentials' starts and their length (samples)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 4.5, int(14 * FS))
    sigma_band = np.std(signal.sosfilt(SOS, x)[int(FS):])
    fast = muap(0.02, FS, 2, 1600.0)
    n_tail = int(0.025 * FS)
    big = np.r_[fast, -0.05 * 1600.0 * np.sin(np.pi * np.arange(n_tail) / n_tail)]
    small = muap(0.01, FS, 3, 24 * sigma_band)
    starts = []
    for t0 in (2.0, 5.0, 8.0, 11.0):
        i = int(t0 * FS)
        j = i + fast.size + int(0.05 * FS)
        x[i:i + big.size] += big
        x[j:j + small.size] += small
        starts.append(j)
    return x, starts, small.size


def test_a_potential_after_a_large_ones_raw_tail_is_a_candidate_of_its_own():
    """From the candidate's samples alone the prediction misses the filters' response to the raw
    tail, and the margin that covers that error hides a potential of 24 x the noise 50 ms later.
    With the tail's samples in the prediction (``ring_extend_s``) what is left is the noise: the
    smaller margin lets the potential through, the ringing gives nothing at the counting floor,
    and any chunking gives the same candidates."""
    found = {}
    for extend_s in (None, 0.0):
        config = ChainConfig() if extend_s is None else ChainConfig(ring_extend_s=extend_s)
        found[extend_s] = 0
        for seed in range(2):
            x, starts, length = _after_a_tail(seed)
            out, _ = _run(x, config=config)
            c = out.candidates
            hit = _match(c, np.array(starts), np.full(len(starts), length))
            found[extend_s] += int(np.sum(hit >= 0))
            if extend_s is None:
                others = np.setdiff1d(np.flatnonzero(c["ptp_uv"] < 100 * out.candidates["noise_uv"]),
                                      hit)
                assert not np.any(countable(c[others])), c[others]
                if seed == 0:
                    parts, _ = _run(x, sizes=[997, 1, 4096, 333], config=config)
                    np.testing.assert_array_equal(parts.candidates, c)
    assert found[None] == 8
    assert found[0.0] <= 2  # the contrast: without the tail the margin hides them


def test_a_potential_just_after_a_large_ones_end_is_a_candidate_of_its_own():
    """Below 10 % of its peak for 3 ms, a large potential has ended (inside it, |y| dips that low
    only for about a millisecond at a zero crossing): a neighbour 18 ms after its end is a
    candidate of its own, where a 5-ms quiet run (the small events' rule) merges the two."""
    found = {}
    for quiet_s in (None, 0.005):
        config = None if quiet_s is None else ChainConfig(merge_gap_large_s=quiet_s)
        found[quiet_s] = []
        for seed in range(4):
            x = np.random.default_rng(seed).normal(0, 4.5, int(4 * FS))
            a, b = muap(0.02, FS, 3, 600.0), muap(0.015, FS, 2, 400.0)
            i = int(2 * FS)
            j = i + a.size + int(0.018 * FS)
            x[i:i + a.size] += a
            x[j:j + b.size] += b
            c, _ = _run(x, config=config)
            c = c.candidates[countable(c.candidates)]
            found[quiet_s].append(int(np.sum((c["peak"] >= i) & (c["peak"] <= j + b.size))))
    assert found[None] == [2, 2, 2, 2]
    assert sum(n == 1 for n in found[0.005]) >= 2  # the contrast: the test can fail



def test_at_500_hz_a_zero_crossing_sample_does_not_end_a_potential():
    """A quiet run is at least two samples: at 500 Hz the 2-ms run would be one sample, and the
    sample a polyphasic potential has near zero between two phases ended it after one phase.
    Independent scene (not calfwatch's simulator), potentials of >= 10 x the noise: with a
    one-sample run 4.5 % of their candidates hold one phase only (p-p under 1.2 x the peak)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from bench_accuracy import ind_scene

    data, fs, truth, noise_uv, _, _ = ind_scene(4.0, 980, rate_per_min=80, sfreq_hz=500.0)
    chain = DetectionChain(fs, 1, mains_hz=50.0)
    c = concat_outputs([chain.process(data, 0), chain.flush()]).candidates
    big = truth[(truth["kind"] == "fasciculation") & (truth["ptp_uv"] >= 10 * noise_uv)]
    ratios = []
    for row in big:
        a, z = row["onset_s"] * fs, (row["onset_s"] + row["duration_s"]) * fs
        mine = c[(c["peak"] >= a) & (c["peak"] < z)]
        if len(mine) == 1:
            ratios.append(mine["ptp_uv"][0] / abs(mine["peak_uv"][0]))
    assert len(ratios) >= 200
    assert np.mean(np.array(ratios) < 1.2) < 0.02


def test_the_ringing_after_a_run_of_pieces_is_predicted_from_all_of_it():
    """100 ms of activity running into a 2-mV potential outlast ``max_duration_s``, and the
    detector cuts them into continuous pieces. The filters ring after all of it (the notch for
    hundreds of ms), not after its last piece alone: predicted from the whole run, the ringing
    gives no candidate at the counting floor. The run's start is kept in the detector's state,
    so any chunking gives the same candidates."""
    rng = np.random.default_rng(32)
    x = rng.normal(0, 4.5, int(6 * FS))
    big = muap(0.02, FS, 2, 2000.0)
    ends = []
    for t0 in (2.0, 4.0):
        burst = rng.normal(0, 120.0, int(0.1 * FS)) * np.hanning(int(0.1 * FS)) ** 0.3
        i = int(t0 * FS)
        x[i:i + burst.size] += burst
        j = i + burst.size - int(0.01 * FS)
        x[j:j + big.size] += big
        ends.append(j + big.size)
    out, _ = _run(x)
    c = out.candidates
    assert c["continuous"].any()  # the case: the activity was cut into pieces
    for end in ends:
        after = (c["onset"] >= end) & (c["onset"] < end + int(0.6 * FS))
        assert not np.any(countable(c[after])), c[after]
    parts, _ = _run(x, sizes=[997, 1, 4096, 333])
    np.testing.assert_array_equal(parts.candidates, c)
