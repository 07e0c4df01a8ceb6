"""What the report shows, read from a night's output folder and the history store.

:func:`load_night` reads ``summary.json`` and ``events.tsv`` of ``calfwatch analyze``;
:func:`build_context` turns them (and the subject's stored nights) into plain values for the
template: every number shown comes from the summary, the events table or the history store, never
recomputed differently here.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from classifier.kinds import EVENT_KINDS


class ReportError(ValueError):
    """The report cannot be made from the given input (message: '<path>: <problem>')."""


@dataclass
class ReportInput:
    """Everything a report is made from.

    Attributes
    ----------
    summary : dict
        The night summary (``summary.json``).
    events : list of dict or None
        Rows of ``events.tsv`` (None when only the history's copy of the summary is available).
    nights : list
        The subject's stored nights (:class:`calfwatch.history.StoredNight`), oldest first.
    symptoms : list of str
        Red-flag symptoms the subject reported and has not cleared.
    subject : str or None
        The subject's id in the history store.
    source : str
        Where the night came from (folder, or ``history``), for the page footer.
    """

    summary: dict[str, Any]
    events: list[dict[str, Any]] | None = None
    nights: list[Any] = field(default_factory=list)
    symptoms: list[str] = field(default_factory=list)
    subject: str | None = None
    source: str = ""


def load_night(directory: str | os.PathLike) -> tuple[dict[str, Any], list[dict[str, Any]] | None]:
    """Read ``summary.json`` and (when present) ``events.tsv`` from an analysis folder.

    Raises
    ------
    ReportError
        If the folder or its summary is missing or not readable.
    """
    from calfwatch.outputs import EVENTS_FILE, SUMMARY_FILE, read_events_tsv

    directory = Path(directory)
    if not directory.is_dir():
        raise ReportError(f"{directory}: not a folder (give the output folder of calfwatch analyze)")
    path = directory / SUMMARY_FILE
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReportError(f"{path}: no night summary (run calfwatch analyze first)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReportError(f"{path}: not a readable night summary ({exc})") from None
    if not isinstance(summary, dict):
        raise ReportError(f"{path}: not a night summary (a JSON object is expected)")
    events_path = directory / EVENTS_FILE
    if not events_path.exists():
        return summary, None
    try:
        return summary, read_events_tsv(events_path)
    except (OSError, UnicodeDecodeError, ValueError, KeyError, IndexError) as exc:
        raise ReportError(f"{events_path}: not a readable events table ({exc})") from None


# --- small formatting helpers ---------------------------------------------------------------------


def number(value: Any) -> float | None:
    """A finite float, or None."""
    if isinstance(value, bool):
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def fmt(value: Any, digits: int = 2, unit: str = "") -> str:
    """A number with a fixed number of decimals and its unit; ``n/a`` when missing."""
    x = number(value)
    if x is None:
        return "n/a" if value is None or isinstance(value, float | int) else str(value)
    text = f"{x:.{digits}f}"
    return f"{text} {unit}".rstrip() if unit else text


def flatten(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Nested dictionaries and lists as ``(dotted key, text)`` rows, for tables of facts."""
    if isinstance(value, Mapping):
        rows: list[tuple[str, str]] = []
        for key, item in value.items():
            rows += flatten(item, f"{prefix}.{key}" if prefix else str(key))
        return rows
    if isinstance(value, list | tuple) and any(isinstance(v, Mapping | list) for v in value):
        rows = []
        for i, item in enumerate(value):
            rows += flatten(item, f"{prefix}[{i}]")
        return rows
    if isinstance(value, list | tuple):
        return [(prefix, ", ".join(str(v) for v in value))]
    if isinstance(value, float):
        return [(prefix, f"{value:.4g}")]
    return [(prefix, "n/a" if value is None else str(value))]


# --- sections -------------------------------------------------------------------------------------


def _channel_rows(summary: Mapping[str, Any]) -> list[dict[str, str]]:
    rows = []
    for name, ch in (summary.get("channels") or {}).items():
        if not isinstance(ch, Mapping):
            continue
        rows.append({
            "channel": str(name),
            "rest": fmt(ch.get("rest_minutes"), 1, "min"),
            "fasciculations": fmt(ch.get("fasciculations"), 0),
            "rate": fmt(ch.get("fasciculations_per_min_rest"), 2),
            "plm": fmt(ch.get("plm_index_per_h"), 1),
        })
    return rows


def _night_facts(summary: Mapping[str, Any]) -> list[tuple[str, str]]:
    morphology = summary.get("morphology") or {}
    poly = number(morphology.get("polyphasic_fraction"))
    median_ptp = ((morphology.get("amplitude_uv") or {}).get("quantiles") or {}).get("p50")
    return [
        ("Fasciculations at rest", fmt(summary.get("fasciculations"), 0)),
        ("Time at rest", fmt(summary.get("rest_minutes"), 1, "min")),
        ("Fasciculations per minute of rest", fmt(summary.get("fasciculations_per_min_rest"), 2)),
        ("PLM index", fmt(summary.get("plm_index_per_h"), 1, "per hour")),
        ("Median peak-to-peak amplitude", fmt(median_ptp, 1, "µV")),
        ("Polyphasic fraction", "n/a" if poly is None else f"{poly * 100:.1f} %"),
    ]


#: Labels of the recording facts the summary holds; other keys are shown as they are.
RECORDING_LABELS = {
    "subject": "Subject", "side": "Side", "start_local": "Start (local time)",
    "start_utc": "Start (UTC)", "meas_date": "Measurement date (UTC)", "duration_s": "Length",
    "sfreq_hz": "Sampling rate", "ch_names": "Channels in the file",
    "channels_analysed": "Channels analysed", "gaps_s": "Gaps (start s, length s)",
    "file": "File", "device.kind": "Device", "device.file": "Device file",
    "device.port": "Serial port", "device.protocol": "Protocol",
}


def _fact_text(key: str, value: Any) -> str:
    if value is None or value == "":
        return "not given"
    if key == "duration_s" and number(value) is not None:
        return f"{number(value) / 3600.0:.2f} h ({number(value):.0f} s)"
    if key == "sfreq_hz" and number(value) is not None:
        return f"{number(value):g} Hz"
    if key == "gaps_s" and isinstance(value, list):
        return "; ".join(f"{g[0]:.1f} s, {g[1]:.1f} s" for g in value) or "none"
    return flatten(value)[0][1] if not isinstance(value, Mapping) else str(value)


def _recording_rows(summary: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, text) of every recording fact, the known ones first and labelled."""
    recording = dict(summary.get("recording") or {})
    rows = []
    for key in ("subject", "side", "start_local", "start_utc", "duration_s", "sfreq_hz",
                "ch_names", "channels_analysed", "gaps_s", "file"):
        if key in recording:
            rows.append((RECORDING_LABELS[key], _fact_text(key, recording.pop(key))))
    recording.pop("meas_date", None)  # the same instant as start_utc
    return rows + [(RECORDING_LABELS.get(k, k), v) for k, v in flatten(recording)]


def _events_of(events: Sequence[Mapping[str, Any]] | None, kind: str) -> list[Mapping[str, Any]]:
    return [e for e in (events or ()) if e.get("kind") == kind]


def _kind_counts(summary: Mapping[str, Any],
                 events: Sequence[Mapping[str, Any]] | None) -> list[tuple[str, int | str]]:
    """Events per kind: the summary's counts, else the events table's, else ``n/a``."""
    counts = summary.get("counts")
    if isinstance(counts, Mapping):
        return [(k, int(counts.get(k) or 0)) for k in EVENT_KINDS]
    if events is None:
        return [(k, "n/a") for k in EVENT_KINDS]
    return [(k, len(_events_of(events, k))) for k in EVENT_KINDS]


def _duration_s(summary: Mapping[str, Any], events: Sequence[Mapping[str, Any]] | None) -> float:
    recording = summary.get("recording") or {}
    duration = number(recording.get("duration_s"))
    if duration:
        return duration
    ends = [(e.get("onset") or 0.0) + (e.get("duration") or 0.0) for e in events or ()]
    return max(ends, default=0.0)


def hour_label(label: Any) -> str:
    """``2026-03-14T23:00:00+01:00`` -> ``23:00``; other labels (``+1h``) as they are."""
    text = str(label)
    try:
        return datetime.fromisoformat(text).strftime("%H:%M")
    except ValueError:
        return text


def _hour_tables(summary: Mapping[str, Any]) -> dict[str, list[Mapping[str, Any]]]:
    """Channel -> its per-clock-hour rows (``hours``) from the summary."""
    out = {}
    for name, ch in (summary.get("channels") or {}).items():
        table = ch.get("hours") if isinstance(ch, Mapping) else None
        if table:
            out[str(name)] = [h for h in table if isinstance(h, Mapping)]
    return out


def _hourly(summary: Mapping[str, Any]) -> tuple[list[str], dict, dict, list[dict[str, str]]]:
    """Hour labels, counts and rates per channel, and table rows, from the summary's hours."""
    tables = _hour_tables(summary)
    labels: list[str] = []
    counts: dict[str, list[float]] = {}
    rates: dict[str, list[float | None]] = {}
    rows: list[dict[str, str]] = []
    for name, table in tables.items():
        labels = [hour_label(h.get("hour", i)) for i, h in enumerate(table)]
        counts[name] = [float(h.get("fasciculations") or 0) for h in table]
        rates[name] = [number(h.get("fasciculations_per_min_rest")) for h in table]
        for label, h in zip(labels, table, strict=True):
            rows.append({"channel": name, "hour": label,
                         "rest": fmt(h.get("rest_minutes"), 1, "min"),
                         "fasciculations": fmt(h.get("fasciculations"), 0),
                         "rate": fmt(h.get("fasciculations_per_min_rest"), 2),
                         "plm": fmt(h.get("plm"), 0)})
    return labels, counts, rates, rows


def _units(morphology: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every unit of every channel, with its channel name."""
    units = []
    for name, ch in (morphology.get("channels") or {}).items():
        for unit in (ch.get("units") or []) if isinstance(ch, Mapping) else []:
            if isinstance(unit, Mapping):
                units.append({**unit, "channel": str(name)})
    return units


def _distributions(morphology: Mapping[str, Any]) -> list[tuple[str, Mapping | None]]:
    return [("peak-to-peak amplitude (µV)", morphology.get("amplitude_uv")),
            ("duration (ms)", morphology.get("duration_ms")),
            ("phases", morphology.get("phases"))]


def _distribution_rows(morphology: Mapping[str, Any]) -> list[dict[str, str]]:
    rows = []
    for label, hist in _distributions(morphology):
        if not isinstance(hist, Mapping):
            continue
        q = hist.get("quantiles") or {}
        rows.append({"name": label, "n": fmt(hist.get("n"), 0),
                     "p05": fmt(q.get("p05"), 1), "p25": fmt(q.get("p25"), 1),
                     "p50": fmt(q.get("p50"), 1), "p75": fmt(q.get("p75"), 1),
                     "p95": fmt(q.get("p95"), 1), "mean": fmt(hist.get("mean"), 1)})
    return rows


def _quality_table(quality: Any) -> dict[str, Any]:
    """Channel rows of the per-channel quality figures (empty when not per channel)."""
    if not isinstance(quality, Mapping) or not quality or not all(
            isinstance(v, Mapping) for v in quality.values()):
        return {"columns": [], "rows": []}
    columns = list(dict.fromkeys(k for v in quality.values() for k in v))
    rows = [(str(name), [fmt(v.get(c), 3) if isinstance(v.get(c), float) else
                         ("n/a" if v.get(c) is None else str(v.get(c))) for c in columns])
            for name, v in quality.items()]
    return {"columns": columns, "rows": rows}


def _threshold_rows(thresholds: Mapping[str, Any]) -> list[dict[str, str]]:
    rows = []

    def walk(table: Mapping[str, Any], path: str) -> None:
        for key, value in table.items():
            name = f"{path}.{key}" if path else str(key)
            if isinstance(value, Mapping) and "value" in value:
                rows.append({"name": name, "value": str(value.get("value")),
                             "unit": str(value.get("unit", "")),
                             "level": str(value.get("level", "")),
                             "source": str(value.get("source", ""))})
            elif isinstance(value, Mapping):
                walk(value, name)
            else:
                rows.append({"name": name, "value": str(value), "unit": "", "level": "",
                             "source": ""})

    walk(thresholds, "")
    return rows


def _gaps_s(summary: Mapping[str, Any]) -> list[tuple[float, float]]:
    """Lost spans as (start_s, stop_s), from ``recording.gaps_s`` ([start_s, length_s] pairs)."""
    out = []
    for gap in (summary.get("recording") or {}).get("gaps_s") or ():
        if isinstance(gap, list | tuple) and len(gap) == 2:
            start, length = number(gap[0]), number(gap[1])
            if start is not None and length is not None:
                out.append((start, start + length))
    return out


def _history_rows(nights: Sequence[Any], twitching_rate: float, min_rest: float) -> list[dict]:
    rows = []
    for n in nights:
        rate, rest = number(n.rate_per_min_rest), number(n.rest_minutes)
        evaluable = rate is not None and rest is not None and rest >= min_rest
        poly = number(n.polyphasic_fraction)
        rows.append({
            "date": n.night_date.isoformat(), "side": str(n.side or ""),
            "rest": fmt(None if rest is None else rest / 60.0, 1, "h"),
            "fasciculations": fmt(n.fasciculations, 0),
            "rate": fmt(rate, 2),
            "amplitude": fmt(n.median_ptp_uv, 1),
            "polyphasic": "n/a" if poly is None else f"{poly * 100:.1f} %",
            "twitching": ("yes" if rate >= twitching_rate else "no") if evaluable
            else "not evaluable",
        })
    return rows


def _assessment(inp: ReportInput, config: Mapping[str, Any]) -> dict[str, Any] | None:
    """The summary's assessment, or one made now over the subject's history and symptoms."""
    if not inp.nights and not inp.symptoms:
        return inp.summary.get("assessment")
    from classifier.assessment import assess

    return assess(inp.nights, inp.symptoms, config=config, tonight=inp.summary).to_dict()


def build_context(inp: ReportInput, config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Everything the template shows, as plain values and embedded figures.

    Parameters
    ----------
    inp : ReportInput
        The night, its events and the subject's history.
    config : dict, optional
        The configuration (thresholds for history rows and the methods section when the summary
        does not carry its own); :func:`classifier.config.load_config` when omitted.
    """
    from calfwatch import __version__
    from calfwatch.report import plots
    from calfwatch.summary_text import wearer_summary
    from classifier.config import load_config
    from classifier.persistence import settings_from_config

    config = config if config is not None else load_config()
    summary, events = inp.summary, inp.events
    settings = settings_from_config(config)
    assessment = _assessment(inp, config)
    morphology = summary.get("morphology") or {}
    hour_labels, counts, rates, hourly_rows = _hourly(summary)
    units = _units(morphology)
    duration_s = _duration_s(summary, events)
    tonight = (summary.get("recording") or {}).get("start_utc")
    latest = next((n.night_date.isoformat() for n in inp.nights if n.start_utc == tonight), None)
    thresholds = summary.get("thresholds") or config
    figures = {
        "hourly": plots.hourly_plot(hour_labels, counts, rates),
        "history": plots.history_plot([n.night_date.isoformat() for n in inp.nights],
                                      [n.rate_per_min_rest for n in inp.nights],
                                      settings.twitching_rate_per_min,
                                      [n.side for n in inp.nights], latest),
        "distributions": plots.distributions_plot(_distributions(morphology)),
        "waveforms": plots.waveform_plot(units, None),
        "timeline": plots.timeline_plot(events or [], duration_s, EVENT_KINDS, _gaps_s(summary),
                                        dict(_kind_counts(summary, events)))
        if events is not None else None,
    }
    return {
        "title": "calfwatch night report",
        "generated_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "version": __version__,
        "subject": inp.subject,
        "source": inp.source,
        "wearer_text": wearer_summary(summary, inp.nights, assessment),
        "recording_rows": _recording_rows(summary),
        "quality_rows": flatten(summary.get("quality") or {}),
        "quality_table": _quality_table(summary.get("quality")),
        "night_facts": _night_facts(summary),
        "channel_rows": _channel_rows(summary),
        "kind_counts": _kind_counts(summary, events),
        "assessment": assessment,
        "hourly_rows": hourly_rows,
        "history_rows": _history_rows(inp.nights, settings.twitching_rate_per_min,
                                      settings.min_rest_minutes),
        "symptoms": list(inp.symptoms),
        "unit_rows": [{"unit": str(u.get("unit", "?")), "channel": u["channel"],
                       "count": fmt(u.get("count"), 0), "ptp": fmt(u.get("median_ptp_uv"), 1),
                       "phases": fmt(u.get("median_phases"), 1),
                       "stability": fmt(u.get("stability"), 2)} for u in units],
        "distribution_rows": _distribution_rows(morphology),
        "unit_caveat": str(morphology.get("caveat") or ""),
        "notes": [str(n) for n in summary.get("notes") or []],
        "events_available": events is not None,
        "threshold_rows": _threshold_rows(thresholds),
        "version_rows": flatten(summary.get("versions") or {}),
        "caveats": summary.get("caveats") or (assessment or {}).get("caveats") or [],
        "figures": figures,
    }
