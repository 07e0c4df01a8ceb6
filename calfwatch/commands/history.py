"""``calfwatch history``: the stored nights, persistence, trends and the assessment of a subject."""

from __future__ import annotations

import argparse
import json

NAME = "history"
HELP = "show stored nights with rate, rest, persistence, trend and the assessment"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the subcommand."""
    parser.add_argument("--subject", default=None, help="one subject (default: every subject)")
    parser.add_argument("--side", choices=("left", "right", "both"), default=None,
                        help="only nights of this calf")
    parser.add_argument("--history", metavar="FILE", default=None,
                        help="history file (default $CALFWATCH_HOME/history.sqlite or "
                             "~/.local/share/calfwatch/history.sqlite)")
    parser.add_argument("--json", action="store_true",
                        help="print the nights and the assessment as JSON instead of tables")


def _num(value, fmt: str, scale: float = 1.0) -> str:
    if value is None:
        return format("-", ">" + fmt.rstrip("dfg%").split(".")[0])
    return format(value * scale if scale != 1.0 else value, fmt)


def _percent(fraction) -> str:
    return f"{'-':>7}" if fraction is None else f"{fraction * 100:6.1f}%"


def format_nights(nights: list) -> list[str]:
    """One row per night: date, side, rest hours, fasciculations, rate, amplitude, polyphasic %."""
    lines = [f"{'night':<10}  {'side':<7} {'rest h':>6} {'fasc.':>6} {'/min rest':>9} "
             f"{'median µV':>9} {'polyph.':>7}"]
    for n in nights:
        rest_h = None if n.rest_minutes is None else n.rest_minutes / 60.0
        lines.append(
            f"{n.night_date.isoformat():<10}  {n.side:<7} {_num(rest_h, '6.1f')} "
            f"{_num(n.fasciculations, '6d')} {_num(n.rate_per_min_rest, '9.2f')} "
            f"{_num(n.median_ptp_uv, '9.1f')} {_percent(n.polyphasic_fraction)}"
        )
    return lines


def format_persistence(pers, threshold_per_min: float, min_rest_minutes: float) -> list[str]:
    """Twitching nights and days, the longest run, days since the first twitching day, episodes.

    The nights counted are those with the rest persistence asks for (``[persistence] min_rest``,
    an hour), which is more than one night's assessment asks to judge its rate: a night judged on
    its own may still be too short to count here, and the line says which nights it counts.
    """
    lines = [f"persistence (twitching night: >= {threshold_per_min:g} fasciculations/min of rest): "
             f"{pers.nights_twitching} of {_count(pers.nights_evaluable, 'night')} with at least "
             f"{min_rest_minutes:g} minutes of rest, "
             f"{pers.days_twitching} of {pers.days_recorded} days; "
             f"longest run {pers.longest_run_days} days"]
    if pers.first_twitching is not None:
        episode = pers.longest_episode
        lines.append(f"  first twitching day {pers.first_twitching.isoformat()}, "
                     f"{pers.days_since_first} days before the latest night; longest episode "
                     f"{episode.span_days} days ({episode.first.isoformat()} to "
                     f"{episode.last.isoformat()}, {episode.twitching_days} twitching days)")
    return lines


_TREND_LABELS = {"rate_per_min_rest": ("rate", "/min rest", 1.0, ".2f"),
                 "median_ptp_uv": ("amplitude", "µV", 1.0, ".1f"),
                 "polyphasic_fraction": ("polyphasic", "pp", 100.0, ".2f")}


def format_trends(trends: list) -> list[str]:
    """Slope per day with its interval and the direction, per side and quantity."""
    lines = []
    for tr in trends:
        label, unit, scale, fmt = _TREND_LABELS[tr.quantity]
        head = f"  {tr.side or '-':<7} {label:<10} n={tr.n_nights:<3}"
        if tr.slope_per_day is None:
            lines.append(f"{head} {tr.direction}")
            continue
        lines.append(
            f"{head} {format(tr.slope_per_day * scale, '+' + fmt)} {unit}/day "
            f"[{format(tr.low * scale, '+' + fmt)}, {format(tr.high * scale, '+' + fmt)}] "
            f"{tr.direction}")
    pct = round(trends[0].confidence * 100) if trends else 95
    return [f"trend over nights (Theil-Sen slope per day, {pct} % interval):"] + lines


def format_assessment(result) -> list[str]:
    """The level, each reason with value, threshold and source, the red flags and the caveats."""
    lines = [f"assessment: {result.level.upper()}"]
    for r in result.reasons:
        lines.append(f"  [{r.level}] {r.rule}: {r.text}")
        lines.append(f"      observed {_observed(r.observed)}, threshold {r.threshold:g} {r.unit}; "
                     f"source: {r.source}")
    quiet = sorted({r.rule for r in result.checks if not r.fired}
                   - {r.rule for r in result.reasons})
    if quiet:
        lines.append(f"  checked, below threshold: {', '.join(quiet)}")
    lines.append(result.red_flags_text)
    lines.append("what one surface channel cannot tell:")
    lines += [f"  - {c}" for c in result.caveats]
    return lines


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _observed(value) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return "n/a" if value is None else str(value)


def _subject_report(store, subject: str, side: str | None, config) -> tuple[str, dict]:
    from classifier.assessment import assess
    from classifier.persistence import settings_from_config

    nights = store.nights(subject, side=side)
    symptoms = [s.symptom for s in store.symptoms(subject)]
    result = assess(nights, symptoms, config=config)
    where = f", {side} side" if side else ""
    lines = [f"subject {subject}{where}: {_count(len(nights), 'night')}"]
    if nights:
        lines += format_nights(nights)
    settings = settings_from_config(config)
    lines += format_persistence(result.persistence, settings.twitching_rate_per_min,
                                settings.min_rest_minutes)
    lines += format_trends(result.trends)
    if symptoms:
        lines.append(f"red-flag symptoms reported: {', '.join(symptoms)}")
    lines += format_assessment(result)
    data = {
        "subject": subject, "side": side, "symptoms": symptoms,
        "nights": [{"id": n.id, "night_date": n.night_date.isoformat(), "side": n.side,
                    "start_utc": n.start_utc, "rest_minutes": n.rest_minutes,
                    "fasciculations": n.fasciculations, "rate_per_min_rest": n.rate_per_min_rest,
                    "median_ptp_uv": n.median_ptp_uv, "polyphasic_fraction": n.polyphasic_fraction}
                   for n in nights],
        "assessment": result.to_dict(),
    }
    return "\n".join(lines), data


def run(args: argparse.Namespace) -> int:
    """Print the history of one or every subject."""
    from calfwatch.history import open_store
    from classifier.config import load_config

    config = load_config(getattr(args, "config", None))
    with open_store(args.history, must_exist=True) as store:
        known = store.subjects()
        if args.subject is not None and args.subject.strip() not in known:
            listed = ", ".join(known) if known else "none"
            raise LookupError(f"{store.path}: no nights or symptoms for subject "
                              f"{args.subject!r} (subjects: {listed})")
        subjects = [args.subject.strip()] if args.subject is not None else known
        if not subjects:
            print(f"{store.path}: no nights stored yet")
            return 0
        reports = [_subject_report(store, s, args.side, config) for s in subjects]
    if args.json:
        print(json.dumps([data for _, data in reports], indent=2, ensure_ascii=False))
    else:
        print("\n\n".join(text for text, _ in reports))
    return 0
