"""The report's sections as plain rows and values, read from the night summary and the history.

Each function reads one part of a night-summary document (``summary.json``), the events table or the
stored nights and returns text ready for the template: numbers are the summary's, formatted to a
fixed number of decimals with their unit, ``n/a`` where missing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo
from typing import Any

from classifier.kinds import EVENT_KINDS


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


def interval_text(value: Any, digits: int = 2) -> str:
    """``low-high`` of a ``[low, high]`` interval, ``n/a`` when missing."""
    if not isinstance(value, list | tuple) or len(value) != 2:
        return "n/a"
    low, high = number(value[0]), number(value[1])
    return "n/a" if low is None or high is None else f"{low:.{digits}f}-{high:.{digits}f}"


def channel_rows(summary: Mapping[str, Any]) -> list[dict[str, str]]:
    """One row per channel: rest, fasciculations, rate per minute of rest, PLM index."""
    rows = []
    for name, ch in (summary.get("channels") or {}).items():
        if not isinstance(ch, Mapping):
            continue
        rows.append({
            "channel": str(name),
            "rest": fmt(ch.get("rest_minutes"), 1, "min"),
            "fasciculations": fmt(ch.get("fasciculations"), 0),
            "rate": fmt(ch.get("fasciculations_per_min_rest"), 2),
            "rate_ci": interval_text(ch.get("fasciculations_per_min_rest_ci95")),
            "plm": fmt(ch.get("plm_index_per_h"), 1),
        })
    return rows


def night_facts(summary: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The night's pooled numbers as (label, text)."""
    morphology = summary.get("morphology") or {}
    poly = number(morphology.get("polyphasic_fraction"))
    median_ptp = ((morphology.get("amplitude_uv") or {}).get("quantiles") or {}).get("p50")
    return [
        ("Fasciculations at rest", fmt(summary.get("fasciculations"), 0)),
        ("Time at rest", fmt(summary.get("rest_minutes"), 1, "min")),
        ("Fasciculations per minute of rest", fmt(summary.get("fasciculations_per_min_rest"), 2)),
        ("95 % interval (exact Poisson)",
         interval_text(summary.get("fasciculations_per_min_rest_ci95"))),
        ("PLM index", fmt(summary.get("plm_index_per_h"), 1, "per hour")),
        ("PLM index 95 % interval", interval_text(summary.get("plm_index_per_h_ci95"), 1)),
        ("Median peak-to-peak amplitude", fmt(median_ptp, 1, "µV")),
        ("Polyphasic fraction", "n/a" if poly is None else f"{poly * 100:.1f} %"),
    ]


#: Labels of the recording facts the summary holds; other keys are shown as they are.
RECORDING_LABELS = {
    "subject": "Subject", "side": "Side", "start_local": "Start (local time)",
    "timezone": "Time zone",
    "start_utc": "Start (UTC)", "meas_date": "Measurement date (UTC)", "duration_s": "Length",
    "sfreq_hz": "Sampling rate", "ch_names": "Channels read",
    "channels_analysed": "Channels analysed", "gaps_s": "Gaps (start s, length s)",
    "file": "File", "device.kind": "Device", "device.file": "Device file",
    "device.port": "Serial port", "device.protocol": "Protocol",
}


def instant_text(iso: str, utc: bool = False) -> str:
    """An ISO 8601 instant as a reader takes it in: to the second, its UTC offset after it
    (summary.json keeps the exact value); text that is not such an instant is shown as it is.

    Examples
    --------
    >>> instant_text("2026-01-06T22:30:00.194187+09:00")
    '2026-01-06 22:30:00 (UTC+09:00)'
    >>> instant_text("2026-01-06T13:30:00+00:00", utc=True)
    '2026-01-06 13:30:00 UTC'
    """
    try:
        when = datetime.fromisoformat(str(iso))
    except ValueError:
        return str(iso)
    clock = when.strftime("%Y-%m-%d %H:%M:%S")
    offset = when.utcoffset()
    if offset is None:
        return clock
    if utc and not offset:
        return f"{clock} UTC"
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{clock} (UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d})"


def _fact_text(key: str, value: Any) -> str:
    if key in ("start_local", "start_utc") and not value:
        return "date unknown"
    if key in ("start_local", "start_utc"):
        return instant_text(value, utc=key == "start_utc")
    if key == "timezone" and not value:
        return "not known (hours at the start's UTC offset)"
    if value is None or value == "":
        return "not given"
    if key == "duration_s" and number(value) is not None:
        return f"{number(value) / 3600.0:.2f} h ({number(value):.0f} s)"
    if key == "sfreq_hz" and number(value) is not None:
        return f"{number(value):g} Hz"
    if key == "gaps_s" and isinstance(value, list):
        return "; ".join(f"{g[0]:.1f} s, {g[1]:.1f} s" for g in value) or "none"
    return flatten(value)[0][1] if not isinstance(value, Mapping) else str(value)


def recording_rows(summary: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, text) of every recording fact, the known ones first and labelled."""
    recording = dict(summary.get("recording") or {})
    if not recording.get("start_local"):  # no date: no zone to tell
        recording.pop("timezone", None)
    rows = []
    for key in ("subject", "side", "start_local", "timezone", "start_utc", "duration_s",
                "sfreq_hz", "ch_names", "channels_analysed", "file"):
        if key in recording:
            rows.append((RECORDING_LABELS[key], _fact_text(key, recording.pop(key))))
    if "gaps_s" in recording:  # summarised; the list is under the table, on demand
        gaps = gap_summary({"recording": {"gaps_s": recording.pop("gaps_s")}})
        rows.append(("Gaps", f"{gaps['count']}, {gaps['total']} in all, longest "
                             f"{gaps['longest']}" if gaps["count"] else "none"))
    recording.pop("meas_date", None)  # the same instant as start_utc
    recording.pop("date_unknown", None)  # said by the start rows
    return rows + [(RECORDING_LABELS.get(k, k), v) for k, v in flatten(recording)]


def _events_of(events: Sequence[Mapping[str, Any]] | None, kind: str) -> list[Mapping[str, Any]]:
    return [e for e in (events or ()) if e.get("kind") == kind]


def kind_counts(summary: Mapping[str, Any],
                 events: Sequence[Mapping[str, Any]] | None) -> list[tuple[str, int | str]]:
    """Events per kind: the summary's counts, else the events table's, else ``n/a``."""
    counts = summary.get("counts")
    if isinstance(counts, Mapping):
        return [(k, int(counts.get(k) or 0)) for k in EVENT_KINDS]
    if events is None:
        return [(k, "n/a") for k in EVENT_KINDS]
    return [(k, len(_events_of(events, k))) for k in EVENT_KINDS]


def duration_s(summary: Mapping[str, Any], events: Sequence[Mapping[str, Any]] | None) -> float:
    recording = summary.get("recording") or {}
    duration = number(recording.get("duration_s"))
    if duration:
        return duration
    ends = [(e.get("onset") or 0.0) + (e.get("duration") or 0.0) for e in events or ()]
    return max(ends, default=0.0)


def hour_label(label: Any, zone: tzinfo | None = None) -> str:
    """``2026-03-14T23:00:00+00:00`` -> ``23:00``, or the same instant in ``zone`` (``00:00``
    at +01:00); other labels (``+1h``) as they are.

    Examples
    --------
    >>> from datetime import timedelta, timezone
    >>> hour_label("2026-03-14T23:00:00+00:00"), hour_label("+1h")
    ('23:00', '+1h')
    >>> hour_label("2026-03-14T23:00:00+00:00", timezone(timedelta(hours=5, minutes=30)))
    '04:30'
    """
    text = str(label)
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return text
    if zone is not None and when.tzinfo is not None:
        when = when.astimezone(zone)
    return when.strftime("%H:%M")


def hour_heading(summary: Mapping[str, Any]) -> str:
    """What the hour labels of :func:`hourly` are: clock hours in local time, or hours from
    the start of a recording without a date."""
    return "Hour (local time)" if local_zone(summary) is not None else "Hour from the start"


def local_zone(summary: Mapping[str, Any]) -> tzinfo | None:
    """The wearer's zone, the one the report's start is shown in: ``recording.timezone`` (its
    rules give each hour its own offset, across a daylight-saving change too) when it agrees
    with ``recording.start_local``, else the fixed offset of ``start_local``; None when the
    summary states no local start (:func:`calfwatch.local_time.summary_zone`)."""
    from calfwatch.local_time import summary_zone

    recording = summary.get("recording")
    return summary_zone(recording) if isinstance(recording, Mapping) else None


def _hour_tables(summary: Mapping[str, Any]) -> dict[str, list[Mapping[str, Any]]]:
    """Channel -> its per-clock-hour rows (``hours``) from the summary."""
    out = {}
    for name, ch in (summary.get("channels") or {}).items():
        table = ch.get("hours") if isinstance(ch, Mapping) else None
        if table:
            out[str(name)] = [h for h in table if isinstance(h, Mapping)]
    return out


def hourly(summary: Mapping[str, Any]) -> tuple[list[str], dict, dict, list[dict[str, str]]]:
    """Hour labels, counts and rates per channel, and table rows, from the summary's hours."""
    tables = _hour_tables(summary)
    labels: list[str] = []
    counts: dict[str, list[float]] = {}
    rates: dict[str, list[float | None]] = {}
    rows: list[dict[str, str]] = []
    zone = local_zone(summary)  # the hours as the report's start is shown: local time
    for name, table in tables.items():
        labels = [hour_label(h.get("hour", i), zone) for i, h in enumerate(table)]
        counts[name] = [float(h.get("fasciculations") or 0) for h in table]
        rates[name] = [number(h.get("fasciculations_per_min_rest")) for h in table]
        for label, h in zip(labels, table, strict=True):
            rows.append({"channel": name, "hour": label,
                         "rest": fmt(h.get("rest_minutes"), 1, "min"),
                         "fasciculations": fmt(h.get("fasciculations"), 0),
                         "rate": fmt(h.get("fasciculations_per_min_rest"), 2),
                         "plm": fmt(h.get("plm"), 0),
                         "rate_ci": interval_text(h.get("fasciculations_per_min_rest_ci95"))})
    return labels, counts, rates, rows


def units(morphology: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every unit of every channel, with its channel name."""
    units = []
    for name, ch in (morphology.get("channels") or {}).items():
        for unit in (ch.get("units") or []) if isinstance(ch, Mapping) else []:
            if isinstance(unit, Mapping):
                units.append({**unit, "channel": str(name)})
    return units


def unit_rows(morphology: Mapping[str, Any]) -> list[dict[str, str]]:
    """One row per unit: label, channel, count, median amplitude and phases, shape stability."""
    return [{"unit": str(u.get("unit", "?")), "channel": u["channel"],
             "count": fmt(u.get("count"), 0), "ptp": fmt(u.get("median_ptp_uv"), 1),
             "phases": fmt(u.get("median_phases"), 1), "stability": fmt(u.get("stability"), 2)}
            for u in units(morphology)]


def distributions(morphology: Mapping[str, Any]) -> list[tuple[str, Mapping | None]]:
    """(axis label, histogram) of amplitude, duration and phases from the summary's morphology."""
    return [("peak-to-peak amplitude (µV)", morphology.get("amplitude_uv")),
            ("duration (ms)", morphology.get("duration_ms")),
            ("phases", morphology.get("phases"))]


def distribution_rows(morphology: Mapping[str, Any]) -> list[dict[str, str]]:
    """Count, quantiles and mean of each distribution."""
    rows = []
    for label, hist in distributions(morphology):
        if not isinstance(hist, Mapping):
            continue
        q = hist.get("quantiles") or {}
        rows.append({"name": label, "n": fmt(hist.get("n"), 0),
                     "p05": fmt(q.get("p05"), 1), "p25": fmt(q.get("p25"), 1),
                     "p50": fmt(q.get("p50"), 1), "p75": fmt(q.get("p75"), 1),
                     "p95": fmt(q.get("p95"), 1), "mean": fmt(hist.get("mean"), 1)})
    return rows


#: The quality table's columns: summary key, heading, and how the value is shown.
QUALITY_COLUMNS = (
    ("noise_rms_uv", "Noise RMS (µV)", "number"),
    ("usable_fraction", "Usable", "percent"),
    ("lost_fraction", "Lost (gaps and settling)", "percent"),
    ("samples_lost_fraction", "Samples lost", "percent"),
    ("flat_fraction", "Flat", "percent"),
    ("saturated_fraction", "Saturated", "percent"),
    ("mains_fraction", "Mains hum", "percent"),
    ("pops", "Electrode pops", "count"),
    ("ecg_beats", "Heartbeats (not counted)", "count"),
)


def _quality_cell(value: Any, how: str) -> str:
    x = number(value)
    if x is None:
        return "n/a"
    if how == "percent":
        return f"{x * 100:.1f} %"
    return f"{x:.1f}" if how == "number" else f"{x:.0f}"


def quality_table(quality: Any) -> dict[str, Any]:
    """Channel rows of the per-channel quality figures, labelled, fractions as percentages (empty
    when not per channel). Keys the summary has beyond :data:`QUALITY_COLUMNS` are left out."""
    if not isinstance(quality, Mapping) or not quality or not all(
            isinstance(v, Mapping) for v in quality.values()):
        return {"columns": [], "rows": []}
    present = [c for c in QUALITY_COLUMNS if any(c[0] in v for v in quality.values())]
    rows = [(str(name), [_quality_cell(v.get(key), how) for key, _, how in present])
            for name, v in quality.items()]
    return {"columns": [label for _, label, _ in present], "rows": rows}


def gap_summary(summary: Mapping[str, Any]) -> dict[str, Any]:
    """Count, total and longest of the recording's gaps, and each as text (start, length)."""
    spans = gaps_s(summary)
    lengths = [b - a for a, b in spans]
    return {
        "count": len(spans),
        "total": f"{sum(lengths):.3f} s" if spans else "0 s",
        "longest": f"{max(lengths):.3f} s" if spans else "n/a",
        "rows": [f"{a:.3f} s (+{b - a:.3f} s)" for a, b in spans],
    }


def threshold_rows(thresholds: Mapping[str, Any]) -> list[dict[str, str]]:
    """Every configured number as a row: name, value, unit, level and source (when it has one)."""
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


def gaps_s(summary: Mapping[str, Any]) -> list[tuple[float, float]]:
    """Lost spans as (start_s, stop_s), from ``recording.gaps_s`` ([start_s, length_s] pairs)."""
    out = []
    for gap in (summary.get("recording") or {}).get("gaps_s") or ():
        if isinstance(gap, list | tuple) and len(gap) == 2:
            start, length = number(gap[0]), number(gap[1])
            if start is not None and length is not None:
                out.append((start, start + length))
    return out


def history_rows(nights: Sequence[Any], twitching_rate: float, min_rest: float) -> list[dict]:
    """One row per stored night, with whether it counts as a twitching night."""
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
