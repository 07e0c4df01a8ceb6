"""Heartbeats (classifier.cardiac): a rhythm at the heart's rate is found among twitches, and
twitches, however many and of whatever shape, never make one."""

from __future__ import annotations

import numpy as np
from test_classifier_events import SF, wave

from classifier.cardiac import beat_summary, cardiac_beats
from classifier.config import default_config
from dsp.types import CANDIDATE_DTYPE

CFG = default_config().events


def candidates(times_s, ptps_uv, kinds, noise_uv=0.0, seed=0):
    """Candidates (sorted by peak) of 10 ms with their snippets, optionally noisy."""
    rng = np.random.default_rng(seed)
    order = np.argsort(times_s)
    times_s, ptps_uv, kinds = (np.asarray(v)[order] for v in (times_s, ptps_uv, kinds))
    cand = np.zeros(len(times_s), CANDIDATE_DTYPE)
    cand["peak"] = np.round(np.asarray(times_s) * SF).astype(np.int64)
    cand["onset"], cand["offset"] = cand["peak"] - 5, cand["peak"] + 5
    cand["ptp_uv"] = ptps_uv
    snips = np.array([wave(p, k) for p, k in zip(ptps_uv, kinds, strict=True)])
    snips += rng.normal(0.0, noise_uv, snips.shape).astype(np.float32)
    return cand, snips


def heart(rng, minutes, rate_per_min=60.0):
    """Beat times with respiratory sinus arrhythmia and beat-to-beat jitter (3 % and 2 %)."""
    t, out = 1.0, []
    while t < minutes * 60:
        out.append(t)
        t += 60.0 / rate_per_min * (1 + 0.03 * np.sin(2 * np.pi * 0.25 * t)
                                    + 0.02 * rng.standard_normal())
    return np.array(out)


def twitches(rng, minutes, rate_per_min):
    """Poisson twitch times (s)."""
    n = rng.poisson(rate_per_min * minutes)
    return np.sort(rng.uniform(1.0, minutes * 60, n))


def test_a_heart_rhythm_among_twitches_is_found_and_the_twitches_are_not():
    rng = np.random.default_rng(3)
    beats, tw = heart(rng, 5.0, 62.0), twitches(rng, 5.0, 40.0)
    tw = tw[np.min(np.abs(tw[:, None] - beats[None, :]), axis=1) > 0.1]  # apart from the beats
    t = np.concatenate([beats, tw])
    ptp = np.concatenate([rng.uniform(90, 110, len(beats)), rng.uniform(60, 600, len(tw))])
    kinds = np.concatenate([np.zeros(len(beats), int), rng.integers(0, 2, len(tw))])
    cand, snips = candidates(t, ptp, kinds, noise_uv=3.0)
    beat = cardiac_beats(cand, snips, SF, CFG)
    is_heart = np.isin(cand["peak"], np.round(beats * SF).astype(np.int64))
    assert beat[is_heart].mean() >= 0.95
    assert beat[~is_heart].mean() <= 0.02
    summary = beat_summary(cand, beat, SF)
    assert abs(summary["rate_per_min"] - 62.0) <= 2.0


def test_a_weak_heart_whose_beats_the_detector_finds_two_in_three_is_one_rhythm():
    """A QRS near the floor reaches the detector at about two beats in three, and now and then
    three or four beats in a row are lost. Such a rhythm, among twitches, is still the heart's:
    a chain of beats on time that complexes at random would not make."""
    for seed in range(4):
        rng = np.random.default_rng(40 + seed)
        beats = heart(rng, 4.0, 75.0)
        beats = beats[rng.random(len(beats)) < 0.65]
        tw = twitches(rng, 4.0, 20.0)
        tw = tw[np.min(np.abs(tw[:, None] - beats[None, :]), axis=1) > 0.1]
        t = np.concatenate([beats, tw])
        ptp = np.concatenate([rng.uniform(90, 110, len(beats)), rng.uniform(60, 600, len(tw))])
        kinds = np.concatenate([np.zeros(len(beats), int), rng.integers(0, 2, len(tw))])
        cand, snips = candidates(t, ptp, kinds, noise_uv=3.0, seed=seed)
        beat = cardiac_beats(cand, snips, SF, CFG)
        is_heart = np.isin(cand["peak"], np.round(beats * SF).astype(np.int64))
        assert beat[is_heart].mean() >= 0.8, seed
        assert beat[~is_heart].mean() <= 0.02, seed


def test_one_unit_twitching_irregularly_at_the_hearts_rate_is_no_heartbeat():
    """A single unit of one shape and size at 60/min, Poisson-timed: the shapes match at every
    link, but the timing is not a rhythm."""
    rng = np.random.default_rng(4)
    t = twitches(rng, 10.0, 60.0)
    t = t[np.concatenate([[True], np.diff(t) > 0.02])]
    cand, snips = candidates(t, np.full(len(t), 100.0), np.zeros(len(t), int))
    assert not cardiac_beats(cand, snips, SF, CFG).any()


def test_a_train_faster_than_a_heart_is_never_a_beat():
    """A unit firing at 10 Hz repeats every fourth potential 0.4 s later, at a heart's interval."""
    t = 5.0 + 0.1 * np.arange(60)
    cand, snips = candidates(t, np.full(len(t), 100.0), np.zeros(len(t), int))
    assert not cardiac_beats(cand, snips, SF, CFG).any()


def test_a_fast_rhythm_whose_intervals_dip_under_the_hearts_is_followed_across_the_dip():
    """At 178 per minute (0.337 s) a few intervals in a row fall under the heart's 0.33 s, and
    the complexes there have alike ones closer than that on both sides, as a train's do: the
    rhythm is lost at them and found again after. The complexes that continue it across the
    gap, one interval each, are its beats too (one unit firing tonically at 3 Hz reads so)."""
    found = []
    for seed in range(4):
        rng = np.random.default_rng(60 + seed)
        beats = heart(rng, 2.0, 178.0)
        cand, snips = candidates(beats, np.full(len(beats), 100.0), np.zeros(len(beats), int),
                                 noise_uv=3.0, seed=seed)
        beat = cardiac_beats(cand, snips, SF, CFG)
        found.append(beat.mean())
        assert abs(beat_summary(cand, beat, SF)["rate_per_min"] - 178.0) <= 5.0
    assert min(found) >= 0.97


def test_a_rhythm_found_at_twice_its_interval_is_followed_at_its_own():
    """A rhythm at 120 per minute whose second complex is reshaped (a twitch over it) is first
    found from its first and third, a second apart, and followed every second complex: its
    other complexes, alike and on time between those, show the rhythm is twice as fast. It is
    followed there, so they are beats too, and the rate is 120, not 60."""
    rng = np.random.default_rng(8)
    t = 1.0 + np.cumsum(rng.normal(0.5, 0.01, 120))
    reshaped = np.zeros(len(t), bool)
    reshaped[1] = True
    cand, snips = candidates(t, np.where(reshaped, 300.0, 100.0), reshaped.astype(int),
                             noise_uv=3.0)
    beat = cardiac_beats(cand, snips, SF, CFG)
    assert beat[~reshaped].mean() >= 0.98
    assert abs(beat_summary(cand, beat, SF)["rate_per_min"] - 120.0) <= 3.0


def test_a_beat_a_twitch_reshaped_stays_in_the_rhythm():
    rng = np.random.default_rng(5)
    beats = heart(rng, 1.0, 60.0)
    kinds = np.zeros(len(beats), int)
    kinds[len(beats) // 2] = 1  # one beat of another shape (a twitch summed into it)
    cand, snips = candidates(beats, np.full(len(beats), 100.0), kinds)
    assert cardiac_beats(cand, snips, SF, CFG).all()
    assert beat_summary(cand, np.ones(len(beats), bool), SF)["beats"] == len(beats)


def test_a_beat_timed_by_another_phase_stays_in_the_rhythm():
    """Which phase of the QRS the detector's piece peaks on changes from beat to beat, so a beat's
    time moves by up to the QRS's half-width: one beat read late must not make the next one look
    early (the interval is predicted from several beats, not from the last alone)."""
    found = []
    for seed in range(5):
        rng = np.random.default_rng(seed)
        beats = heart(rng, 2.0, 60.0)
        late = rng.random(len(beats)) < 0.3
        beats = beats + np.where(late, 0.05, 0.0)  # the S wave's piece, 50 ms after the R's
        cand, snips = candidates(beats, np.full(len(beats), 100.0), np.zeros(len(beats), int))
        found.append(cardiac_beats(cand, snips, SF, CFG).mean())
    assert np.mean(found) >= 0.9


def test_a_beat_linked_to_a_twitch_is_a_beat_and_the_twitch_is_not():
    """A twitch just before a beat makes one complex with it, sized and shaped by the twitch; the
    beat due there is the piece of that complex alike the beats, and the twitch stays a twitch."""
    rng = np.random.default_rng(7)
    beats = heart(rng, 2.0, 60.0)
    hit = np.arange(15, len(beats) - 10, 12)  # beats with a twitch 40 ms before them
    t = np.concatenate([beats, beats[hit] - 0.04])
    ptp = np.concatenate([np.full(len(beats), 100.0), np.full(len(hit), 800.0)])
    kinds = np.concatenate([np.zeros(len(beats), int), np.ones(len(hit), int)])
    cand, snips = candidates(t, ptp, kinds, noise_uv=3.0)
    beat = cardiac_beats(cand, snips, SF, CFG)
    is_heart = np.isin(cand["peak"], np.round(beats * SF).astype(np.int64))
    assert beat[is_heart].mean() >= 0.98
    assert not beat[~is_heart].any()


def test_a_rhythm_found_late_is_followed_back_to_its_first_beats():
    """Every third of the first twelve beats is reshaped by a twitch over it (three times the
    beat's size, another shape), so no three alike beats in a row start a rhythm there; it is
    found from the 13th beat and followed back: the first beats are heartbeats too, not
    twitches."""
    rng = np.random.default_rng(7)
    beats = heart(rng, 1.0)
    reshaped = np.zeros(len(beats), bool)
    reshaped[2:12:3] = True
    cand, snips = candidates(beats, np.where(reshaped, 300.0, 100.0), reshaped.astype(int))
    beat = cardiac_beats(cand, snips, SF, CFG)
    assert beat[:12][~reshaped[:12]].all()
    assert beat[12:].all()


def test_many_twitches_of_one_unit_make_few_chance_beats():
    """One unit of one shape and size twitching at random at 60-120/min for ten minutes, forty
    times over: its discharges fall where a rhythm's beats would by chance, but a rhythm has most
    of its beats on time, or more of them than chance puts there. At most 0.6 % of them are taken
    as beats at up to 100/min (0.9 % at 100/min when a rhythm could skip one beat at a time, as
    often as it liked), 1.5 % at 120/min."""
    for rate, most in ((60.0, 0.006), (100.0, 0.006), (120.0, 0.015)):
        flagged = n = 0
        for seed in range(40):
            rng = np.random.default_rng(1000 + seed)
            t = twitches(rng, 10.0, rate)
            t = t[np.concatenate([[True], np.diff(t) > 0.02])]
            cand, snips = candidates(t, np.full(len(t), 100.0), np.zeros(len(t), int))
            beat = cardiac_beats(cand, snips, SF, CFG)
            flagged, n = flagged + int(beat.sum()), n + len(beat)
        assert flagged <= most * n, rate


def test_a_heart_slowing_over_the_recording_stays_one_rhythm():
    """The heart slows from 75 to 45 beats per minute over ten minutes: every beat is on time
    by the recent intervals, so every one is a beat, however far the rate has moved from the
    first interval's."""
    rate = np.linspace(75.0, 45.0, 10_000)
    t, beats = 1.0, []
    while t < 600.0:
        beats.append(t)
        t += 60.0 / rate[int(t / 600.0 * (len(rate) - 1))]
    beats = np.array(beats)
    cand, snips = candidates(beats, np.full(len(beats), 100.0), np.zeros(len(beats), int))
    assert cardiac_beats(cand, snips, SF, CFG).all()


def test_a_qrs_phase_the_rhythm_left_beside_its_beat_piece_is_the_beats():
    """The rhythm may run through a QRS's small S wave (alike from beat to beat) and leave its
    larger R wave, reshaped by the noise: that phase is the beat's, as long as its complex is of a
    beat's size and it is no faster than the QRS. A twitch on the beat adds its own size to the
    complex, and a twitch's phase is faster: both stay twitches."""
    from classifier.cardiac import qrs_pieces

    n = 12
    t_s = np.arange(n) * 0.8 + 1.0
    cand = np.zeros(3 * n, CANDIDATE_DTYPE)
    # per beat: its R wave (unmarked), its S wave 20 ms later (marked), and 60 ms on another piece
    cand["peak"] = np.round(np.concatenate([t_s, t_s + 0.02, t_s + 0.04]) * SF).astype(np.int64)
    cand["onset"], cand["offset"] = cand["peak"] - 4, cand["peak"] + 4
    order = np.argsort(cand["peak"])
    cand = cand[order]
    role = np.repeat(np.array(["R", "S", "X"]), n)[order]
    cand["ptp_uv"] = np.select([role == "R", role == "S"], [45.0, 20.0], 30.0)
    beat = role == "S"
    complex_uv = np.where(role == "X", 50.0, 52.0)
    dominant_hz = np.where(role == "X", 90.0, 8.0)  # X: a twitch's fast phase
    x = np.flatnonzero(role == "X")
    dominant_hz[x[::2]] = 8.0  # half of them as slow as the QRS, on a complex twice a beat's
    complex_uv[x[::2]] = 110.0
    got = qrs_pieces(cand, dominant_hz, beat, SF, CFG.cardiac_qrs_s, complex_uv,
                     CFG.cardiac_max_amplitude_ratio)
    assert got[role == "R"].all()
    assert not got[role == "X"].any()


def test_the_slow_end_of_a_qrs_cut_at_the_longest_piece_is_the_beats():
    """A strong QRS fills a piece the detector cuts at its longest (100 ms), and its slow end
    follows as a small piece 30 ms after that piece's end, 80 ms after its peak: the beat's. A
    twitch's fast phase there stays a twitch, and so does a slow piece as far from a short beat
    piece's end."""
    from classifier.cardiac import qrs_pieces

    n = 12
    t_s = np.arange(n) * 0.8 + 1.0
    cand = np.zeros(2 * n, CANDIDATE_DTYPE)
    cand["peak"] = np.round(np.concatenate([t_s, t_s + 0.08]) * SF).astype(np.int64)
    order = np.argsort(cand["peak"])
    cand = cand[order]
    role = np.repeat(np.array(["beat", "end"]), n)[order]
    beat = role == "beat"
    long_piece = beat & (np.arange(2 * n) % 4 == 0)  # every other beat cut at 100 ms
    half = round(0.05 * SF)
    cand["onset"] = cand["peak"] - np.where(long_piece, half, 4)
    cand["offset"] = cand["peak"] + np.where(long_piece, half, 4)
    cand["ptp_uv"] = np.where(beat, 300.0, 30.0)
    after_long = np.zeros(2 * n, bool)
    after_long[1:] = long_piece[:-1]
    dominant_hz = np.where(beat, 23.0, 8.0)
    got = qrs_pieces(cand, dominant_hz, beat, SF, CFG.cardiac_qrs_s)
    assert got[after_long].all()
    assert not got[(role == "end") & ~after_long].any()
    fast = np.where(role == "end", 100.0, dominant_hz)
    assert not qrs_pieces(cand, fast, beat, SF, CFG.cardiac_qrs_s)[~beat].any()


def test_the_ringing_a_candidate_sits_in_is_the_largest_of_those_before_it():
    """Brute force: for each candidate, the largest fraction x size x exp(-lag / tau) over the
    candidates before it, over a night's span of times (the running maximum is taken in
    logarithms, where the times of hours would overflow an exponential)."""
    from classifier.cardiac import ringing_uv

    rng = np.random.default_rng(8)
    cand = np.zeros(400, CANDIDATE_DTYPE)
    cand["peak"] = np.sort(rng.integers(0, int(8 * 3600 * SF), 400))
    cand["peak"][200:230] = cand["peak"][200] + np.arange(30) * 50  # a dense stretch
    cand["ptp_uv"] = np.exp(rng.uniform(np.log(15.0), np.log(2000.0), 400))
    t_s = cand["peak"] / SF
    want = np.zeros(400)
    for i in range(1, 400):
        want[i] = np.max(0.05 * cand["ptp_uv"][:i] * np.exp(-(t_s[i] - t_s[:i]) / 0.38))
    np.testing.assert_allclose(ringing_uv(cand, SF, 0.05, 0.38), want, rtol=1e-9, atol=1e-300)
