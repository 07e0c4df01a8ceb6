"""Morphology of the fasciculations of a night: distributions, polyphasic fraction and units.

Distributions of peak-to-peak amplitude, duration and phases are histograms on fixed bins with
quantiles. Polyphasic means ``[morphology] polyphasic_min_phases`` phases or more (de Carvalho &
Swash 2013). Units come from template clustering of the waveforms: snippets aligned on their peak,
normalised, grouped greedily by normalised cross-correlation; each unit reports its count, median
template and shape stability (median correlation of its members to the template).

Noise lowers the correlation a waveform can reach with its own unit's template: a window whose
share of signal energy is s correlates at most about sqrt(s) with the noise-free shape. With the
channel's noise RMS known, the correlation needed is ``min_correlation`` times that ceiling for
both sides (the waveform and the template), instead of a fixed figure that small potentials can
never reach (they then started template after template: one unit split into many). After the
clustering, units whose median templates (less noisy) correlate as well, at a lag of up to
``merge_lag_s``, with amplitudes within ``max_amplitude_ratio``, are merged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from classifier.config import ClassifierConfig, MorphologyRules
from classifier.kinds import FASCICULATION

if TYPE_CHECKING:
    from classifier.night_data import NightData

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


def _signal_share(norm: np.ndarray, n_samples: int, noise_rms_uv: float | None,
                  n_averaged: np.ndarray | int = 1) -> np.ndarray:
    """sqrt(share of a zero-mean window's energy that is signal), in 0.2-1; 1 without a noise RMS.

    ``n_averaged``: waveforms behind a median template (its noise variance is about pi/2 / n of
    one waveform's).
    """
    if noise_rms_uv is None or not np.isfinite(noise_rms_uv) or noise_rms_uv <= 0:
        return np.ones(np.shape(norm))
    var = noise_rms_uv ** 2 * np.where(np.asarray(n_averaged) > 1,
                                       np.pi / 2 / np.maximum(n_averaged, 1), 1.0)
    noise_energy = (n_samples - 1) * var
    share = 1.0 - noise_energy / np.maximum(np.asarray(norm, float) ** 2, 1e-12)
    return np.sqrt(np.clip(share, 0.04, 1.0))


def cluster_units(snippets: np.ndarray, ptp_uv: np.ndarray, sfreq_hz: float,
                  cfg: MorphologyRules, noise_rms_uv: float | None = None) -> np.ndarray:
    """Unit label per waveform (-1: in no unit), by greedy correlation clustering.

    Waveforms are taken in order of decreasing amplitude (ties by index: deterministic). In each
    round, the first ``seed_batch`` unassigned ones are clustered greedily (a waveform joins the
    best template whose correlation reaches ``min_correlation`` and whose amplitude is within
    ``max_amplitude_ratio``, or starts a template); then every unassigned waveform is matched to
    the templates at once. The correlation needed is ``min_correlation`` times the noise ceiling
    of both sides (:func:`_signal_share`; with ``noise_rms_uv``, the channel's noise RMS).
    Templates with fewer than ``min_members`` members are dropped; similar units are merged
    (:func:`merge_units`).
    """
    n = len(snippets)
    labels = np.full(n, -1, np.int64)
    if n == 0:
        return labels
    half = min(snippets.shape[1] // 2 - 1, max(2, round(cfg.window_s * sfreq_hz / 2)))
    z, norm = _normalised(snippets, half)
    share = _signal_share(norm, 2 * half + 1, noise_rms_uv)
    order = np.lexsort((np.arange(n), -ptp_uv))
    thr, ratio = cfg.min_correlation, cfg.max_amplitude_ratio
    # Templates grow in preallocated arrays (at most seed_batch new ones per round).
    cap = min(n, cfg.seed_batch * cfg.max_rounds)
    templates = np.empty((cap, z.shape[1]))
    amps = np.empty(cap)
    shares = np.empty(cap)
    k_n = 0
    for _ in range(cfg.max_rounds):
        todo = order[labels[order] < 0]
        if len(todo) == 0:
            break
        for i in todo[: cfg.seed_batch]:  # greedy: each seed sees the templates before it
            k = _best(z[i], ptp_uv[i], templates[:k_n], amps[:k_n], thr * share[i] * shares[:k_n],
                      ratio)
            if k < 0:
                templates[k_n], amps[k_n], shares[k_n] = z[i], ptp_uv[i], share[i]
                k, k_n = k_n, k_n + 1
            labels[i] = k
        todo = order[labels[order] < 0]
        if len(todo) and k_n:
            corr = z[todo] @ templates[:k_n].T
            corr /= share[todo, None] * shares[None, :k_n]  # in units of the noise ceiling
            amp_ok = _amp_ok(ptp_uv[todo, None], amps[None, :k_n], ratio)
            corr = np.where(amp_ok, corr, -np.inf)
            best = np.argmax(corr, axis=1)
            hit = corr[np.arange(len(todo)), best] >= thr
            labels[todo[hit]] = best[hit]
    labels = _relabel(labels, cfg.min_members)
    return merge_units(snippets, labels, ptp_uv, sfreq_hz, cfg, noise_rms_uv)


def _median_templates(snippets: np.ndarray, labels: np.ndarray, half: int, pad: int):
    """Median window (zero-mean) of each unit, ``pad`` samples wider on each side."""
    mid = snippets.shape[1] // 2
    lo, hi = mid - half - pad, mid + half + pad + 1
    out = []
    for u in range(int(labels.max()) + 1):
        block = np.nan_to_num(snippets[labels == u, lo:hi].astype(np.float64))
        t = np.median(block, axis=0)
        out.append(t - t[pad:len(t) - pad].mean())
    return np.array(out).reshape(-1, hi - lo)


def _lagged_corr(a: np.ndarray, b: np.ndarray, pad: int) -> float:
    """Largest normalised correlation of ``a``'s centre with ``b`` shifted by up to ``pad``."""
    n = len(a) - 2 * pad
    x = a[pad:pad + n] - a[pad:pad + n].mean()
    best = -1.0
    for lag in range(-pad, pad + 1):
        y = b[pad + lag:pad + lag + n]
        y = y - y.mean()
        den = np.linalg.norm(x) * np.linalg.norm(y)
        if den > 0:
            best = max(best, float(x @ y) / den)
    return best


def merge_units(snippets: np.ndarray, labels: np.ndarray, ptp_uv: np.ndarray, sfreq_hz: float,
                cfg: MorphologyRules, noise_rms_uv: float | None = None) -> np.ndarray:
    """Merge units whose median templates correlate like waveforms of one unit.

    Largest unit first: a smaller unit joins it when its median template, shifted by up to
    ``merge_lag_s``, correlates at least ``min_correlation`` times both templates' noise
    ceilings and the median amplitudes are within ``max_amplitude_ratio``; numbered again by
    size.
    """
    if len(labels) == 0 or labels.max() < 1:
        return labels
    half = min(snippets.shape[1] // 2 - 1, max(2, round(cfg.window_s * sfreq_hz / 2)))
    pad = min(round(float(cfg.merge_lag_s) * sfreq_hz),
              snippets.shape[1] // 2 - half - 1)
    templates = _median_templates(snippets, labels, half, pad)
    sizes = np.bincount(labels[labels >= 0])
    amps = np.array([np.median(ptp_uv[labels == u]) for u in range(len(sizes))])
    core = templates[:, pad:templates.shape[1] - pad]
    share = _signal_share(np.linalg.norm(core, axis=1), 2 * half + 1, noise_rms_uv, sizes)
    target = np.arange(len(sizes))
    for a in range(len(sizes)):  # units are numbered by decreasing size
        if target[a] != a:
            continue
        for b in range(a + 1, len(sizes)):
            if target[b] != b or not _amp_ok(amps[a], amps[b], cfg.max_amplitude_ratio):
                continue
            need = cfg.min_correlation * share[a] * share[b]
            if _lagged_corr(templates[a], templates[b], pad) >= need:
                target[b] = a
    merged = np.where(labels >= 0, target[np.maximum(labels, 0)], -1)
    return _relabel(merged, cfg.min_members)


def _amp_ok(a: np.ndarray, b: np.ndarray, ratio: float) -> np.ndarray:
    return (a <= b * ratio) & (b <= a * ratio)


def _best(zi, amp, templates: np.ndarray, amps: np.ndarray, thr, ratio) -> int:
    if len(templates) == 0:
        return -1
    corr = templates @ zi / thr  # thr: the correlation needed for each template
    corr[~_amp_ok(amp, amps, ratio)] = -np.inf
    k = int(np.argmax(corr))
    return k if corr[k] >= 1.0 else -1


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
                   phases: np.ndarray, sfreq_hz: float, cfg: MorphologyRules) -> list[dict]:
    """Per unit: count, median amplitude and phases, median template, shape stability."""
    half = min(snippets.shape[1] // 2 - 1, max(2, round(cfg.window_s * sfreq_hz / 2)))
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


def night_morphology(events: np.ndarray, night: NightData,
                     config: ClassifierConfig) -> tuple[dict, np.ndarray]:
    """Distributions, polyphasic fraction and units of the night's fasciculations.

    Parameters
    ----------
    events : ndarray of classifier.events.EVENT_DTYPE
    night : NightData
    config : ClassifierConfig
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
    cfg = config.morphology
    rows = np.flatnonzero(events["kind"] == FASCICULATION)
    units = np.full(len(rows), -1, np.int64)
    main = ~events["doublet"][rows] & (events["candidate"][rows] >= 0)
    cand = events["candidate"][rows]
    feats = night.features
    ptp = events["peak_to_peak_uv"][rows]
    dur_ms = np.where(main, feats["duration_s"][np.maximum(cand, 0)] * 1e3, np.nan)
    phases = events["phases"][rows]
    min_ph = cfg.polyphasic_min_phases
    channels = {}
    for ch, name in enumerate(night.ch_names):
        sel = np.flatnonzero(main & (events["channel"][rows] == ch))
        snips = night.snippets[cand[sel]]
        labels = cluster_units(snips, ptp[sel], night.sfreq_hz, cfg, _noise_rms(night, ch))
        units[sel] = labels
        channels[name] = {
            "fasciculations": int(len(sel)),
            "median_ptp_uv": _median(ptp[sel]),
            "polyphasic_fraction": _fraction(phases[sel] >= min_ph),
            "units": unit_summaries(snips, labels, ptp[sel], phases[sel], night.sfreq_hz, cfg),
        }
    morph = {
        "amplitude_uv": distribution(ptp[main], np.array(cfg.amplitude_bins_uv, float)),
        "duration_ms": distribution(dur_ms[main], np.array(cfg.duration_bins_ms, float)),
        "phases": distribution(phases[main], np.arange(0.5, cfg.max_phases + 1.5)),
        "median_ptp_uv": _median(ptp[main]),
        "polyphasic_min_phases": int(min_ph),
        "polyphasic_fraction": _fraction(phases[main] >= min_ph),
        "channels": channels,
        "caveat": UNIT_CAVEAT,
    }
    return morph, units


def _noise_rms(night: NightData, ch: int) -> float | None:
    """The channel's median noise floor (µV RMS of the band-passed signal), None if unknown."""
    noise = np.asarray(night.noise_uv[ch], float) if len(night.noise_uv) > ch else np.zeros(0)
    noise = noise[np.isfinite(noise)]
    return float(np.median(noise)) if len(noise) else None


def _median(values: np.ndarray) -> float | None:
    return float(np.median(values)) if len(values) else None


def _fraction(mask: np.ndarray) -> float | None:
    return float(np.mean(mask)) if len(mask) else None
