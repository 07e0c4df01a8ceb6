"""The wearer's morning summary in plain language, from a summary.json document."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

_LEVEL_WORDS = {
    "not-evaluable": "tonight could not be assessed (the reasons follow); that says nothing either "
                     "way, it is not an all-clear",
    "benign": "nothing in tonight's numbers or your history crosses a threshold that calls for action",
    "monitor": "something is worth keeping an eye on (see below); it is an observation, not a "
               "diagnosis",
    "see-doctor": "the patient guidance says to see a doctor (see below)",
}


def _num(value: Any, fmt: str = ".1f") -> str:
    return "n/a" if value is None else format(float(value), fmt)


def _rest_words(minutes: Any) -> str:
    """Rest time in words: minutes, or seconds below one minute (never a bare "0.0 minutes")."""
    if minutes is None:
        return "n/a minutes"
    if 0 < float(minutes) < 1:
        return _length_words(float(minutes) * 60)
    return f"{float(minutes):.1f} minutes"


def _length_words(seconds: float) -> str:
    """A length of time in words: seconds below a minute, minutes below an hour, else hours and
    minutes."""
    if seconds < 60:
        return f"{seconds:.1f} seconds" if seconds < 10 else f"{seconds:.0f} seconds"
    if seconds < 3570:  # rounds to 59 minutes at most
        minutes = int(round(seconds / 60))
        return f"{minutes} minute{'' if minutes == 1 else 's'}"
    hours, minutes = divmod(int(round(seconds / 60)), 60)
    return f"{hours} h {minutes:02d} min"


def _lost_time_lines(recording: Mapping[str, Any]) -> list[str]:
    """A line on the recording's gaps (lost signal: the sensor away or sending nothing usable),
    which no count covers; none for a night without gaps."""
    lengths = [float(g[1]) for g in recording.get("gaps_s") or []
               if isinstance(g, list | tuple) and len(g) == 2]
    if not lengths:
        return []
    length_s = recording.get("duration_s")
    whole = (f" out of {_length_words(float(length_s))} recorded"
             if isinstance(length_s, int | float) and length_s > 0 else "")
    parts = (f" ({len(lengths)} gaps, the longest {_length_words(max(lengths))})"
             if len(lengths) > 1 else "")
    return [f"No signal for {_length_words(sum(lengths))}{whole}{parts}: twitches there could "
            "not be counted."]


def _interval_words(interval: Any, digits: int = 2) -> str:
    """`` (95 % interval a-b)`` of a ``[low, high]`` rate interval; empty without one."""
    if not isinstance(interval, list | tuple) or len(interval) != 2 or None in interval:
        return ""
    return f" (95 % interval {interval[0]:.{digits}f}-{interval[1]:.{digits}f})"


def _rate_rule_lines(assessment: Mapping[str, Any]) -> list[str]:
    """Where each rate rule's interval lies against its threshold, fired or not."""
    lines = []
    for check in assessment.get("checks") or []:
        comparison = check.get("comparison")
        if comparison and not check.get("fired"):
            lines.append(f"Against the {check.get('threshold'):g} per minute reference "
                         f"({check.get('rule')}): {comparison}.")
    return lines


def _pooled_words(n_channels: int) -> str:
    """Say that pooled rest is added up over channels (20 minutes of rest on a 10-minute night)."""
    if n_channels < 2:
        return ""
    return f" (rest and twitches added up over the {n_channels} channels)"


def _instant(text: Any) -> datetime | None:
    try:
        when = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _previous_rates(history_nights: Sequence[Any] | None, start_utc: str) -> list[float]:
    """Rates of the nights recorded before this one (all others when its start is unknown)."""
    rates = []
    tonight = _instant(start_utc)
    for night in history_nights or []:
        if isinstance(night, Mapping):
            rate = night.get("fasciculations_per_min_rest")
            start = (night.get("recording") or {}).get("start_utc")
        else:
            rate = getattr(night, "rate_per_min_rest", None)
            start = getattr(night, "start_utc", None)
        when = _instant(start)
        earlier = start != start_utc if tonight is None or when is None else when < tonight
        if rate is not None and earlier:
            rates.append(float(rate))
    return rates


def _comparison(rate: float | None, previous: list[float]) -> str:
    if not previous:
        return "No earlier nights to compare with yet."
    if rate is None:
        return (f"There was no time at rest to compare with your earlier {len(previous)} "
                f"night(s) (average {sum(previous) / len(previous):.2f} per minute of rest).")
    mean = sum(previous) / len(previous)
    if mean <= 0:
        return f"Earlier nights ({len(previous)}) had no twitches at rest."
    ratio = rate / mean
    trend = ("about the same as" if 0.8 <= ratio <= 1.25 else
             "higher than" if ratio > 1 else "lower than")
    return (f"That is {trend} your earlier {len(previous)} night(s) "
            f"(average {mean:.2f} per minute of rest).")


#: Why a night is not evaluable, in the wearer's words, by rule.
_WHY = {
    "evaluable_rest": "too little time at rest",
    "evaluable_channels": "no usable channel",
    "evaluable_quality": "too little usable signal",
    "evaluable_noise": "too much noise for surface EMG",
    "assessment": "the summary carries no assessment",
}


def _night_not_evaluable(assessment: Mapping[str, Any]) -> bool:
    """Whether the night's own numbers cannot be judged: the level says so, or a minimum of the
    night fired while a rule over earlier nights (persistence) set a higher level."""
    return (not assessment or (assessment.get("level") or "not-evaluable") == "not-evaluable"
            or any(r.get("level") == "not-evaluable" for r in assessment.get("reasons") or []))


def _not_evaluable_headline(assessment: Mapping[str, Any]) -> str:
    """First line of a night that could not be assessed: why, in the assessment's words."""
    why = [_WHY.get(r.get("rule"), str(r.get("rule"))) for r in assessment.get("reasons") or []
           if r.get("level") == "not-evaluable"]
    if not assessment:
        why = ["the summary carries no assessment"]
    return ("NOT EVALUABLE: " + (", ".join(dict.fromkeys(why)) or "see the assessment")
            + ". Not an all-clear: the numbers below cannot be judged.")


def _heartbeat_lines(quality: Any) -> list[str]:
    """A sentence per channel on which heartbeats (the ECG) were found."""
    if not isinstance(quality, Mapping):
        return []
    lines = []
    for name, q in quality.items():
        beats = q.get("ecg_beats") if isinstance(q, Mapping) else None
        if beats:
            lines.append(f"Heartbeats reached the sensor on {name}: {beats} beats, about "
                         f"{_num(q.get('ecg_rate_per_min'), '.0f')} per minute. They are not "
                         "counted as twitches; a heartbeat that hides a twitch hides it.")
    return lines


def wearer_summary(
    summary: Mapping[str, Any],
    history_nights: Sequence[Any] | None = None,
    assessment: Any = None,
) -> str:
    """A few plain sentences for the wearer.

    Parameters
    ----------
    summary : mapping
        A summary.json document (``calfwatch.summary_doc.build_summary``).
    history_nights : sequence, optional
        The wearer's nights (history-store records or summary documents); those recorded before
        this one are compared with it.
    assessment : Assessment or mapping, optional
        An assessment to word instead of the summary's own (e.g. one made with a longer history).
    """
    if assessment is None:
        assessment = summary.get("assessment") or {}
    elif hasattr(assessment, "to_dict"):
        assessment = assessment.to_dict()
    level = assessment.get("level") or "not-evaluable"
    count = int(summary.get("fasciculations") or 0)
    rest = summary.get("rest_minutes")
    rate = summary.get("fasciculations_per_min_rest")
    start = (summary.get("recording") or {}).get("start_utc", "")
    channels = summary.get("channels") or {}
    lines = [_not_evaluable_headline(assessment)] if _night_not_evaluable(assessment) else []
    lines += [
        f"Twitches (fasciculations) at rest: {count} in {_rest_words(rest)} of rest "
        f"= {_num(rate, '.2f')} per minute of rest"
        f"{_interval_words(summary.get('fasciculations_per_min_rest_ci95'))}"
        f"{_pooled_words(len(channels))}.",
    ]
    for name, ch in channels.items():
        if len(channels) > 1:
            n = int(ch.get("fasciculations") or 0)
            lines.append(f"  {name}: {n} twitch{'' if n == 1 else 'es'} in "
                         f"{_rest_words(ch.get('rest_minutes'))} of rest, "
                         f"{_num(ch.get('fasciculations_per_min_rest'), '.2f')} per minute of rest"
                         f"{_interval_words(ch.get('fasciculations_per_min_rest_ci95'))}")
    lines += _lost_time_lines(summary.get("recording") or {})
    lines += _rate_rule_lines(assessment)
    lines.append(_comparison(rate, _previous_rates(history_nights, start)))
    plm = summary.get("plm_index_per_h")
    if plm is not None:
        lines.append(f"Periodic leg movements: {_num(plm)} per hour"
                     f"{_interval_words(summary.get('plm_index_per_h_ci95'), 1)} (a calf sensor "
                     "sees only some of them).")
    lines += _heartbeat_lines(summary.get("quality"))
    lines.append(f"Assessment: {level}: {_LEVEL_WORDS.get(level, level)}.")
    for reason in assessment.get("reasons") or []:
        lines.append(f"  - {reason.get('text', reason.get('rule', ''))}")
    for note in summary.get("notes") or []:
        lines.append(f"Note: {note}")
    lines.append(assessment.get("red_flags_text") or (
        "See a doctor if twitching lasts 2 weeks or more, or comes with slurred speech, difficulty "
        "swallowing, seizures, loss of consciousness, weakness or muscle wasting. calfwatch "
        "measures and compares with thresholds; it does not diagnose."))
    return "\n".join(lines)
