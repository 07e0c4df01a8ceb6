"""The night summary: one versioned, JSON-serialisable document of a classified night.

``night_summary(classified, meta, quality)`` gathers rest, counts, rates per channel and per clock
hour, the PLM index, the detection floor per channel (``detection_floor_uv``), morphology, signal quality per channel, recording metadata, the thresholds
used, software versions and caveats. The ``assessment`` key is left for the caller to fill.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from importlib import metadata
from typing import TYPE_CHECKING, Any

import numpy as np

from classifier.config import ClassifierConfig
from classifier.kinds import EVENT_KINDS
from classifier.noise import channel_floor_k
from classifier.potentials import median_noise_uv
from dsp.quality import channel_floor_ratio

if TYPE_CHECKING:
    from classifier.night import ClassifiedNight

SCHEMA = "calfwatch.night-summary"
SCHEMA_VERSION = 1

CAVEATS = (
    "calfwatch describes what it measured; it does not diagnose.",
    "Fasciculations are counted only at rest (outside movement, limb movements, cramps and "
    "artifacts, with margins); the second potential of a doublet is not counted as a new one.",
    "Periodic limb movements are scored on tibialis anterior in the clinic; a calf sensor "
    "under-detects them, so the PLM index is a lower estimate. It is per hour of recording, not of "
    "sleep.",
    "Rates count the potentials the detector can see: those whose peak-to-peak over their span "
    "reaches each channel's detection_floor_uv (detection_floor_k x its resting noise RMS, measured "
    "away from the potentials, or x the noise at the potential where that is higher; "
    "detection_floor_k is detectable_ptp_k, or cardiac_floor_k where the heartbeat reaches the "
    "channel); smaller ones are not counted. Near the floor a potential's size is the median over "
    "its unit's discharges around it (alike in shape and size), so that the noise on one sweep "
    "does not decide which of a unit's discharges are counted.",
    "A potential that starts inside another merges into it: rates are per minute of rest less the "
    "time spent inside the listed potentials (blind_minutes), the dead-time correction of "
    "counting statistics, which adds back what such merges drop (a few % at 100 per minute).",
    "Three rules drop independent twitches by chance, uncorrected: two potentials of other shapes "
    "within 150 ms are a jerk's units where the channel's other twitches are fewer than about 0.4 "
    "a minute (about 0.2 % of twitches there); of two within 30 ms, both under twice the "
    "floor, the smaller is taken as half of the larger (the noise cuts small potentials in two): "
    "up to about 1 % of twitches at 20 per minute and 5 % at 100 when all are that small; and "
    "twitches that fall regularly spaced, as a unit's tonic firing (1.3-30 Hz) or a clonus's "
    "beats (5-30 Hz, ten or more) are, are that activity, not twitches: a few such runs a night "
    "where one unit twitches 60 times a minute or the channel 120 times, none seen at 60 a "
    "minute on the channel.",
    "Surface amplitudes depend on fat thickness and electrode spacing: compare amplitudes within "
    "one wearer and one electrode placement only.",
    "Heartbeats that reach the channel (the ECG: one shape at the heart's steady rhythm, ten beats "
    "or more in a row) are not counted (quality: ecg_beats); a twitch on the QRS itself (within "
    "about 20 ms of it) is lost with the beat; most of those beside it are counted.",
)


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in ("calfwatch", "numpy", "scipy", "numba"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def plain(value: Any) -> Any:
    """Convert numpy scalars/arrays, dates and non-finite floats to plain JSON values."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return [plain(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def quality_by_channel(quality: np.ndarray, ch_names: list[str],
                       lost_s: dict[str, float] | None = None,
                       duration_s: float | None = None,
                       noise_uv: dict[str, float | None] | None = None,
                       cardiac: dict[str, dict] | None = None,
                       pops: dict[str, int] | None = None) -> dict[str, dict]:
    """Per channel: noise RMS, mean mains fraction, saturated/flat/lost fractions, pops, and the
    floor ratio (:func:`dsp.quality.channel_floor_ratio`: about 1 for raw EMG; None when too few
    windows have one).

    ``pops`` are the electrode pops the classifier found on the channel (``pops``, its
    ``artifact``/``pop`` events; None when not given). ``loud_excursions`` counts the quality
    windows' excursions beyond 50 sigma: a pop makes one, and so does every large twitch.

    ``noise_rms_uv`` is the channel's entry in ``noise_uv`` (its resting noise, the noise behind
    its detection floor: :func:`classifier.noise.resting_noise_uv`) when given, else the median
    noise of its quality windows.

    ``ecg_beats`` and ``ecg_rate_per_min``: the heartbeats found on the channel and their median
    rate (``cardiac``, :func:`classifier.cardiac.beat_summary`; None when not given); they are
    interference, not counted.

    ``lost_fraction`` is the share of the channel's time without measurable data: with ``lost_s``
    (the rest accounting's lost time: gaps, the filter's settling after them, unmeasured frames)
    over ``duration_s``, else the share of samples missing in the quality windows
    (``samples_lost_fraction``, always given). ``usable_fraction`` is the share that is neither
    lost, flat nor saturated, so it never exceeds what rest can use.
    """
    out = {}
    for ch, name in enumerate(ch_names):
        q = quality[quality["channel"] == ch]
        w = (q["stop"] - q["start"]).astype(float)
        total = float(w.sum())

        def mean(col, q=q, w=w, total=total):
            vals = np.nan_to_num(q[col], nan=0.0)
            return float(np.sum(vals * w) / total) if total > 0 else None

        saturated, flat, samples_lost = (mean(c) for c in
                                         ("saturated_fraction", "flat_fraction", "nan_fraction"))
        lost = samples_lost
        if lost_s is not None and duration_s and name in lost_s:
            lost = min(1.0, max(samples_lost or 0.0, lost_s[name] / duration_s))
        out[name] = {
            "noise_rms_uv": (noise_uv[name] if noise_uv and name in noise_uv
                             else median_noise_uv(quality, ch)),
            "mains_fraction": mean("mains_fraction"),
            "saturated_fraction": saturated,
            "flat_fraction": flat,
            "lost_fraction": lost,
            "samples_lost_fraction": samples_lost,
            "pops": pops.get(name, 0) if pops is not None else None,
            "loud_excursions": int(q["pops"].sum()),
            "usable_fraction": (max(0.0, 1.0 - saturated - flat - lost) if total > 0 else None),
            "windows": int(len(q)),
            "floor_ratio": _finite_or_none(round(channel_floor_ratio(quality, ch), 3)),
            "ecg_beats": cardiac[name]["beats"] if cardiac and name in cardiac else None,
            "ecg_rate_per_min": (cardiac[name]["rate_per_min"] if cardiac and name in cardiac
                                 else None),
        }
    return out


def detection_floor_ks(quality_doc: dict[str, dict], config: ClassifierConfig) -> dict[str, float]:
    """Per channel: the multiple of its noise RMS its fasciculations are counted from
    (:func:`classifier.noise.channel_floor_k`: higher where the heartbeat reaches it).

    The definition and its reason are in ``[detection]`` of ``thresholds.toml``.
    """
    return {name: channel_floor_k(config.detection, int(q.get("ecg_beats") or 0))
            for name, q in quality_doc.items()}


def detection_floors_uv(
    quality_doc: dict[str, dict], floor_ks: dict[str, float]
) -> dict[str, float | None]:
    """Per channel: its floor's multiple (``floor_ks``, :func:`detection_floor_ks`) x the noise
    RMS (µV), None without a noise figure."""
    return {name: (floor_ks[name] * q["noise_rms_uv"] if q.get("noise_rms_uv") is not None
                   else None)
            for name, q in quality_doc.items()}


def _channels_doc(classified: ClassifiedNight, floors_uv: dict[str, float | None],
                  floor_ks: dict[str, float]) -> dict[str, dict]:
    """Per channel: its rates, counts per kind, rest intervals and detection floor."""
    ev = classified.events
    channels = {}
    for name, r in classified.rates["channels"].items():
        mine = ev["channel"] == classified.ch_names.index(name)
        channels[name] = {
            **r,
            "counts": {k: int(np.sum(mine & (ev["kind"] == k) & ~ev["doublet"]))
                       for k in EVENT_KINDS},
            "rest_intervals_s": classified.rest[name].intervals_s.tolist(),
            "detection_floor_uv": floors_uv[name],
            "detection_floor_k": floor_ks[name],
        }
    return channels


def night_summary(classified: ClassifiedNight, meta: dict[str, Any] | None, quality: np.ndarray) -> dict:
    """The versioned night-summary document.

    Parameters
    ----------
    classified : ClassifiedNight
        From :func:`classifier.night.classify_night`.
    meta : dict, optional
        Recording metadata (meas_date, device, sfreq_hz, file...), copied as plain JSON.
    quality : ndarray of dsp.types.QUALITY_DTYPE
        The chain's quality rows.

    Returns
    -------
    dict
        JSON-serialisable; ``assessment`` is None for the caller to fill.
    """
    rates = classified.rates
    ev = classified.events
    counts = {k: int(np.sum((ev["kind"] == k) & ~ev["doublet"])) for k in EVENT_KINDS}
    pop = (ev["kind"] == "artifact") & (ev["detail"] == "pop")
    pops = {name: int(np.sum(pop & (ev["channel"] == ch)))
            for ch, name in enumerate(classified.ch_names)}
    quality_doc = quality_by_channel(
        quality, classified.ch_names,
        {name: getattr(r, "lost_s", 0.0) for name, r in classified.rest.items()},
        classified.duration_s, classified.noise_uv, classified.cardiac, pops)
    floor_ks = detection_floor_ks(quality_doc, classified.config)
    channels = _channels_doc(classified, detection_floors_uv(quality_doc, floor_ks), floor_ks)
    doc = {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "duration_s": classified.duration_s,
        "rest_minutes": rates["rest_minutes"],
        "blind_minutes": rates["blind_minutes"],
        "fasciculations": rates["fasciculations"],
        "doublets": rates["doublets"],
        "fasciculations_per_min_rest": rates["fasciculations_per_min_rest"],
        "fasciculations_per_min_rest_ci95": rates["fasciculations_per_min_rest_ci95"],
        "plm": rates["plm"],
        "plm_index_per_h": rates["plm_index_per_h"],
        "plm_index_per_h_ci95": rates["plm_index_per_h_ci95"],
        "plm_legs": rates["legs"],
        "hours": rates["hours"],
        "counts": counts,
        "channels": channels,
        "morphology": classified.morphology,
        "detectable_ptp_k": float(classified.config.detection.detectable_ptp_k),
        "quality": quality_doc,
        "recording": dict(meta or {}),
        "thresholds": classified.config.to_dict(),
        "versions": _versions(),
        "caveats": list(CAVEATS) + [classified.morphology["caveat"]],
        "assessment": None,
    }
    return plain(doc)
