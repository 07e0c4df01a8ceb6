"""summary.json: the classifier's night summary, plus assessment, quality, versions and thresholds.

The classifier's document (:func:`classifier.summary.night_summary`) holds the counts, rest, rates,
PLM index and morphology. This module adds what the output contract promises besides: the
assessment with the wearer's history (:func:`classifier.assessment.assess`), signal quality per
channel, the channels left out, notes on inputs the thresholds were not made for, the software
versions and every threshold used (classifier and detection chain).
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
from collections.abc import Iterable
from typing import Any

import numpy as np

#: Median fasciculation-candidate amplitude above which the input looks like needle EMG or mV-scale.
NEEDLE_LIKE_PTP_UV = 2000.0


def versions() -> dict[str, str]:
    """Versions of calfwatch and of the libraries that shape the numbers."""
    from calfwatch import __version__

    out = {"calfwatch": __version__}
    for name in ("numpy", "scipy", "numba", "mne"):
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "unknown"
    return out


def quality_summary(quality: np.ndarray, ch_names: list[str]) -> dict[str, Any]:
    """Per-channel signal quality over the night, from the chain's quality windows.

    Returns
    -------
    dict
        Channel name -> ``noise_rms_uv`` (median over windows), ``mains_fraction`` (median),
        ``saturated_fraction``, ``flat_fraction``, ``lost_fraction`` (sample-weighted means),
        ``pops`` (total) and ``windows``.
    """
    out: dict[str, Any] = {}
    for ch, name in enumerate(ch_names):
        rows = quality[quality["channel"] == ch]
        n = (rows["stop"] - rows["start"]).astype(np.float64)
        total = float(n.sum())

        def weighted(col: str, rows=rows, n=n, total=total) -> float | None:
            vals = np.nan_to_num(rows[col], nan=0.0)
            return float((vals * n).sum() / total) if total else None

        with np.errstate(all="ignore"):
            noise = rows["noise_rms_uv"][np.isfinite(rows["noise_rms_uv"])]
            mains = rows["mains_fraction"][np.isfinite(rows["mains_fraction"])]
        out[name] = {
            "noise_rms_uv": float(np.median(noise)) if len(noise) else None,
            "mains_fraction": float(np.median(mains)) if len(mains) else None,
            "saturated_fraction": weighted("saturated_fraction"),
            "flat_fraction": weighted("flat_fraction"),
            "lost_fraction": weighted("nan_fraction"),
            "pops": int(rows["pops"].sum()),
            "windows": int(len(rows)),
        }
    return out


def input_notes(candidates: np.ndarray, sfreq_hz: float) -> list[str]:
    """Warnings about inputs the surface-EMG thresholds were not made for."""
    notes = []
    if len(candidates) >= 20 and float(np.median(candidates["ptp_uv"])) > NEEDLE_LIKE_PTP_UV:
        notes.append(
            "Potentials are in the millivolt range, as in needle EMG: the thresholds are made for "
            "surface EMG, so rates and kinds may not transfer.")
    if sfreq_hz > 10000:
        notes.append(
            f"Sampling rate {sfreq_hz:g} Hz suggests a needle or laboratory recording: the "
            "thresholds are made for surface EMG.")
    return notes


def build_summary(
    classified: Any,
    night: Any,
    engine: Any,
    *,
    unusable: list[str],
    history_nights: Iterable[Any] = (),
    symptoms: Iterable[str] = (),
) -> dict[str, Any]:
    """The summary.json document of a classified night.

    Parameters
    ----------
    classified : classifier.night.ClassifiedNight
    night : classifier.night.NightData
        What was classified (channels left out already removed).
    engine : calfwatch.pipeline.NightEngine
        For the stream info, the chain settings and the configuration.
    unusable : list of str
        Channels left out (flat or lost throughout).
    history_nights, symptoms
        The wearer's stored nights and red-flag symptoms, for the assessment.
    """
    from classifier.summary import night_summary

    from classifier.assessment import assess

    info = engine.info
    doc = dict(night_summary(classified, night, info=info))
    doc.setdefault("quality", quality_summary(night.quality, night.ch_names))
    doc["quality_by_channel"] = quality_summary(night.quality, night.ch_names)
    doc["unusable_channels"] = list(unusable)
    doc["notes"] = list(doc.get("notes") or []) + input_notes(night.candidates, info.sfreq_hz)
    for name in unusable:
        doc["notes"].append(f"Channel {name} carried no signal (flat or lost throughout) and was "
                            "left out of every count.")
    doc["assessment"] = assess(list(history_nights), list(symptoms), engine.config,
                               tonight=doc).to_dict()
    doc["versions"] = {**versions(), **({"summary": doc["summary_version"]}
                                        if "summary_version" in doc else {})}
    doc["thresholds"] = {
        "classifier": engine.config,
        "detection_chain": dataclasses.asdict(engine.chain_config),
        "mains_hz": engine.chain.mains_hz,
    }
    return doc
