"""Rest time per channel: the minutes free of movement, cramps, limb movements and artifacts.

Rest on a channel is its timeline minus lost data minus the spans of its voluntary, PLM, cramp and
artifact events, each widened by ``[rest] margin_s`` on both sides. Lost data is charged for what
it costs and no more: a gap for its own length plus the filter's settling time after it (the chain
marks those samples invalid; the time is measured from the filter's impulse response, see
:func:`dsp.filters.settling_time_s`), and frames the chain could not measure; no margin is added
around a gap. The same lost time is the channel's ``lost_fraction`` in the summary's quality, so
quality and rest agree. Myoclonic jerks do not remove rest (:data:`classifier.kinds.NON_REST_KINDS`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from classifier.kinds import NON_REST_KINDS

if TYPE_CHECKING:
    from classifier.config import ClassifierConfig
    from classifier.night_data import NightData


@dataclass
class ChannelRest:
    """Rest of one channel.

    Attributes
    ----------
    intervals_s : ndarray, shape (n, 2)
        Sorted, disjoint ``[start, stop)`` spans of rest, seconds from the recording start.
    minutes : float
        Total rest.
    lost_s : float
        Time without measurable data (gaps, the filter's settling after them, unmeasured frames).
    """

    intervals_s: np.ndarray
    minutes: float
    lost_s: float = 0.0


def union(spans: np.ndarray) -> np.ndarray:
    """Union of ``(n, 2)`` spans, sorted and merged (empty spans dropped)."""
    spans = np.asarray(spans, float).reshape(-1, 2)
    spans = spans[spans[:, 1] > spans[:, 0]]
    if len(spans) == 0:
        return spans
    spans = spans[np.argsort(spans[:, 0], kind="stable")]
    reach = np.maximum.accumulate(spans[:, 1])
    new = np.concatenate([[True], spans[1:, 0] > reach[:-1]])
    first = np.flatnonzero(new)
    last = np.concatenate([first[1:], [len(spans)]]) - 1
    return np.column_stack([spans[first, 0], reach[last]])


def complement(spans: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """``[lo, hi)`` minus the union of ``spans``."""
    u = union(np.clip(np.asarray(spans, float).reshape(-1, 2), lo, hi))
    starts = np.concatenate([[lo], u[:, 1]])
    stops = np.concatenate([u[:, 0], [hi]])
    keep = stops > starts
    return np.column_stack([starts[keep], stops[keep]])


def inside(t_s: np.ndarray, intervals_s: np.ndarray) -> np.ndarray:
    """Whether each time lies in one of the sorted, disjoint ``[start, stop)`` intervals."""
    t_s = np.asarray(t_s, float)
    if len(intervals_s) == 0:
        return np.zeros(t_s.shape, bool)
    idx = np.searchsorted(intervals_s[:, 0], t_s, side="right") - 1
    return (idx >= 0) & (t_s < intervals_s[np.maximum(idx, 0), 1])


def overlap_s(intervals_s: np.ndarray, lo: float, hi: float) -> float:
    """Seconds of ``intervals_s`` within ``[lo, hi)``."""
    if len(intervals_s) == 0:
        return 0.0
    a = np.clip(intervals_s[:, 0], lo, hi)
    b = np.clip(intervals_s[:, 1], lo, hi)
    return float(np.sum(b - a))


def lost_spans(night: NightData, ch: int, unmeasured_k: float = 0.0) -> np.ndarray:
    """Spans (s) of a channel without data: declared gaps and unmeasured envelope frames.

    A frame is unmeasured when its RMS is NaN, or when the chain's noise floor there is NaN, below
    ``unmeasured_k`` x the channel's median noise floor or below any sensor's noise
    (:func:`classifier.noise.unmeasured_frames`): the detection threshold is a multiple of that
    floor, and a floor near zero (the chain's rolling window still full of a flat stretch) is one
    where the chain finds no potential at all. Counting such time as rest would lower the rate.
    """
    from classifier.events import runs
    from classifier.noise import unmeasured_frames

    sf = night.sfreq_hz
    spans = [(a / sf, b / sf) for c, a, b in night.gaps if c in (-1, ch)]
    hop = night.hop_s
    env = night.envelope_uv[ch]
    t0 = night.envelope_start_frame * hop
    bad = ~np.isfinite(env)
    noise = night.noise_uv[ch]
    if unmeasured_k > 0 and noise.size:
        bad |= unmeasured_frames(noise, unmeasured_k) & np.isfinite(noise)
    a, b = runs(bad)
    spans += list(zip(t0 + a * hop, t0 + b * hop, strict=True))
    t_end = t0 + len(env) * hop
    if t0 > 0:
        spans.append((0.0, t0))
    if t_end < night.duration_s:
        spans.append((t_end, night.duration_s))
    return union(np.array(spans, float).reshape(-1, 2))


def rest_intervals(night: NightData, events: np.ndarray,
                   config: ClassifierConfig) -> dict[str, ChannelRest]:
    """Rest of every channel.

    Parameters
    ----------
    night : NightData
    events : ndarray of classifier.events.EVENT_DTYPE
    config : ClassifierConfig
        Full configuration; ``[rest] margin_s`` and ``unmeasured_k`` are used.

    Returns
    -------
    dict
        Channel name -> :class:`ChannelRest`.
    """
    margin = float(config.rest.margin_s)
    non_rest = np.isin(events["kind"], NON_REST_KINDS)
    out = {}
    for ch, name in enumerate(night.ch_names):
        ev = events[non_rest & (events["channel"] == ch)]
        busy = np.column_stack([ev["onset_s"] - margin, ev["onset_s"] + ev["duration_s"] + margin])
        lost = lost_spans(night, ch, float(config.rest.unmeasured_k))
        spans = np.concatenate([busy, lost])
        rest = complement(spans, 0.0, night.duration_s)
        lost_s = overlap_s(lost, 0.0, night.duration_s)
        out[name] = ChannelRest(rest, float(np.sum(rest[:, 1] - rest[:, 0])) / 60.0, lost_s)
    return out
