"""``calfwatch report``: the clinician's self-contained HTML report (optionally PDF) of a night.

``calfwatch report DIR`` reads the output folder of ``calfwatch analyze`` (summary.json and
events.tsv); ``--subject ID`` adds the subject's history (nights, persistence, trends, symptoms) and,
without DIR, reports the subject's latest stored night. The wearer's summary is printed too.
"""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "report"
HELP = "write the clinician's report (self-contained HTML, optional PDF) of an analysed night"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the subcommand."""
    parser.add_argument("folder", nargs="?", metavar="DIR",
                        help="output folder of calfwatch analyze (summary.json, events.tsv)")
    parser.add_argument("--subject", default=None,
                        help="subject in the history store: adds the history; without DIR, "
                             "reports the subject's latest night")
    parser.add_argument("--side", choices=("left", "right", "both"), default=None,
                        help="only nights of this calf from the history")
    parser.add_argument("--history", metavar="FILE", default=None,
                        help="history file (default $CALFWATCH_HOME/history.sqlite)")
    parser.add_argument("--out", metavar="FILE.html", default=None,
                        help="report file (default DIR/report.html, or report-<subject>.html)")
    parser.add_argument("--pdf", action="store_true",
                        help="also print the report to PDF beside the HTML (needs Chromium)")
    parser.add_argument("--anonymize", action="store_true",
                        help="leave out names, birth dates and free text from the recording header")
    parser.add_argument("--quiet", action="store_true", help="print only the paths written")


def _out_path(args: argparse.Namespace) -> Path:
    if args.out:
        return Path(args.out)
    if args.folder:
        return Path(args.folder) / "report.html"
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in args.subject.strip())
    return Path(f"report-{safe}.html")


def _history(args: argparse.Namespace):
    """(nights, symptoms) of ``--subject`` from the history store; empty without it."""
    if args.subject is None:
        return [], []
    from calfwatch.history import open_store

    with open_store(args.history, must_exist=True) as store:
        subject = args.subject.strip()
        if subject not in store.subjects():
            raise LookupError(f"{store.path}: no nights or symptoms for subject {subject!r}")
        return store.nights(subject, args.side), [s.symptom for s in store.symptoms(subject)]


def load_input(args: argparse.Namespace):
    """The :class:`calfwatch.report.ReportInput` the arguments name."""
    from calfwatch.cli import UsageError
    from calfwatch.report import ReportInput, load_night

    if args.folder is None and args.subject is None:
        raise UsageError("give an analysis folder DIR, or --subject ID, or both")
    nights, symptoms = _history(args)
    if args.folder is not None:
        summary, events = load_night(args.folder)
        source = str(args.folder)
    elif nights:
        summary, events, source = nights[-1].summary, None, "history"
    else:
        raise LookupError(f"subject {args.subject!r} has no stored nights to report")
    subject = args.subject.strip() if args.subject else None
    inp = ReportInput(summary, events, nights, symptoms, subject, source)
    if args.anonymize:
        from calfwatch.anonymize import anonymize_report_input

        inp = anonymize_report_input(inp, subject)
    return inp


def run(args: argparse.Namespace) -> int:
    """Write the report (and PDF), print the wearer's summary and the paths."""
    from calfwatch.report import write_report
    from calfwatch.report.model import build_context

    inp = load_input(args)
    out = _out_path(args)
    context = build_context(inp)
    path = write_report(inp, out, context=context)
    if not args.quiet:
        print(context["wearer_text"])
    print(f"wrote {path}")
    if args.pdf:
        from calfwatch.report.pdf import print_to_pdf

        print(f"wrote {print_to_pdf(path, path.with_suffix('.pdf'))}")
    return 0
