"""Heartbeats on a calf channel: the ECG leaking into surface EMG.

The heart's field reaches a leg electrode pair, weakly on the calf and more with wide electrode
spacing or a distant reference, and its QRS complex passes the 20-450 Hz band-pass as a potential of
tens of milliseconds, at every beat. Left alone, a night with ECG interference reads as
fasciculations at the heart rate (40-100 per minute asleep), which is the concerning range.

What tells a heartbeat from a fasciculation is its timing: the same shape again and again at the
heart's interval, 0.33-1.5 s (40-180 beats per minute), each interval close to the one before
(beat-to-beat changes at rest are a few per cent: RMSSD 20-50 ms at RR near 1 s, Task Force of the
ESC and NASPE, Circulation 1996;93:1043). Fasciculations fire irregularly, seconds apart, and
discharges of different units are independent (Poisson), so a rhythm is followed beat by beat,
each next beat within ``cardiac_max_step`` (10 %) of the time the recent intervals predict, on from
where the rhythm is first found and back to its first beats, and only ``cardiac_min_beats`` (10)
or more, most of them on time (``MIN_FOUND_FRACTION``) or more of them than chance would put
there (``RHYTHM_MAX_CHANCE``: a weak QRS reaches the detector at only some of its beats), are
heartbeats. Even a single unit of one shape twitching at 60 per minute, each of its discharges
alike to the others, almost never keeps such a rhythm that long.

Beats are neither counted nor events: like the mains hum, the ECG is interference on the channel,
and it does not take rest time (the twitches between beats count). A twitch can fall on a beat:
the pieces of its QRS then stay the beat's (:func:`qrs_pieces`, :func:`cardiac_beats`), and the
twitch is timed from its own onset (:func:`skipped_beats_s`, used by :mod:`classifier.events`).
A beat in the notch's ringing after a large twitch is compared in size less that ringing
(:func:`ringing_uv`).
The night's quality section states how many beats each channel holds and their median rate.
"""

from __future__ import annotations

import numpy as np

from classifier.config import ClassifierConfig, EventRules
from classifier.night_data import NightData
from classifier.potentials import linked_runs
from classifier.similarity import half_window, similar_pairs

#: Beat candidates closer than this are pieces of one beat (s).
BEAT_PIECES_S = 0.2
#: Intervals averaged to predict the next beat: Pan and Tompkins' RR average (IEEE Trans Biomed
#: Eng 1985;32:230), the mean of the eight most recent.
RR_AVERAGE_BEATS = 8
#: Beats in a row a rhythm may skip (reshaped by twitches over them, or lost in the noise): at
#: the rhythm's known interval, an alike complex seven intervals on is still the heart's. A QRS
#: near the floor reaches the detector at about half of its beats (the rest stay under its
#: threshold), so runs of three to six lost beats are common there: on scenes of a 45-uV QRS at
#: 75 per minute and no twitches (tests/independent_scenes.py, seeds 701-705) chains broken at
#: three lost beats left 11 beats counted as twitches in 20 minutes, 3 with up to six.
MAX_SKIPPED_BEATS = 6
#: A rhythm has most of its beats where they are due: skips are exceptions. A single unit of one
#: shape firing at random at the heart's rate chains only with many skips. The beats due are the
#: beats found and skipped (not the span over the first interval: the heart slows overnight).
#: With two skips in a row at most, over 40 ten-minute scenes of such a unit the share of its
#: discharges taken as beats was 0.04 / 0.36 / 0.89 % at 60 / 80 / 100 per minute with one skip
#: allowed and no share asked; 0.00 / 0.13 / 0.20 % at 85 %, 0.00 / 0.36 / 0.52 % at 80 % and
#: 0.09 / 0.95 / 1.96 % at 75 %. A heart skips more where twitches fall on its beats and its
#: beats near the floor: false counts on the 60-uV ECG row 0.42 / 0.17 / 0.08 per rest minute at
#: 85 / 80 / 75 % (0.50 with one skip), and at 85 % the weak beats of the 500-Hz heartbeat lag
#: scenes (a twitch on every 7th beat) lost their rhythm: 32 events besides the twitches against
#: 11 at 80 % (calfwatch choice: 80 %, no more chance beats than with one skip at any rate).
MIN_FOUND_FRACTION = 0.8
#: ... or, with fewer of its beats found, a rhythm whose found beats complexes at random would put
#: on time with a chance of at most this: a binomial tail over the beats due, each on time with
#: the Poisson chance of a complex (at the rate of all complexes over the rhythm's span) within
#: +-cardiac_max_step of the interval. A weak heart's rhythm of 60 beats found of 89 due has a
#: chance of about 1e-23; a single unit firing at random reaches 1e-5 at a few of its discharges.
#: Over 80 ten-minute scenes of one unit of one shape at 60 / 80 / 100 / 120 per minute
#: (tests/test_classifier_cardiac.py) the share of its discharges taken as beats was
#: 0.05 / 0.06 / 0.06 / 0.09 % at 1e-5, 0.36 / 0.70 / 0.22 / 0.29 % at 1e-4, against
#: 0.02 / 0.10 / 0.49 / 1.07 % with the share alone and two skips; false counts on the weak-QRS
#: scenes above 4 / 3 / 3 in 20 minutes at 1e-6 / 1e-5 / 1e-4 (calfwatch choice: 1e-5).
RHYTHM_MAX_CHANCE = 1e-5
#: A heart's rhythm is the fastest at which its complexes repeat. A unit firing tonically at
#: 1.3-4 Hz (Muscle Nerve 2020;61:387) repeats every second, third, ... discharge at a heart's
#: interval too, and a rhythm followed there takes those discharges and leaves the others as
#: twitches (a 2-Hz unit near the floor: one in three of its discharges counted, the rhythm at 40
#: per minute). A rhythm with an alike complex on time at one of its beats' fractions (a half to
#: a ``MAX_SUBDIVISION``-th of the interval) between at least ``MIN_BETWEEN_FRACTION`` of its
#: beats is left for the faster rhythm to be found from other complexes, and taken as found only
#: after (where the faster one was not found or lost its way); none is a beat where that
#: fraction is shorter than the heart's interval. Twitches fall on such a time by chance at a
#: few per cent of the beats (40 per minute in a 2 x 10 % window of 0.5 s: 7 %), and must be
#: alike the beat too.
MAX_SUBDIVISION = 6
MIN_BETWEEN_FRACTION = 0.5


def cardiac_beats(cand: np.ndarray, snippets: np.ndarray, sfreq_hz: float,
                  cfg: EventRules, ring_uv: np.ndarray | None = None) -> np.ndarray:
    """Whether each candidate of one channel (sorted by peak) is part of a heartbeat.

    A QRS complex near the floor reaches the detector as one to three pieces, and which of its
    phases peaks highest changes from beat to beat, so beats are compared as complexes: candidates
    each starting within ``jerk_link_s`` of the end of those before, timed by their largest piece,
    sized over ``cardiac_qrs_s`` around it and compared in shape at lags up to half of that
    (:class:`_Shapes`). A rhythm starts at two alike complexes ``cardiac_interval_s`` apart with a
    complex where the third beat would fall (:func:`_steady_starts`) and is followed from there
    (:class:`_RhythmTracker`); ``cardiac_min_beats`` or more complexes in a row are heartbeats.
    Where a beat is due inside a twitch's complex, the piece of it alike the beat before is the
    beat (:func:`_claim_piece`), and the twitch stays a candidate. A complex with two or more alike
    ones sooner than a heart could beat (a unit firing at 5-30 Hz: a train, see
    :func:`classifier.trains.trains`) is never a beat.

    Parameters
    ----------
    cand : ndarray
        Candidates of one channel, sorted by peak (``dsp.types.CANDIDATE_DTYPE``).
    snippets : ndarray, shape (n_candidates, n_snippet)
        Their waveforms, centred on the peak.
    sfreq_hz : float
        Sampling rate (Hz).
    cfg : EventRules
        ``[events]`` settings.

    Returns
    -------
    beat : ndarray of bool, shape (n_candidates,)

    Examples
    --------
    >>> from classifier.config import load_config
    >>> from dsp.types import CANDIDATE_DTYPE
    >>> cand = np.zeros(12, CANDIDATE_DTYPE)
    >>> cand["peak"] = np.arange(12) * 900          # 900 ms apart at 1 kHz: 67 per minute
    >>> cand["onset"], cand["offset"] = cand["peak"] - 5, cand["peak"] + 5
    >>> cand["ptp_uv"] = 80.0
    >>> snips = np.tile(np.sin(np.linspace(0, 6, 41)), (12, 1))
    >>> bool(cardiac_beats(cand, snips, 1000.0, load_config().events).all())
    True
    """
    n = len(cand)
    beat = np.zeros(n, bool)
    if n < cfg.cardiac_min_beats:
        return beat
    complex_id, rep = _complexes(cand, cfg.jerk_link_s * sfreq_hz)
    if len(rep) < cfg.cardiac_min_beats:
        return beat
    t_s = cand["peak"][rep] / sfreq_hz
    size_uv = _complex_size_uv(snippets, sfreq_hz, cfg.cardiac_qrs_s)
    half, shift = half_window(snippets, sfreq_hz, cfg), round(cfg.cardiac_qrs_s * sfreq_hz / 2)
    ring_uv = np.zeros(n) if ring_uv is None else ring_uv
    shapes = _Shapes(snippets[rep], size_uv[rep], half, shift, cfg, ring_uv[rep])
    train = shapes.in_train(t_s, np.arange(len(t_s)), cfg.cardiac_interval_s[0],
                            cfg.cardiac_max_lag)
    tracker = _RhythmTracker(t_s, shapes, cfg, train)
    first, second = _steady_starts(t_s, shapes, cfg, train)
    for i, j in zip(first, second, strict=True):  # the nearest start of each complex, in order
        if not tracker.beat[i] and not tracker.beat[j]:
            tracker.follow(int(i), int(j))
    tracker.take_deferred()
    tracker.bridge_gaps()
    beat = tracker.beat[complex_id]
    pieces, peak_s = _Shapes(snippets, size_uv, half, shift, cfg, ring_uv), cand["peak"] / sfreq_hz
    complex_uv = cand["ptp_uv"][rep][complex_id]  # the largest piece of each one's complex
    for last, pred_s, rr_s in tracker.unclaimed:
        if not _claim_piece(beat, peak_s, pieces, rep[last], pred_s,
                            cfg.cardiac_max_step * rr_s):
            _claim_small_piece(beat, peak_s, cand["ptp_uv"], complex_uv, size_uv[rep[last]],
                               pred_s, cfg.cardiac_max_step * rr_s,
                               cfg.cardiac_max_amplitude_ratio)
    return beat


def _claim_piece(beat: np.ndarray, peak_s: np.ndarray, pieces: _Shapes, last: int, pred_s: float,
                 width_s: float) -> bool:
    """Claim the candidate nearest ``pred_s`` (within ``width_s``) that is alike the beat
    ``last``: a beat due where a twitch's complex lies, linked to it, is a piece of that complex.
    Returns whether one was claimed."""
    lo, hi = np.searchsorted(peak_s, [pred_s - width_s, pred_s + width_s])
    idx = np.arange(lo, hi)
    idx = idx[~beat[idx]]
    idx = idx[pieces.alike(np.full(len(idx), last), idx)]
    if len(idx):
        beat[idx[np.argmin(np.abs(peak_s[idx] - pred_s))]] = True
    return bool(len(idx))


def _claim_small_piece(beat: np.ndarray, peak_s: np.ndarray, own_uv: np.ndarray,
                       complex_uv: np.ndarray, beat_uv: float, pred_s: float, width_s: float,
                       max_ratio: float) -> None:
    """Claim the candidate nearest ``pred_s`` (within ``width_s``) no larger than a beat
    (``beat_uv``, the last beat's complex) in a complex whose largest piece (``complex_uv``) is
    larger than that: a QRS reached without a return to baseline from a large twitch, whose
    waveform then shapes the QRS's snippet too. A QRS near the floor reaches the detector in
    pieces, of any size up to the whole complex's."""
    lo, hi = np.searchsorted(peak_s, [pred_s - width_s, pred_s + width_s])
    idx = np.arange(lo, hi)
    idx = idx[~beat[idx] & (own_uv[idx] <= max_ratio * beat_uv)
              & (complex_uv[idx] > max_ratio * beat_uv)]
    if len(idx):
        beat[idx[np.argmin(np.abs(peak_s[idx] - pred_s))]] = True


class _Shapes:
    """Sizes and shape comparison of complexes: sizes within ``cardiac_max_amplitude_ratio`` and
    snippets correlating at ``cardiac_min_correlation`` at the best of the lags up to ``shift``
    samples (whichever phase each piece peaks on), over ``half`` samples each side of the
    middle (:func:`classifier.similarity.similar_pairs`)."""

    def __init__(self, snippets: np.ndarray, size_uv: np.ndarray, half: int, shift: int,
                 cfg: EventRules, ring_uv: np.ndarray) -> None:
        self.snippets, self.size_uv, self.half, self.shift = snippets, size_uv, half, shift
        self.ring_uv = ring_uv
        self.min_correlation = cfg.cardiac_min_correlation
        self.max_ratio = cfg.cardiac_max_amplitude_ratio

    def in_train(self, t_s: np.ndarray, k: np.ndarray, within_s: float, max_lag: int
                 ) -> np.ndarray:
        """Whether each complex ``k`` has two or more alike ones sooner than ``within_s`` before
        or after it: a unit firing at 5-30 Hz (every fourth discharge of a 10-Hz train is a
        heart's interval apart). One alike twitch near a beat by chance does not make a train."""
        k = np.asarray(k, np.int64)
        found = np.zeros(len(k), np.int64)
        for lag in range(1, max_lag + 1):
            for sign in (1, -1):
                j = k + sign * lag
                ok = (found < 2) & (j >= 0) & (j < len(t_s))
                ok[ok] = np.abs(t_s[j[ok]] - t_s[k[ok]]) < within_s
                if ok.any():
                    found[np.flatnonzero(ok)[self.alike(k[ok], j[ok])]] += 1
        return found >= 2

    def sized_alike(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Sizes within ``max_ratio``, the larger one less the ringing it sits in (twice its
        amplitude, peak to peak)."""
        a, b = self.size_uv[i], self.size_uv[j]
        ring = np.where(a >= b, self.ring_uv[i], self.ring_uv[j])
        return np.maximum(a, b) <= self.max_ratio * np.minimum(a, b) + 2.0 * ring

    def alike(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Whether pairs ``(i, j)`` are of one size and shape."""
        return similar_pairs(self.snippets, self.size_uv, i, j, self.half, self.min_correlation,
                             self.max_ratio, self.shift)


def _steady_starts(t_s: np.ndarray, shapes: _Shapes, cfg: EventRules, train: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of alike complexes ``cardiac_interval_s`` apart, neither in a train, with an alike
    complex nearest where the third beat would fall; the first such pair of each complex."""
    lo, hi = cfg.cardiac_interval_s
    n, step = len(t_s), cfg.cardiac_max_step
    firsts, seconds = [], []
    for lag in range(1, min(n, cfg.cardiac_max_lag + 1)):
        i = np.arange(n - lag)
        j = i + lag
        dt = t_s[j] - t_s[i]
        if np.all(dt > hi):
            break
        ok = (dt >= lo) & (dt <= hi) & ~train[i] & ~train[j]
        i, j, dt = i[ok], j[ok], dt[ok]
        k = _nearest(t_s, t_s[j] + dt)
        ok = (np.abs(t_s[k] - t_s[j] - dt) <= step * dt) & (k > j) & ~train[k]
        i, j, k = i[ok], j[ok], k[ok]
        ok = shapes.sized_alike(i, j) & shapes.sized_alike(j, k)
        i, j, k = i[ok], j[ok], k[ok]
        ok = shapes.alike(i, j)
        ok[ok] = shapes.alike(j[ok], k[ok])
        firsts.append(i[ok])
        seconds.append(j[ok])
    if not firsts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    first, second = np.concatenate(firsts), np.concatenate(seconds)
    order = np.lexsort((second, first))
    first, second = first[order], second[order]
    keep = np.concatenate([[True], np.diff(first) > 0]) if len(first) else np.zeros(0, bool)
    return first[keep], second[keep]


def _nearest(t_s: np.ndarray, when_s: np.ndarray) -> np.ndarray:
    """Index of the time in sorted ``t_s`` nearest each of ``when_s``."""
    right = np.clip(np.searchsorted(t_s, when_s), 1, len(t_s) - 1)
    left = right - 1
    return np.where(np.abs(t_s[left] - when_s) <= np.abs(t_s[right] - when_s), left, right)


class _RhythmTracker:
    """Follows a rhythm from a pair of alike complexes one interval apart, beat by beat, on and
    back.

    Each next beat is the alike complex nearest the time the interval predicts, within
    ``cardiac_max_step`` of that interval. The interval is the mean of the last
    ``RR_AVERAGE_BEATS`` (Pan and Tompkins' RR average), because a beat is timed by its largest
    piece, which changes phase from beat to beat: one late beat read alone would make the next one
    look early. Up to ``MAX_SKIPPED_BEATS`` beats in a row may be missing or reshaped (by the
    noise, or twitches over them), and the next is then looked for two or three intervals on.
    A rhythm of ``cardiac_min_beats`` or more complexes, skipping at most 1 - ``MIN_FOUND_FRACTION``
    of its due beats or finding more of them on time than complexes at random would
    (``RHYTHM_MAX_CHANCE``), is a run of beats, with the complex on time and of a beat's size where
    one was skipped.
    """

    def __init__(self, t_s: np.ndarray, shapes: _Shapes, cfg: EventRules,
                 train: np.ndarray) -> None:
        self.t_s, self.shapes, self.cfg, self.train = t_s, shapes, cfg, train
        self.beat = np.zeros(len(t_s), bool)
        self.unclaimed: list[tuple[int, float, float]] = []  # (last beat, due time, interval)
        self.deferred: list[tuple[list[int], list[tuple[int, float, float]]]] = []

    def follow(self, first: int, second: int) -> None:
        """Follow the rhythm on from the pair ``first``, ``second``, and back from ``first``: a
        rhythm found late (its first beats reshaped by twitches over them) began earlier. Where
        its complexes repeat at a fraction of its interval (:meth:`_between`) it is left for
        that faster rhythm (:meth:`take_deferred`), or dropped where that is faster than a
        heart."""
        rr0 = self.t_s[second] - self.t_s[first]
        later, skipped = self._walk([first, second], rr0, 1)
        earlier, skipped_before = self._walk([second, first], rr0, -1)
        chain = earlier[:1:-1] + later
        due = len(chain) + len(skipped) + len(skipped_before)  # the rate may drift: count skips
        if not (len(chain) >= max(self.cfg.cardiac_min_beats, MIN_FOUND_FRACTION * due)
                or (len(chain) >= self.cfg.cardiac_min_beats
                    and self._chance(chain, due) <= RHYTHM_MAX_CHANCE)):
            return
        between = self._between(np.array(chain))
        if between is None:
            self._take(chain, skipped + skipped_before)
        elif between >= self.cfg.cardiac_interval_s[0]:  # a faster rhythm's beats: left for
            self.deferred.append((chain, skipped + skipped_before))  # it (:meth:`take_deferred`)

    def _take(self, chain: list[int], skipped: list[tuple[int, float, float]]) -> None:
        """Make the complexes of ``chain`` beats, and those on time where it skipped one."""
        self.beat[chain] = True
        for last, pred_s, rr_s in skipped:  # beats the noise or a twitch reshaped
            self._claim_on_time(last, pred_s, rr_s)

    def take_deferred(self) -> None:
        """Take the rhythms left for a faster one (:meth:`follow`) once every rhythm has been
        followed: where the faster one was found, their beats are its beats already; where it
        was not, or lost its way, they are the heart's as found."""
        for chain, skipped in self.deferred:
            self._take(chain, skipped)
        self.deferred = []

    def _between(self, chain: np.ndarray) -> float | None:
        """Where the complexes of ``chain`` repeat at a fraction of its interval (a half to a
        ``MAX_SUBDIVISION``-th, on time and alike at ``MIN_BETWEEN_FRACTION`` or more of the
        places between its beats), that shorter interval (s); None where they do not."""
        t = self.t_s[chain]
        gaps = np.diff(t)
        whole = np.flatnonzero(np.abs(gaps / np.median(gaps) - 1.0) <= self.cfg.cardiac_max_step)
        if len(whole) == 0:
            return None
        for m in range(MAX_SUBDIVISION, 1, -1):  # the finest first: a quarter fills the halves
            b = np.repeat(whole, m - 1)
            pred = t[b] + np.tile(np.arange(1, m), len(whole)) * gaps[b] / m
            k = _nearest(self.t_s, pred)
            ok = np.abs(self.t_s[k] - pred) <= self.cfg.cardiac_max_step * gaps[b] / m
            ok[ok] = self.shapes.alike(chain[b][ok], k[ok])
            if ok.mean() >= MIN_BETWEEN_FRACTION:
                return float(np.median(gaps)) / m
        return None

    def _chance(self, chain: list[int], due: int) -> float:
        """Chance that complexes at random (Poisson, at the rate of all complexes over the
        chain's span) put one on time (within ``cardiac_max_step`` of the mean interval) at
        ``len(chain)`` or more of ``due`` beats."""
        lo, hi = min(chain), max(chain)
        span_s = self.t_s[hi] - self.t_s[lo]
        if span_s <= 0:
            return 1.0
        rate_per_s = (hi - lo + 1) / span_s
        window_s = 2 * self.cfg.cardiac_max_step * span_s / max(due - 1, 1)
        on_time = 1.0 - np.exp(-rate_per_s * window_s)
        from scipy.special import betainc  # a binomial's P(X >= k), without scipy.stats

        return float(betainc(len(chain), due - len(chain) + 1, on_time))

    def _walk(self, chain: list[int], rr_s: float, direction: int
              ) -> tuple[list[int], list[tuple[int, float, float]]]:
        """Extend ``chain`` beat by beat forward (``direction`` 1) or backward (-1), over up to
        ``MAX_SKIPPED_BEATS`` reshaped beats in a row; the beats, and the (beat before, due time,
        interval) of each one skipped."""
        rr, skipped = [rr_s], []
        while True:
            mean_rr = float(np.mean(rr[-RR_AVERAGE_BEATS:]))
            for beats in range(1, MAX_SKIPPED_BEATS + 2):
                k = self._near(chain[-1], mean_rr, beats * direction)
                if k >= 0:
                    break
            if k < 0:
                return chain, skipped
            rr.append(abs(self.t_s[k] - self.t_s[chain[-1]]) / beats)
            before = min(k, chain[-1])
            skipped += [(before, self.t_s[before] + m * rr[-1], rr[-1]) for m in range(1, beats)]
            chain.append(k)

    def _window(self, pred: float, rr: float, in_train: bool = False) -> np.ndarray:
        """Complexes not yet beats within ``cardiac_max_step`` of ``rr`` of ``pred``; those in
        a train too with ``in_train``."""
        width = self.cfg.cardiac_max_step * rr
        lo, hi = np.searchsorted(self.t_s, [pred - width, pred + width])
        idx = np.arange(lo, hi)
        return idx[~self.beat[idx] & (in_train | ~self.train[idx])]

    def bridge_gaps(self) -> None:
        """Make beats of the complexes that continue the rhythm across a gap between two beats:
        from the beat before, each next alike complex one interval on (:meth:`_near`, in a train
        or not) until the beat after is one interval on. The interval is the median of the eight
        around the gap that span one beat. Where a fast heart's intervals dip under
        ``cardiac_interval_s`` for a few beats, those beats are a train's
        (:meth:`_Shapes.in_train`), the rhythm is lost there and found again after; the beats
        that continue it on both sides are the heart's."""
        b = np.flatnonzero(self.beat)
        rr = np.diff(self.t_s[b])
        if len(rr) == 0:
            return
        step = self.cfg.cardiac_max_step
        for g in np.flatnonzero(rr > (1.0 + step) * np.median(rr)):
            near = rr[max(0, g - RR_AVERAGE_BEATS // 2): g + RR_AVERAGE_BEATS // 2 + 1]
            ref = float(np.median(near[near <= (1.0 + step) * np.median(near)]))
            path, last = [], int(b[g])
            while last >= 0 and self.t_s[b[g + 1]] - self.t_s[last] > (1.0 + step) * ref:
                last = self._near(last, ref, 1, in_train=True)
                path.append(last)
            if last >= 0 and abs(self.t_s[b[g + 1]] - self.t_s[last] - ref) <= step * ref:
                self.beat[path] = True

    def _near(self, last: int, rr: float, beats: int, in_train: bool = False) -> int:
        """The alike complex, not yet a beat, nearest ``beats`` intervals after ``last`` (before
        it when ``beats`` is negative; -1 if none); one in a train too with ``in_train``."""
        pred = self.t_s[last] + beats * rr
        idx = self._window(pred, rr, in_train)
        idx = idx[idx > last] if beats > 0 else idx[idx < last]
        idx = idx[self.shapes.alike(np.full(len(idx), last), idx)]
        if not len(idx):
            return -1
        return int(idx[np.argmin(np.abs(self.t_s[idx] - pred))])

    def _claim_on_time(self, last: int, pred: float, rr: float) -> None:
        """Claim the complex nearest ``pred`` (a beat due after ``last``) if it is on time and of
        a beat's size, in a train or not: a rhythm found, a complex on its time is its beat
        (intervals a little under ``cardiac_interval_s`` put a fast heart's beats in a train)."""
        idx = self._window(pred, rr, in_train=True)
        idx = idx[self.shapes.sized_alike(np.full(len(idx), last), idx)]
        if len(idx):
            self.beat[idx[np.argmin(np.abs(self.t_s[idx] - pred))]] = True
        else:
            self.unclaimed.append((last, pred, rr))


def _complex_size_uv(snippets: np.ndarray, sfreq_hz: float, qrs_s: float) -> np.ndarray:
    """Peak-to-peak of each snippet over ``qrs_s`` centred on its peak (within the snippet): the
    size of the whole complex, whichever of its phases the detector's candidate holds."""
    mid = snippets.shape[1] // 2
    half = min(mid, max(1, round(qrs_s * sfreq_hz / 2)))
    return np.ptp(snippets[:, mid - half: mid + half + 1], axis=1).astype(np.float64)


def _complexes(cand: np.ndarray, link_samples: float) -> tuple[np.ndarray, np.ndarray]:
    """Complex index of each candidate (sorted by peak) and the largest candidate of each."""
    complex_id = linked_runs(cand, link_samples)
    order = np.lexsort((-cand["ptp_uv"], complex_id))
    first = np.concatenate([[True], np.diff(complex_id[order]) > 0])
    return complex_id, order[first]


def _beat_peaks_s(cand: np.ndarray, beat: np.ndarray, sfreq_hz: float) -> np.ndarray:
    """Times (s) of the beats: the first of each group of beat candidates closer than
    ``BEAT_PIECES_S`` (the pieces of one beat)."""
    t_s = cand["peak"][beat] / sfreq_hz
    if len(t_s):
        t_s = t_s[np.concatenate([[True], np.diff(t_s) >= BEAT_PIECES_S])]
    return t_s


def beat_summary(cand: np.ndarray, beat: np.ndarray, sfreq_hz: float) -> dict[str, float | int]:
    """Number of heartbeats and their median rate per minute (None without two in a row).

    Beat candidates closer than the shortest heartbeat interval of any rule (0.2 s: 300 per
    minute) are pieces of one beat.

    Examples
    --------
    >>> from dsp.types import CANDIDATE_DTYPE
    >>> cand = np.zeros(4, CANDIDATE_DTYPE); cand["peak"] = [0, 1000, 1020, 2000]
    >>> beat_summary(cand, np.ones(4, bool), 1000.0)
    {'beats': 3, 'rate_per_min': 60.0}
    """
    t_s = _beat_peaks_s(cand, beat, sfreq_hz)
    rr = np.diff(t_s)
    rr = rr[rr <= 2.0]  # consecutive beats only (the slowest heart rate of the rule is 40/min)
    rate = float(60.0 / np.median(rr)) if len(rr) else None
    return {"beats": int(len(t_s)), "rate_per_min": rate}


def skipped_beats_s(cand: np.ndarray, beat: np.ndarray, sfreq_hz: float,
                    cfg: EventRules) -> np.ndarray:
    """Times (s) where a run of heartbeats skipped a beat: the middle of an interval twice the
    run's, within ``cardiac_max_step`` of that.

    A beat is skipped where no candidate of a beat's shape and size lies on time: there a twitch
    overlaps the QRS and the detector found the two as one candidate, which the twitch shapes.
    The run's interval at a gap is the median of the eight intervals around it.

    Parameters
    ----------
    cand : ndarray
        Candidates of one channel, sorted by peak (``dsp.types.CANDIDATE_DTYPE``).
    beat : ndarray of bool
        Which of them are heartbeats (:func:`cardiac_beats`).
    sfreq_hz : float
    cfg : EventRules

    Returns
    -------
    ndarray of float64
        The skipped beats' due times, ascending.

    Examples
    --------
    >>> from classifier.config import load_config
    >>> from dsp.types import CANDIDATE_DTYPE
    >>> cand = np.zeros(12, CANDIDATE_DTYPE)
    >>> cand["peak"] = np.delete(np.arange(13) * 900, 6)  # the seventh beat is missing
    >>> skipped_beats_s(cand, np.ones(12, bool), 1000.0, load_config().events)
    array([5.4])
    """
    t_s = _beat_peaks_s(cand, beat, sfreq_hz)
    rr = np.diff(t_s)
    if len(rr) < 2:
        return np.zeros(0)
    half = RR_AVERAGE_BEATS // 2
    padded = np.pad(rr, half, constant_values=np.nan)
    around = np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1)
    around = np.delete(around, half, axis=1)  # the interval itself is not its neighbour
    ref = np.nanmedian(around, axis=1)
    skipped = np.abs(rr - 2.0 * ref) <= cfg.cardiac_max_step * 2.0 * ref
    return t_s[:-1][skipped] + rr[skipped] / 2.0


def heartbeat_mask(night: NightData, config: ClassifierConfig) -> np.ndarray:
    """Whether each candidate of the night is part of a heartbeat (:func:`cardiac_beats`, channel
    by channel): ``[events]`` rules, and the notch's ringing after a potential as
    ``[detection]`` states it (:func:`ringing_uv`)."""
    cfg, ring = config.events, (config.detection.noise_ring_fraction,
                                config.detection.noise_ring_s)
    cand = night.candidates
    out = np.zeros(len(cand), bool)
    for ch in range(night.n_channels):
        rows = np.flatnonzero(cand["channel"] == ch)
        rows = rows[np.argsort(cand["peak"][rows], kind="stable")]
        ring_uv = ringing_uv(cand[rows], night.sfreq_hz, *ring)
        beat = cardiac_beats(cand[rows], night.snippets[rows], night.sfreq_hz, cfg, ring_uv)
        complex_uv = _complex_size_uv(night.snippets[rows], night.sfreq_hz, cfg.cardiac_qrs_s)
        out[rows] = beat | qrs_pieces(cand[rows], night.features["dominant_hz"][rows], beat,
                                      night.sfreq_hz, cfg.cardiac_qrs_s,
                                      np.maximum(complex_uv - 2.0 * ring_uv, 0.0),
                                      cfg.cardiac_max_amplitude_ratio)
    return out


def ringing_uv(cand: np.ndarray, sfreq_hz: float, fraction: float, tau_s: float) -> np.ndarray:
    """Amplitude (µV) of the mains notch's ringing each candidate (one channel, sorted by peak)
    sits in: ``fraction`` x an earlier candidate's peak-to-peak, decaying with ``tau_s`` from
    its peak, the largest over the candidates before it.

    The notch (Q 60) rings after a potential at about 5 % of its size for hundreds of ms
    (``[detection] noise_ring_fraction``, ``noise_ring_s``); a QRS that falls there is measured
    with the ringing on it, up to twice its amplitude larger peak to peak, and is still the beat.

    Examples
    --------
    >>> from dsp.types import CANDIDATE_DTYPE
    >>> cand = np.zeros(3, CANDIDATE_DTYPE)
    >>> cand["peak"], cand["ptp_uv"] = [1000, 1380, 3000], [1200.0, 60.0, 60.0]
    >>> ringing_uv(cand, 1000.0, 0.05, 0.38).round(1)  # 60 / e 0.38 s after a 1.2-mV twitch
    array([ 0. , 22.1,  0.3])
    """
    t_s = cand["peak"] / sfreq_hz
    # each ring is fraction x size x exp(-(t - t_j) / tau): the largest at t is exp(-t / tau)
    # x the running maximum of fraction x size x exp(t_j / tau), taken in logarithms
    level = np.log(np.maximum(fraction * cand["ptp_uv"], 1e-300)) + t_s / tau_s
    before = np.concatenate([[-np.inf], np.maximum.accumulate(level)[:-1]]) if len(t_s) else level
    return np.exp(before - t_s / tau_s)


def qrs_pieces(cand: np.ndarray, dominant_hz: np.ndarray, beat: np.ndarray, sfreq_hz: float,
               qrs_s: float, complex_uv: np.ndarray | None = None,
               max_ratio: float = 1.0) -> np.ndarray:
    """Candidates that are further pieces of a beat's QRS: peaking within ``qrs_s`` of a beat
    piece (of its span, onset to offset), of no higher dominant frequency than it, and no larger
    than it or, with ``complex_uv`` (each candidate's complex size over ``qrs_s``), of a complex
    within ``max_ratio`` of the channel's typical beat (the median of its beat pieces' complexes).

    A QRS reaches the detector in up to three pieces, and the rhythm marks those of its complex
    that are alike from beat to beat, which may be its smaller Q or S wave while its largest
    phase, reshaped by the noise, is left; a piece cut off from them (its Q wave, or the stub that
    ends a long piece) would otherwise read as a small twitch, or as a step of the baseline (a
    pop) on the QRS's slope. A strong QRS and its filters' ringing may fill a piece the detector
    cut at its longest, its peak then tens of ms from the stub and the slow end that follow it:
    the window runs from the piece's ends. A twitch beside a beat is faster than the QRS (30-150
    Hz against 10-30 Hz), or it adds its own size to the beat's complex, and stays.

    Examples
    --------
    >>> from dsp.types import CANDIDATE_DTYPE
    >>> cand = np.zeros(3, CANDIDATE_DTYPE)
    >>> cand["peak"], cand["ptp_uv"] = [1000, 1040, 1045], [100.0, 12.0, 12.0]
    >>> cand["onset"], cand["offset"] = cand["peak"] - 3, cand["peak"] + 3
    >>> qrs_pieces(cand, np.array([23.0, 8.0, 90.0]), np.array([True, False, False]),
    ...            1000.0, 0.05)
    array([False,  True, False])
    >>> cand["ptp_uv"] = [20.0, 45.0, 12.0]  # the beat marked at its S wave, its R wave left
    >>> qrs_pieces(cand, np.array([8.0, 8.0, 90.0]), np.array([True, False, False]),
    ...            1000.0, 0.05, np.array([50.0, 52.0, 60.0]), 1.5)
    array([False,  True, False])
    """
    out = np.zeros(len(cand), bool)
    idx = np.flatnonzero(beat)  # ascending peaks, as the candidates (which do not overlap)
    t_s = cand["peak"] / sfreq_hz
    lo = np.searchsorted(cand["offset"][idx] / sfreq_hz, t_s - qrs_s)
    hi = np.searchsorted(cand["onset"][idx] / sfreq_hz, t_s + qrs_s, side="right")
    typical = np.inf if complex_uv is None or not len(idx) else float(np.median(complex_uv[idx]))
    of_a_beat = np.zeros(len(cand), bool) if complex_uv is None else (
        complex_uv <= max_ratio * typical)
    for step in range(int(np.max(hi - lo, initial=0))):  # a few pieces per beat
        k = np.flatnonzero(~beat & (lo + step < hi))
        j = idx[lo[k] + step]
        out[k] |= (dominant_hz[j] >= dominant_hz[k]) & (
            (cand["ptp_uv"][j] >= cand["ptp_uv"][k]) | of_a_beat[k])
    return out


def night_heartbeats(night: NightData, beat: np.ndarray) -> dict[str, dict]:
    """Per channel name: its heartbeats and their median rate (:func:`beat_summary`)."""
    cand = night.candidates
    out = {}
    for ch, name in enumerate(night.ch_names):
        rows = np.flatnonzero(cand["channel"] == ch)
        rows = rows[np.argsort(cand["peak"][rows], kind="stable")]
        out[name] = beat_summary(cand[rows], beat[rows], night.sfreq_hz)
    return out
