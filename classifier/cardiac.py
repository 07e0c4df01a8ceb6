"""Heartbeats on a calf channel: the ECG leaking into surface EMG.

The heart's field reaches a leg electrode pair, weakly on the calf and more with wide electrode
spacing or a distant reference, and its QRS complex passes the 20-450 Hz band-pass as a potential of
tens of milliseconds, at every beat. Left alone, a night with ECG interference reads as
fasciculations at the heart rate (40-100 per minute asleep), which is the concerning range.

What tells a heartbeat from a fasciculation is its timing: the same shape again and again at the
heart's interval, 0.33-1.5 s (40-180 beats per minute), each interval close to the one before
(beat-to-beat changes at rest are a few per cent: RMSSD 20-50 ms at RR near 1 s, Task Force of the
ESC and NASPE, Circulation 1996;93:1043). Fasciculations fire irregularly, seconds apart, and
discharges of different units are independent (Poisson): for exponential intervals, the chance
that one interval is within ``cardiac_max_step`` (20 %) of the one before is about 9 %, so seven in
a row (``cardiac_min_beats`` = 8) has a chance of about 5e-8, before the shapes must match too.

Beats are neither counted nor events: like the mains hum, the ECG is interference on the channel,
and it does not take rest time (the twitches between beats count). The night's quality section
states how many beats each channel holds and their median rate.
"""

from __future__ import annotations

import numpy as np

from classifier.config import EventRules
from classifier.potentials import half_window, next_similar, similar_pairs

#: Beat candidates closer than this are pieces of one beat (s).
BEAT_PIECES_S = 0.2


def cardiac_beats(cand: np.ndarray, snippets: np.ndarray, sfreq_hz: float,
                  cfg: EventRules) -> np.ndarray:
    """Whether each candidate of one channel (sorted by peak) is part of a heartbeat.

    A QRS complex near the floor reaches the detector as one to three pieces, and which of its
    phases peaks highest changes from beat to beat, so beats are compared as complexes: candidates
    each starting within ``jerk_link_s`` of the end of those before, timed and sized by their
    largest piece. Each complex is linked to the next one ``cardiac_interval_s`` later whose size
    is within ``cardiac_max_amplitude_ratio`` and whose largest piece correlates with its own at
    ``cardiac_min_correlation`` or more (:func:`classifier.potentials.next_similar`), and the
    rhythm is followed from there (:class:`_RhythmTracker`): ``cardiac_min_beats`` or more
    complexes, each interval within ``cardiac_max_step`` of the one before, are heartbeats. A
    complex whose shape comes again sooner than ``cardiac_interval_s`` allows (a unit firing at
    5-30 Hz: a train, see :func:`classifier.potentials.trains`) is never a beat.

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
    size_uv = _complex_size_uv(snippets[rep], sfreq_hz, cfg.cardiac_qrs_s)
    lo, hi = cfg.cardiac_interval_s
    half = half_window(snippets, sfreq_hz, cfg)
    nxt = next_similar(t_s, snippets[rep], size_uv, lo, hi, half,
                       cfg.cardiac_min_correlation, cfg.cardiac_max_amplitude_ratio,
                       max_lag=cfg.cardiac_max_lag)
    # A complex repeated sooner than any heartbeat follows (a train at 5-30 Hz) is no beat.
    faster = next_similar(t_s, snippets[rep], size_uv, 0.0, lo, half,
                          cfg.cardiac_min_correlation, cfg.cardiac_max_amplitude_ratio,
                          max_lag=cfg.cardiac_max_lag) >= 0
    tracker = _RhythmTracker(t_s, snippets[rep], size_uv, half, cfg, faster)
    for start in np.flatnonzero((nxt >= 0) & ~faster):  # a similar complex a beat later
        if not tracker.beat[start]:
            tracker.follow(int(start), int(nxt[start]))
    return tracker.beat[complex_id]


class _RhythmTracker:
    """Follows a rhythm from a pair of similar complexes one interval apart, beat by beat.

    Each next beat is the similar complex nearest the time the last interval predicts, within
    ``cardiac_max_step`` of that interval; one beat may be missing or reshaped (by the noise, or a
    twitch over it), and the one after is then looked for two intervals on. A rhythm of
    ``cardiac_min_beats`` or more complexes is a run of beats, with the complex on time and of a
    beat's size where one was skipped. ``blocked`` complexes are never beats.
    """

    def __init__(self, t_s, snippets, ptp, half, cfg: EventRules, blocked: np.ndarray) -> None:
        self.t_s, self.snippets, self.ptp, self.half, self.cfg = t_s, snippets, ptp, half, cfg
        self.blocked = blocked
        self.beat = np.zeros(len(t_s), bool)

    def follow(self, first: int, second: int) -> None:
        chain, skipped = [first, second], []
        rr = self.t_s[second] - self.t_s[first]
        while True:
            k, beats = self._near(chain[-1], rr, 1)
            if k < 0:
                k, beats = self._near(chain[-1], rr, 2)
            if k < 0:
                break
            rr = (self.t_s[k] - self.t_s[chain[-1]]) / beats
            if beats == 2:
                skipped.append((chain[-1], rr))
            chain.append(k)
        if len(chain) >= self.cfg.cardiac_min_beats:
            self.beat[chain] = True
            for last, rr in skipped:  # a beat the noise or a twitch reshaped, on time and size
                self._claim_on_time(last, rr)

    def _window(self, pred: float, rr: float) -> np.ndarray:
        width = self.cfg.cardiac_max_step * rr
        lo, hi = np.searchsorted(self.t_s, [pred - width, pred + width])
        idx = np.arange(lo, hi)
        return idx[~self.blocked[idx]]

    def _near(self, last: int, rr: float, beats: int) -> tuple[int, int]:
        """The similar complex, not yet a beat, nearest ``beats`` intervals after ``last`` (-1 if
        none)."""
        cfg, t = self.cfg, self.t_s
        pred = t[last] + beats * rr
        idx = self._window(pred, rr)
        idx = idx[(idx > last) & ~self.beat[idx]]
        if not len(idx):
            return -1, beats
        ok = similar_pairs(self.snippets, self.ptp, np.full(len(idx), last), idx, self.half,
                           cfg.cardiac_min_correlation, cfg.cardiac_max_amplitude_ratio)
        if not ok.any():
            return -1, beats
        idx = idx[ok]
        return int(idx[np.argmin(np.abs(t[idx] - pred))]), beats

    def _claim_on_time(self, last: int, rr: float) -> None:
        """Claim the complex one interval after ``last`` if it is on time and of a beat's size."""
        idx = self._window(self.t_s[last] + rr, rr)
        idx = idx[~self.beat[idx]]
        ratio = np.maximum(self.ptp[idx], self.ptp[last]) / np.maximum(
            np.minimum(self.ptp[idx], self.ptp[last]), 1e-12)
        idx = idx[ratio <= self.cfg.cardiac_max_amplitude_ratio]
        if len(idx):
            self.beat[idx[np.argmin(np.abs(self.t_s[idx] - self.t_s[last] - rr))]] = True


def _complex_size_uv(snippets: np.ndarray, sfreq_hz: float, qrs_s: float) -> np.ndarray:
    """Peak-to-peak of each snippet over ``qrs_s`` centred on its peak (within the snippet): the
    size of the whole complex, whichever of its phases the detector's candidate holds."""
    mid = snippets.shape[1] // 2
    half = min(mid, max(1, round(qrs_s * sfreq_hz / 2)))
    return np.ptp(snippets[:, mid - half: mid + half + 1], axis=1).astype(np.float64)


def _complexes(cand: np.ndarray, link_samples: float) -> tuple[np.ndarray, np.ndarray]:
    """Complex index of each candidate (sorted by peak) and the largest candidate of each."""
    end = np.maximum.accumulate(cand["offset"])
    new = np.concatenate([[True], cand["onset"][1:] - end[:-1] > link_samples])
    complex_id = np.cumsum(new) - 1
    order = np.lexsort((-cand["ptp_uv"], complex_id))
    first = np.concatenate([[True], np.diff(complex_id[order]) > 0])
    return complex_id, order[first]


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
    t_s = cand["peak"][beat] / sfreq_hz
    if len(t_s):
        t_s = t_s[np.concatenate([[True], np.diff(t_s) >= BEAT_PIECES_S])]
    rr = np.diff(t_s)
    rr = rr[rr <= 2.0]  # consecutive beats only (the slowest heart rate of the rule is 40/min)
    rate = float(60.0 / np.median(rr)) if len(rr) else None
    return {"beats": int(len(t_s)), "rate_per_min": rate}
