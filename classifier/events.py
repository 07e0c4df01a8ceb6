"""Event kinds from the detection chain's candidates and envelopes.

Rules (thresholds in ``[events]`` of ``thresholds.toml``, each with its source):

1. **Resting level** per channel: a low quantile of the robust noise floor over a long window, so
   that it does not follow sustained activity (the chain's own noise floor rises during a cramp).
2. **Activity bursts** on the envelope, AASM-style: a burst starts where the 50-ms RMS rises
   ``active_on_k`` times above the resting level and ends at the start of ``end_quiet_s`` below
   ``active_off_k`` times it. Bursts active for longer than a jerk (``movement_min_s``) are
   movements; those active for at least ``sustained_min_s`` are also leg movements (AASM).
3. **Flat stretches** (RMS far below the resting level for ``flat_min_s``) are artifacts
   (``flat``, or ``saturation`` when the quality windows saw the rails); a movement burst starting
   or ending inside one (the filters ringing at its edge) is an artifact too (``flat-edge``).
4. Movements: ``motion`` artifact when at least ``motion_min_candidates`` candidates are mostly
   slow (1-10 Hz motion leaks through the 20-Hz high-pass as slow, long waves) or when
   ``pop_series_min`` baseline steps follow each other (pop events in such a row are made one
   motion artifact too), ``mains`` artifact
   when they repeat themselves every mains period (the notches answering a change of the hum:
   :mod:`classifier.mains`), ``pop`` artifact
   when it starts with a baseline step (an electrode pop recovering), ``cramp`` when
   long, much louder than rest and fading out (first quarter ``cramp_decline`` x the power of the
   last), ``noise`` artifact when active for ``noise_change_min_s`` or more below a cramp's
   loudness and holding one level (the sensor's noise changed: an electrode's contact), ``plm``
   when 0.5-10 s long and part of a periodic AASM series (>= 4, 5-90 s onset to onset; links
   within ``plm_regular_ratio`` of the series' median interval, which lies in
   ``plm_median_interval_s``), ``voluntary`` otherwise.
5. A movement burst whose energy is explained by the discrete potentials in it (independent
   twitches of large units) is no movement (``_explained_by_potentials``). Potentials in dense
   firing (``dense_min_potentials`` within ``dense_window_s``) explain nothing: they are
   sustained firing, the movement itself, however the detector cut it into pieces.
6. Candidates outside bursts (:mod:`classifier.potentials`): discrete potentials are separate
   fasciculations unless there is positive evidence of a doublet (same shape 5-40 ms later), a
   train or dense firing (voluntary), a compound burst (myoclonus) or a baseline step (pop).

Fasciculations outside rest are dropped later by :func:`classifier.night.classify_night`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from classifier.cardiac import heartbeat_mask, skipped_beats_s
from classifier.config import ClassifierConfig, EventRules
from classifier.kinds import ARTIFACT, CRAMP, FASCICULATION, PLM, VOLUNTARY
from classifier.mains import line_periodicity
from classifier.noise import channel_floor_k, flat_frames, local_noise_uv, resting_noise_uv
from classifier.potentials import (
    continues,
    dense,
    floor_uv,
    is_pop,
    label_potentials,
    linked_runs,
    many_phased,
    own_onset,
    potential_ptp_uv,
    self_repeats,
)
from classifier.unit_size import unit_sizes_uv

if TYPE_CHECKING:
    from classifier.night_data import NightData

#: One row per event. ``channel`` indexes the night's channel names; ``candidate`` the candidate
#: row of a fasciculation, doublet or pop (-1 for bursts).
EVENT_DTYPE = np.dtype(
    [
        ("onset_s", np.float64),
        ("duration_s", np.float64),
        ("kind", "U13"),
        ("channel", np.int32),
        ("peak_to_peak_uv", np.float64),
        ("phases", np.int32),
        ("unit", np.int32),
        ("doublet", np.bool_),
        ("detail", "U24"),
        ("candidate", np.int64),
    ]
)


@dataclass(frozen=True)
class Event:
    """One classified event on one channel (by name).

    ``doublet`` marks the second potential of a fasciculation doublet: it is listed with kind
    ``fasciculation`` but is not counted as a new fasciculation. ``unit`` is the template cluster of a
    fasciculation (-1 otherwise); ``phases`` is 0 for bursts.
    """

    onset_s: float
    duration_s: float
    kind: str
    channel: str
    peak_to_peak_uv: float
    phases: int = 0
    unit: int = -1
    doublet: bool = False
    detail: str = ""


def events_to_list(events: np.ndarray, ch_names: list[str]) -> list[Event]:
    """Structured events as :class:`Event` objects."""
    return [
        Event(float(e["onset_s"]), float(e["duration_s"]), str(e["kind"]), ch_names[e["channel"]],
              float(e["peak_to_peak_uv"]), int(e["phases"]), int(e["unit"]), bool(e["doublet"]),
              str(e["detail"]))
        for e in events
    ]


def make_events(n: int) -> np.ndarray:
    """``n`` empty event rows (unit and candidate -1)."""
    ev = np.zeros(n, EVENT_DTYPE)
    ev["unit"] = -1
    ev["candidate"] = -1
    return ev


# ---------------------------------------------------------------------------------- runs of frames
def runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and stop (exclusive) indices of the True runs of a 1-D boolean array."""
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    edges = np.diff(padded)
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def close_runs(
    starts: np.ndarray, stops: np.ndarray, max_gap: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Join runs separated by fewer than ``max_gap`` frames; also return each run's group index."""
    if len(starts) == 0:
        return starts, stops, np.zeros(0, np.int64)
    new = np.concatenate([[True], starts[1:] - stops[:-1] >= max_gap])
    group = np.cumsum(new) - 1
    first = np.flatnonzero(new)
    last = np.concatenate([first[1:], [len(starts)]]) - 1
    return starts[first], stops[last], group


def rest_level(noise_uv: np.ndarray, hop_s: float, cfg: EventRules) -> np.ndarray:
    """Resting level (µV) per channel and frame: a low quantile of the noise floor over a window.

    The noise floor is summarised per block of ``baseline_block_s`` (median), then the
    ``baseline_quantile`` of the blocks within ``baseline_window_s`` centred on each block is taken.
    Flat frames (:func:`classifier.noise.flat_frames`) are left out: a flat stretch (a lead off, a
    rail) and the chain's floor still full of it carry no resting noise, and taken in they made
    the level zero for minutes around them, every frame there "active"
    (:func:`classifier.rest.lost_spans` counts them as lost). Channels are computed one at a
    time, so the sliding-window temporaries hold one channel.
    """
    out = np.empty(noise_uv.shape, dtype=np.float64)
    for ch in range(noise_uv.shape[0]):
        out[ch] = _rest_level_one(noise_uv[ch], hop_s, cfg)
    return out


def _rest_level_one(noise_uv: np.ndarray, hop_s: float, cfg: EventRules) -> np.ndarray:
    """:func:`rest_level` of one channel's 1-D noise floor."""
    n = noise_uv.shape[0]
    if n == 0:
        return np.zeros(0)
    per = max(1, round(cfg.baseline_block_s / hop_s))
    nb = -(-n // per)
    padded = np.full(nb * per, np.nan)
    padded[:n] = np.where(flat_frames(noise_uv), np.nan, noise_uv)
    with np.errstate(all="ignore"), _quiet_nan_warnings():
        blocks = _nanquantile_last(padded.reshape(nb, per), 0.5)  # nanmedian, vectorised
        half = max(0, round(cfg.baseline_window_s / (2 * per * hop_s)))
        wide = np.pad(blocks, (half, half), constant_values=np.nan)
        win = np.lib.stride_tricks.sliding_window_view(wide, 2 * half + 1)
        level = _nanquantile_last(win, cfg.baseline_quantile)
        fallback = np.nanmedian(noise_uv)
    level = np.where(np.isfinite(level), level, np.nan_to_num(fallback, nan=1.0))
    return np.repeat(np.maximum(level, 1e-3), per)[:n]


def _nanquantile_last(x: np.ndarray, q: float) -> np.ndarray:
    """``np.nanquantile(x, q, axis=-1)`` (linear), vectorised: NaN where a row is all NaN."""
    srt = np.sort(x, axis=-1)  # NaN sort last
    n_ok = np.sum(np.isfinite(srt), axis=-1)
    pos = q * np.maximum(n_ok - 1, 0)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, np.maximum(n_ok - 1, 0))
    a = np.take_along_axis(srt, lo[..., None], axis=-1)[..., 0]
    b = np.take_along_axis(srt, hi[..., None], axis=-1)[..., 0]
    return np.where(n_ok > 0, a + (b - a) * (pos - lo), np.nan)


class _quiet_nan_warnings:
    """Silence numpy's all-NaN slice warnings (all-NaN blocks are gaps, handled by the caller)."""

    def __enter__(self):
        import warnings

        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)


# ---------------------------------------------------------------------------------- bursts
#: Bursts of one channel: frame span, active frames and loudness relative to rest.
BURST_DTYPE = np.dtype(
    [
        ("start", np.int64),  # first frame (relative to the night's first frame)
        ("stop", np.int64),  # one past the last frame
        ("active", np.int64),  # frames above the off level
        ("ratio_median", np.float64),  # median RMS / resting level over the active frames
        ("ratio_peak", np.float64),  # largest RMS / resting level
        ("ptp_uv", np.float64),  # sqrt(2) x 2 x the largest RMS (a sine's p-p), µV
        ("decline", np.float64),  # mean power of the first quarter / that of the last quarter
        ("spread", np.float64),  # largest / smallest block median of the RMS (NaN: < 2 blocks)
    ]
)


def find_bursts(env: np.ndarray, level: np.ndarray, hop_s: float, cfg: EventRules) -> np.ndarray:
    """Activity bursts of one channel's envelope (see the module docstring, rule 2)."""
    with np.errstate(invalid="ignore"):
        ratio = env / level
        above_off = ratio > cfg.active_off_k
        above_on = ratio > cfg.active_on_k
    starts, stops = runs(above_off)
    quiet = max(1, round(cfg.end_quiet_s / hop_s))
    b_start, b_stop, group = close_runs(starts, stops, quiet)
    if len(b_start) == 0:
        return np.zeros(0, BURST_DTYPE)
    active = np.bincount(group, weights=stops - starts, minlength=len(b_start)).astype(np.int64)
    on_frames = np.flatnonzero(above_on)
    idx = np.searchsorted(b_start, on_frames, side="right") - 1
    has_on = np.zeros(len(b_start), bool)
    ok = (idx >= 0) & (on_frames < b_stop[np.maximum(idx, 0)])
    has_on[idx[ok]] = True
    out = np.zeros(int(has_on.sum()), BURST_DTYPE)
    out["start"], out["stop"], out["active"] = b_start[has_on], b_stop[has_on], active[has_on]
    a, b = out["start"], out["stop"]
    r = np.where(above_off, ratio, np.nan)
    for i in range(len(out)):  # one median per burst: bursts are few (tens per hour)
        out["ratio_median"][i] = np.nanmedian(r[a[i]:b[i]])
    out["ptp_uv"] = 2 * np.sqrt(2) * _span_max(np.nan_to_num(env, nan=0.0), a, b)
    out["ratio_peak"] = _span_max(np.nan_to_num(ratio, nan=0.0), a, b)
    out["decline"] = _decline(env, a, b)
    out["spread"] = _spread(env, a, b, max(1, round(cfg.baseline_block_s / hop_s)))
    return out


def _span_max(x: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Largest value of ``x`` in each ``[a, b)`` span (spans sorted, disjoint, non-empty)."""
    if len(a) == 0:
        return np.zeros(0)
    edges = np.column_stack([a, b]).ravel()
    return np.maximum.reduceat(np.append(x, 0.0), edges)[::2]


def _decline(env: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mean power of the first quarter of each span over that of its last quarter."""
    if len(a) == 0:
        return np.zeros(0)
    cum = np.concatenate([[0.0], np.cumsum(np.nan_to_num(env, nan=0.0) ** 2)])
    q = np.maximum(1, (b - a) // 4)
    first = cum[a + q] - cum[a]
    last = cum[b] - cum[b - q]
    return first / np.maximum(last, 1e-12)


def _spread(env: np.ndarray, a: np.ndarray, b: np.ndarray, per: int) -> np.ndarray:
    """Largest over smallest median RMS of the whole ``per``-frame blocks of each span (NaN
    where fewer than two blocks fit)."""
    out = np.full(len(a), np.nan)
    for i in np.flatnonzero((b - a) >= 2 * per):  # a few long bursts a night at most
        n = (b[i] - a[i]) // per
        with np.errstate(all="ignore"), _quiet_nan_warnings():
            med = np.nanmedian(env[a[i]:a[i] + n * per].reshape(n, per), axis=1)
            out[i] = np.nanmax(med) / np.nanmin(med)
    return out


def find_flat(env: np.ndarray, level: np.ndarray, hop_s: float, cfg: EventRules):
    """Frame spans where the RMS stays far below the resting level (lead-off, rails)."""
    with np.errstate(invalid="ignore"):
        flat = env < cfg.flat_k * level
    starts, stops = runs(flat)
    keep = (stops - starts) >= max(1, round(cfg.flat_min_s / hop_s))
    return starts[keep], stops[keep]


def classify_bursts(
    bursts: np.ndarray, cand_t_s: np.ndarray, cand_hz: np.ndarray, hop_s: float, t0_s: float,
    cfg: EventRules, cand_pop: np.ndarray | None = None,
    cand_line: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Kind and detail of each sustained burst (rule 4), before the PLM series test.

    ``cand_t_s`` and ``cand_hz`` are the peak times and dominant frequencies of the channel's
    candidates, ``cand_pop`` whether each leaves the baseline displaced: a burst that starts with
    such a step (the first candidate from one envelope frame before the burst on: the step peaks
    as the envelope rises, and frames are on a fixed grid) is an electrode pop recovering (the
    envelope follows the recovery's ripple), not a movement; with several such steps one after
    the other it is the lead being moved (``motion``). ``cand_line`` is each candidate's
    self-similarity one mains period later (:func:`classifier.mains.line_periodicity`): a burst
    whose candidates repeat themselves every line period is the notches answering a change of
    the hum, not a movement. A burst that lasts longer than movements do, below a cramp's
    loudness and at one level throughout (``spread``) is the sensor's noise changing, not the
    muscle. Returns arrays of kind and detail strings.
    """
    n = len(bursts)
    kind = np.full(n, VOLUNTARY, dtype="U13")
    detail = np.full(n, "", dtype="U24")
    on = t0_s + bursts["start"] * hop_s
    off = t0_s + bursts["stop"] * hop_s
    lo = np.searchsorted(cand_t_s, on)
    hi = np.searchsorted(cand_t_s, off)
    first = np.searchsorted(cand_t_s, on - hop_s)  # the step may peak in the frame before
    dur = bursts["active"] * hop_s
    for i in range(n):  # one median per burst: bursts are few (tens per hour)
        hz = cand_hz[lo[i]:hi[i]]
        if len(hz) >= cfg.motion_min_candidates and np.median(hz) < cfg.motion_max_hz:
            kind[i], detail[i] = ARTIFACT, "motion"
        if cand_line is not None and _periodic_at_line(cand_line[lo[i]:hi[i]], cfg):
            kind[i], detail[i] = ARTIFACT, "mains"
        if cand_pop is not None and first[i] < hi[i] and cand_pop[first[i]]:
            kind[i], detail[i] = ARTIFACT, "pop"
        if cand_pop is not None and _step_series(cand_t_s[first[i]:hi[i]],
                                                 cand_pop[first[i]:hi[i]], cfg):
            kind[i], detail[i] = ARTIFACT, "motion"  # steps one after the other: a moved lead
    loud = bursts["ratio_median"] >= cfg.cramp_min_k
    fading = bursts["decline"] >= cfg.cramp_decline
    cramp = (kind == VOLUNTARY) & loud & fading & (dur >= cfg.cramp_min_s)
    kind[cramp] = CRAMP
    steady = (bursts["spread"] <= cfg.noise_change_max_spread) & (dur >= cfg.noise_change_min_s)
    noise = (kind == VOLUNTARY) & steady & ~loud
    kind[noise], detail[noise] = ARTIFACT, "noise"  # the contact's noise changed, not the muscle
    plm_len = (dur >= cfg.plm_duration_s[0]) & (off - on <= cfg.plm_duration_s[1])
    kind[(kind == VOLUNTARY) & plm_len] = PLM  # provisional: confirmed by plm_series
    return kind, detail


def _step_series(t_s: np.ndarray, step: np.ndarray, cfg: EventRules) -> bool:
    """Whether ``pop_series_min`` or more of the candidates at ``t_s`` that displace the baseline
    (``step``) follow each other within ``pop_series_gap_s``."""
    at = t_s[step]
    if len(at) < cfg.pop_series_min:
        return False
    return int(np.bincount(_series(at, cfg.pop_series_gap_s)).max()) >= cfg.pop_series_min


def _series(t_s: np.ndarray, gap_s: float) -> np.ndarray:
    """Series index of each of the sorted times ``t_s``: a time within ``gap_s`` of the one
    before continues its series."""
    return np.cumsum(np.concatenate([[True], np.diff(t_s) > gap_s])) - 1


def _periodic_at_line(line_corr: np.ndarray, cfg: EventRules) -> bool:
    """Whether a burst's candidates repeat themselves every mains period (their median
    self-similarity one period later at least ``mains_min_periodicity``, over at least
    ``mains_min_candidates`` of them)."""
    ok = line_corr[np.isfinite(line_corr)]
    return len(ok) >= cfg.mains_min_candidates and np.median(ok) >= cfg.mains_min_periodicity


def line_ringing(cand: np.ndarray, line_corr: np.ndarray, sfreq_hz: float,
                 cfg: EventRules) -> np.ndarray:
    """Which candidates are the notches' answer to a change of the hum: interference, as a
    heartbeat's QRS is, not potentials.

    The answer stands above the trigger for a few tenths of a second and the detector cuts it into
    candidates that each repeat themselves one line period later. A run of at least
    ``mains_min_candidates`` such candidates (``line_corr``,
    :func:`classifier.mains.line_periodicity`, at least ``mains_min_periodicity``), each within
    ``mains_link_s`` of the one before (peak to peak; candidates between them that do not repeat
    themselves neither join nor break the run), is such an answer; so are the candidates just
    before and after it, within ``mains_link_s``, that repeat themselves at least
    ``mains_edge_periodicity`` (their snippets hold the answer in part only: at a switch, the
    quieter hum before it). So is the notches' ringing after a large potential, at a few % of its
    size. The other candidates in its span (a twitch on the answer, the potential that rang) stay
    what they are; a louder answer makes a sustained burst, which :func:`classify_bursts` calls
    a mains artifact.

    Parameters
    ----------
    cand : ndarray
        Candidates of one channel (``dsp.types.CANDIDATE_DTYPE``), sorted by peak.
    line_corr : ndarray, shape (len(cand),)
        Each candidate's self-similarity one line period later, over a period at least (NaN: not
        measured; at 4 kHz and above the chain's snippets are too short, and nothing is taken).
    sfreq_hz : float
        Sampling rate.
    cfg : EventRules
        The rules (``mains_*``).

    Returns
    -------
    ndarray of bool, shape (len(cand),)

    Examples
    --------
    >>> from classifier.config import default_config
    >>> from dsp.types import CANDIDATE_DTYPE
    >>> cand = np.zeros(7, CANDIDATE_DTYPE)
    >>> cand["peak"] = [960, 1000, 1040, 1120, 1200, 9000, 9400]  # samples at 2 kHz
    >>> corr = np.array([0.5, 0.9, 0.8, 0.0, 0.85, 0.9, 0.9])
    >>> line_ringing(cand, corr, 2000.0, default_config().events).tolist()
    [True, True, True, False, True, False, False]
    """
    out = np.zeros(len(cand), bool)
    periodic = np.flatnonzero(line_corr >= cfg.mains_min_periodicity)
    if len(periodic) < cfg.mains_min_candidates:
        return out
    t_s = cand["peak"] / sfreq_hz
    run = _series(t_s[periodic], cfg.mains_link_s)
    out[periodic] = np.bincount(run)[run] >= cfg.mains_min_candidates
    # a run's first and last candidates hold the answer in part of their snippets only
    first = np.flatnonzero(out & ~np.concatenate([[False], out[:-1]]))
    last = np.flatnonzero(out & ~np.concatenate([out[1:], [False]]))
    for edge, step in ((first - 1, -1), (last + 1, 1)):
        ok = (edge >= 0) & (edge < len(cand))
        edge, inner = edge[ok], edge[ok] - step
        near = np.abs(t_s[edge] - t_s[inner]) <= cfg.mains_link_s
        out[edge[near & (line_corr[edge] >= cfg.mains_edge_periodicity)]] = True
    return out


def plm_series(onset_s: np.ndarray, is_candidate: np.ndarray, cfg: EventRules) -> np.ndarray:
    """Which candidate leg movements belong to a periodic PLM series.

    AASM: a series is at least ``plm_series_min`` candidate movements whose onset-to-onset
    intervals lie in ``plm_interval_s``; any other sustained burst in between breaks it. PLMS are
    also *periodic* (Ferri et al., Sleep 2006;29:759: periodicity index; intervals typically
    20-40 s): within each AASM run, a link whose interval is outside ``plm_regular_ratio`` (a
    factor either side) of the run's median interval breaks it, and a run counts only when its
    median interval lies in ``plm_median_interval_s``. Movements that merely happen to follow one
    another within 90 s (ordinary turning over, tens per hour) rarely pass both. Returns a boolean
    per row.
    """
    lo_s, hi_s = cfg.plm_interval_s
    n = len(onset_s)
    if n == 0:
        return np.zeros(0, bool)
    gap = np.diff(onset_s)
    link = (gap >= lo_s) & (gap <= hi_s) & is_candidate[1:] & is_candidate[:-1]
    link &= _regular_links(gap, link, float(cfg.plm_regular_ratio))
    run_id = np.concatenate([[0], np.cumsum(~link)])
    sizes = np.bincount(run_id)
    med = _run_median_gap(gap, link, run_id)
    m_lo, m_hi = cfg.plm_median_interval_s
    periodic = (med >= m_lo) & (med <= m_hi)
    return is_candidate & (sizes[run_id] >= cfg.plm_series_min) & periodic[run_id]


def _run_median_gap(gap: np.ndarray, link: np.ndarray, run_id: np.ndarray) -> np.ndarray:
    """Median linked interval of each run (NaN for runs of one movement)."""
    med = np.full(int(run_id[-1]) + 1, np.nan)
    gap_run = run_id[1:][link]
    vals = gap[link]
    for r in np.unique(gap_run):  # one pass per run of linked movements: few per night
        med[r] = np.median(vals[gap_run == r])
    return med


def _regular_links(gap: np.ndarray, link: np.ndarray, ratio: float) -> np.ndarray:
    """Links whose interval is within ``ratio`` of the median interval of their AASM run."""
    run_id = np.concatenate([[0], np.cumsum(~link)])
    med = _run_median_gap(gap, link, run_id)[run_id[1:]]
    with np.errstate(invalid="ignore"):
        return ~link | ((gap * ratio >= med) & (gap <= med * ratio))


# ---------------------------------------------------------------------------------- candidates
def _inside_spans(t_s: np.ndarray, starts_s: np.ndarray, stops_s: np.ndarray) -> np.ndarray:
    """Whether each time lies in one of the sorted, non-overlapping spans."""
    if len(starts_s) == 0:
        return np.zeros(len(t_s), bool)
    idx = np.searchsorted(starts_s, t_s, side="right") - 1
    return (idx >= 0) & (t_s < stops_s[np.maximum(idx, 0)])


def _union(starts: np.ndarray, stops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Union of spans, sorted and merged."""
    if len(starts) == 0:
        return np.zeros(0), np.zeros(0)
    order = np.argsort(starts, kind="stable")
    a, b = starts[order], stops[order]
    reach = np.maximum.accumulate(b)
    new = np.concatenate([[True], a[1:] > reach[:-1]])
    first = np.flatnonzero(new)
    last = np.concatenate([first[1:], [len(a)]]) - 1
    return a[first], reach[last]


def classify_events(night: NightData, config: ClassifierConfig,
                    noise_uv: list[float | None] | None = None,
                    heartbeat: np.ndarray | None = None) -> np.ndarray:
    """Events of every kind on every channel of a :class:`classifier.night.NightData`.

    Parameters
    ----------
    night : NightData
    config : ClassifierConfig
        Full configuration; ``events`` and ``detection`` (the floor, x the channel's resting
        noise: :func:`classifier.noise.channel_floor_k`) are used.
    noise_uv : list, optional
        Each channel's resting noise (:func:`classifier.noise.resting_noise_uv`), measured here
        when not given.
    heartbeat : ndarray of bool, optional
        Which of the night's candidates are heartbeats (:func:`classifier.cardiac.heartbeat_mask`),
        found here when not given; they are left out of the candidate events.

    Returns
    -------
    ndarray of EVENT_DTYPE
        Sorted by onset, then channel.
    """
    cfg = config.events
    level = rest_level(night.noise_uv, night.hop_s, cfg)
    cand = night.candidates
    if heartbeat is None:
        heartbeat = heartbeat_mask(night, config)
    parts = []
    for ch in range(night.n_channels):
        rows = np.flatnonzero(cand["channel"] == ch)
        rows = rows[np.argsort(cand["peak"][rows], kind="stable")]
        noise = resting_noise_uv(night, ch, config) if noise_uv is None else noise_uv[ch]
        around = local_noise_uv(night, ch, config.detection)
        floor_k = channel_floor_k(config.detection, int(heartbeat[rows].sum()))
        parts.append(_channel_events(night, ch, rows, level[ch], cfg, floor_k, noise,
                                     heartbeat[rows], around))
    events = np.concatenate(parts) if parts else make_events(0)
    order = np.lexsort((events["channel"], events["onset_s"]))
    return events[order]


def _channel_events(night: NightData, ch: int, rows: np.ndarray, level: np.ndarray,
                    cfg: EventRules, floor_k: float, noise_uv: float | None,
                    heartbeat: np.ndarray, around_uv: np.ndarray) -> np.ndarray:
    """Events of channel ``ch``: its bursts, flat stretches, silent pops and the events of its
    candidates ``rows``; a candidate counts from ``floor_k`` x the larger of the channel's resting
    noise ``noise_uv`` and the noise around it (``around_uv``, per envelope frame)."""
    hop = night.hop_s
    t0 = night.envelope_start_frame * hop
    env = night.envelope_uv[ch]
    bursts = find_bursts(env, level, hop, cfg)
    # Bursts active for longer than a jerk are movements; only those of >= sustained_min_s can be
    # leg movements in the AASM sense (PLM candidates, series breakers).
    moving = bursts["active"] * hop >= cfg.movement_min_s
    sf = night.sfreq_hz
    cand, feats = night.candidates[rows], night.features[rows]
    beat_s = _beat_times_s(cand, heartbeat, sf, cfg)
    keep, cand, feats = _merge_beat_runs(cand, feats, heartbeat, beat_s, sf, cfg)
    rows, heartbeat = rows[keep], heartbeat[keep]
    snips = night.snippets[rows]
    paired = self_repeats(cand, feats, snips, sf, cfg) & _alone(cand, sf, cfg.movement_min_s)
    # the QRS's frames are the heart's energy, not a movement's
    cardiac = _frames_near(cand["peak"][heartbeat] / sf, cfg.cardiac_qrs_s, len(env), hop, t0)
    moving[moving] = ~_explained_by_potentials(bursts[moving], cand, feats,
                                              np.where(cardiac, 0.0, env), level, hop, t0,
                                              sf, cfg, paired)
    sustained = bursts[moving]
    short = bursts[~moving]
    is_lm = sustained["active"] * hop >= cfg.sustained_min_s
    t_s = cand["peak"] / sf
    kind, detail = classify_bursts(sustained, t_s, feats["dominant_hz"], hop, t0, cfg,
                                   is_pop(cand, cfg, sf), line_periodicity(snips, sf))
    on_s = t0 + sustained["start"] * hop
    flat_ev = _flat_events(night, ch, env, level, short, t0, cfg)
    off_s = t0 + sustained["stop"] * hop
    fa, fb = flat_ev["onset_s"], flat_ev["onset_s"] + flat_ev["duration_s"]
    edge = _inside_spans(on_s, fa, fb) | _inside_spans(off_s, fa, fb)
    kind[edge], detail[edge] = ARTIFACT, "flat-edge"  # the step out of a flat stretch rings
    in_series = np.zeros(len(sustained), bool)
    in_series[is_lm] = plm_series(on_s[is_lm], kind[is_lm] == PLM, cfg)
    kind[(kind == PLM) & ~in_series] = VOLUNTARY
    burst_ev = make_events(len(sustained))
    burst_ev["onset_s"] = on_s
    burst_ev["duration_s"] = (sustained["stop"] - sustained["start"]) * hop
    burst_ev["kind"], burst_ev["detail"] = kind, detail
    burst_ev["peak_to_peak_uv"] = sustained["ptp_uv"]
    busy_a, busy_b = _union(
        np.concatenate([burst_ev["onset_s"], flat_ev["onset_s"]]),
        np.concatenate([burst_ev["onset_s"] + burst_ev["duration_s"],
                        flat_ev["onset_s"] + flat_ev["duration_s"]]),
    )
    ringing = line_ringing(cand, line_periodicity(snips, sf, min_overlap_periods=1.0), sf, cfg)
    other = ~heartbeat & ~ringing  # interference, not events
    floor_noise = _floor_noise_uv(cand["peak"][other] / sf, noise_uv, around_uv, hop, t0)
    cand_ev = _candidate_events(_unjoined_from(cand, ~other)[other], feats[other],
                                snips[other], rows[other], sf, busy_a,
                                busy_b, cfg, floor_k, floor_noise, beat_s)
    pop_ev = _silent_pops(short, t0, hop, t_s, busy_a, busy_b, cfg)
    out = _pop_series_as_motion(np.concatenate([burst_ev, flat_ev, cand_ev, pop_ev]), cfg)
    out["channel"] = ch
    return out


def _pop_series_as_motion(events: np.ndarray, cfg: EventRules) -> np.ndarray:
    """One channel's events with each series of ``pop_series_min`` or more pops, each within
    ``pop_series_gap_s`` of the one before (onset to onset), made one motion artifact spanning
    them: a pop is one step of the electrode potential recovering over hundreds of ms, and steps
    that follow each other within a second are the electrode or its lead being moved."""
    is_pop = (events["kind"] == ARTIFACT) & (events["detail"] == "pop")
    idx = np.flatnonzero(is_pop)
    if len(idx) < cfg.pop_series_min:
        return events
    idx = idx[np.argsort(events["onset_s"][idx], kind="stable")]
    run = _series(events["onset_s"][idx], cfg.pop_series_gap_s)
    drop, merged = [], []
    for r in np.unique(run):
        members = idx[run == r]
        if len(members) < cfg.pop_series_min:
            continue
        ev = events[members[:1]].copy()
        end = np.max(events["onset_s"][members] + events["duration_s"][members])
        ev["duration_s"] = end - ev["onset_s"]
        ev["detail"], ev["candidate"] = "motion", -1
        ev["peak_to_peak_uv"] = np.max(events["peak_to_peak_uv"][members])
        drop.append(members)
        merged.append(ev)
    if not merged:
        return events
    keep = np.ones(len(events), bool)
    keep[np.concatenate(drop)] = False
    return np.concatenate([events[keep], *merged])


def _floor_noise_uv(t_s: np.ndarray, resting_uv: float | None, around_uv: np.ndarray,
                    hop_s: float, t0_s: float) -> np.ndarray:
    """The noise each potential at ``t_s`` is counted against, besides its own (the chain's floor):
    the channel's resting noise or the noise around it (per frame from ``t0_s``), whichever is
    higher; 0 where neither is known."""
    i = np.clip(np.floor((t_s - t0_s) / hop_s).astype(np.int64), 0, max(len(around_uv) - 1, 0))
    around = around_uv[i] if len(around_uv) else np.full(len(t_s), np.nan)
    rest = np.nan if resting_uv is None else resting_uv
    return np.nan_to_num(np.fmax(around, rest), nan=0.0)


def _flat_events(night: NightData, ch: int, env: np.ndarray, level: np.ndarray, short: np.ndarray,
                 t0: float, cfg: EventRules) -> np.ndarray:
    """Flat artifacts, widened over the transients at their edges (``flat_edge_s``)."""
    hop = night.hop_s
    fa, fb = find_flat(env, level, hop, cfg)
    a = t0 + fa * hop - cfg.flat_edge_s
    b = t0 + fb * hop + cfg.flat_edge_s
    sa, sb = t0 + short["start"] * hop, t0 + short["stop"] * hop
    touch = np.zeros(len(sa), bool)
    if len(a):
        touch = _inside_spans(sa, a, b) | _inside_spans(sb, a, b)
    a, b = _union(np.concatenate([a, sa[touch]]), np.concatenate([b, sb[touch]]))
    ev = make_events(len(a))
    ev["onset_s"], ev["duration_s"], ev["kind"] = a, b - a, ARTIFACT
    q = night.quality[night.quality["channel"] == ch]
    for i in range(len(a)):
        lo, hi = a[i] * night.sfreq_hz, b[i] * night.sfreq_hz
        sat = q["saturated_fraction"][(q["start"] < hi) & (q["stop"] > lo)]
        ev["detail"][i] = "saturation" if np.any(sat > 0) else "flat"
    return ev


def _silent_pops(short: np.ndarray, t0: float, hop: float, t_s: np.ndarray, busy_a, busy_b,
                 cfg: EventRules) -> np.ndarray:
    """Short, very loud envelope bursts without any candidate: electrode pops. A candidate
    peaking in the frame before a burst's first is in it (:func:`_frame_before`)."""
    a, b = t0 + short["start"] * hop, t0 + short["stop"] * hop
    n_cand = np.searchsorted(t_s, b) - np.searchsorted(t_s, _frame_before(a, hop))
    keep = (short["ratio_peak"] >= cfg.pop_env_k) & (n_cand == 0)
    keep &= ~_inside_spans(a, busy_a, busy_b)
    ev = make_events(int(keep.sum()))
    ev["onset_s"], ev["duration_s"] = a[keep], b[keep] - a[keep]
    ev["kind"], ev["detail"], ev["peak_to_peak_uv"] = ARTIFACT, "pop", short["ptp_uv"][keep]
    return ev


def _alone(cand: np.ndarray, sf: float, within_s: float) -> np.ndarray:
    """Candidates (sorted by peak) with no other candidate within ``within_s`` either side."""
    if len(cand) == 0:
        return np.zeros(0, bool)
    far = np.diff(cand["peak"]) / sf > within_s
    return np.concatenate([[True], far]) & np.concatenate([far, [True]])


def _frames_near(t_s: np.ndarray, reach_s: float, n_frames: int, hop: float,
                 t0: float) -> np.ndarray:
    """Envelope frames (``hop`` s from ``t0``) that overlap ``reach_s`` either side of a time."""
    first = np.clip(np.floor((t_s - reach_s - t0) / hop).astype(np.int64), 0, n_frames)
    last = np.clip(np.floor((t_s + reach_s - t0) / hop).astype(np.int64) + 1, 0, n_frames)
    marks = np.zeros(n_frames + 1, np.int64)
    np.add.at(marks, first, 1)
    np.add.at(marks, last, -1)
    return np.cumsum(marks)[:n_frames] > 0


def _frame_before(start_s: np.ndarray | float, hop: float) -> np.ndarray | float:
    """Where the candidates of a burst starting at ``start_s`` may peak from: one envelope frame
    earlier. The frames are on the filtered stream's timeline, candidates on the signal's (the
    chain moves them back by the band-pass's group delay at 60 Hz, a few ms): a potential whose
    largest phase leads, a sharp spike with slower phases after it, peaks before the frame its
    energy raises when the spike falls just after a frame's start."""
    return start_s - hop


def _explained_by_potentials(bursts, cand, feats, env, level, hop, t0, sf,
                             cfg: EventRules, paired: np.ndarray) -> np.ndarray:
    """Bursts whose energy, less that of the discrete potentials inside them, is at rest.

    Independent fasciculations of large units raise the 50-ms envelope as much as a movement does
    and, at tens per minute, often within the 0.5 s that joins active frames; the mains notch
    rings after each for a few hundred ms (``energy_uv2_s``: the candidate's own and the chain's
    predicted response). A movement, a PLM or
    a cramp is sustained: its energy lies in activity the detector reports as ``continuous``, not in
    separate potentials. A burst is kept when the RMS of what the discrete potentials (neither
    continuous, nor pop-like, nor :func:`~classifier.potentials.many_phased`, nor in dense firing,
    :func:`~classifier.potentials.dense`; a doublet in one candidate with no other candidate
    within ``movement_min_s``, ``paired``, is discrete) leave
    over its span is above ``active_on_k`` x rest,
    beyond ``explained_tolerance`` of their own energy (the snippets and the predicted responses
    only approximate it: the responses of close potentials interfere). Many-phased compounds
    explain their own energy too when they carry less than ``compound_energy_share`` of the
    burst's candidate energy: a chance overlap of two twitches among single potentials is brief,
    whereas a contraction's interference pattern is mostly compounds. A burst's potentials are
    those peaking from the frame before its first (:func:`_frame_before`).
    """
    out = np.zeros(len(bursts), bool)
    if not len(bursts) or not len(cand):
        return out
    pop = is_pop(cand, cfg, sf)
    peak_s = cand["peak"] / sf
    firing = np.zeros(len(cand), bool)
    firing[~pop] = dense(peak_s[~pop], cfg.dense_window_s, int(cfg.dense_min_potentials)) >= 0
    compound = many_phased(cand, feats, sf, cfg, paired)
    discrete = ~cand["continuous"] & ~pop & ~firing & ~compound
    cum = _cumulative_energy(cand, discrete)
    is_compound = compound & ~cand["continuous"] & ~pop & ~firing
    cum_compound = _cumulative_energy(cand, is_compound)
    cum_all = _cumulative_energy(cand, np.ones(len(cand), bool))
    for i, b in enumerate(bursts):  # bursts are few (tens per hour)
        a_s, b_s = t0 + b["start"] * hop, t0 + b["stop"] * hop
        lo, hi = np.searchsorted(peak_s, [_frame_before(a_s, hop), b_s])
        if hi == lo:
            continue
        frames = env[b["start"]:b["stop"]]
        total = np.nansum(frames**2) * hop
        explained = cum[hi] - cum[lo]
        in_compounds = cum_compound[hi] - cum_compound[lo]
        if not _sustained_compounds(cand[lo:hi], is_compound[lo:hi], in_compounds,
                                    cum_all[hi] - cum_all[lo], sf, cfg):
            explained += in_compounds  # brief superpositions: a jerk, or twitches overlapping
        span_s = max(hop, np.sum(np.isfinite(frames)) * hop)
        rest_uv = np.nanmedian(level[b["start"]:b["stop"]])
        allowed = (cfg.active_on_k * rest_uv) ** 2 * span_s + cfg.explained_tolerance * explained
        out[i] = total - explained <= allowed
    return out


def _sustained_compounds(cand: np.ndarray, is_compound: np.ndarray, compound_uv2_s: float,
                         total_uv2_s: float, sf: float, cfg: EventRules) -> bool:
    """Whether a burst's many-phased compounds are a contraction's interference pattern.

    They are when they carry at least ``compound_energy_share`` of the energy of the burst's
    candidates (sorted by peak) and the activity they lie in, candidates each starting within
    ``jerk_link_s`` of the end of those before, lasts longer than a jerk (``myoclonus_max_s``).
    """
    if not np.any(is_compound) or compound_uv2_s < cfg.compound_energy_share * total_uv2_s:
        return False
    run = linked_runs(cand, cfg.jerk_link_s * sf)
    first = np.flatnonzero(np.diff(run, prepend=-1))
    span_s = (np.maximum.reduceat(cand["offset"], first) - cand["onset"][first]) / sf
    return bool(np.any(span_s[np.unique(run[is_compound])] > cfg.myoclonus_max_s))


def _cumulative_energy(cand: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Running sum of the kept candidates' energy (µV² s), with a leading zero."""
    return np.concatenate([[0.0], np.cumsum(np.where(keep, cand["energy_uv2_s"], 0.0))])


def _candidate_events(cand: np.ndarray, feats: np.ndarray, snips: np.ndarray, rows: np.ndarray,
                      sf: float, busy_a: np.ndarray, busy_b: np.ndarray, cfg: EventRules,
                      floor_k: float, channel_noise_uv: float | np.ndarray | None,
                      beat_s: np.ndarray) -> np.ndarray:
    """Fasciculations, doublets, trains, jerks and pops from the candidates outside bursts
    (:mod:`classifier.potentials`); heartbeats are left out before (:mod:`classifier.cardiac`),
    and a heartbeat's QRS in a twitch's candidate (one of ``beat_s`` within ``cardiac_qrs_s``
    before its onset or after it) is not its onset."""
    if len(cand) == 0:
        return make_events(0)
    size = unit_sizes_uv(cand, snips, potential_ptp_uv(cand, snips, sf, cfg.potential_max_s),
                         floor_uv(cand, floor_k, channel_noise_uv), sf, cfg,
                         ~cand["continuous"] & ~is_pop(cand, cfg, sf))
    on_s, off_s = cand["onset"] / sf, cand["offset"] / sf
    kind, detail, dbl, group, part_of = label_potentials(
        cand, feats, snips, size, sf, cfg, floor_k, channel_noise_uv,
        _touches(on_s, off_s, busy_a, busy_b))
    n_g = int(group.max()) + 1 if len(group) else 0
    g_on, g_off = np.full(n_g, np.inf), np.full(n_g, -np.inf)
    m = group >= 0
    np.minimum.at(g_on, group[m], on_s[m])
    np.maximum.at(g_off, group[m], off_s[m])
    a = np.where(m, g_on[np.maximum(group, 0)], on_s) if n_g else on_s
    b = np.where(m, g_off[np.maximum(group, 0)], off_s) if n_g else off_s
    busy = _touches(a, b, busy_a, busy_b)
    single = (group < 0) & (kind != "") & ~busy
    ev = make_events(int(single.sum()))
    ev["onset_s"], ev["duration_s"] = on_s[single], feats["duration_s"][single]
    fasc = kind[single] == FASCICULATION
    fc = cand[single][fasc]
    own_s = own_onset(fc, snips[single][fasc], sf, 1.0 / cfg.doublet_max_amplitude_ratio,
                      known_other=_holds_any(fc["onset"] / sf - cfg.cardiac_qrs_s,
                                             fc["peak"] / sf, beat_s)) / sf
    ev["duration_s"][fasc] -= own_s - ev["onset_s"][fasc]  # it still ends with its candidate
    ev["onset_s"][fasc] = own_s
    ev["onset_s"][fasc], ev["duration_s"][fasc] = _over_parts(
        ev["onset_s"][fasc], ev["duration_s"][fasc], np.flatnonzero(single)[fasc], cand,
        part_of, sf)
    pop = single & (detail == "pop")
    ev["duration_s"][pop[single]] = (off_s - on_s)[pop]
    ev["kind"], ev["detail"], ev["doublet"] = kind[single], detail[single], dbl[single]
    ev["peak_to_peak_uv"] = cand["ptp_uv"][single]
    ev["peak_to_peak_uv"][fasc] = size[single][fasc]  # the size compared with the floor
    ev["phases"][fasc] = feats["phases"][single][fasc]
    ev["candidate"][fasc | (detail[single] == "pop")] = rows[single][fasc | (detail[single] == "pop")]
    return np.concatenate([ev, _group_events(cand, kind, group, g_on, g_off, busy)])


def _over_parts(onset_s: np.ndarray, duration_s: np.ndarray, idx: np.ndarray, cand: np.ndarray,
                part_of: np.ndarray, sf: float) -> tuple[np.ndarray, np.ndarray]:
    """Onset and duration of the potentials of candidates ``idx`` widened over the pieces and
    time-locked parts that belong to them (``part_of``): a potential starts with its first part
    and ends with its last."""
    n = len(cand)
    first, last = np.full(n, np.inf), np.full(n, -np.inf)
    m = part_of >= 0
    np.minimum.at(first, part_of[m], cand["onset"][m] / sf)
    np.maximum.at(last, part_of[m], cand["offset"][m] / sf)
    start_s = np.minimum(onset_s, first[idx])
    return start_s, np.maximum(onset_s + duration_s, last[idx]) - start_s


def _merge_beat_runs(cand: np.ndarray, feats: np.ndarray, heartbeat: np.ndarray,
                     beat_s: np.ndarray, sf: float, cfg: EventRules
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Runs of ``continuous`` pieces that hold a heartbeat (``beat_s`` within ``cardiac_qrs_s``
    of the run), whose pieces other than the beat's span no longer than a QRS and a potential
    (2 x ``cardiac_qrs_s`` + ``potential_max_s``) and whose largest piece is no beat, as one
    candidate each: which candidates stay (the largest piece of each run stands for it), and the
    candidates and features with the runs' extents, energies and durations.

    A twitch 60-100 ms after a strong QRS is reached from it without a return to the noise, and
    the two outlast ``max_duration_s``: the detector cuts them into continuous pieces, the mark
    of sustained activity, and the twitch became a movement (or a "PLM" series at the heart's
    pace). The beat's own pieces are the heart's whatever their length: a twitch within the QRS
    puts its largest phase in a piece of the QRS, and the QRS's tail follows as a piece of the
    beat. A QRS and a twitch are one discrete potential on top of the beat; its onset is the
    twitch's (:func:`~classifier.potentials.own_onset`, the beat known before it).
    """
    n = len(cand)
    keep = np.ones(n, bool)
    cont = cand["continuous"].astype(bool)
    if n < 2 or not cont.any():
        return keep, cand, feats
    run = np.concatenate([[0], np.cumsum(~continues(cand))])
    first = np.flatnonzero(np.diff(run, prepend=-1))
    last = np.concatenate([first[1:], [n]]) - 1
    own_a = np.minimum.reduceat(np.where(heartbeat, np.inf, cand["onset"]), first)
    own_b = np.maximum.reduceat(np.where(heartbeat, -np.inf, cand["offset"]), first)
    holds = _holds_any(cand["onset"][first] / sf - cfg.cardiac_qrs_s,
                       cand["offset"][last] / sf + cfg.cardiac_qrs_s, beat_s)
    merge = np.flatnonzero((last > first) & holds & (
        own_b - own_a <= (2 * cfg.cardiac_qrs_s + cfg.potential_max_s) * sf))
    if not len(merge):
        return keep, cand, feats
    cand, feats = cand.copy(), feats.copy()
    for r in merge:  # a few per hour of a night with a strong ECG
        piece = np.arange(first[r], last[r] + 1)
        top = piece[np.argmax(cand["ptp_uv"][piece])]
        if heartbeat[top]:
            continue
        keep[piece] = False
        keep[top] = True
        cand["onset"][top], cand["offset"][top] = cand["onset"][first[r]], cand["offset"][last[r]]
        cand["continuous"][top] = False
        cand["energy_uv2_s"][top] = cand["energy_uv2_s"][piece].sum()
        feats["duration_s"][top] = (cand["offset"][top] - cand["onset"][top]) / sf
    return keep, cand[keep], feats[keep]


def _unjoined_from(cand: np.ndarray, left_out: np.ndarray) -> np.ndarray:
    """The candidates, where one ``joined`` (reached without a return to baseline) to the one
    before it no longer is when that one is ``left_out``: a twitch riding on a heartbeat's QRS
    is not joined to whatever candidate precedes the beat."""
    out = cand.copy()
    out["joined"][1:] &= ~left_out[:-1]
    return out


def _beat_times_s(cand: np.ndarray, heartbeat: np.ndarray, sf: float,
                  cfg: EventRules) -> np.ndarray:
    """Peaks of the heartbeats' pieces and the times of beats the rhythm skipped (where a twitch
    over the QRS shaped their candidate), ascending (s)."""
    return np.sort(np.concatenate([cand["peak"][heartbeat] / sf,
                                   skipped_beats_s(cand, heartbeat, sf, cfg)]))


def _holds_any(a_s: np.ndarray, b_s: np.ndarray, t_s: np.ndarray) -> np.ndarray:
    """Whether each span ``[a_s, b_s)`` holds one of the ascending times ``t_s``."""
    return np.searchsorted(t_s, b_s) > np.searchsorted(t_s, a_s)


def _group_events(cand, kind, group, g_on, g_off, busy) -> np.ndarray:
    """One event per compound or train that touches no burst."""
    n_g = len(g_on)
    if not n_g:
        return make_events(0)
    first = np.full(n_g, -1, np.int64)
    ptp = np.zeros(n_g)
    idx = np.flatnonzero(group >= 0)
    first[group[idx[::-1]]] = idx[::-1]
    np.maximum.at(ptp, group[idx], cand["ptp_uv"][idx])
    g_busy = np.zeros(n_g, bool)
    np.logical_or.at(g_busy, group[idx], busy[idx])
    keep = (first >= 0) & ~g_busy
    ev = make_events(int(keep.sum()))
    ev["onset_s"], ev["duration_s"] = g_on[keep], (g_off - g_on)[keep]
    ev["kind"], ev["peak_to_peak_uv"] = kind[first[keep]], ptp[keep]
    return ev


def _touches(a: np.ndarray, b: np.ndarray, busy_a: np.ndarray, busy_b: np.ndarray) -> np.ndarray:
    """Whether each span [a, b] overlaps one of the sorted, disjoint busy spans."""
    out = _inside_spans(a, busy_a, busy_b) | _inside_spans(b, busy_a, busy_b)
    if len(busy_a):
        nxt = np.searchsorted(busy_a, a)
        out |= (nxt < len(busy_a)) & (busy_a[np.minimum(nxt, len(busy_a) - 1)] < b)
    return out
