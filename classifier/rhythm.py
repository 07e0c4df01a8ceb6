"""Rhythmic bursts: potentials that come in clusters at a steady 5-30 Hz for seconds.

Clonus, tremor and other rhythmic activity fire a few motor units together at each beat of a
rhythm (ankle clonus at 5-8 Hz). At the surface each beat is a cluster of potentials within a few
tens of ms, often superimposed, so no unit's shape repeats cleanly enough to make a train of its
own (:func:`classifier.trains.trains`), and small units leave the envelope under the level
of a movement. The rhythm itself is the evidence: independent twitches (Poisson) rarely fall at
steady intervals for many beats in a row. A run of ``rhythm_min_bursts`` or more clusters, each
``train_interval_s`` after the one before with an interval CV of at most ``rhythm_max_cv``, is
sustained activity; its potentials are not twitches.
"""

from __future__ import annotations

import numpy as np

from classifier._rows import row_nanmedian
from classifier.config import EventRules


def rhythmic_runs(peak_s: np.ndarray, cfg: EventRules) -> np.ndarray:
    """Run index of each potential in a rhythmic run of clusters (-1 when in none).

    Potentials whose peaks follow each other within ``rhythm_cluster_s`` are one cluster (one
    beat), timed by the mean of its peaks (which unit leads a beat varies); consecutive clusters
    one or two periods apart (a beat that left no potential), each within twice
    ``rhythm_max_cv`` of the period around it and the period within ``train_interval_s``, make a
    run; a run of at least ``rhythm_min_bursts`` clusters whose periods vary by at most
    ``rhythm_max_cv`` is rhythmic.

    Parameters
    ----------
    peak_s : ndarray
        Peak times (s) of one channel's potentials, ascending.
    cfg : EventRules

    Returns
    -------
    ndarray of int64, shape (len(peak_s),)

    Examples
    --------
    >>> from classifier.config import default_config
    >>> cfg = default_config().events
    >>> beats = np.arange(10) * 0.16  # a 6-Hz rhythm, two units at each beat
    >>> peaks = np.sort(np.concatenate([beats, beats + 0.012, [3.0, 4.1]]))
    >>> int((rhythmic_runs(peaks, cfg) >= 0).sum()), int(rhythmic_runs(peaks, cfg)[-1])
    (20, -1)
    """
    out = np.full(len(peak_s), -1, np.int64)
    if len(peak_s) < cfg.rhythm_min_bursts:
        return out
    cluster = np.cumsum(np.diff(peak_s, prepend=-np.inf) > cfg.rhythm_cluster_s) - 1
    beat_s = np.bincount(cluster, peak_s) / np.bincount(cluster)  # which unit leads varies
    runs = _steady_runs(beat_s, cfg)
    periods = [np.diff(beat_s[run]) / np.diff(beats) for run, beats in runs]
    rhythmic = [len(run) >= cfg.rhythm_min_bursts
                and np.std(period) <= cfg.rhythm_max_cv * np.mean(period)
                for (run, _), period in zip(runs, periods, strict=True)]
    rhythmic = _with_neighbours(rhythmic, runs, periods, beat_s, cfg)
    for n_run, (run, _) in enumerate(r for r, ok in zip(runs, rhythmic, strict=True) if ok):
        out[np.isin(cluster, run)] = n_run
    return out


def _with_neighbours(rhythmic: list[bool], runs: list, periods: list, beat_s: np.ndarray,
                     cfg: EventRules) -> list[bool]:
    """``rhythmic`` with the runs beside a rhythmic one, within two of its periods and at a
    period within twice ``rhythm_max_cv`` of its, rhythmic too, as far as they reach: a beat
    off the rhythm by more than the cut allows ends a run, not the rhythm."""
    rhythmic = list(rhythmic)
    changed = True
    while changed:
        changed = False
        for i in range(len(runs)):
            if not rhythmic[i]:
                continue
            period = float(np.median(periods[i]))
            for j in (i - 1, i + 1):
                if not 0 <= j < len(runs) or rhythmic[j]:
                    continue
                first, last = (runs[j][0], runs[i][0]) if j < i else (runs[i][0], runs[j][0])
                gap_s = beat_s[last[0]] - beat_s[first[-1]]
                if (gap_s <= 2.0 * period
                        and abs(np.median(periods[j]) / period - 1.0) <= 2 * cfg.rhythm_max_cv):
                    rhythmic[j] = changed = True
    return rhythmic


def _steady_runs(beat_s: np.ndarray, cfg: EventRules) -> list[tuple[np.ndarray, np.ndarray]]:
    """Runs of ``beat_s`` with, for each, the beat number of each of its clusters (an interval
    of two periods is a beat no potential marked): cut where an interval is not within twice
    ``rhythm_max_cv`` of one or two periods of the intervals around it (the median of the next
    ``rhythm_min_bursts`` within ``train_interval_s``), or its period falls outside
    ``train_interval_s``."""
    lo, hi = cfg.train_interval_s
    gaps = np.diff(beat_s)
    within = (gaps >= lo) & (gaps <= hi)
    k = max(1, cfg.rhythm_min_bursts - 1)
    padded = np.pad(np.where(within, gaps, np.nan), (0, k - 1), constant_values=np.nan)
    local = row_nanmedian(np.lib.stride_tricks.sliding_window_view(padded, k))
    with np.errstate(invalid="ignore", divide="ignore"):
        spans = np.clip(np.round(gaps / local), 1, 2)
        period = gaps / spans
        ok = ((np.abs(period / local - 1.0) <= 2.0 * cfg.rhythm_max_cv) & (period >= lo)
              & (period <= hi))
    cuts = np.flatnonzero(~ok) + 1
    out = []
    for run in np.split(np.arange(len(beat_s)), cuts):
        if len(run) >= 2:
            out.append((run, np.concatenate([[0], np.cumsum(spans[run[:-1]])]).astype(np.int64)))
    return out

