"""The size of a potential near the floor, measured over its unit's discharges.

A motor unit's potential is the same at each discharge (why a train or a recurring many-phased
shape is one unit's: :mod:`classifier.potentials`); one sweep measures it with the noise on it. At
the floor the noise decides: the peak-to-peak of a potential with noise on it moves by a sigma or
two either way, about a quarter of a floor of 8.5 sigma. So a unit whose potential is 9 x the noise
in the band is counted at one discharge and not at the next, and a unit of 8 x is counted at the
discharges the noise lifts: the count of either follows the noise, not the unit.

A candidate whose size is within ``unit_size_band`` x the floor it is counted from therefore takes
the median size of its unit's discharges, itself among them, when at least ``unit_min_repeats`` of
its neighbours are discharges of its unit. Its neighbours are the ``unit_size_neighbours``
candidates before it and after it (no continuous activity, no pops); a neighbour is a discharge of
its unit when their sizes are within ``train_max_amplitude_ratio`` of each other (as two
discharges of a train) and their shapes correlate at :func:`unit_min_correlation` or more over
``shape_window_s`` around the peaks. The median of several discharges has a fraction of one
sweep's noise, and is not lifted by which discharges the noise took over the floor (the median
takes the unit's discharges below the floor too).

The size is the one compared with the floor and the one the potential's event reports, so no count
is below the stated floor. A candidate without enough discharges of its unit around it (a unit
that fires once, a noise peak) keeps its own size.
"""

from __future__ import annotations

import numpy as np

from classifier.config import EventRules
from classifier.similarity import half_window, shape_similarity, sizes_alike
from dsp.config import ChainConfig
from dsp.filters import band_top_hz

#: Full surface band (Hz) at which ``unit_size_min_correlation`` holds as written.
FULL_BAND_HZ = ChainConfig().band_hz
#: Pairs of snippets compared at once (bounds the memory of a night's comparisons).
PAIRS_PER_BATCH = 20_000


def band_width_hz(sfreq_hz: float) -> float:
    """Width (Hz) of the band the detection chain leaves at ``sfreq_hz``: 20-450 Hz, or from
    20 Hz to Nyquist where the upper edge is above the band-pass's reach
    (:func:`dsp.filters.design_sos`: the device's anti-alias filter is then the upper edge).

    Examples
    --------
    >>> band_width_hz(2000.0), band_width_hz(500.0)
    (430.0, 230.0)
    """
    low_hz, high_hz = FULL_BAND_HZ
    return band_top_hz(high_hz, sfreq_hz) - low_hz


def unit_min_correlation(sfreq_hz: float, half_samples: int, cfg: EventRules) -> float:
    """Correlation two discharges of one unit reach at least, over ``2 half_samples + 1`` samples.

    ``unit_size_min_correlation`` holds in the full 20-450 Hz band. A window of a narrower band
    (a sensor sampling at 500 Hz and below) holds fewer independent samples, ``n = 2 x band width
    x window``, and noise correlates with a shape by chance more often: the threshold keeps the
    same Fisher z-score, ``tanh(atanh(c) sqrt((n0 - 3) / (n - 3)))`` with ``n0`` the full band's
    count over the same window. Below 4 independent samples it is 1 (never reached).

    Examples
    --------
    >>> from classifier.config import default_config
    >>> cfg = default_config().events
    >>> round(unit_min_correlation(2000.0, 20, cfg), 2), round(unit_min_correlation(500.0, 5, cfg), 2)
    (0.8, 0.93)
    """
    window_s = (2 * half_samples + 1) / sfreq_hz
    n_full = 2.0 * (FULL_BAND_HZ[1] - FULL_BAND_HZ[0]) * window_s
    n = 2.0 * band_width_hz(sfreq_hz) * window_s
    if n < 4.0:
        return 1.0
    z = np.arctanh(cfg.unit_size_min_correlation) * np.sqrt((n_full - 3.0) / (n - 3.0))
    return float(np.tanh(z))


def unit_sizes_uv(cand: np.ndarray, snippets: np.ndarray, size_uv: np.ndarray,
                  floor_uv: np.ndarray, sfreq_hz: float, cfg: EventRules,
                  pool: np.ndarray) -> np.ndarray:
    """Each candidate's size, near the floor the median over its unit's discharges (see the
    module docstring).

    Parameters
    ----------
    cand : ndarray of CANDIDATE_DTYPE
        One channel's candidates, sorted by peak.
    snippets : ndarray, shape (n_candidates, SNIPPET_LEN)
        Their filtered waveforms, peak at the middle.
    size_uv : ndarray
        Each one's own size (:func:`classifier.potentials.potential_ptp_uv`).
    floor_uv : ndarray
        The floor each is counted from (:func:`classifier.potentials.floor_uv`).
    sfreq_hz : float
    cfg : EventRules
        ``unit_size_band``, ``unit_size_neighbours``, ``unit_size_min_correlation``,
        ``unit_min_repeats``, ``train_max_amplitude_ratio`` and ``shape_window_s``.
    pool : ndarray of bool
        The candidates that can be discharges of a unit (not continuous activity, not pops).

    Returns
    -------
    ndarray
        Sizes (µV): ``size_uv`` but where a unit's discharges give the median.

    Examples
    --------
    >>> from classifier.config import default_config
    >>> from dsp.types import CANDIDATE_DTYPE, SNIPPET_LEN
    >>> t = np.arange(SNIPPET_LEN) - SNIPPET_LEN // 2
    >>> shape = np.sin(2 * np.pi * t / 20) * np.exp(-(t / 8.0) ** 2)
    >>> cand = np.zeros(4, CANDIDATE_DTYPE)
    >>> cand["peak"] = [1000, 5000, 9000, 13000]
    >>> snips = np.tile(shape, (4, 1)).astype(np.float32)
    >>> size = np.array([36.0, 40.0, 41.0, 39.0])  # one unit; its first sweep under a 38-uV floor
    >>> unit_sizes_uv(cand, snips, size, np.full(4, 38.0), 1000.0, default_config().events,
    ...               np.ones(4, bool))
    array([39.5, 39.5, 39.5, 39.5])
    """
    out = np.array(size_uv, np.float64)
    lo, hi = cfg.unit_size_band
    in_pool = np.flatnonzero(pool)
    test = np.flatnonzero(pool & (size_uv >= lo * floor_uv) & (size_uv < hi * floor_uv))
    half = half_window(snippets, sfreq_hz, cfg)
    min_corr = unit_min_correlation(sfreq_hz, half, cfg)
    if len(test) == 0 or len(in_pool) <= cfg.unit_min_repeats or min_corr >= 1.0:
        return out
    k = cfg.unit_size_neighbours
    steps = np.concatenate([np.arange(-k, 0), np.arange(1, k + 1)])
    at = np.searchsorted(in_pool, test)[:, None] + steps
    held = (at >= 0) & (at < len(in_pool))
    other = in_pool[np.clip(at, 0, len(in_pool) - 1)]
    me = np.broadcast_to(test[:, None], other.shape)
    held &= sizes_alike(size_uv, me.ravel(), other.ravel(),
                        cfg.train_max_amplitude_ratio).reshape(other.shape)
    alike = np.zeros(other.shape, bool)
    alike[held] = _correlations(snippets, me[held], other[held], half) >= min_corr
    enough = alike.sum(axis=1) >= cfg.unit_min_repeats
    theirs = np.where(alike, size_uv[other], np.nan)[enough]
    out[test[enough]] = np.nanmedian(np.column_stack([size_uv[test[enough]], theirs]), axis=1)
    return out


def _correlations(snippets: np.ndarray, i: np.ndarray, j: np.ndarray, half: int) -> np.ndarray:
    """:func:`classifier.similarity.shape_similarity` of the pairs ``(i, j)``, in batches."""
    return np.concatenate([np.zeros(0)] + [
        shape_similarity(snippets, i[a:a + PAIRS_PER_BATCH], j[a:a + PAIRS_PER_BATCH], half)
        for a in range(0, len(i), PAIRS_PER_BATCH)])
