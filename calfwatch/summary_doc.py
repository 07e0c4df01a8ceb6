"""summary.json: the classifier's night summary, plus the assessment, recording facts and settings.

The classifier's document (:func:`classifier.summary.night_summary`) holds the counts, rest, rates,
PLM index, morphology, quality per channel and the classifier thresholds. This module adds what the
output contract promises besides: the recording facts, the assessment with the wearer's history
(:func:`classifier.assessment.assess`), the channels left out, notes on inputs the thresholds were
not made for, the software versions and the detection chain's settings.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterable, Mapping
from datetime import UTC
from typing import TYPE_CHECKING, Any

import numpy as np

from calfwatch.engine.channels import NO_BAND, NO_SIGNAL, RECTIFIED

if TYPE_CHECKING:
    from acquisition.stream import StreamInfo
    from classifier.config import ClassifierConfig
    from classifier.night import ClassifiedNight
    from classifier.night_data import NightData

#: Median candidate amplitude above which the input looks like needle EMG or a mV-scale signal.
NEEDLE_LIKE_PTP_UV = 2000.0
#: Median noise floor above which the input is not resting surface EMG (that is 3-8 µV).
HIGH_NOISE_UV = 30.0
#: The note when no mains hum stood out in the first seconds (dsp.chain.DetectionChain) and a hum
#: at the other grid's frequency came later (:func:`hum_at_other_grid`).
MAINS_ASSUMED_NOTE = (
    "No mains hum was found in the first seconds, so the notches were set at {hz:g} Hz without "
    "one to go by; a hum that came later is at {other:g} Hz (the mains artifacts repeat "
    "themselves every {period_ms:.1f} ms). It passed the notches and its time was taken out of "
    "rest: if the grid here runs at {other:g} Hz, analyse again with --mains {other:g}.")
MAINS_SWITCHED_NOTE = (
    "No mains hum was found in the first seconds, so the notches were set at {hz:g} Hz without "
    "one to go by; a hum at {other:g} Hz came later, and from {at} into the recording the "
    "notches sit on it. Before they moved it passed them for a few seconds; with --mains "
    "{other:g} it would not have.")

#: The note for a channel left out, by why (:func:`calfwatch.engine.channels.usable_channels`).
LEFT_OUT_NOTES = {
    NO_SIGNAL: "Channel {name} carried no signal (flat or lost throughout) and was left out of "
               "every count.",
    RECTIFIED: "Channel {name} looks rectified: its signal never went below its baseline, as a "
               "sensor's rectified (RECT) output does. Rectification doubles the phases of every "
               "potential, so the channel was left out of every count; record the sensor's raw "
               "(RAW) output.",
    NO_BAND: "Channel {name} carried nothing in the 20-450 Hz band where potentials are counted, "
             "though its signal moved: it looks like an envelope (ENV) or a low-passed output, "
             "and was left out of every count; record the sensor's raw (RAW) output.",
}


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


#: A recording's own low-pass below this share of the top of the band calfwatch measures in, or
#: its high-pass above this multiple of the band's bottom, is named in a note (calfwatch choice:
#: sensors made for surface EMG pass 10-25 to 450-500 Hz, the BITalino's 25-482 Hz; a
#: polysomnograph's leg EMG channel 10-100 Hz).
FILTER_NOTE_LOW_SHARE, FILTER_NOTE_HIGH_FACTOR = 0.9, 1.5


def filter_notes(device: dict, band_hz: tuple[float, float], sfreq_hz: float) -> list[str]:
    """A note when the recording's own filter (its file's prefilter field or Raw ``info``, or the
    device's stated or known hardware filter) cuts into the band potentials are measured in.

    Examples
    --------
    >>> filter_notes({"lowpass_hz": 100.0}, (20.0, 450.0), 1000.0)[0][:58]
    'The recording passed a 100 Hz low-pass before calfwatch (a'
    >>> filter_notes({"kind": "bitalino"}, (20.0, 450.0), 1000.0)
    []
    """
    from acquisition.edf.labels import filter_corners_hz, hardware_prefilter
    from dsp.filters import band_top_hz

    stated_high, stated_low = filter_corners_hz(hardware_prefilter(device))
    high_hz = device.get("highpass_hz", stated_high)
    low_hz = device.get("lowpass_hz", stated_low)
    top_hz = band_top_hz(band_hz[1], sfreq_hz)
    notes = []
    if low_hz and low_hz < FILTER_NOTE_LOW_SHARE * top_hz:
        notes.append(
            f"The recording passed a {low_hz:g} Hz low-pass before calfwatch (as its file or "
            f"device states), below the {top_hz:g} Hz top of the band potentials are measured "
            "in: their fast phases are cut, so they read smaller than on the skin and some near "
            "the detection floor are not counted. Compare rates only with nights recorded the "
            "same way.")
    if high_hz and high_hz > FILTER_NOTE_HIGH_FACTOR * band_hz[0]:
        notes.append(
            f"The recording passed a {high_hz:g} Hz high-pass before calfwatch (as its file or "
            f"device states), above the {band_hz[0]:g} Hz bottom of the band potentials are "
            "measured in: "
            "slow potentials read smaller and some are not counted. Compare rates only with "
            "nights recorded the same way.")
    return notes


def input_notes(candidates: np.ndarray, sfreq_hz: float, quality: np.ndarray) -> list[str]:
    """Warnings about inputs the surface-EMG thresholds were not made for."""
    notes = []
    noise = quality["noise_rms_uv"][np.isfinite(quality["noise_rms_uv"])]
    if len(noise) and float(np.median(noise)) > HIGH_NOISE_UV:
        notes.append(
            f"The noise floor ({float(np.median(noise)):.0f} µV) is far above surface EMG at rest "
            "(3-8 µV): needle EMG, a millivolt-scale signal or poor electrode contact. The "
            "thresholds are made for surface EMG; treat counts and kinds with caution.")
    if len(candidates) >= 20 and float(np.median(candidates["ptp_uv"])) > NEEDLE_LIKE_PTP_UV:
        notes.append(
            "Potentials are in the millivolt range, as in needle EMG: the thresholds are made for "
            "surface EMG, so rates and kinds may not transfer.")
    if sfreq_hz > 10000:
        notes.append(
            f"Sampling rate {sfreq_hz:g} Hz suggests a needle or laboratory recording: the "
            "thresholds are made for surface EMG.")
    return notes


def noise_change_notes(events: np.ndarray, ch_names: list[str]) -> list[str]:
    """One note per channel whose sensor noise was raised and held for a while (``noise``
    artifacts, :func:`classifier.events.classify_bursts`): how long, and what to check.

    Examples
    --------
    >>> from classifier.events import make_events
    >>> ev = make_events(1)
    >>> ev["kind"], ev["detail"], ev["channel"], ev["duration_s"] = "artifact", "noise", 0, 480.0
    >>> noise_change_notes(ev, ["calf"])[0][:48]
    'On calf the noise rose and held for 8.0 minutes '
    """
    notes = []
    for ch, name in enumerate(ch_names):
        mine = events[(events["channel"] == ch) & (events["kind"] == "artifact")
                      & (events["detail"] == "noise")]
        if len(mine):
            notes.append(
                f"On {name} the noise rose and held for {float(mine['duration_s'].sum()) / 60:.1f} "
                f"minutes in {len(mine)} stretch{'es' if len(mine) > 1 else ''} (as when an "
                "electrode's contact changes on turning over): that time is not rest and its "
                "twitches are not counted. Check the electrodes before the next night.")
    return notes


def hum_at_other_grid(events: np.ndarray, night: NightData, mains_hz: float) -> bool:
    """Whether the night's mains artifacts are a hum at the other grid's frequency than
    ``mains_hz``: their candidates repeat themselves a period of the other one later more than a
    period of ``mains_hz`` later (medians, :func:`classifier.mains.line_periodicity`)."""
    from classifier.mains import line_periodicity

    art = events[events["detail"] == "mains"]
    cand, sf = night.candidates, night.sfreq_hz
    t_s = cand["peak"] / sf
    inside = np.zeros(len(cand), bool)
    for e in art:
        inside |= ((cand["channel"] == e["channel"]) & (t_s >= e["onset_s"])
                   & (t_s < e["onset_s"] + e["duration_s"]))
    if not inside.any():
        return False
    snips = night.snippets[inside]
    own = line_periodicity(snips, sf, (mains_hz,))
    other = line_periodicity(snips, sf, (other_grid_hz(mains_hz),))
    ok = np.isfinite(own) & np.isfinite(other)
    return bool(ok.any() and np.median(other[ok]) > np.median(own[ok]))


def _clock(seconds: float) -> str:
    """``seconds`` as h:mm:ss."""
    whole = int(round(seconds))
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


def other_grid_hz(mains_hz: float) -> float:
    """The other grid's frequency: 60 for 50 Hz, 50 for 60 Hz."""
    return 60.0 if mains_hz == 50.0 else 50.0


def recording_facts(night: NightData, info: StreamInfo,
                    local: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Start (UTC and local), length, rate, channels, gaps and device of the recording.

    ``local`` holds the wearer's ``start_local`` and ``timezone``
    (:func:`calfwatch.local_time.local_start`); without it the start is in this machine's zone.
    A recording that states no date has ``start_utc``, ``start_local``, ``timezone`` and
    ``meas_date`` None and ``date_unknown`` True (never a made-up 1970).
    """
    from calfwatch.local_time import local_start

    start = None if info.meas_date is None else info.meas_date.astimezone(UTC)
    if local is None or start is None:
        local = local_start(start, None)
    return {
        "start_utc": None if start is None else start.isoformat(),
        "start_local": local.get("start_local"),
        "timezone": local.get("timezone"),
        "meas_date": None if start is None else start.isoformat(),
        "date_unknown": start is None,
        "duration_s": night.duration_s,
        "sfreq_hz": info.sfreq_hz,
        "ch_names": list(info.ch_names),
        "channels_analysed": list(night.ch_names),
        "gaps_s": [[g[1] / info.sfreq_hz, (g[2] - g[1]) / info.sfreq_hz] for g in night.gaps],
        "device": dict(info.device),
        **{k: v for k, v in night.meta.items() if k in ("file", "subject", "side")},
    }


def build_summary(
    classified: ClassifiedNight,
    night: NightData,
    *,
    info: StreamInfo,
    config: ClassifierConfig,
    chain_settings: dict[str, Any],
    unusable: Mapping[str, str],
    history_nights: Iterable[Any] = (),
    symptoms: Iterable[str] = (),
    local: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The summary.json document of a classified night.

    Parameters
    ----------
    classified : classifier.night.ClassifiedNight
    night : classifier.night.NightData
        What was classified (channels left out already removed).
    info : StreamInfo
        The stream analysed.
    config : ClassifierConfig
        The classifier configuration (its thresholds go into the document).
    chain_settings : dict
        The detection chain's settings and mains frequency.
    unusable : mapping of str to str
        Channels left out, and why (:func:`calfwatch.engine.channels.usable_channels`).
    history_nights, symptoms
        The wearer's stored nights and red-flag symptoms, for the assessment.
    local : mapping, optional
        The wearer's ``start_local`` and ``timezone`` (:func:`recording_facts`).
    """
    from classifier.assessment import assess
    from classifier.summary import night_summary

    doc = night_summary(classified, recording_facts(night, info, local), night.quality)
    doc["unusable_channels"] = list(unusable)
    doc["unusable_reasons"] = dict(unusable)
    doc["notes"] = list(doc.get("notes") or []) + input_notes(night.candidates, info.sfreq_hz, night.quality)
    if chain_settings.get("mains_switched_s") is not None:
        doc["notes"].append(MAINS_SWITCHED_NOTE.format(
            hz=other_grid_hz(chain_settings["mains_hz"]), other=chain_settings["mains_hz"],
            at=_clock(chain_settings["mains_switched_s"])))
    elif chain_settings.get("mains_assumed") and hum_at_other_grid(classified.events, night,
                                                                  chain_settings["mains_hz"]):
        other = other_grid_hz(chain_settings["mains_hz"])
        doc["notes"].append(MAINS_ASSUMED_NOTE.format(hz=chain_settings["mains_hz"], other=other,
                                                      period_ms=1000.0 / other))
    doc["notes"] += filter_notes(info.device, tuple(chain_settings.get("band_hz", (20.0, 450.0))),
                                 info.sfreq_hz)
    doc["notes"] += noise_change_notes(classified.events, list(night.ch_names))
    doc["notes"] += [LEFT_OUT_NOTES[reason].format(name=name)
                     for name, reason in unusable.items()]
    doc["assessment"] = assess(list(history_nights), list(symptoms), config, tonight=doc).to_dict()
    doc["versions"] = {**(doc.get("versions") or {}), **versions()}
    doc["thresholds"] = {
        **(doc.get("thresholds") or config.to_dict()),
        "detection_chain": dict(chain_settings),
    }
    return doc
