"""Morphology of the fasciculations of a night: distributions, polyphasic fraction and units.

Distributions of peak-to-peak amplitude, duration and phases are histograms on fixed bins with
quantiles. Polyphasic means ``[morphology] polyphasic_min_phases`` phases or more (de Carvalho &
Swash 2013). Units come from template clustering of the waveforms: snippets aligned on their peak,
normalised, grouped greedily by normalised cross-correlation; each unit reports its count, median
template and shape stability (median correlation of its members to the template).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from classifier.kinds import FASCICULATION

#: Stated with every set of units.
UNIT_CAVEAT = (
    "Units are clusters of similar waveforms on one surface channel. A single bipolar surface "
    "channel separates only a few percent of motor units (Farina 2008: 3.4 % with a monopolar "
    "channel vs 83.8 % with an 81-channel grid), so different units may share a cluster and one "
    "unit may be split: unit counts and shape stability are approximate."
)

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def distribution(values: np.ndarray, bins: np.ndarray) -> dict:
    """Histogram on ``bins`` (values outside are counted in the end bins) and quantiles."""
    values = np.asarray(values, float)
    values = values[np.isfinite(values)]
    counts = np.histogram(np.clip(values, bins[0], bins[-1]), bins=bins)[0]
    q = np.quantile(values, QUANTILES).tolist() if len(values) else [None] * len(QUANTILES)
    return {
        "n": int(len(values)),
        "bin_edges": [float(b) for b in bins],
        "counts": counts.tolist(),
        "quantiles": {f"p{round(p * 100):02d}": v for p, v in zip(QUANTILES, q, strict=True)},
        "mean": float(values.mean()) if len(values) else None,
    }


def _normalised(snippets: np.ndarray, half: int) -> tuple[np.ndarray, np.ndarray]:
    """Peak-centred window of each snippet, zero-mean and unit-norm; and each window's norm."""
    mid = snippets.shape[1] // 2
    w = np.nan_to_num(snippets[:, mid - half: mid + half + 1].astype(np.float64))
    w = w - w.mean(axis=1, keepdims=True)
    norm = np.linalg.norm(w, axis=1)
    return w / np.maximum(norm, 1e-12)[:, None], norm


def cluster_units(snippets: np.ndarray, ptp_uv: np.ndarray, sfreq_hz: float,
                  cfg: dict[str, Any]) -> np.ndarray:
    """Unit label per waveform (-1: in no unit), by greedy correlation clustering.

    Waveforms are taken in order of decreasing amplitude (ties by index: deterministic). In each
    round, the first ``seed_batch`` unassigned ones are clustered greedily (a waveform joins the
    best template whose correlation reaches ``min_correlation`` and whose amplitude is within
    ``max_amplitude_ratio``, or starts a template); then every unassigned waveform is matched to
    the templates at once. Templates with fewer than ``min_members`` members are dropped.
    """
    n = len(snippets)
    labels = np.full(n, -1, np.int64)
    if n == 0:
        return labels
    half = min(snippets.shape[1] // 2 - 1, max(2, round(cfg["window_s"] * sfreq_hz / 2)))
    z, _ = _normalised(snippets, half)
    order = np.lexsort((np.arange(n), -ptp_uv))
    thr, ratio = cfg["min_correlation"], cfg["max_amplitude_ratio"]
    # Templates grow in preallocated arrays (at most seed_batch new ones per round).
    cap = min(n, cfg["seed_batch"] * cfg["max_rounds"])
    templates = np.empty((cap, z.shape[1]))
    amps = np.empty(cap)
    k_n = 0
    for _ in range(cfg["max_rounds"]):
        todo = order[labels[order] < 0]
        if len(todo) == 0:
            break
        for i in todo[: cfg["seed_batch"]]:  # greedy: each seed sees the templates before it
            k = _best(z[i], ptp_uv[i], templates[:k_n], amps[:k_n], thr, ratio)
            if k < 0:
                templates[k_n], amps[k_n] = z[i], ptp_uv[i]
                k, k_n = k_n, k_n + 1
            labels[i] = k
        todo = order[labels[order] < 0]
        if len(todo) and k_n:
            corr = z[todo] @ templates[:k_n].T
            amp_ok = _amp_ok(ptp_uv[todo, None], amps[None, :k_n], ratio)
            corr = np.where(amp_ok, corr, -np.inf)
            best = np.argmax(corr, axis=1)
            hit = corr[np.arange(len(todo)), best] >= thr
            labels[todo[hit]] = best[hit]
    return _relabel(labels, cfg["min_members"])


def _amp_ok(a: np.ndarray, b: np.ndarray, ratio: float) -> np.ndarray:
    return (a <= b * ratio) & (b <= a * ratio)


def _best(zi, amp, templates: np.ndarray, amps: np.ndarray, thr, ratio) -> int:
    if len(templates) == 0:
        return -1
    corr = templates @ zi
    corr[~_amp_ok(amp, amps, ratio)] = -np.inf
    k = int(np.argmax(corr))
    return k if corr[k] >= thr else -1


def _relabel(labels: np.ndarray, min_members: int) -> np.ndarray:
    """Drop small clusters; number the rest by decreasing size (ties by first member)."""
    ids, first, counts = np.unique(labels[labels >= 0], return_index=True, return_counts=True)
    keep = counts >= min_members
    ids, first, counts = ids[keep], first[keep], counts[keep]
    rank = np.lexsort((first, -counts))
    mapping = np.full(int(labels.max()) + 2 if len(labels) else 1, -1, np.int64)
    mapping[ids[rank]] = np.arange(len(rank))
    return np.where(labels >= 0, mapping[np.maximum(labels, 0)], -1)


def unit_summaries(snippets: np.ndarray, labels: np.ndarray, ptp_uv: np.ndarray,
                   phases: np.ndarray, sfreq_hz: float, cfg: dict[str, Any]) -> list[dict]:
    """Per unit: count, median amplitude and phases, median template, shape stability."""
    half = min(snippets.shape[1] // 2 - 1, max(2, round(cfg["window_s"] * sfreq_hz / 2)))
    mid = snippets.shape[1] // 2
    z, _ = _normalised(snippets, half)
    out = []
    for u in range(int(labels.max()) + 1 if len(labels) else 0):
        m = labels == u
        block = snippets[m, mid - half: mid + half + 1].astype(float)
        median = np.nanmedian if np.isnan(block).any() else np.median  # nanmedian loops in Python
        template = median(block, axis=0)
        t = template - template.mean()
        t /= max(np.linalg.norm(t), 1e-12)
        out.append({
            "unit": u,
            "count": int(m.sum()),
            "median_ptp_uv": float(np.median(ptp_uv[m])),
            "median_phases": float(np.median(phases[m])),
            "stability": float(np.median(z[m] @ t)),
            "template_uv": [round(float(v), 2) for v in template],
            "template_sfreq_hz": float(sfreq_hz),
        })
    return out


def night_morphology(events: np.ndarray, night: Any, config: dict[str, Any]) -> tuple[dict, np.ndarray]:
    """Distributions, polyphasic fraction and units of the night's fasciculations.

    Parameters
    ----------
    events : ndarray of classifier.events.EVENT_DTYPE
    night : NightData
    config : dict
        Full configuration; ``[morphology]`` is used.

    Returns
    -------
    morphology : dict
        ``amplitude_uv``, ``duration_ms``, ``phases`` distributions, ``median_ptp_uv`` (what the
        history trends), ``polyphasic_fraction``,
        ``channels`` (name -> {fasciculations, polyphasic_fraction, units}) and ``caveat``.
    units : ndarray of int
        Unit label of each fasciculation row of ``events`` (in order; -1 for doublets and waveforms
        in no unit). Units are numbered per channel.
    """
    cfg = config["morphology"]
    rows = np.flatnonzero(events["kind"] == FASCICULATION)
    units = np.full(len(rows), -1, np.int64)
    main = ~events["doublet"][rows] & (events["candidate"][rows] >= 0)
    cand = events["candidate"][rows]
    feats = night.features
    ptp = events["peak_to_peak_uv"][rows]
    dur_ms = np.where(main, feats["duration_s"][np.maximum(cand, 0)] * 1e3, np.nan)
    phases = events["phases"][rows]
    min_ph = cfg["polyphasic_min_phases"]
    channels = {}
    for ch, name in enumerate(night.ch_names):
        sel = np.flatnonzero(main & (events["channel"][rows] == ch))
        snips = night.snippets[cand[sel]]
        labels = cluster_units(snips, ptp[sel], night.sfreq_hz, cfg)
        units[sel] = labels
        channels[name] = {
            "fasciculations": int(len(sel)),
            "median_ptp_uv": _median(ptp[sel]),
            "polyphasic_fraction": _fraction(phases[sel] >= min_ph),
            "units": unit_summaries(snips, labels, ptp[sel], phases[sel], night.sfreq_hz, cfg),
        }
    morph = {
        "amplitude_uv": distribution(ptp[main], np.array(cfg["amplitude_bins_uv"], float)),
        "duration_ms": distribution(dur_ms[main], np.array(cfg["duration_bins_ms"], float)),
        "phases": distribution(phases[main], np.arange(0.5, cfg["max_phases"] + 1.5)),
        "median_ptp_uv": _median(ptp[main]),
        "polyphasic_min_phases": int(min_ph),
        "polyphasic_fraction": _fraction(phases[main] >= min_ph),
        "channels": channels,
        "caveat": UNIT_CAVEAT,
    }
    return morph, units


def _median(values: np.ndarray) -> float | None:
    return float(np.median(values)) if len(values) else None


def _fraction(mask: np.ndarray) -> float | None:
    return float(np.mean(mask)) if len(mask) else None
