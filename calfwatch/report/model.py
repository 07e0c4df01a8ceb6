"""What the report shows, read from a night's output folder and the history store.

:func:`load_night` reads ``summary.json`` and ``events.tsv`` of ``calfwatch analyze``;
:func:`build_context` turns them (and the subject's stored nights) into plain values for the
template: every number shown comes from the summary, the events table or the history store, never
recomputed differently here.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from calfwatch.report import sections
from classifier.assessment import RED_FLAGS_TEXT
from classifier.kinds import EVENT_KINDS
from classifier.summary import SCHEMA as SUMMARY_SCHEMA

if TYPE_CHECKING:
    from classifier.config import ClassifierConfig

#: The assessment shown when a summary carries none: never benign by default.
NO_ASSESSMENT = {
    "level": "not-evaluable",
    "reasons": [{"rule": "assessment", "level": "not-evaluable", "fired": True, "observed": None,
                 "threshold": None, "unit": "", "source": "calfwatch",
                 "text": "the night summary carries no assessment"}],
    "checks": [], "red_flags_text": RED_FLAGS_TEXT, "caveats": [], "persistence": None, "trends": [],
}


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
    recording : Path or None
        The recording file, for example traces of each event kind (none without it).
    """

    summary: dict[str, Any]
    events: list[dict[str, Any]] | None = None
    nights: list[Any] = field(default_factory=list)
    symptoms: list[str] = field(default_factory=list)
    subject: str | None = None
    source: str = ""
    recording: Path | None = None


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
        raise ReportError(f"{directory}: not a folder (give the output folder of "
                          "calfwatch analyze)")
    path = directory / SUMMARY_FILE
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReportError(f"{path}: no night summary (run calfwatch analyze first)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReportError(f"{path}: not a readable night summary ({exc})") from None
    if not isinstance(summary, dict):
        raise ReportError(f"{path}: not a night summary (a JSON object is expected)")
    if summary.get("schema") != SUMMARY_SCHEMA:
        raise ReportError(f"{path}: not a calfwatch night summary (schema "
                          f"{summary.get('schema')!r}, expected {SUMMARY_SCHEMA!r})")
    events_path = directory / EVENTS_FILE
    if not events_path.exists():
        return summary, None
    try:
        return summary, read_events_tsv(events_path)
    except (OSError, UnicodeDecodeError, ValueError, KeyError, IndexError) as exc:
        raise ReportError(f"{events_path}: not a readable events table ({exc})") from None


def _assessment(inp: ReportInput, config: ClassifierConfig) -> dict[str, Any] | None:
    """The summary's assessment, or one made now over the subject's history and symptoms."""
    if not inp.nights and not inp.symptoms:
        own = inp.summary.get("assessment")
        return own if isinstance(own, Mapping) and own.get("level") else dict(NO_ASSESSMENT)
    from classifier.assessment import assess

    return assess(inp.nights, inp.symptoms, config=config, tonight=inp.summary).to_dict()


def _channel_names(summary: Mapping[str, Any]) -> list[str]:
    """The night's channels in the recording's order (colours follow it)."""
    recording = summary.get("recording") or {}
    names = list(recording.get("channels_analysed") or recording.get("ch_names") or [])
    return names + [n for n in (summary.get("channels") or {}) if n not in names]


def _examples(inp: ReportInput, colours: Mapping[str, str]) -> tuple[Any, str]:
    """The example-traces figure and a note on it (why there is none)."""
    from calfwatch.report import examples, plots

    if inp.events is None:
        return None, "No events table beside the summary: no example traces."
    if inp.recording is None or not Path(inp.recording).is_file():
        return None, ("The recording file was not found beside the analysis folder: no example "
                      "traces (give --recording FILE).")
    picked = examples.pick_examples(inp.events, EVENT_KINDS)
    if not picked:
        return None, "No events: no example traces."
    try:
        traces = examples.read_traces(inp.recording, picked)
    except (OSError, ValueError) as exc:
        return None, f"{inp.recording}: not readable for example traces ({exc})."
    return plots.examples_plot(traces, colours), ""


def _figures(inp: ReportInput, twitching_rate: float, evaluable: bool) -> dict[str, Any]:
    """Every figure of the page (None where there is nothing to draw, or the night is not
    evaluable: no chart of numbers that cannot be judged)."""
    from calfwatch.report import plots

    summary, events, nights = inp.summary, inp.events, inp.nights
    morphology = summary.get("morphology") or {}
    colours = plots.channel_colours(_channel_names(summary))
    labels, counts, rates, _ = sections.hourly(summary)
    tonight = (summary.get("recording") or {}).get("start_utc")
    latest = next((n.night_date.isoformat() for n in nights if n.start_utc == tonight), None)
    timeline = None
    if events is not None:
        timeline = plots.timeline_plot(
            events, sections.duration_s(summary, events), EVENT_KINDS, sections.gaps_s(summary),
            dict(sections.kind_counts(summary, events)))
    examples, examples_note = _examples(inp, colours)
    return {
        "hourly": plots.hourly_plot(labels, counts, rates, colours,
                                    xlabel=("start of the hour (local time)"
                                            if sections.local_zone(summary) is not None
                                            else "hours from the start"))
        if evaluable else None,
        "history": plots.history_plot([n.night_date.isoformat() for n in nights],
                                      [n.rate_per_min_rest for n in nights], twitching_rate,
                                      [n.side for n in nights], latest),
        "distributions": (plots.distributions_plot(sections.distributions(morphology))
                          if evaluable else None),
        "waveforms": (plots.waveform_plot(sections.units(morphology), None, colours)
                      if evaluable else None),
        "timeline": timeline,
        "examples": examples,
        "examples_note": examples_note,
    }


def nights_up_to(nights: list[Any], summary: Mapping[str, Any]) -> list[Any]:
    """The stored ``nights`` up to the reported one (its recording's start included): a night's
    report shows the history it was judged with, not the nights recorded after it. All of them
    when the night's start is unknown."""
    tonight = _instant((summary.get("recording") or {}).get("start_utc"))
    if tonight is None:
        return list(nights)
    return [n for n in nights if (when := _instant(n.start_utc)) is None or when <= tonight]


def _instant(text: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text)).astimezone(UTC) if text else None
    except ValueError:
        return None


def night_config(summary: Mapping[str, Any]) -> ClassifierConfig:
    """The thresholds the night was analysed with (``summary.json`` ``thresholds``), so that its
    report judges it, its history's persistence included, as ``calfwatch analyze`` did; the
    configuration in force (:func:`classifier.config.load_config`) for a summary without them,
    or whose thresholds this version does not read (another version's keys).

    Examples
    --------
    >>> night = {"thresholds": {"persistence": {"min_rest": {"value": 5}}}}
    >>> night_config(night).persistence.min_rest.value
    5
    """
    from classifier.config import config_with, load_config

    stated = summary.get("thresholds")
    if isinstance(stated, Mapping):
        tables = {k: v for k, v in stated.items() if k != "detection_chain"}
        try:
            return config_with(tables, source="the night's summary.json thresholds")
        except (ValueError, TypeError, KeyError):
            pass
    return load_config()


def _not_evaluable_reasons(assessment: Mapping[str, Any] | None) -> list[str]:
    """Why the night is not evaluable (the reasons' texts), empty when it is. A night can be
    both: too short to judge, while a rule over the nights before it (persistence) still fires
    and sets a higher level; its own numbers are not judged either way."""
    if not assessment:
        return []
    why = [str(r.get("text") or r.get("rule")) for r in assessment.get("reasons") or []
           if r.get("level") == "not-evaluable"]
    if assessment.get("level") == "not-evaluable":
        return why or ["the assessment gives no reason"]
    return why


def build_context(inp: ReportInput, config: ClassifierConfig | None = None) -> dict[str, Any]:
    """Everything the template shows, as plain values and embedded figures.

    Parameters
    ----------
    inp : ReportInput
        The night, its events and the subject's history.
    config : ClassifierConfig, optional
        The configuration (thresholds for history rows and the methods section when the summary
        does not carry its own); the night's own when omitted (:func:`night_config`).
    """
    from calfwatch import __version__
    from calfwatch.summary_text import wearer_summary
    from classifier.persistence import settings_from_config

    config = config if config is not None else night_config(inp.summary)
    inp = replace(inp, nights=nights_up_to(inp.nights, inp.summary))
    summary, events = inp.summary, inp.events
    settings = settings_from_config(config)
    assessment = _assessment(inp, config)
    morphology = summary.get("morphology") or {}
    not_evaluable = _not_evaluable_reasons(assessment)
    return {
        "not_evaluable": not_evaluable,
        "gaps": sections.gap_summary(summary),
        "title": "calfwatch night report",
        "generated_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "version": __version__,
        "subject": inp.subject,
        "source": inp.source,
        "wearer_text": wearer_summary(summary, inp.nights, assessment),
        "recording_rows": sections.recording_rows(summary),
        "quality_rows": sections.flatten(summary.get("quality") or {}),
        "quality_table": sections.quality_table(summary.get("quality")),
        "notes": [str(n) for n in summary.get("notes") or []],
        "night_facts": sections.night_facts(summary),
        "channel_rows": sections.channel_rows(summary),
        "kind_counts": sections.kind_counts(summary, events),
        "assessment": assessment,
        "symptoms": list(inp.symptoms),
        "hourly_rows": sections.hourly(summary)[3],
        "hour_heading": sections.hour_heading(summary),
        "history_rows": sections.history_rows(inp.nights, settings.twitching_rate_per_min,
                                              settings.min_rest_minutes),
        "persistence_min_rest_minutes": settings.min_rest_minutes,
        "distribution_rows": sections.distribution_rows(morphology),
        "unit_rows": sections.unit_rows(morphology),
        "unit_caveat": str(morphology.get("caveat") or ""),
        "threshold_rows": sections.threshold_rows(summary.get("thresholds") or config.to_dict()),
        "version_rows": sections.flatten(summary.get("versions") or {}),
        "caveats": summary.get("caveats") or (assessment or {}).get("caveats") or [],
        "figures": _figures(inp, settings.twitching_rate_per_min, not not_evaluable),
    }
