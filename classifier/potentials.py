"""Discrete potentials outside bursts: fasciculations, doublets, trains, jerks and pops.

Potentials of different motor units arrive independently: at 40 fasciculations per minute more than a
quarter of them have another unit's potential within 250 ms by chance (Poisson; Sleutjes et al.,
Muscle Nerve 2016;53:227 define isolation per unit, not per channel). So two discrete potentials
separated by a return to baseline are two fasciculations, unless there is positive evidence of
something else (thresholds in ``[events]`` of ``thresholds.toml``):

- **doublet**: the same shape again ``doublet_s`` after a potential (a doublet or triplet of one
  unit, or its F-wave: Kleine et al., Clin Neurophysiol 2012;123:399): listed, not counted. A
  doublet whose second discharge starts before the first potential ends is one candidate with
  twice a potential's phases; when that candidate repeats itself at a doublet's interval
  (:func:`self_repeats`) it is one fasciculation (detail ``pair``), not a jerk. Of a triplet,
  the discharge apart from two merged ones is a repeat when the merged candidate is two copies
  of its shape (:func:`repeats_in_merged`);
- **train** (voluntary-like firing): the same unit repeating at 5-30 Hz, regularly (voluntary units
  fire at 8-35 Hz, Fuglevand 1993; tonic single-unit firing at about 6 Hz, 1.3-18, with an ISI
  variability of a few %): ``train_min_potentials`` or more of one shape ``train_interval_s`` apart
  with an interval CV of at most ``train_max_cv``, or slower and more regular (shapes compared
  as they would be without the noise; an interval of two periods bridges a discharge the
  detector missed: :mod:`classifier.trains`);
- **rhythm**: clusters of potentials at a steady 5-30 Hz beat, ``rhythm_min_bursts`` or more in
  a row, whatever their shapes (clonus: :mod:`classifier.rhythm`), with the jerks among them;
- **dense firing**: ``dense_min_potentials`` or more discrete potentials within ``dense_window_s``
  (weak voluntary activity: a few units firing at 5-30 Hz each, too small to raise the envelope).
  Fasciculation rates reach about 2 per second at most (SPiQE ALS cohort: median 40.5/min, upper
  quartile 79.4/min: Bashford 2020), at which such a cluster is a chance event a few times a night;
- **jerk** (myoclonus): many units superimposed into one compound burst, which the detection chain
  reports as activity longer than any single potential (``continuous`` pieces), as candidates
  between which the signal never returns to baseline (``joined``; a doublet's second discharge
  reached so from its first is a repeat: :func:`unjoined_repeats`), as one candidate longer
  than a single potential with more phases than one has (:func:`many_phased`; unless its shape
  recurs, as a long polyphasic unit's does at each discharge: :func:`recurring`), or as a run of
  ``jerk_min_potentials`` (3) or more potentials of different shapes each within
  ``jerk_link_s`` of the one before (a pair is not enough: independent twitches fall that close
  by chance), or as ``jerk_window_potentials`` or more counted potentials within
  ``jerk_window_s``, or ``jerk_min_potentials`` (or two) of different shapes within it where
  the channel's rate of other twitches around them makes that many so close a chance of at most
  ``jerk_max_chance`` (:func:`unlikely_clusters`); discrete potentials at the edges of such a
  compound (within ``jerk_link_s`` of it, the whole within ``myoclonus_max_s``) are its units;
  spans of at most ``myoclonus_max_s``, longer ones are voluntary;
- **part of a potential**: a candidate beside a potential at least as large, at the same lag at a
  quarter or more of that unit's discharges, or at fewer where the unit's other discharges hold
  it merged (``satellite_*``; :func:`time_locked`), is a component of it (a lead-in, a late phase
  after a quiet stretch, a satellite): counted with it; so is a candidate within such a part's
  span at another of the unit's discharges that, the part's waveform taken away, leaves nothing
  above the floor (the noise put the part's peak on another of its phases);
- **halves near the floor**: of two twitches within ``potential_max_s`` (peak to peak), both at
  most ``split_max_floor_ratio`` x the floor and not alike as a doublet's, the smaller is a part
  of the larger (:func:`near_floor_halves`): near the floor the noise takes the dip between a
  potential's slow phases under the detector's hysteresis as often as a return to baseline, and
  two units' potentials that close, both that small, are rare;
- **pop**: an electrode pop is a step of the electrode-skin half-cell potential followed by an
  exponential recovery over hundreds of ms, so the raw baseline after it is displaced; a motor-unit
  potential returns to baseline. A candidate whose baseline step is at least ``pop_step_fraction``
  of its peak-to-peak and ``pop_step_k`` x the noise is a pop, whatever its frequency content,
  unless a neighbour within ``pop_clear_s`` is as large as the step (it fills the baseline window).

Fasciculations are counted only from the channel's floor multiple (``[detection]
detectable_ptp_k``, higher where the heartbeat reaches the channel:
:func:`classifier.noise.channel_floor_k`) x its resting noise
(:func:`classifier.noise.resting_noise_uv`; the stated ``detection_floor_uv``), or x the noise at the
potential or in the seconds around it (:func:`classifier.noise.local_noise_uv`) where that is
higher: no count is ever below the stated floor. The size compared is the potential's peak-to-peak over its span
(:func:`potential_ptp_uv`: up to ``potential_max_s`` centred on its peak, short of the potentials
beside it), which is also the size its event reports: the detector's candidate may hold only the
largest phase of a polyphasic potential whose phases are parted by quiet zero crossings (at 1 kHz
and below these last a few samples, enough to end a candidate). Near the floor the size is the
median over the unit's discharges around the potential (:mod:`classifier.unit_size`): one
sweep's peak-to-peak moves with the noise by a quarter of the floor.
"""

from __future__ import annotations

import numpy as np

from classifier.config import EventRules
from classifier.kinds import ARTIFACT, FASCICULATION, MYOCLONUS, VOLUNTARY
from classifier.rhythm import rhythmic_runs
from classifier.similarity import (
    half_window,
    next_similar,
    similar_pairs,
)
from classifier.trains import trains
from dsp.config import ChainConfig


def doublets(t_s, snippets, ptp, sfreq_hz: float, cfg: EventRules) -> np.ndarray:
    """Whether each discrete potential repeats the shape of the one ``doublet_s`` before it,
    peak to peak (``t_s``, ascending).

    Alike shapes peak on the same phase, so their peaks are as far apart as the discharges. The
    second discharge's onset is not: it often starts in the first one's tail, and the detector
    finds it only where the tail has settled, up to tens of ms later.
    """
    lo, hi = cfg.doublet_s
    half = half_window(snippets, sfreq_hz, cfg)
    nxt = next_similar(t_s, snippets, ptp, lo, hi, half, cfg.doublet_min_correlation,
                       cfg.doublet_max_amplitude_ratio)
    out = np.zeros(len(t_s), bool)
    out[nxt[nxt >= 0]] = True
    return out


def unjoined_repeats(cand: np.ndarray, snippets: np.ndarray, sfreq_hz: float,
                     cfg: EventRules) -> np.ndarray:
    """The candidates, where one ``joined`` to the one before it (reached without a return to
    baseline) no longer is when it repeats that one's shape ``doublet_s`` after it, peak to
    peak, as :func:`doublets` finds a repeat.

    A doublet's second discharge 5-40 ms after the first often starts before the signal has
    settled after the first, large or slow ones most: the two are one unit firing twice, a
    doublet, not units superimposed into a jerk's compound.

    Examples
    --------
    >>> from dsp.types import CANDIDATE_DTYPE
    >>> from classifier.config import load_config
    >>> cand = np.zeros(2, CANDIDATE_DTYPE)
    >>> cand["onset"], cand["peak"], cand["offset"] = [100, 125], [105, 130], [125, 150]
    >>> cand["ptp_uv"], cand["joined"] = [200.0, 190.0], [False, True]
    >>> wave = np.zeros(64, np.float32)
    >>> wave[30:35] = [-40.0, -100.0, 90.0, 60.0, -20.0]
    >>> bool(unjoined_repeats(cand, np.stack([wave, wave]), 1000.0,
    ...                       load_config().events)["joined"][1])
    False
    """
    out = cand.copy()
    k = np.flatnonzero(cand["joined"][1:]) + 1
    lag_s = (cand["peak"][k] - cand["peak"][k - 1]) / sfreq_hz
    k = k[(lag_s >= cfg.doublet_s[0]) & (lag_s <= cfg.doublet_s[1])]
    same = similar_pairs(snippets, cand["ptp_uv"], k - 1, k, half_window(snippets, sfreq_hz, cfg),
                         cfg.doublet_min_correlation, cfg.doublet_max_amplitude_ratio)
    out["joined"][k[same]] = False
    return out


def repeats_in_merged(cand: np.ndarray, snippets: np.ndarray, sfreq_hz: float,
                      cfg: EventRules) -> np.ndarray:
    """Whether each discrete potential (sorted by peak) and the one before it are discharges of
    one unit ``doublet_s`` apart, one of them found merged with a third discharge.

    Of a triplet, two discharges closer than a potential lasts are one candidate, and the third
    is compared with that. The merged candidate (its span at least ``doublet_s[0]`` longer than
    the other's) is two copies of the other's shape (``shape_window_s`` around its peak), each
    scaled within ``doublet_max_amplitude_ratio``, ``doublet_s`` apart, the nearer one
    ``doublet_s`` from the other potential: a least-squares fit of the two copies explains at
    least ``doublet_min_correlation`` squared of its energy (the doublet rule's correlation, as a
    share of energy). Another unit's potential, or a compound of several, is no such pair.

    Examples
    --------
    >>> from classifier.config import load_config
    >>> from dsp.types import CANDIDATE_DTYPE
    >>> t = np.arange(128)
    >>> unit = np.sin(2 * np.pi * (t - 64) / 10.0) * np.exp(-0.5 * ((t - 64) / 4.0) ** 2)
    >>> pair = unit + np.roll(unit, 9)  # two discharges 9 ms apart, one candidate
    >>> cand = np.zeros(2, CANDIDATE_DTYPE)  # the pair, then a third discharge 30 ms on
    >>> cand["onset"], cand["peak"], cand["offset"] = [54, 97], [64, 103], [84, 113]
    >>> repeats_in_merged(cand, np.stack([pair, unit]), 1000.0, load_config().events)
    array([False,  True])
    """
    out = np.zeros(len(cand), bool)
    later = np.arange(1, len(cand))
    out[1:] = merged_repeats(cand, snippets, later - 1, later, sfreq_hz, cfg)
    return out


def repeat_of(cand: np.ndarray, snippets: np.ndarray, idx: np.ndarray, sfreq_hz: float,
              cfg: EventRules) -> np.ndarray:
    """For each of the discrete potentials ``idx`` (sorted by peak) that repeats a discharge of
    its unit (:func:`doublets`, :func:`repeats_in_merged`), the index of that discharge's
    candidate; -1 for every other candidate."""
    out = np.full(len(cand), -1, np.int64)
    if len(idx) < 2:
        return out
    lo, hi = cfg.doublet_s
    nxt = next_similar(cand["peak"][idx] / sfreq_hz, snippets[idx], cand["ptp_uv"][idx], lo, hi,
                       half_window(snippets, sfreq_hz, cfg), cfg.doublet_min_correlation,
                       cfg.doublet_max_amplitude_ratio)
    first = np.flatnonzero(nxt >= 0)
    out[idx[nxt[first]]] = idx[first]
    merged = np.flatnonzero(repeats_in_merged(cand[idx], snippets[idx], sfreq_hz, cfg))
    out[idx[merged]] = np.where(out[idx[merged]] >= 0, out[idx[merged]], idx[merged - 1])
    return out


def merged_repeats(cand: np.ndarray, snippets: np.ndarray, first: np.ndarray, second: np.ndarray,
                   sfreq_hz: float, cfg: EventRules) -> np.ndarray:
    """For each pair of candidates ``(first, second)``, the first the earlier, whether they are
    two discharges of one unit, one of them found merged with a third (see
    :func:`repeats_in_merged`)."""
    out = np.zeros(len(first), bool)
    lo, hi = (round(v * sfreq_hz) for v in cfg.doublet_s)
    half = half_window(snippets, sfreq_hz, cfg)
    span = cand["offset"] - cand["onset"]
    reach = cand["onset"][second] - cand["onset"][first] <= hi + span[first]
    for k in np.flatnonzero((np.abs(span[second] - span[first]) >= lo) & reach):
        i, j = first[k], second[k]  # a pair with a merged member
        short, long_ = (i, j) if span[i] < span[j] else (j, i)
        out[k] = _two_copies(snippets[short], snippets[long_], cand, short, long_, lo, hi, half,
                             cfg)
    return out


def _two_copies(w_short, w_long, cand, short: int, long_: int, lo: int, hi: int, half: int,
                cfg: EventRules) -> bool:
    """Whether ``long_``'s span is two copies of ``short``'s shape (see
    :func:`repeats_in_merged`), the nearer one ``lo``..``hi`` samples from ``short``'s peak."""
    mid = w_short.shape[0] // 2
    shape = np.nan_to_num(w_short[mid - half: mid + half + 1].astype(np.float64))
    a = max(0, int(cand["onset"][long_] - cand["peak"][long_]) + mid - half)
    b = min(w_long.shape[0], int(cand["offset"][long_] - cand["peak"][long_]) + mid + half + 1)
    y = np.nan_to_num(w_long[a:b].astype(np.float64))
    if y.size <= shape.size + lo or not (shape @ shape > 0):
        return False
    p, q, amp_p, amp_q, explained = _pair_fits(y, shape, lo, hi)
    ratio = cfg.doublet_max_amplitude_ratio
    fits = ((explained >= cfg.doublet_min_correlation ** 2) & (amp_p >= 1 / ratio)
            & (amp_p <= ratio) & (amp_q >= 1 / ratio) & (amp_q <= ratio))
    peak_at = np.arange(y.size) + half + a - mid + cand["peak"][long_] - cand["peak"][short]
    apart = np.where(long_ > short, peak_at[p], -peak_at[q])  # the copy next to the short one
    return bool(np.any(fits & (apart >= lo) & (apart <= hi)))


def _pair_fits(y: np.ndarray, shape: np.ndarray, lo: int, hi: int):
    """Least-squares fits of ``y`` by two copies of ``shape`` starting at samples ``p`` and
    ``q`` = ``p`` + ``lo``..``hi`` (both inside ``y``): ``p``, ``q``, the two amplitudes and the
    share of ``y``'s energy explained. Equal copies have the shape's energy on the Gram
    matrix's diagonal and its autocorrelation off it; the projections are one correlation."""
    energy = shape @ shape
    proj = np.correlate(y, shape, "valid")  # copy k starts at sample k of y
    lag = np.correlate(shape, shape, "full")[shape.size - 1:]  # overlap of two copies d apart
    lag = np.concatenate([lag, np.zeros(max(0, hi + 1 - lag.size))])
    p, d = np.meshgrid(np.arange(proj.size), np.arange(lo, hi + 1), indexing="ij")
    p, d = p[p + d < proj.size], d[p + d < proj.size]
    q, cross = p + d, lag[d]
    det = energy**2 - cross**2
    ok = det > 1e-12 * energy**2
    p, q, cross, det = p[ok], q[ok], cross[ok], det[ok]
    amp_p = (energy * proj[p] - cross * proj[q]) / det
    amp_q = (energy * proj[q] - cross * proj[p]) / det
    return p, q, amp_p, amp_q, (amp_p * proj[p] + amp_q * proj[q]) / (y @ y)


def self_repeats(cand: np.ndarray, feats: np.ndarray, snippets: np.ndarray, sfreq_hz: float,
                 cfg: EventRules) -> np.ndarray:
    """Whether each many-phased candidate is one potential followed by its own repeat.

    A doublet whose second discharge starts before the first potential has ended is one
    candidate with twice the phases of one potential. Its waveform then repeats itself: shifted by
    the interval (``doublet_s``), its overlap with itself holds half its energy, as a fraction of
    which it reaches ``doublet_min_correlation`` (see :func:`_shifted_correlation`). A compound
    of independent units does not. Only candidates that :func:`many_phased` would call a
    compound (within one potential's span a candidate is one potential anyway, and a narrowband
    potential correlates with itself one period later), short enough to hold two potentials
    (``potential_max_s`` plus the longest interval), not cut from continuous activity, and
    measured on the part of the candidate the snippet holds.
    """
    out = np.zeros(len(cand), bool)
    lo = max(1, round(cfg.doublet_s[0] * sfreq_hz))
    hi = round(cfg.doublet_s[1] * sfreq_hz)
    longest = (cfg.potential_max_s + cfg.doublet_s[1]) * sfreq_hz
    mid = snippets.shape[1] // 2
    look = np.flatnonzero(many_phased(cand, feats, sfreq_hz, cfg) & ~cand["continuous"]
                          & (cand["offset"] - cand["onset"] <= longest))
    for i in look:  # candidates with many phases are few (jerks: tens per hour)
        a = max(0, mid - int(cand["peak"][i] - cand["onset"][i]))
        b = min(snippets.shape[1], mid + int(cand["offset"][i] - cand["peak"][i]))
        out[i] = _shifted_correlation(snippets[i, a:b].astype(np.float64), lo, hi, lo) >= (
            cfg.doublet_min_correlation)
    return out


def _shifted_correlation(w: np.ndarray, lo: int, hi: int, min_overlap: int) -> float:
    """Largest autocorrelation of ``w`` at shifts of ``lo``..``hi`` samples (overlaps of at least
    ``min_overlap`` samples), as a fraction of half its energy (-1 when no shift fits).

    A potential followed by an exact copy gives 1 (the shifted overlap holds one copy's energy,
    half the whole); copies of amplitudes 1 and ``g`` give ``2 g / (1 + g**2)`` (0.8 at the
    doublet rule's largest amplitude ratio, 2), times their shape correlation. Independent units
    share no such shift, and a shift that overlaps only part of the candidate holds only part
    of its energy.
    """
    half_energy = 0.5 * float(np.dot(w, w))
    top = min(hi, len(w) - min_overlap)
    if half_energy <= 0 or top < lo:
        return -1.0
    r = np.correlate(w, w, "full")[len(w) - 1:]  # r[lag] = sum of w[t] w[t + lag]
    return float(r[lo:top + 1].max()) / half_energy


def many_phased(cand: np.ndarray, feats: np.ndarray, sfreq_hz: float, cfg: EventRules,
                paired: np.ndarray | None = None) -> np.ndarray:
    """Single candidates with more phases than one potential has: ``myoclonus_min_phases`` or
    more over a span longer than one potential lasts (``potential_max_s``), unless they are a
    potential and its repeat (``paired``, see :func:`self_repeats`).

    Within one potential's span a candidate is one potential, however many phases it has: a
    long, high-frequency surface potential reaches 10 phases alone, and a compound of many
    units spreads over a longer time than a single one lasts.
    """
    many = (feats["phases"] >= cfg.myoclonus_min_phases) & (
        cand["offset"] - cand["onset"] > cfg.potential_max_s * sfreq_hz)
    return many & ~paired if paired is not None else many


def recurring(cand: np.ndarray, feats: np.ndarray, snippets: np.ndarray, size_uv: np.ndarray,
              sfreq_hz: float, cfg: EventRules, look: np.ndarray | None = None) -> np.ndarray:
    """Whether each candidate that :func:`many_phased` would call a compound recurs: at least
    ``unit_min_repeats`` other candidates (not continuous activity) are alike it as two
    discharges of one unit are (shape and size, as in a train). Only candidates in ``look`` are
    tested (all by default; a candidate inside a movement is the movement's either way, and a
    night of movements holds thousands of many-phased pieces).

    A motor unit's potential is the same at each discharge, however long and polyphasic it is (a
    reinnervated unit's at the surface can last longer than ``potential_max_s`` and show more
    than ``myoclonus_min_phases`` phases); a jerk's compound is a different superposition of its
    units each time. So a many-phased candidate whose shape recurs over its whole span (not only
    around its peak, where one large unit of a jerk may dominate) is one unit's potential.
    """
    out = np.zeros(len(cand), bool)
    pool = np.flatnonzero(~cand["continuous"])
    test = many_phased(cand, feats, sfreq_hz, cfg) & ~cand["continuous"]
    look = np.flatnonzero(test if look is None else test & look)
    if len(look) == 0 or len(pool) < 2:
        return out
    reach = snippets.shape[1] // 2 - 3
    for i in look:  # many-phased candidates are few (jerks: tens per hour)
        half = int(min(reach, max(cand["peak"][i] - cand["onset"][i],
                                  cand["offset"][i] - cand["peak"][i])))
        alike = similar_pairs(snippets, size_uv, np.full(len(pool), i), pool, half,
                              cfg.train_min_correlation, cfg.train_max_amplitude_ratio)
        out[i] = int(alike.sum()) - 1 >= cfg.unit_min_repeats  # itself is alike itself
    return out


def continues(cand: np.ndarray) -> np.ndarray:
    """Whether each candidate but the first continues a ``continuous`` piece before it (starts
    where that one was cut): one run of activity the detector cut at ``max_duration_s``."""
    return cand["continuous"][:-1].astype(bool) & (cand["onset"][1:] <= cand["offset"][:-1])


def compounds(cand: np.ndarray, feats: np.ndarray, sfreq_hz: float, cfg: EventRules,
              paired: np.ndarray | None = None, apart: np.ndarray | None = None) -> np.ndarray:
    """Compound index of each candidate: runs of adjacent ``continuous`` pieces with the piece that
    ends them, candidates reached from the one before without a return to baseline (``joined``:
    superimposed potentials), and single candidates with more phases than one potential has
    (:func:`many_phased`) (-1 otherwise). A candidate in ``apart`` (a part of the potential
    beside it, :func:`time_locked`) joins nothing: the two are one potential, not two units
    superimposed."""
    n = len(cand)
    many = many_phased(cand, feats, sfreq_hz, cfg, paired)
    cont = cand["continuous"]
    joined = np.zeros(n, bool)  # candidate i continues the one before it
    if n > 1:
        joined[1:] = continues(cand) | cand["joined"][1:]
        if apart is not None:
            joined[1:] &= ~(apart[1:] | apart[:-1])
    member = cont | joined | np.concatenate([joined[1:], [False]]) | many
    start = member & ~joined
    return np.where(member, np.cumsum(start) - 1, -1)


def one_potential(cand: np.ndarray, feats: np.ndarray, label: np.ndarray, sfreq_hz: float,
                  cfg: EventRules, counted: np.ndarray) -> np.ndarray:
    """For the pieces of a compound that fits in one potential, the index of its largest piece
    (-1 elsewhere).

    The detector cuts a slow or low potential where it dips between phases, and the pieces are
    reached without a return to baseline (``joined``). Pieces without continuous activity are
    that potential when they span no more than a single potential lasts (``potential_max_s``)
    and have fewer phases together than ``myoclonus_min_phases`` (one candidate as a whole would
    be a fasciculation, so its pieces are one too, not a jerk), or when only their largest is
    ``counted`` (at or above the floor) and the others are at most ``slow_wave_max_ratio`` of its
    size: a potential with its slow lead-in or tail, not units superimposed.
    """
    out = np.full(len(cand), -1, np.int64)
    idx = np.flatnonzero(label >= 0)
    if not len(idx):
        return out
    bounds = np.flatnonzero(np.diff(label[idx])) + 1
    for grp in np.split(idx, bounds):  # compounds are few (jerks: tens per hour)
        if len(grp) < 2 or cand["continuous"][grp].any():
            continue
        span_s = (cand["offset"][grp].max() - cand["onset"][grp].min()) / sfreq_hz
        big = grp[np.argmax(cand["ptp_uv"][grp])]
        if ((span_s <= cfg.potential_max_s
             and feats["phases"][grp].sum() < cfg.myoclonus_min_phases)
                or _lone_potential(cand, grp, big, counted, cfg)):
            out[grp] = big
    return out


def _lone_potential(cand: np.ndarray, grp: np.ndarray, big: int, counted: np.ndarray,
                    cfg: EventRules) -> bool:
    """Whether ``big`` is the only counted piece of ``grp`` and the others are at most
    ``slow_wave_max_ratio`` of its size."""
    others = grp[grp != big]
    small = cand["ptp_uv"][others] <= cfg.slow_wave_max_ratio * cand["ptp_uv"][big]
    return bool(counted[big] and small.all())


def slow_waves(cand: np.ndarray, feats: np.ndarray, size_uv: np.ndarray, sfreq_hz: float,
               cfg: EventRules, eligible: np.ndarray) -> np.ndarray:
    """Candidates that are the slow lead-in or tail of the potential beside them.

    A surface potential's non-propagating components (end-plate, fibre ends) are wide waves
    before or after its main phases, a fraction of their size, which the detector may find apart
    from them. Among the ``eligible`` candidates (sorted by peak), one that begins within
    ``slow_wave_gap_s`` of the end of its neighbour, or ends that close to its start, at most
    ``slow_wave_max_ratio`` of its size (``size_uv``) and of a lower dominant frequency, is that
    neighbour's slow wave.

    Examples
    --------
    >>> from classifier.config import load_config
    >>> from dsp.types import CANDIDATE_DTYPE, FEATURE_DTYPE
    >>> cand = np.zeros(2, CANDIDATE_DTYPE)
    >>> cand["onset"], cand["peak"], cand["offset"] = [100, 125], [110, 130], [119, 150]
    >>> feats = np.zeros(2, FEATURE_DTYPE)
    >>> feats["dominant_hz"] = [110.0, 40.0]
    >>> slow_waves(cand, feats, np.array([900.0, 160.0]), 1000.0, load_config().events,
    ...            np.ones(2, bool))
    array([False,  True])
    """
    out = np.zeros(len(cand), bool)
    idx = np.flatnonzero(eligible)
    if len(idx) < 2:
        return out
    a, b = idx[:-1], idx[1:]  # neighbours among the eligible, in time
    close = cand["onset"][b] - cand["offset"][a] <= cfg.slow_wave_gap_s * sfreq_hz
    dom = feats["dominant_hz"]
    for small, big in ((b, a), (a, b)):  # a tail after its potential, a lead-in before it
        out[small[close & (size_uv[small] <= cfg.slow_wave_max_ratio * size_uv[big])
                  & (dom[small] < dom[big])]] = True
    return out


def time_locked(cand: np.ndarray, snippets: np.ndarray, size_uv: np.ndarray, sfreq_hz: float,
                cfg: EventRules, eligible: np.ndarray,
                floors_uv: np.ndarray | None = None) -> np.ndarray:
    """For each candidate that is part of the potential beside it (no larger, and at the same lag
    from it at many of its unit's discharges), the index of that potential; -1 for the others.

    A component of a motor unit's potential that the detector finds apart from its main phases
    (a lead-in, a late phase after a quiet stretch, a satellite) follows the unit's discharges
    at a fixed lag; another unit's potential falls at any lag. Among the ``eligible`` candidates
    (sorted by peak), a pair is a candidate beside a neighbour within ``satellite_max_lag_s``
    (peak to peak) that is at least 1 / ``satellite_max_ratio`` x its size (``size_uv``; a ratio
    of 1: no smaller). A group of such pairs whose main potentials are alike (shape and size, as in a
    train: one unit) and whose lags agree within ``satellite_lag_tolerance_s`` is time-locked
    when it holds ``satellite_min_discharges`` or more pairs and either ``satellite_min_fraction``
    or more of the eligible potentials alike its main one, or the unit's other discharges hold
    the part merged (:func:`_part_in_the_rest`): the smaller of each such pair is part of its
    neighbour's potential. Beyond one potential's span (``potential_max_s``) the group must also
    hold ``satellite_min_share`` of the unit's neighbours there on its side
    (:func:`_locked_beyond_one_potential`). Given each candidate's floor (``floors_uv``), the
    unit's other candidates within a time-locked part's span that are that part with its peak on
    another of its phases are its parts too (:func:`_moved_parts`).

    Examples
    --------
    >>> from classifier.config import load_config
    >>> from dsp.types import CANDIDATE_DTYPE
    >>> rng = np.random.default_rng(0)
    >>> peaks = np.sort(np.concatenate([np.arange(1, 9) * 1000, np.arange(1, 9) * 1000 - 8]))
    >>> cand = np.zeros(16, CANDIDATE_DTYPE)
    >>> cand["peak"], cand["onset"], cand["offset"] = peaks, peaks - 2, peaks + 2
    >>> size = np.tile([40.0, 300.0], 8)  # a small component 8 samples before each discharge
    >>> cand["ptp_uv"] = size
    >>> shapes = np.array([np.sin(np.linspace(0, 20, 128)), np.sin(np.linspace(0, 6, 128))])
    >>> snips = (np.tile(shapes, (8, 1)) + 0.01 * rng.standard_normal((16, 128))).astype(np.float32)
    >>> part_of = time_locked(cand, snips, size, 1000.0, load_config().events, np.ones(16, bool))
    >>> part_of[:4]  # each small component is part of the discharge after it
    array([ 1, -1,  3, -1])
    """
    out = np.full(len(cand), -1, np.int64)
    small, main = _satellite_pairs(cand, snippets, size_uv, np.flatnonzero(eligible),
                                   sfreq_hz, cfg)
    if len(small) < cfg.satellite_min_discharges:
        return out
    lag = cand["peak"][small] - cand["peak"][main]
    order = np.argsort(lag, kind="stable")
    small, main, lag = small[order], main[order], lag[order]
    half = half_window(snippets, sfreq_hz, cfg)
    p, q = _pairs_within(lag, max(1, int(round(cfg.satellite_lag_tolerance_s * sfreq_hz))))
    same = _one_unit(snippets, size_uv, main[p], main[q], half, cfg)
    p, q = p[same], q[same]  # p stays sorted
    start = np.searchsorted(p, np.arange(len(small) + 1))
    unit_of = _unit_members(snippets, size_uv, np.flatnonzero(eligible), half, cfg)
    done = np.zeros(len(small), bool)
    for r in np.flatnonzero(np.diff(start) + 1 >= cfg.satellite_min_discharges):
        if done[r]:
            continue
        peers = np.concatenate([[r], q[start[r]:start[r + 1]]])
        done[peers] = True
        unit = unit_of(main[r])
        if not _locked_beyond_one_potential(lag, main, unit, peers, r, sfreq_hz, cfg):
            continue
        if (len(peers) >= cfg.satellite_min_fraction * max(len(unit), 1)
                or _part_in_the_rest(cand, snippets, small[peers], main[peers],
                                     np.setdiff1d(unit, main[peers]), cfg)):
            out[small[peers]] = main[peers]
            if floors_uv is not None:
                moved = _moved_parts(cand, snippets, small, main, lag, peers, unit, floors_uv)
                out[small[moved]] = main[moved]
    part = np.flatnonzero(out >= 0)  # a repeat found merged is the doublet rules' (checked last:
    first, second = np.minimum(part, out[part]), np.maximum(part, out[part])  # few, but slow)
    out[part[merged_repeats(cand, snippets, first, second, sfreq_hz, cfg)]] = -1
    return out


def _moved_parts(cand: np.ndarray, snippets: np.ndarray, small: np.ndarray, main: np.ndarray,
                 lag: np.ndarray, peers: np.ndarray, unit: np.ndarray,
                 floors_uv: np.ndarray) -> np.ndarray:
    """Indices (into the pairs ``small``, ``main``) of the unit's other pairs whose smaller
    candidate is the time-locked part (``peers``) found with its peak on another of its phases.

    A slow part near the floor has phases of about one size, and the noise decides which holds
    the candidate's peak: its lag then moves within the part's span while its waveform stays
    where it was. A pair of the unit's discharges (``unit``) whose smaller candidate peaks within
    the part's span (the median onset and offset of ``peers`` about their peaks) is the part
    when, the part's median waveform taken away at its own lag, what is left over the
    candidate's span is below the candidate's floor (``floors_uv``): nothing else there would
    be counted. Another unit's potential there is left, and counted.
    """
    ref = int(np.median(lag[peers]))
    part = small[peers]
    lo, hi = (ref + x for x in _part_span(cand, part))
    other = np.flatnonzero(np.isin(main, unit) & (lag >= lo) & (lag <= hi))
    other = other[~np.isin(small[other], part)]
    centre, n = snippets.shape[1] // 2, snippets.shape[1]
    template = np.median(snippets[part], axis=0).astype(np.float64)
    keep = np.zeros(len(other), bool)
    for k, pair in enumerate(other):  # few: a unit's discharges with its part apart
        i, shift = small[pair], lag[pair] - ref  # the snippet's sample j is the template's j + shift
        a = max(0, -shift, centre + cand["onset"][i] - cand["peak"][i])
        b = min(n, n - shift, centre + cand["offset"][i] - cand["peak"][i] + 1)
        if b - a < 2:
            continue
        left = snippets[i, a:b] - template[a + shift:b + shift]
        keep[k] = np.ptp(left) < floors_uv[i]
    return other[keep]


def _part_span(cand: np.ndarray, part: np.ndarray) -> tuple[int, int]:
    """Median onset and end of the candidates ``part`` about their peaks (samples)."""
    return (int(np.median(cand["onset"][part] - cand["peak"][part])),
            int(np.median(cand["offset"][part] - cand["peak"][part])))


def _locked_beyond_one_potential(lag: np.ndarray, main: np.ndarray, unit: np.ndarray,
                                 peers: np.ndarray, r: int, sfreq_hz: float,
                                 cfg: EventRules) -> bool:
    """Whether a group of parts (``peers``) at a lag beyond one potential's span
    (``potential_max_s``) holds ``satellite_min_share`` or more of the unit's neighbours beyond
    it on that side (another unit's potentials beside it there fall at many lags, a few of them
    alike by chance); True within that span."""
    beyond = cfg.potential_max_s * sfreq_hz
    if abs(lag[r]) <= beyond:
        return True
    side = np.isin(main, unit) & (np.sign(lag) == np.sign(lag[r])) & (np.abs(lag) > beyond)
    return len(peers) >= cfg.satellite_min_share * np.count_nonzero(side)


def near_floor_halves(cand: np.ndarray, snippets: np.ndarray, size_uv: np.ndarray,
                      floor_uv: np.ndarray, sfreq_hz: float, cfg: EventRules,
                      eligible: np.ndarray) -> np.ndarray:
    """For the smaller of two neighbouring potentials near the floor, the index of the larger;
    -1 for the others.

    Near the floor a potential's peaks are a few sigma, and the dip between two of its slow
    phases stays under the detector's hysteresis as long as a return to baseline does, so the
    detector cuts it in two at some discharges. Which half is larger changes with the noise, so
    the halves are neither alike as a doublet's shapes nor time-locked (:func:`time_locked`).
    Of two neighbours among ``eligible`` within ``potential_max_s`` (peak to peak), both sized
    (``size_uv``) at most ``split_max_floor_ratio`` x their floor (``floor_uv``) and not alike
    as a doublet's discharges, the smaller is part of the larger.

    Parameters
    ----------
    cand : ndarray of CANDIDATE_DTYPE
        One channel's candidates, sorted by peak.
    snippets : ndarray, shape (n_candidates, n_snippet)
        Their filtered waveforms, peak at the middle.
    size_uv, floor_uv : ndarray, shape (n_candidates,)
        Each potential's size (:func:`potential_ptp_uv`) and the floor it is counted from.
    sfreq_hz : float
    cfg : EventRules
    eligible : ndarray of bool
        The candidates that are twitches so far.

    Returns
    -------
    part_of : ndarray of int64

    Examples
    --------
    >>> from classifier.config import load_config
    >>> from dsp.types import CANDIDATE_DTYPE
    >>> cand = np.zeros(3, CANDIDATE_DTYPE)
    >>> cand["peak"] = [1000, 1014, 3000]  # two halves 14 ms apart at 1 kHz, a twitch later
    >>> cand["ptp_uv"] = [45.0, 38.0, 45.0]
    >>> snips = np.zeros((3, 128), np.float32)
    >>> snips[:, 60:68] = [np.sin(np.linspace(0, k, 8)) for k in (3, 9, 3)]
    >>> near_floor_halves(cand, snips, cand["ptp_uv"], np.full(3, 40.0), 1000.0,
    ...                   load_config().events, np.ones(3, bool))
    array([-1,  0, -1])
    """
    out = np.full(len(cand), -1, np.int64)
    idx = np.flatnonzero(eligible)
    if len(idx) < 2:
        return out
    a, b = idx[:-1], idx[1:]
    low = size_uv <= cfg.split_max_floor_ratio * floor_uv
    near = (cand["peak"][b] - cand["peak"][a] <= cfg.potential_max_s * sfreq_hz) & low[a] & low[b]
    near[near] = ~similar_pairs(snippets, cand["ptp_uv"], a[near], b[near],
                                half_window(snippets, sfreq_hz, cfg),
                                cfg.doublet_min_correlation, cfg.doublet_max_amplitude_ratio)
    a, b = a[near], b[near]
    small = np.where(size_uv[a] <= size_uv[b], a, b)
    out[small] = np.where(small == a, b, a)
    return out


def _one_unit(snippets: np.ndarray, size_uv: np.ndarray, i: np.ndarray, j: np.ndarray, half: int,
              cfg: EventRules, chunk: int = 20_000) -> np.ndarray:
    """Whether each pair ``(i, j)`` is alike as two discharges of one unit are (shape and size,
    as in a train), in chunks that bound the memory of the comparison."""
    out = np.zeros(len(i), bool)
    for a in range(0, len(i), chunk):
        out[a:a + chunk] = similar_pairs(snippets, size_uv, i[a:a + chunk], j[a:a + chunk], half,
                                         cfg.train_min_correlation, cfg.train_max_amplitude_ratio)
    return out


def _unit_members(snippets: np.ndarray, size_uv: np.ndarray, pool: np.ndarray, half: int,
                  cfg: EventRules):
    """A function giving the candidates in ``pool`` alike a candidate (its unit's discharges),
    found once per unit: a candidate alike one already seen takes that unit's members."""
    seen: list[int] = []
    members: list[np.ndarray] = []

    def unit_of(i: int) -> np.ndarray:
        if seen:
            known = _one_unit(snippets, size_uv, np.full(len(seen), i), np.array(seen), half, cfg)
            if known.any():
                return members[int(np.argmax(known))]
        seen.append(i)
        members.append(pool[_one_unit(snippets, size_uv, np.full(len(pool), i), pool, half, cfg)])
        return members[-1]

    return unit_of


def _part_in_the_rest(cand: np.ndarray, snippets: np.ndarray, small: np.ndarray,
                      main: np.ndarray, rest: np.ndarray, cfg: EventRules) -> bool:
    """Whether the unit's discharges without a candidate apart at the part's lag (``rest``) hold
    the part all the same, merged into their own candidates.

    A component of the unit's potential is in its waveform at every discharge; the detector finds
    it apart only where the noise takes the quiet stretch before it below the hysteresis. Another
    unit's potential at that lag is in the few discharges it fell beside. So the median waveform
    of the ``rest`` (snippets centred on their peaks) over the part's span at its lag differs from
    that of the discharges ``main`` with the part apart by at most ``satellite_max_difference`` of
    the part's own peak-to-peak for a component, and by about all of it for another unit.
    """
    if len(rest) < cfg.satellite_min_discharges:
        return False
    centre = snippets.shape[1] // 2
    lag = int(np.median(cand["peak"][small] - cand["peak"][main]))
    lo, hi = _part_span(cand, small)
    lo, hi = max(lo, -centre - lag), min(hi, snippets.shape[1] - centre - lag)
    if hi - lo < 2 or lo > 0 or hi <= 0:
        return False  # the part's peak lies beyond the snippets
    a, b = centre + lag + lo, centre + lag + hi
    part = np.median(snippets[small, centre + lo:centre + hi], axis=0)
    gap = np.median(snippets[main, a:b], axis=0) - np.median(snippets[rest, a:b], axis=0)
    return bool(np.ptp(gap) <= cfg.satellite_max_difference * np.ptp(part))


def _satellite_pairs(cand: np.ndarray, snippets: np.ndarray, size_uv: np.ndarray, idx: np.ndarray,
                     sfreq_hz: float, cfg: EventRules) -> tuple[np.ndarray, np.ndarray]:
    """(smaller, larger) index pairs of neighbours among ``idx`` within ``satellite_max_lag_s``
    of each other (peak to peak), the smaller at most ``satellite_max_ratio`` of the larger; not
    two discharges of one unit with a doublet's shapes (the doublet rules' case, whose intervals
    vary; a repeat found merged with another is left out by :func:`time_locked`)."""
    a, b = idx[:-1], idx[1:]
    near = cand["peak"][b] - cand["peak"][a] <= cfg.satellite_max_lag_s * sfreq_hz
    near[near] = ~similar_pairs(snippets, cand["ptp_uv"], a[near], b[near],
                                half_window(snippets, sfreq_hz, cfg),
                                cfg.doublet_min_correlation, cfg.doublet_max_amplitude_ratio)
    smalls, mains = [], []
    for s, m in ((a, b), (b, a)):
        ok = near & (size_uv[s] <= cfg.satellite_max_ratio * size_uv[m])
        smalls.append(s[ok])
        mains.append(m[ok])
    return np.concatenate(smalls), np.concatenate(mains)


def _pairs_within(sorted_values: np.ndarray, tol: int) -> tuple[np.ndarray, np.ndarray]:
    """All index pairs ``(p, q)``, ``p != q``, whose sorted values differ by at most ``tol``."""
    lo = np.searchsorted(sorted_values, sorted_values - tol, side="left")
    hi = np.searchsorted(sorted_values, sorted_values + tol, side="right")
    count = hi - lo
    p = np.repeat(np.arange(len(sorted_values)), count)
    q = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count) + np.repeat(lo, count)
    keep = p != q
    return p[keep], q[keep]


def attach_to_jerks(cand: np.ndarray, comp: np.ndarray, pop: np.ndarray, sfreq_hz: float,
                    cfg: EventRules) -> np.ndarray:
    """Compound indices with the discrete potentials at the edges of a jerk joined to it.

    A jerk's units do not all superimpose: some discharge just before or after the compound
    burst, each returning to baseline. A potential that starts within ``jerk_link_s`` of a
    compound's end (or ends within it of its start) and with it spans at most
    ``myoclonus_max_s`` is one of the jerk's units; the test repeats outwards, one potential at
    a time. A potential before the compound is told once the compound is over, at most
    ``myoclonus_max_s`` later: within the second the live view waits before it settles an event
    (``calfwatch.engine.live_view.SETTLE_CONTEXT_S``). Candidates sorted by peak; ``comp`` from
    :func:`compounds`.
    """
    comp = comp.copy()
    n = len(cand)
    link = cfg.jerk_link_s * sfreq_hz
    longest = cfg.myoclonus_max_s * sfreq_hz
    on, off = cand["onset"], cand["offset"]
    free = (comp < 0) & ~pop
    for g in np.unique(comp[comp >= 0]):  # compounds are few (jerks: tens per hour)
        idx = np.flatnonzero(comp == g)
        lo, hi = int(on[idx].min()), int(off[idx].max())
        if hi - lo > longest:
            continue
        j = int(idx.max()) + 1
        while j < n and free[j] and on[j] - hi <= link and max(hi, off[j]) - lo <= longest:
            comp[j], hi, free[j] = g, max(hi, int(off[j])), False
            j += 1
        j = int(idx.min()) - 1
        while j >= 0 and free[j] and lo - off[j] <= link and hi - min(lo, on[j]) <= longest:
            comp[j], lo, free[j] = g, min(lo, int(on[j])), False
            j -= 1
    return comp


def linked_runs(cand: np.ndarray, link_samples: float) -> np.ndarray:
    """Run index of each candidate (sorted by peak): a candidate starting within
    ``link_samples`` of the end of those before it continues their run."""
    if len(cand) == 0:
        return np.zeros(0, np.int64)
    end = np.maximum.accumulate(cand["offset"])
    new = np.concatenate([[True], cand["onset"][1:] - end[:-1] > link_samples])
    return np.cumsum(new) - 1


def _full_windows(t_s: np.ndarray, window_s: float, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Starts of the windows of ``window_s`` that begin at a potential and hold ``k`` or more
    (``t_s`` sorted), and which potentials they cover."""
    n = len(t_s)
    if n < k:
        return np.zeros(0, np.int64), np.zeros(n, bool)
    starts = np.flatnonzero(t_s[k - 1:] - t_s[: n - k + 1] <= window_s)
    cover = np.zeros(n + 1, np.int64)
    np.add.at(cover, starts, 1)
    np.add.at(cover, starts + k, -1)
    return starts, np.cumsum(cover)[:n] > 0


def dense(t_s: np.ndarray, window_s: float, k: int) -> np.ndarray:
    """Group index of potentials in dense clusters (-1 otherwise); ``t_s`` sorted.

    Every window of ``window_s`` that starts at a potential and holds at least ``k`` marks them;
    marked potentials closer than ``window_s`` / 2 form one group.
    """
    _, mark = _full_windows(t_s, window_s, k)
    idx = np.flatnonzero(mark)
    label = np.full(len(t_s), -1, np.int64)
    if len(idx):
        new = np.concatenate([[True], np.diff(t_s[idx]) > window_s / 2])
        label[idx] = np.cumsum(new) - 1
    return label


def local_rate_per_s(t_s: np.ndarray, at_s: np.ndarray, half_window_s: float,
                     min_span_s: float, minus: np.ndarray | int = 0) -> np.ndarray:
    """Rate (per s) of the potentials ``t_s`` (sorted) within ``half_window_s`` of each time
    ``at_s``, over the part of that window they cover (at least ``min_span_s``), leaving out
    ``minus`` of them (those whose chance is being judged).

    Examples
    --------
    >>> t = np.arange(0.0, 600.0, 2.0)  # one potential every 2 s
    >>> local_rate_per_s(t, np.array([300.0]), 60.0, 10.0)
    array([0.50833333])
    """
    if not len(t_s):
        return np.zeros(len(at_s))
    lo = np.searchsorted(t_s, at_s - half_window_s, side="left")
    hi = np.searchsorted(t_s, at_s + half_window_s, side="right")
    covered = (np.minimum(at_s + half_window_s, t_s[-1])
               - np.maximum(at_s - half_window_s, t_s[0]))
    return np.maximum(hi - lo - minus, 0) / np.maximum(covered, min_span_s)


def chance_of_cluster(rate_per_s: np.ndarray, window_s: float, k: int) -> np.ndarray:
    """Chance that a potential of independent twitches at ``rate_per_s`` (Poisson) has ``k - 1``
    or more others within the ``window_s`` after it (``k`` >= 2): the Poisson tail, which is the
    regularized lower incomplete gamma function of ``k - 1`` at the mean count.

    Examples
    --------
    >>> chance_of_cluster(np.array([40 / 60]), 0.15, 3).round(4)  # 3 in 150 ms at 40/min
    array([0.0047])
    """
    from scipy.special import gammainc  # P(N >= n) = gammainc(n, mu), without scipy.stats

    return gammainc(k - 1, np.asarray(rate_per_s, float) * window_s)


def unlikely_clusters(t_s: np.ndarray, rate_t_s: np.ndarray, cfg: EventRules,
                      k: int | None = None) -> np.ndarray:
    """Group index of ``k`` (default ``jerk_min_potentials``) or more potentials ``t_s``
    (sorted) within ``jerk_window_s`` where chance alone would rarely put them so close (-1
    otherwise).

    Independent twitches fall together by chance as often as their rate makes it: the chance is
    that of a Poisson process at the rate of the other potentials ``rate_t_s`` (the cluster's own
    left out) within ``jerk_rate_window_s`` either side (:func:`local_rate_per_s`; at least 10 s
    covered). A cluster is a jerk's units where that chance is at most ``jerk_max_chance`` at
    each of its potentials: a few units in 150 ms are a volley on a night that twitches a few
    times a minute, and a coincidence on one that twitches a hundred times a minute.

    Examples
    --------
    >>> from classifier.config import load_config
    >>> t = np.array([10.0, 100.0, 100.04, 200.0])  # a pair 40 ms apart, on a quiet channel
    >>> unlikely_clusters(t, t, load_config().events, k=2)
    array([-1,  0,  0, -1])
    """
    k = int(cfg.jerk_min_potentials if k is None else k)
    label = _clusters(t_s, cfg.jerk_window_s, k)
    if not np.any(label >= 0):
        return label
    members = np.bincount(label[label >= 0])[np.maximum(label, 0)] * (label >= 0)
    rate = local_rate_per_s(rate_t_s, t_s, cfg.jerk_rate_window_s, 10.0, members)
    likely = chance_of_cluster(rate, cfg.jerk_window_s, k) > cfg.jerk_max_chance
    n = int(label.max()) + 1
    drop = np.bincount(label[label >= 0], weights=likely[label >= 0], minlength=n) > 0
    label[(label >= 0) & drop[np.maximum(label, 0)]] = -1
    keep = label >= 0
    _, label[keep] = np.unique(label[keep], return_inverse=True)
    return label


def _clusters(t_s: np.ndarray, window_s: float, k: int) -> np.ndarray:
    """Group index of potentials ``t_s`` (sorted) in windows of ``window_s`` that start at a
    potential and hold ``k`` or more (-1 otherwise); windows sharing a potential are one group."""
    n = len(t_s)
    label = np.full(n, -1, np.int64)
    starts, marked = _full_windows(t_s, window_s, k)
    if not len(starts):
        return label
    joined = np.zeros(n, np.int64)  # the step from each potential to the next inside a window
    np.add.at(joined, starts, 1)
    np.add.at(joined, starts + k - 1, -1)
    inside = np.cumsum(joined)[:n - 1] > 0
    new = marked & np.concatenate([[True], ~inside])
    label[marked] = (np.cumsum(new) - 1)[marked]
    return label


def chains(t_s: np.ndarray, cfg: EventRules) -> np.ndarray:
    """Group index of runs of at least ``jerk_min_potentials`` potentials each within
    ``jerk_link_s`` of the one before (-1 otherwise); ``t_s`` sorted onsets."""
    n = len(t_s)
    label = np.full(n, -1, np.int64)
    if n < 2:
        return label
    link = np.diff(t_s) <= cfg.jerk_link_s
    run = np.concatenate([[0], np.cumsum(~link)])
    size = np.bincount(run)
    big = size[run] >= cfg.jerk_min_potentials
    _, label[big] = np.unique(run[big], return_inverse=True)
    return label


def is_pop(cand: np.ndarray, cfg: EventRules, sfreq_hz: float | None = None) -> np.ndarray:
    """Baseline displaced after the candidate (see the module docstring), unless a neighbour
    within ``pop_clear_s`` (one channel's candidates, sorted) is at least as large as the step:
    the baseline windows then hold that neighbour, which alone can displace them."""
    step = np.abs(np.nan_to_num(cand["step_uv"]))
    pop = (step >= cfg.pop_step_fraction * cand["ptp_uv"]) & (
        step >= cfg.pop_step_k * cand["noise_uv"])
    if sfreq_hz is None or len(cand) < 2:
        return pop
    clear = cfg.pop_clear_s * sfreq_hz
    ptp = cand["ptp_uv"]
    near = (cand["onset"][1:] - cand["offset"][:-1]) <= clear
    masked = np.zeros(len(cand), bool)
    masked[:-1] |= near & (ptp[1:] >= step[:-1])
    masked[1:] |= near & (ptp[:-1] >= step[1:])
    return pop & ~masked


def median_noise_uv(quality: np.ndarray, channel: int) -> float | None:
    """The channel's median noise RMS over its quality windows (µV), None without any: the noise
    behind the stated ``detection_floor_uv`` when too little of the channel is quiet to measure its
    resting noise (:func:`classifier.noise.resting_noise_uv`)."""
    noise = quality["noise_rms_uv"][(quality["channel"] == channel)
                                    & np.isfinite(quality["noise_rms_uv"])]
    return float(np.median(noise)) if len(noise) else None


def above_floor(cand: np.ndarray, size_uv: np.ndarray, floor_k: float,
                channel_noise_uv: float | np.ndarray | None = None) -> np.ndarray:
    """Potentials whose size ``size_uv`` (:func:`potential_ptp_uv`) is at or above the detection
    floor: ``floor_k`` x the channel's resting noise ``channel_noise_uv`` (the stated floor; per
    potential, the higher of it and the noise in the seconds around it), and ``floor_k`` x the
    noise at the potential (the chain's floor) where that is higher."""
    return size_uv >= floor_uv(cand, floor_k, channel_noise_uv)


def floor_uv(cand: np.ndarray, floor_k: float,
             channel_noise_uv: float | np.ndarray | None) -> np.ndarray:
    """The floor each potential is counted from (:func:`above_floor`).

    Examples
    --------
    >>> from dsp.types import CANDIDATE_DTYPE
    >>> cand = np.zeros(2, CANDIDATE_DTYPE)
    >>> cand["noise_uv"] = [4.0, 5.0]
    >>> floor_uv(cand, 8.5, 4.5)
    array([38.25, 42.5 ])
    """
    noise = cand["noise_uv"] if channel_noise_uv is None else np.maximum(cand["noise_uv"],
                                                                        channel_noise_uv)
    return floor_k * noise


def potential_ptp_uv(cand: np.ndarray, snippets: np.ndarray, sfreq_hz: float,
                     span_s: float) -> np.ndarray:
    """Peak-to-peak of each potential (µV) over ``span_s`` centred on its peak, in its filtered
    snippet, and at least the candidate's own.

    A motor-unit potential's amplitude is measured from its largest positive to its largest
    negative peak over its whole duration; the candidate alone may hold only its largest phase.
    The span stops short of the potentials beside it: after the previous candidate's end, and
    before the first sample on either side larger than the potential's own peak (its peak is its
    largest sample, so a larger one is another potential's). Both are known when the candidate is
    returned, so a live view sizes it as the final analysis does.

    Parameters
    ----------
    cand : ndarray of CANDIDATE_DTYPE
        One channel's candidates, sorted by peak.
    snippets : ndarray, shape (n_candidates, SNIPPET_LEN)
        Their filtered waveforms, peak at the middle, NaN outside the data.
    sfreq_hz : float
    span_s : float
        The longest potential (``potential_max_s``).

    Examples
    --------
    >>> from dsp.types import CANDIDATE_DTYPE
    >>> cand = np.zeros(1, CANDIDATE_DTYPE)
    >>> cand["peak"], cand["onset"], cand["offset"] = 100, 98, 103
    >>> cand["peak_uv"], cand["ptp_uv"] = 30.0, 30.0
    >>> snip = np.zeros((1, 128), np.float32)
    >>> snip[0, 64], snip[0, 60] = 30.0, -15.0  # a phase outside the candidate, 4 samples before
    >>> potential_ptp_uv(cand, snip, 1000.0, 0.03)
    array([45.])
    """
    n, width = snippets.shape
    mid = width // 2
    half = min(mid, int(round(span_s * sfreq_hz / 2)))
    offsets = np.arange(-mid, width - mid)
    lo = np.full(n, -half)
    if n > 1:
        lo[1:] = np.maximum(lo[1:], cand["offset"][:-1] - cand["peak"][1:])
    x = snippets.astype(np.float64)
    with np.errstate(invalid="ignore"):
        larger = np.abs(x) > np.abs(cand["peak_uv"])[:, None] * (1.0 + 1e-6)
    after = larger & (offsets > 0)
    before = larger & (offsets < 0)
    hi = np.where(after.any(axis=1), np.argmax(after, axis=1) - mid - 1, half)
    last_before = width - 1 - np.argmax(before[:, ::-1], axis=1)
    lo = np.maximum(lo, np.where(before.any(axis=1), last_before - mid + 1, -half))
    hi = np.minimum(hi, half)
    inside = (offsets >= lo[:, None]) & (offsets <= hi[:, None]) & np.isfinite(x)
    top = np.where(inside, x, -np.inf).max(axis=1, initial=-np.inf)
    bottom = np.where(inside, x, np.inf).min(axis=1, initial=np.inf)
    ptp = np.where(np.isfinite(top) & np.isfinite(bottom), top - bottom, 0.0)
    return np.maximum(cand["ptp_uv"], ptp)


def own_onset(cand: np.ndarray, snippets: np.ndarray, sfreq_hz: float, max_before: float,
              fraction: float = ChainConfig.end_fraction,
              quiet_s: float = ChainConfig.merge_gap_large_s,
              known_other: np.ndarray | None = None) -> np.ndarray:
    """Onset sample of the potential at each candidate's peak: after the last run of ``quiet_s``
    before the peak where the filtered waveform stays under ``fraction`` of the peak's size, when
    what the candidate holds before that run is another potential, reaching ``fraction`` of the
    peak but not ``max_before`` of it; else the candidate's own onset.

    A candidate can hold more than its largest potential: a smaller one just before it without a
    return to the noise (a heartbeat's QRS, another unit), which the detector's walk-back onset
    includes. What stays under ``fraction`` of the peak is the potential's own slow lead-in. One
    as large as the first of a doublet (``max_before``: the inverse of the doublet amplitude
    ratio) keeps the candidate's onset, which is the doublet's. The defaults are the chain's end
    of a large potential (``dsp.config``: ``end_fraction``, ``merge_gap_large_s``): within a
    potential its waveform stays under a tenth of its peak only around a zero crossing, for about
    1 ms. Where another potential is known to lie before the peak (``known_other``: a heartbeat's
    QRS, which :mod:`classifier.events` places from the rhythm), what the candidate holds before
    the run is that one at any size: a QRS leaking weakly is smaller than a tenth of a twitch.

    Examples
    --------
    >>> from dsp.types import CANDIDATE_DTYPE
    >>> cand = np.zeros(1, CANDIDATE_DTYPE)
    >>> cand["onset"], cand["peak"] = 40, 100
    >>> snip = np.zeros((1, 128), np.float32)
    >>> snip[0, 10:20] = 60.0  # a smaller potential 50 ms before, in the same candidate
    >>> snip[0, 60:70] = 300.0
    >>> own_onset(cand, snip, 1000.0, 0.5)
    array([96])
    """
    mid = snippets.shape[1] // 2
    q = max(1, round(quiet_s * sfreq_hz))
    x = np.abs(snippets[:, :mid].astype(np.float64))
    level = fraction * np.abs(snippets[:, mid].astype(np.float64))
    quiet = np.nan_to_num(x, nan=0.0) < level[:, None]
    run = np.cumsum(quiet, axis=1)
    run_end = np.zeros_like(quiet)  # a run of q quiet samples ends here
    run_end[:, q - 1:] = (run[:, q - 1:] - np.pad(run, ((0, 0), (1, 0)))[:, :mid - q + 1]) == q
    last = mid - 1 - np.argmax(run_end[:, ::-1], axis=1)
    start = np.where(run_end.any(axis=1), cand["peak"] - mid + last + 1, cand["onset"])
    start = np.maximum(cand["onset"], start)
    held = (np.arange(mid)[None, :] >= (cand["onset"] - cand["peak"] + mid)[:, None]) & (
        np.arange(mid)[None, :] < (start - cand["peak"] + mid)[:, None])
    before = np.where(held, np.nan_to_num(x, nan=0.0), 0.0).max(axis=1, initial=0.0)
    least = level if known_other is None else np.where(known_other, 0.0, level)
    other = (before >= least) & (before < max_before * level / fraction)
    return np.where(other, start, cand["onset"])


def chance_overlaps(cand: np.ndarray, feats: np.ndarray, comp: np.ndarray, sfreq_hz: float,
                    cfg: EventRules, twitch: np.ndarray) -> np.ndarray:
    """Members of the compounds that are two superimposed potentials which chance alone puts
    together often enough at the channel's rate of ``twitch`` candidates.

    Two units' potentials overlap by chance at the rate they discharge: at a hundred twitches a
    minute one in twenty has another within 30 ms. A compound of exactly two candidates, each a
    potential (no continuous activity, neither many-phased, both ``twitch``), is such an overlap
    where a pair within ``jerk_window_s`` is not unlikely at the local rate of the others
    (:func:`chance_of_cluster`, ``jerk_max_chance``, as :func:`unlikely_clusters` judges pairs
    apart): then both are potentials of their own. On a quiet channel the pair stays a jerk.
    """
    out = np.zeros(len(cand), bool)
    g = comp[comp >= 0]
    if not len(g):
        return out
    size = np.bincount(g)
    pair = np.flatnonzero((comp >= 0) & (size[np.maximum(comp, 0)] == 2))
    if not len(pair):
        return out
    alone = ~cand["continuous"] & ~many_phased(cand, feats, sfreq_hz, cfg) & twitch
    ok = np.bincount(comp[pair], weights=~alone[pair], minlength=len(size)) == 0
    pair = pair[ok[comp[pair]]]
    t_s = cand["peak"] / sfreq_hz
    pool = t_s[twitch]
    rate = local_rate_per_s(pool, t_s[pair], cfg.jerk_rate_window_s, 10.0, 2)
    likely = chance_of_cluster(rate, cfg.jerk_window_s, 2) > cfg.jerk_max_chance
    both = np.bincount(comp[pair], weights=likely, minlength=len(size)) == 2
    out[pair[both[comp[pair]]]] = True
    return out


def _group_into(comp: np.ndarray, idx: np.ndarray, label: np.ndarray) -> None:
    """Give the candidates ``idx`` whose ``label`` is set new compound indices after ``comp``'s
    (a candidate already in a compound moves to the new one)."""
    n_comp = int(comp.max()) + 1 if len(comp) else 0
    comp[idx[label >= 0]] = n_comp + label[label >= 0]


def compound_index(cand, feats, snippets, sfreq_hz: float, cfg: EventRules,
                   counted: np.ndarray, pop: np.ndarray,
                   paired: np.ndarray | None = None,
                   twitch_like: np.ndarray | None = None,
                   audible: np.ndarray | None = None) -> np.ndarray:
    """Compound index of each candidate (-1 for a potential of its own): superimposed activity
    (:func:`compounds`; two superimposed potentials only where chance rarely overlaps them,
    :func:`chance_overlaps`), dense firing (candidates of any size: weak firing shows in small
    ones), many counted units within ``jerk_window_s`` (a doublet's second discharge is its
    unit's again, :func:`repeat_of`, and joins a jerk with its first), runs of other shapes (:func:`chains`;
    repeats of one shape are doublets, not runs; a unit below the floor is a link too), and
    fewer counted potentials of other shapes within ``jerk_window_s`` (three or more, then
    pairs) where the local rate of the counted ``twitch_like`` ones outside compounds (default:
    all but pops; movements' and continuous pieces are no twitches) makes them unlikely by
    chance (:func:`unlikely_clusters`). A group of two or more none of which is ``audible``
    (stands out of the noise around it) is none (:func:`inaudible_groups`)."""
    comp = compounds(cand, feats, sfreq_hz, cfg, paired, apart=pop)
    comp[one_potential(cand, feats, comp, sfreq_hz, cfg, counted) >= 0] = -1
    comp[chance_overlaps(cand, feats, comp, sfreq_hz, cfg, counted & ~pop)] = -1
    comp = attach_to_jerks(cand, comp, pop, sfreq_hz, cfg)
    t_s = cand["peak"] / sfreq_hz
    _group_into(comp, np.flatnonzero(~pop), dense(t_s[~pop], cfg.dense_window_s,
                                                  int(cfg.dense_min_potentials)))
    # many units within jerk_window_s: a doublet's second discharge is its unit's again
    again = repeat_of(cand, snippets, np.flatnonzero((comp < 0) & ~pop), sfreq_hz, cfg)
    units = ~pop & counted & (again < 0)
    _group_into(comp, np.flatnonzero(units), dense(t_s[units], cfg.jerk_window_s,
                                                   int(cfg.jerk_window_potentials)))
    rest = np.flatnonzero((comp < 0) & ~pop)
    repeat = doublets(t_s[rest], snippets[rest], cand["ptp_uv"][rest], sfreq_hz, cfg)
    repeat |= repeats_in_merged(cand[rest], snippets[rest], sfreq_hz, cfg)  # two merged too
    firsts = rest[~repeat]  # units below the floor are evidence of a volley too (not counted)
    _group_into(comp, firsts, chains(cand["onset"][firsts] / sfreq_hz, cfg))
    like = ~pop & counted & (comp < 0) & (True if twitch_like is None else twitch_like)
    for k in (cfg.jerk_min_potentials, 2):  # three or more, then pairs
        few = firsts[counted[firsts] & (comp[firsts] < 0)]
        _group_into(comp, few, unlikely_clusters(t_s[few], t_s[like], cfg, k))
    follow = np.flatnonzero((again >= 0) & (comp < 0))  # a jerk's unit's second discharge
    comp[follow] = np.where(comp[again[follow]] >= 0, comp[again[follow]], -1)
    if audible is not None:
        comp[inaudible_groups(comp, audible)] = -1
    return comp


def inaudible_groups(comp: np.ndarray, audible: np.ndarray) -> np.ndarray:
    """Members of the groups of two or more candidates none of which is ``audible`` (stands out
    of the noise around it): peaks of the noise, not a volley or a unit's firing.

    Examples
    --------
    >>> comp = np.array([0, 0, 0, -1, 1, 1, 2])
    >>> inaudible_groups(comp, np.array([False, False, False, False, True, False, False]))
    array([ True,  True,  True, False, False, False, False])
    """
    m = comp >= 0
    if not m.any():
        return m
    size = np.bincount(comp[m])
    heard = np.bincount(comp[m], weights=audible[m], minlength=len(size)) > 0
    return m & (size[np.maximum(comp, 0)] >= 2) & ~heard[np.maximum(comp, 0)]


def label_potentials(cand, feats, snippets, size_uv: np.ndarray, sfreq_hz: float,
                     cfg: EventRules, floor_k: float,
                     channel_noise_uv: float | np.ndarray | None = None,
                     in_movement: np.ndarray | None = None,
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Kind, detail and doublet flag of each candidate of one channel (sorted by peak), the
    group index that joins the pieces of one compound or train (-1 for single potentials), and
    the index of the potential each piece or time-locked part belongs to (-1 for the others).

    Candidates below the detection floor that are not part of a compound get kind ``""``, and so
    do the pieces of a potential the detector cut in two or more (:func:`one_potential`) but
    its largest, which stands for it, a potential's slow lead-in or tail (:func:`slow_waves`),
    a part time-locked to the potential beside it (:func:`time_locked`, found among all but
    pops and continuous pieces) and the smaller of two halves near the floor
    (:func:`near_floor_halves`, found among the twitches); the time-locked parts join no
    compound and are no links of a run either. ``size_uv`` is the size compared with the floor
    (:func:`potential_ptp_uv`); ``in_movement`` marks candidates inside movements, whose shapes
    are not looked up for recurrence (:func:`recurring`).
    """
    n = len(cand)
    cand = unjoined_repeats(cand, snippets, sfreq_hz, cfg)
    kind = np.full(n, "", dtype="U13")
    detail = np.full(n, "", dtype="U24")
    dbl = np.zeros(n, bool)
    group = np.full(n, -1, np.int64)
    paired = self_repeats(cand, feats, snippets, sfreq_hz, cfg)
    one_unit = paired | recurring(cand, feats, snippets, size_uv, sfreq_hz, cfg,
                                  None if in_movement is None else ~in_movement)
    comp = compounds(cand, feats, sfreq_hz, cfg, one_unit)
    pop = is_pop(cand, cfg, sfreq_hz) & (comp < 0)
    kind[pop], detail[pop] = ARTIFACT, "pop"
    floor = floor_uv(cand, floor_k, channel_noise_uv)  # what each potential is counted from
    counted = size_uv >= floor  # :func:`above_floor`, the floor reused below
    whole = one_potential(cand, feats, comp, sfreq_hz, cfg, counted)
    piece = (whole >= 0) & (whole != np.arange(n))  # the others stand for the whole (kind "")
    part_of = np.where(piece, whole, time_locked(
        cand, snippets, size_uv, sfreq_hz, cfg, ~pop & ~cand["continuous"], floor))
    part = pop | (part_of >= 0)
    still = ~cand["continuous"] & (True if in_movement is None else ~in_movement)
    comp = compound_index(cand, feats, snippets, sfreq_hz, cfg, counted, part, one_unit, still,
                          size_uv >= cfg.link_min_k * (floor / floor_k))
    single = (comp < 0) & ~part & counted
    single &= ~slow_waves(cand, feats, size_uv, sfreq_hz, cfg, single)
    t_s = cand["peak"] / sfreq_hz
    # a unit firing near the floor has discharges on both sides of it: all link its train
    pool = np.flatnonzero(single | ((comp < 0) & ~part & ~cand["continuous"]
                                    & (size_uv >= cfg.train_min_floor_fraction * floor)))
    train = trains(t_s[pool], snippets[pool], size_uv[pool], sfreq_hz, cfg,
                   cand["noise_uv"][pool])
    in_train = pool[train >= 0]
    kind[in_train] = VOLUNTARY
    n_comp = int(comp.max()) + 1 if n else 0
    group[comp >= 0] = comp[comp >= 0]
    group[in_train] = n_comp + train[train >= 0]
    single[in_train] = False
    free = np.flatnonzero(single)
    is_free = np.zeros(n, bool)
    is_free[free] = True
    half = near_floor_halves(cand, snippets, size_uv, floor, sfreq_hz, cfg, is_free)
    part_of[half >= 0] = half[half >= 0]
    free = free[half[free] < 0]
    kind[free] = FASCICULATION
    dbl[free] = doublets(t_s[free], snippets[free], cand["ptp_uv"][free], sfreq_hz, cfg)
    dbl[free] |= repeats_in_merged(cand[free], snippets[free], sfreq_hz, cfg)
    detail[free[dbl[free]]] = "doublet"
    detail[free[paired[free] & ~dbl[free]]] = "pair"
    if n_comp:
        span = _group_span(cand, comp, n_comp) / sfreq_hz
        kind[comp >= 0] = np.where(span[comp[comp >= 0]] <= cfg.myoclonus_max_s, MYOCLONUS,
                                   VOLUNTARY)
    beats = np.flatnonzero(~part & (size_uv >= cfg.train_min_floor_fraction * floor))
    _as_rhythm(rhythmic_runs(t_s[beats], cfg), beats, kind, detail, dbl, group)
    return kind, detail, dbl, group, part_of


def _as_rhythm(run: np.ndarray, beats: np.ndarray, kind: np.ndarray, detail: np.ndarray,
               dbl: np.ndarray, group: np.ndarray) -> None:
    """Make the potentials ``beats`` of each rhythmic run (``run``, :func:`rhythmic_runs`), with
    the groups they belong to, one voluntary group each (in place)."""
    if not np.any(run >= 0):
        return
    new_id = np.where(run >= 0, run + int(group.max(initial=-1)) + 1, -1)
    for g, k in zip(group[beats], new_id, strict=True):  # a jerk of the rhythm is its beat
        if g >= 0 and k >= 0:
            group[group == g] = k
    group[beats[run >= 0]] = new_id[run >= 0]
    members = np.isin(group, new_id[run >= 0])
    kind[members], detail[members], dbl[members] = VOLUNTARY, "", False


def _group_span(cand: np.ndarray, label: np.ndarray, n: int) -> np.ndarray:
    on = np.full(n, np.iinfo(np.int64).max)
    off = np.full(n, np.iinfo(np.int64).min)
    m = label >= 0
    np.minimum.at(on, label[m], cand["onset"][m])
    np.maximum.at(off, label[m], cand["offset"][m])
    return off - on
