"""Comparing potentials' sizes and shapes: the doublet, train, unit and heartbeat rules all ask
whether two snippets are of one potential.

Shapes are compared over ``shape_window_s`` around the peak (:func:`half_window`) at the best of a
few lags (the detector's peak may fall on either of a potential's main phases), as normalised
correlations; near the noise, as the shapes would correlate without it
(:func:`noise_free_similarity`). Sizes are alike within a ratio (:func:`sizes_alike`).
"""

from __future__ import annotations

import numpy as np

from classifier.config import EventRules


def shape_similarity(snippets: np.ndarray, i: np.ndarray, j: np.ndarray, half: int,
                     max_shift: int = 2) -> np.ndarray:
    """Normalised correlation of snippet pairs ``(i, j)`` over ``half`` samples each side of the
    peak, at the best of the lags -``max_shift``..``max_shift`` samples (as far as the snippets
    reach)."""
    if len(i) == 0:
        return np.zeros(0)
    mid = snippets.shape[1] // 2
    shift = max(0, min(max_shift, mid - half, snippets.shape[1] - 1 - mid - half))
    a = snippets[i, mid - half: mid + half + 1].astype(np.float64)
    b = np.lib.stride_tricks.sliding_window_view(
        snippets[j, mid - half - shift: mid + half + shift + 1].astype(np.float64), 2 * half + 1,
        axis=1)
    num = np.einsum("pk,plk->pl", a, b)
    den = np.sqrt(np.einsum("pk,pk->p", a, a)[:, None] * np.einsum("plk,plk->pl", b, b))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, -1.0).max(axis=1)


def sizes_alike(ptp: np.ndarray, i: np.ndarray, j: np.ndarray, max_ratio: float) -> np.ndarray:
    """Whether the sizes of each pair ``(i, j)`` are within ``max_ratio`` of each other."""
    return np.maximum(ptp[i], ptp[j]) <= max_ratio * np.maximum(np.minimum(ptp[i], ptp[j]), 1e-12)


def similar_pairs(snippets, ptp, i, j, half, min_corr, max_ratio, max_shift=2,
                  noise_uv=None) -> np.ndarray:
    """Whether each pair ``(i, j)`` has sizes within ``max_ratio`` (:func:`sizes_alike`) and
    shapes correlating at ``min_corr`` or more (:func:`shape_similarity`, lags up to
    ``max_shift``; with ``noise_uv``, each snippet's noise RMS, the correlation the shapes would
    have without the noise: :func:`noise_free_similarity`)."""
    ok = sizes_alike(ptp, i, j, max_ratio)
    r = shape_similarity(snippets, i[ok], j[ok], half, max_shift)
    if noise_uv is not None:
        r = noise_free_similarity(r, snippets, i[ok], j[ok], half, noise_uv)
    ok[ok] = r >= min_corr
    return ok


#: A snippet's reliability (its shape's share of its energy) is not taken below this: the
#: correction never more than doubles a correlation.
MIN_RELIABILITY = 0.5


def noise_free_similarity(r: np.ndarray, snippets: np.ndarray, i: np.ndarray, j: np.ndarray,
                          half: int, noise_uv: np.ndarray) -> np.ndarray:
    """The correlations ``r`` of snippet pairs ``(i, j)`` corrected for the noise on each
    (Spearman's correction for attenuation): ``r / sqrt(rel_i rel_j)``, at most 1, where a
    snippet's reliability ``rel`` is the share of its energy over the ``2 half + 1`` samples
    compared that is not the noise's (``noise_uv``, the RMS of the noise on each snippet), at
    least ``MIN_RELIABILITY``.

    Two discharges of one unit, each with its own noise, correlate at ``rel`` (for equal
    reliabilities) however alike they are: about 0.8 at 10 x the noise RMS in peak-to-peak,
    0.9 from about 15 x. The corrected correlation is the shapes' own.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> t = np.arange(-20, 21)
    >>> shape = 20.0 * np.exp(-(t / 6.0) ** 2) * np.sin(t / 3.0)
    >>> snippets = np.array([shape + rng.normal(0, 3.0, t.size) for _ in range(2)])
    >>> i, j = np.array([0]), np.array([1])
    >>> r = shape_similarity(snippets, i, j, 20, 0)
    >>> bool(r[0] < 0.9), bool(noise_free_similarity(r, snippets, i, j, 20, np.full(2, 3.0))[0] > 0.9)
    (True, True)
    """
    mid = snippets.shape[1] // 2
    window = snippets[:, mid - half: mid + half + 1].astype(np.float64)
    n = window.shape[1]

    def rel(k: np.ndarray) -> np.ndarray:
        energy = np.einsum("pk,pk->p", window[k], window[k])
        with np.errstate(invalid="ignore", divide="ignore"):
            share = 1.0 - n * noise_uv[k] ** 2 / energy
        return np.clip(np.nan_to_num(share, nan=1.0), MIN_RELIABILITY, 1.0)

    return np.minimum(r / np.sqrt(rel(i) * rel(j)), 1.0)


def next_similar(t_s, snippets, ptp, lo_s, hi_s, half, min_corr, max_ratio, max_lag=8,
                 noise_uv=None, max_shift=2):
    """For each potential, the first later one ``lo_s``-``hi_s`` after it with a similar shape
    (-1 when none), looking up to ``max_lag`` potentials ahead (``noise_uv``: see
    :func:`similar_pairs`). ``t_s`` sorted."""
    n = len(t_s)
    nxt = np.full(n, -1, np.int64)
    for lag in range(1, min(n, max_lag + 1)):
        i = np.arange(n - lag)
        j = i + lag
        dt = t_s[j] - t_s[i]
        cand = (nxt[i] < 0) & (dt >= lo_s) & (dt <= hi_s)
        if not cand.any():
            if np.all(dt > hi_s):
                break
            continue
        ii, jj = i[cand], j[cand]
        ok = similar_pairs(snippets, ptp, ii, jj, half, min_corr, max_ratio, max_shift, noise_uv)
        nxt[ii[ok]] = jj[ok]
    return nxt


def half_window(snippets: np.ndarray, sfreq_hz: float, cfg: EventRules) -> int:
    """Samples each side of the peak that shape comparisons use (``shape_window_s``), within the
    snippet."""
    return min(snippets.shape[1] // 2 - 3, max(2, round(cfg.shape_window_s * sfreq_hz / 2)))
