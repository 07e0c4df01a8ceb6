"""Trains: a unit firing regularly, voluntarily or tonically (a calf not quite relaxed), is
sustained activity, not twitches.

Voluntary units fire at 8-35 Hz (Fuglevand et al., J Neurophysiol 1993;70:2470), a single unit
firing tonically at about 6 Hz, 1.3-18, with an interval variability of a few per cent (Muscle
Nerve 2020;61:387). A train is ``train_min_potentials`` or more alike potentials
``train_interval_s`` apart with an interval CV of at most ``train_max_cv`` (an interval of two
periods bridges a discharge the detector missed: :func:`regular_firing`), or, slower,
``slow_train_min_potentials`` or more ``slow_train_interval_s`` apart with a CV of at most
``slow_train_max_cv``; near the floor shapes are compared as they would be without the noise
(:func:`classifier.similarity.noise_free_similarity`) and each train is joined by the potentials
alike its template (:func:`trains`). Thresholds in ``[events]`` of ``thresholds.toml``.
"""

from __future__ import annotations

import numpy as np

from classifier.config import EventRules
from classifier.similarity import (
    half_window,
    next_similar,
    noise_free_similarity,
    shape_similarity,
    sizes_alike,
)

#: Lags (s) up to which a train's potentials are aligned: near the noise the detector's peak
#: falls on either of a potential's main phases, a few ms apart.
TRAIN_MAX_SHIFT_S = 0.005


def trains(t_s, snippets, size_uv, sfreq_hz: float, cfg: EventRules,
           noise_uv: np.ndarray | None = None) -> np.ndarray:
    """Train index of each potential in a unit's regular firing (-1 when in none).

    Chains of alike potentials (sizes ``size_uv``) ``train_interval_s`` apart, or two such
    periods where a discharge was missed, cut where an interval fits neither
    (:func:`_fitting_runs`) and judged by :func:`regular_firing`. With ``noise_uv`` (the noise
    RMS at each potential) shapes are compared as they would be without the noise
    (:func:`~classifier.similarity.noise_free_similarity`) at lags up to ``TRAIN_MAX_SHIFT_S``;
    then slower tonic firing is looked for among the rest (:func:`_slow_trains`), and each train
    is joined by the potentials and trains alike its template within ``train_reach_s``
    (:func:`_joined_by_template`).
    """
    lo, hi = cfg.train_interval_s
    half = half_window(snippets, sfreq_hz, cfg)
    shift = 2 if noise_uv is None else max(2, round(TRAIN_MAX_SHIFT_S * sfreq_hz))
    nxt = next_similar(t_s, snippets, size_uv, lo, 2.0 * hi, half, cfg.train_min_correlation,
                       cfg.train_max_amplitude_ratio, noise_uv=noise_uv, max_shift=shift)
    label = np.full(len(t_s), -1, np.int64)
    n_train = 0
    for chain in _chains(nxt):
        for run in _fitting_runs(chain, np.diff(t_s[chain]), cfg):
            if regular_firing(np.diff(t_s[run]), cfg):
                label[run] = n_train
                n_train += 1
    if noise_uv is None:
        return label
    n_train = _slow_trains(label, n_train, t_s, snippets, size_uv, noise_uv, half, shift, cfg)
    if n_train == 0:
        return label
    return _joined_by_template(label, t_s, snippets, size_uv, noise_uv, half, shift, cfg)


def _chains(nxt: np.ndarray) -> list[np.ndarray]:
    """The chains that ``nxt`` (each potential's next alike one, -1 for none) links, each from a
    potential no other links to."""
    has_prev = np.zeros(len(nxt), bool)
    has_prev[nxt[nxt >= 0]] = True
    out = []
    for start in np.flatnonzero(~has_prev & (nxt >= 0)):  # one pass per chain: few
        chain = [int(start)]
        while nxt[chain[-1]] >= 0:
            chain.append(int(nxt[chain[-1]]))
        out.append(np.array(chain))
    return out


def _slow_trains(label: np.ndarray, n_train: int, t_s: np.ndarray, snippets: np.ndarray,
                 size_uv: np.ndarray, noise_uv: np.ndarray, half: int, shift: int,
                 cfg: EventRules) -> int:
    """Label, among the potentials in no train, a unit's tonic firing slower than a train's:
    ``slow_train_min_potentials`` or more alike ``slow_train_interval_s`` apart, each interval,
    with an interval CV of at most ``slow_train_max_cv`` (a chain is cut where an interval is
    off its median by more than three such CVs: a discharge missed); returns the number of
    trains."""
    free = np.flatnonzero(label < 0)
    lo, hi = cfg.slow_train_interval_s
    nxt = next_similar(t_s[free], snippets[free], size_uv[free], lo, hi, half,
                       cfg.train_min_correlation, cfg.train_max_amplitude_ratio,
                       noise_uv=noise_uv[free], max_shift=shift)
    for chain in _chains(nxt):
        gaps = np.diff(t_s[free[chain]])
        fits = np.abs(gaps / np.median(gaps) - 1.0) <= 3.0 * cfg.slow_train_max_cv
        for run in np.split(free[chain], np.flatnonzero(~fits) + 1):  # cut where one is missed
            gaps = np.diff(t_s[run])
            if (len(run) >= cfg.slow_train_min_potentials
                    and np.std(gaps) <= cfg.slow_train_max_cv * np.mean(gaps)):
                label[run] = n_train
                n_train += 1
    return n_train


def _joined_by_template(label: np.ndarray, t_s: np.ndarray, snippets: np.ndarray,
                        size_uv: np.ndarray, noise_uv: np.ndarray, half: int, shift: int,
                        cfg: EventRules) -> np.ndarray:
    """``label`` with each train joined by the potentials alike its template (the mean of its
    members, aligned) within ``train_reach_s`` of it, and a train so reached by another's
    members merged with it, until nothing changes: near the floor a chain of pairs breaks where
    two discharges in a row fail the pairwise comparison, and the breaks would count its
    discharges as twitches. Alike: correlation with the template, corrected for the
    potential's own noise (the template's is the members' averaged down), at least
    ``train_min_correlation``, sizes within ``train_max_amplitude_ratio`` of the members'
    median."""
    label = label.copy()
    for _ in range(8):  # each pass reaches train_reach_s further
        changed = False
        for k in np.unique(label[label >= 0]):
            members = np.flatnonzero(label == k)
            if len(members) == 0:
                continue
            near = np.flatnonzero((label != k) & (t_s >= t_s[members[0]] - cfg.train_reach_s)
                                  & (t_s <= t_s[members[-1]] + cfg.train_reach_s))
            alike = near[_alike_template(members, near, snippets, size_uv, noise_uv, half,
                                         shift, cfg)]
            for other in np.unique(label[alike][label[alike] >= 0]):
                label[label == other] = k
            label[alike] = k
            changed |= len(alike) > 0
        if not changed:
            break
    _, label[label >= 0] = np.unique(label[label >= 0], return_inverse=True)
    return label


def _alike_template(members: np.ndarray, near: np.ndarray, snippets: np.ndarray,
                    size_uv: np.ndarray, noise_uv: np.ndarray, half: int, shift: int,
                    cfg: EventRules) -> np.ndarray:
    """Which potentials ``near`` are alike the template of the train ``members`` (see
    :func:`_joined_by_template`)."""
    if len(near) == 0:
        return np.zeros(0, bool)
    typical = float(np.median(size_uv[members]))
    sized = sizes_alike(np.append(size_uv[near], typical), np.arange(len(near)),
                        np.full(len(near), len(near)), cfg.train_max_amplitude_ratio)
    mid = snippets.shape[1] // 2
    reach = max(0, min(shift, mid - half))
    first = snippets[members[0], mid - half: mid + half + 1].astype(np.float64)
    aligned = []
    for m in members:  # members align on the first (their peaks may lie on either phase)
        wide = snippets[m, mid - half - reach: mid + half + reach + 1].astype(np.float64)
        windows = np.lib.stride_tricks.sliding_window_view(wide, 2 * half + 1)
        aligned.append(windows[np.argmax(windows @ first)])
    rows = np.zeros((len(near) + 1, snippets.shape[1]))
    rows[0, mid - half: mid + half + 1] = np.mean(aligned, axis=0)  # the template
    rows[1:] = snippets[near]
    i, j = np.zeros(len(near), np.int64), np.arange(1, len(near) + 1)
    noise = np.append(float(np.median(noise_uv[members])) / np.sqrt(len(members)), noise_uv[near])
    r = noise_free_similarity(shape_similarity(rows, i, j, half, reach), rows, i, j, half, noise)
    return sized & (r >= cfg.train_min_correlation)


def _fitting_runs(chain: np.ndarray, gaps_s: np.ndarray, cfg: EventRules) -> list[np.ndarray]:
    """``chain`` cut at the intervals that do not fit its firing: those not within
    ``train_max_cv`` of one or two periods (the median of its intervals within
    ``train_interval_s``), such as a link to a potential of another discharge's tail, or whose
    period falls outside ``train_interval_s``."""
    lo, hi = cfg.train_interval_s
    within = gaps_s[(gaps_s >= lo) & (gaps_s <= hi)]
    if len(within) == 0:
        return []
    ratio = gaps_s / np.median(within)
    spans = np.clip(np.round(ratio), 1, 2)
    period_s = gaps_s / spans
    fits = (np.abs(ratio / spans - 1.0) <= cfg.train_max_cv) & (period_s >= lo) & (period_s <= hi)
    cuts = np.flatnonzero(~fits) + 1  # a gap that does not fit ends one run, starts the next
    return [run for run in np.split(chain, cuts) if len(run) >= 2]


def regular_firing(gaps_s: np.ndarray, cfg: EventRules) -> bool:
    """Whether the intervals ``gaps_s`` between alike potentials are a unit's regular firing at a
    period within ``train_interval_s``, some spanning two periods where the detector missed a
    discharge: the intervals, each divided by the whole number of periods it spans (1 or 2;
    the period is the median of those within the range), vary by at most ``train_max_cv`` (half
    of it where a discharge was missed), and the train holds at least ``train_min_potentials``
    potentials and one more for each missed discharge: a discharge inferred, not seen, needs more
    of the firing to stand on.

    Examples
    --------
    >>> from classifier.config import default_config
    >>> cfg = default_config().events
    >>> regular_firing(np.array([0.16, 0.17, 0.15]), cfg)
    True
    >>> regular_firing(np.array([0.16, 0.33, 0.15]), cfg)  # one discharge missed: too few seen
    False
    >>> regular_firing(np.array([0.16, 0.33, 0.15, 0.17]), cfg)
    True
    >>> regular_firing(np.array([0.05, 0.19, 0.31]), cfg)  # irregular
    False
    """
    lo, hi = cfg.train_interval_s
    within = gaps_s[(gaps_s >= lo) & (gaps_s <= hi)]
    if len(within) == 0:
        return False
    spans = np.round(gaps_s / np.median(within))
    if np.any((spans < 1) | (spans > 2)):
        return False
    period_s = gaps_s / spans
    missed = int(np.sum(spans - 1))
    max_cv = cfg.train_max_cv / 2.0 if missed else cfg.train_max_cv
    return bool(len(gaps_s) + 1 >= cfg.train_min_potentials + missed
                and np.std(period_s) <= max_cv * np.mean(period_s))
