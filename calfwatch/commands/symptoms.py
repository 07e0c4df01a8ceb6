"""``calfwatch symptoms``: record the red-flag symptoms that feed the assessment."""

from __future__ import annotations

import argparse

NAME = "symptoms"
HELP = "record or clear red-flag symptoms (slurred speech, weakness, ...) for a subject"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the subcommand."""
    parser.add_argument("--subject", required=True, help="who wore the sensor")
    parser.add_argument("--add", dest="add", action="extend", nargs="+", default=[],
                        metavar="SYMPTOM",
                        help="record symptoms (one or more, or --add repeated): slurred-speech, "
                             "difficulty-swallowing, seizures, loss-of-consciousness, weakness, "
                             "muscle-wasting")
    parser.add_argument("--clear", action="store_true",
                        help="clear the recorded symptoms (before any --add)")
    parser.add_argument("--history", metavar="FILE", default=None,
                        help="history file (default $CALFWATCH_HOME/history.sqlite or "
                             "~/.local/share/calfwatch/history.sqlite)")


def _validated(names: list[str]) -> list[str]:
    from calfwatch.cli import UsageError
    from classifier.assessment import normalise_symptom

    try:
        return [normalise_symptom(name) for name in names]
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def format_symptoms(subject: str, symptoms: list) -> str:
    """The subject's symptom list and, when there is one, the advice to see a doctor."""
    from classifier.assessment import RED_FLAG_SYMPTOMS

    if not symptoms:
        return (f"subject {subject}: no red-flag symptoms recorded "
                f"(valid: {', '.join(RED_FLAG_SYMPTOMS)})")
    lines = [f"subject {subject}: red-flag symptoms recorded:"]
    lines += [f"  - {RED_FLAG_SYMPTOMS[s.symptom]} ({s.symptom}), since {s.first_reported_utc}"
              for s in symptoms]
    lines.append("level: see-doctor. These symptoms are red flags for seeing a doctor; "
                 "calfwatch does not diagnose.")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Clear and/or add symptoms, then print the current list."""
    from pathlib import Path

    from calfwatch.history import HistoryStore, default_path

    names = _validated(args.add)
    path = Path(args.history).expanduser() if args.history else default_path()
    if not (names or args.clear) and not path.exists():  # nothing to record: do not create the file
        print(format_symptoms(args.subject.strip(), []))
        return 0
    with HistoryStore(path) as store:
        if args.clear:
            store.clear_symptoms(args.subject)
        for name in names:
            store.add_symptom(args.subject, name)
        print(format_symptoms(args.subject.strip(), store.symptoms(args.subject)))
    return 0
