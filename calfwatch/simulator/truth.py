"""Ground truth: the events placed in a simulated night, rest time, rates and the PLM index.

Rest on a channel is the recording minus the spans of its voluntary, PLM, cramp and artifact events,
each widened by ``rest_margin_s`` on both sides. Myoclonic jerks (25-150 ms) do not remove rest.
Fasciculation counts exclude the later potentials of a doublet or triplet of one unit
(``detail="doublet"``: a repetitive discharge or the F-wave of the first, not a new fasciculation,
Kleine et al. 2012), counted separately as ``doublets``, and potentials whose main phases overlap an
earlier potential's (``overlaps=True``: one compound waveform that no detector can split; the earlier
potential keeps the count), counted separately as ``overlapped``.
The PLM index counts PLMs that belong to a valid AASM series (>= 4 movements 5-90 s apart, onset to
onset) per hour of recording; legs are scored independently and channels on the same leg carry the
same movements, so each leg is scored once (on its first channel).
Detectable fasciculations are those whose noise-free peak-to-peak is at least ``detectable_ptp_k``
(``[detection]`` of the classifier's ``thresholds.toml``, where the choice is argued) x the
configured noise RMS in the 20-450 Hz band; what the detection chain can see is counted there.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from classifier.config import default_config
from classifier.kinds import EVENT_KINDS, FASCICULATION, MYOCLONUS, NON_REST_KINDS, PLM

PLM_SERIES_MIN = 4
PLM_INTERVAL_S = (5.0, 90.0)


@dataclass(frozen=True)
class TruthEvent:
    """One event placed in the night, on one channel (by name).

    ``unit`` is the unit index within the channel's fasciculating pool (-1 for other kinds);
    ``peak_to_peak_uv`` is measured on the event's own noise-free samples (0 for flat artifacts).
    ``detail`` of a fasciculation potential is ``"doublet"`` for the second and third potential of
    a multiplet, else its unit's family (``""`` simple, ``"complex"`` polyphasic, ``"slow"``).
    ``overlaps`` is True for a fasciculation potential whose main phases (50 % of its peak) start
    before an earlier potential's have ended on the same channel: the two cannot be split, and only
    the earlier one is counted.
    """

    onset_s: float
    duration_s: float
    kind: str
    channel: str
    unit: int = -1
    peak_to_peak_uv: float = 0.0
    detail: str = ""
    overlaps: bool = False

    @property
    def stop_s(self) -> float:
        """End of the event."""
        return self.onset_s + self.duration_s

    def to_dict(self) -> dict:
        """Plain dict."""
        return asdict(self)


def merge_spans(spans: list[tuple[float, float]], lo: float, hi: float) -> list[tuple[float, float]]:
    """Union of spans clipped to ``[lo, hi]``, sorted."""
    merged: list[list[float]] = []
    for a, b in sorted((max(a, lo), min(b, hi)) for a, b in spans):
        if b <= a:
            continue
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]


def non_rest_spans(events: list[TruthEvent], channel: str, margin_s: float, duration_s: float):
    """Merged non-rest spans of a channel, widened by the margin."""
    spans = [(e.onset_s - margin_s, e.stop_s + margin_s) for e in events
             if e.channel == channel and e.kind in NON_REST_KINDS]
    return merge_spans(spans, 0.0, duration_s)


def rest_spans(events, channel, margin_s, duration_s) -> list[tuple[float, float]]:
    """Complement of :func:`non_rest_spans` within the recording."""
    out, t = [], 0.0
    for a, b in non_rest_spans(events, channel, margin_s, duration_s):
        if a > t:
            out.append((t, a))
        t = b
    if t < duration_s:
        out.append((t, duration_s))
    return out


def plm_in_series(onsets_s: list[float]) -> int:
    """Number of PLMs that belong to a series of >= 4 with onset-to-onset intervals of 5-90 s."""
    onsets = sorted(onsets_s)
    total, run = 0, 1
    for prev, cur in zip(onsets, onsets[1:], strict=False):
        if PLM_INTERVAL_S[0] <= cur - prev <= PLM_INTERVAL_S[1]:
            run += 1
        else:
            total += run if run >= PLM_SERIES_MIN else 0
            run = 1
    if onsets:
        total += run if run >= PLM_SERIES_MIN else 0
    return total


def detectable_ptp_k() -> float:
    """The packaged ``detectable_ptp_k`` (peak-to-peak / noise RMS of a detectable potential)."""
    return float(default_config().detection.detectable_ptp_k)


def is_detectable(event: TruthEvent, floor_uv: float) -> bool:
    """Whether a truth event is a fasciculation potential at or above the detection floor."""
    return event.kind == FASCICULATION and event.peak_to_peak_uv >= floor_uv


def detection_floor(params: dict) -> dict:
    """The definition, ``k``, noise RMS and band, and the floor (µV) of detectable potentials."""
    k = detectable_ptp_k()
    band = [params["noise_band_hz"][0], min(params["noise_band_hz"][1], 0.45 * params["sfreq_hz"])]
    return {
        "definition": "a fasciculation potential is detectable when its noise-free peak-to-peak is "
                      "at least detectable_ptp_k x the noise RMS in noise_band_hz",
        "detectable_ptp_k": k,
        "noise_rms_uv": params["noise_rms_uv"],
        "noise_band_hz": band,
        "floor_uv": k * params["noise_rms_uv"],
    }


def is_counted(event: TruthEvent) -> bool:
    """Whether a truth event counts as a fasciculation (not a multiplet's later potential, and
    not overlapping an earlier potential)."""
    return event.kind == FASCICULATION and event.detail != "doublet" and not event.overlaps


def summarize(events, ch_names, duration_s, margin_s, profile, seed, params) -> dict:
    """The truth summary document (see :meth:`SimulatedNight.truth_summary`)."""
    channels, n_fasc, n_det, rest_min = {}, 0, 0, 0.0
    floor = detection_floor(params)
    for ch in ch_names:
        mine = [e for e in events if e.channel == ch]
        rest = sum(b - a for a, b in rest_spans(events, ch, margin_s, duration_s)) / 60.0
        fasc = sum(1 for e in mine if is_counted(e))
        det = sum(1 for e in mine if is_counted(e) and is_detectable(e, floor["floor_uv"]))
        channels[ch] = {
            "rest_minutes": rest,
            "fasciculations": fasc,
            "doublets": sum(1 for e in mine if e.kind == FASCICULATION and e.detail == "doublet"),
            "overlapped": sum(1 for e in mine if e.kind == FASCICULATION and e.overlaps
                              and e.detail != "doublet"),
            "fasciculations_per_min_rest": fasc / rest if rest > 0 else float("nan"),
            "detectable_fasciculations": det,
            "detectable_fasciculations_per_min_rest": det / rest if rest > 0 else float("nan"),
            "plm_index_per_h": plm_in_series([e.onset_s for e in mine if e.kind == PLM])
            / (duration_s / 3600.0),
            "counts": {k: sum(1 for e in mine if e.kind == k) for k in EVENT_KINDS},
        }
        n_fasc += fasc
        n_det += det
        rest_min += rest
    legs: dict[str, str] = {}
    for ch in ch_names:
        legs.setdefault(leg_of(ch), ch)
    plm = sum(plm_in_series([e.onset_s for e in events if e.kind == PLM and e.channel == ch])
              for ch in legs.values())
    return {
        "profile": profile,
        "seed": seed,
        "duration_s": duration_s,
        "rest_margin_s": margin_s,
        "channels": channels,
        "rest_minutes": rest_min,
        "fasciculations": n_fasc,
        "fasciculations_per_min_rest": n_fasc / rest_min if rest_min > 0 else float("nan"),
        "detectable_fasciculations": n_det,
        "detectable_fasciculations_per_min_rest": n_det / rest_min if rest_min > 0 else float("nan"),
        "detection_floor": floor,
        "plm_index_per_h": plm / (duration_s / 3600.0),
        "myoclonus": sum(1 for e in events if e.kind == MYOCLONUS),
        "counts": {k: sum(1 for e in events if e.kind == k) for k in EVENT_KINDS},
        "params": params,
    }


def channel_names(n_channels: int) -> list[str]:
    """``calf_left, calf_right, calf_left_2, calf_right_2, ...``."""
    names = []
    for i in range(n_channels):
        side, number = ("left", "right")[i % 2], i // 2 + 1
        names.append(f"calf_{side}" + ("" if number == 1 else f"_{number}"))
    return names


def leg_of(channel: str) -> str:
    """``"left"`` or ``"right"`` from a channel name."""
    return "left" if "left" in channel else "right"


def events_between(events: list[TruthEvent], lo_s: float, hi_s: float) -> list[TruthEvent]:
    """Events overlapping ``[lo_s, hi_s)``."""
    return [e for e in events if e.onset_s < hi_s and e.stop_s > lo_s]


__all__ = ["TruthEvent", "channel_names", "detection_floor", "detectable_ptp_k", "is_counted", "is_detectable", "leg_of", "merge_spans", "plm_in_series",
           "rest_spans", "summarize"]
