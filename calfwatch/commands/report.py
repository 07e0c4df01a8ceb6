"""``calfwatch report``: the clinician's self-contained HTML report (optionally PDF) of a night.

``calfwatch report DIR`` reads the output folder of ``calfwatch analyze`` (summary.json and
events.tsv); ``--subject ID`` adds the subject's history (nights, persistence, trends,
symptoms) and, without DIR, reports the subject's latest stored night. The wearer's summary is
printed too.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

NAME = "report"
HELP = "write the clinician's report (self-contained HTML, optional PDF) of an analysed night"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the subcommand."""
    parser.add_argument("folder", nargs="?", metavar="DIR",
                        help="output folder of calfwatch analyze (summary.json, events.tsv)")
    parser.add_argument("--subject", default=None,
                        help="subject in the history store: adds the history; without DIR, "
                             "reports the subject's latest night (default: the subject DIR was "
                             "analysed for, when the store has it)")
    parser.add_argument("--side", choices=("left", "right", "both"), default=None,
                        help="only nights of this calf from the history")
    parser.add_argument("--history", metavar="FILE", default=None,
                        help="history file (default $CALFWATCH_HOME/history.sqlite)")
    parser.add_argument("--out", metavar="FILE.html", default=None,
                        help="report file (default DIR/report.html, or report-<subject>.html)")
    parser.add_argument("--recording", metavar="FILE", default=None,
                        help="the recording, for an example trace of each event kind (default: "
                             "the file the summary names, beside DIR)")
    parser.add_argument("--pdf", action="store_true",
                        help="also print the report to PDF beside the HTML (needs Chromium)")
    parser.add_argument("--anonymize", action="store_true",
                        help="leave out names, birth dates and free text from the recording header")
    parser.add_argument("--quiet", action="store_true", help="print only the paths written")


def _out_path(args: argparse.Namespace) -> Path:
    """The report file: ``--out`` (an .html file, not a folder: a report written over another
    file, or into a folder's name, would destroy or hide what is there), else the default."""
    from calfwatch.cli import UsageError

    if args.out:
        out = Path(args.out)
        if out.is_dir():
            raise UsageError(f"--out {out}: is a folder; name the report file (e.g. "
                             f"{out / 'report.html'})")
        if out.suffix.lower() not in (".html", ".htm"):
            raise UsageError(f"--out {out}: the report is an HTML file; name it .html")
        return out
    if args.folder:
        return Path(args.folder) / "report.html"
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in args.subject.strip())
    return Path(f"report-{safe}.html")


def _history(subject: str | None, args: argparse.Namespace, explicit: bool):
    """(nights, symptoms) of ``subject`` from the history store; empty without a subject.

    A subject named with ``--subject`` must be in the store; one taken from the summary is looked
    up only when the store exists and knows it.
    """
    from calfwatch.history import default_path, open_store

    if not subject:
        return [], []
    path = args.history if args.history is not None else default_path()
    if not explicit and not Path(path).expanduser().is_file():
        return [], []
    with open_store(path, must_exist=True) as store:
        if subject not in store.subjects():
            if not explicit:
                return [], []
            raise LookupError(f"{store.path}: no nights or symptoms for subject {subject!r}")
        return store.nights(subject, args.side), [s.symptom for s in store.symptoms(subject)]


def _folder_of_recording(args: argparse.Namespace) -> None:
    """DIR given as a recording whose outputs lie beside it (``night.bdf`` and
    ``night_analysis/``, where ``record`` and ``analyze`` write them): that folder, and that
    recording for the example traces."""
    from calfwatch.outputs import analysis_dir

    given = Path(args.folder) if args.folder is not None else None
    if given is None or not given.is_file() or not analysis_dir(given).is_dir():
        return
    args.folder = str(analysis_dir(given))
    if getattr(args, "recording", None) is None:
        args.recording = str(given)


def load_input(args: argparse.Namespace):
    """The :class:`calfwatch.report.ReportInput` the arguments name.

    With DIR and no ``--subject``, the subject the night was analysed for (``recording.subject``
    in the summary) brings in the history when the store has it.
    """
    from calfwatch.cli import UsageError
    from calfwatch.report import ReportInput, load_night

    if args.folder is None and args.subject is None:
        raise UsageError("give an analysis folder DIR, or --subject ID, or both")
    _folder_of_recording(args)
    summary, events = load_night(args.folder) if args.folder is not None else (None, None)
    explicit = args.subject is not None
    recording = (summary or {}).get("recording")
    subject = args.subject.strip() if explicit else str(
        (recording if isinstance(recording, dict) else {}).get("subject") or "").strip() or None
    nights, symptoms = _history(subject, args, explicit)
    if summary is not None:
        source = str(args.folder)
    elif nights:
        summary, source = nights[-1].summary, "history"
    else:
        raise LookupError(f"subject {args.subject!r} has no stored nights to report")
    from calfwatch.report.examples import find_recording

    with _blamed_on_summary(args.folder if source != "history" else None):
        recording = find_recording(args.folder, summary, getattr(args, "recording", None))
    if getattr(args, "recording", None) is not None:
        _check_recording_given(Path(args.recording), summary, source)
    inp = ReportInput(summary, events, nights, symptoms, subject, source, recording)
    if args.anonymize:
        from calfwatch.anonymize import anonymize_report_input

        inp = anonymize_report_input(inp, subject)
    return inp


def _check_recording_given(path: Path, summary, source: str) -> None:
    """Refuse a ``--recording`` that is missing, or that is not the night's recording: its rate,
    length or channels differ from what the summary says of the recording analysed (the example
    traces would come from another night)."""
    from acquisition.errors import RecordingError
    from acquisition.reader import open_recording

    if not path.is_file():
        raise RecordingError(path, "no such file" if not path.exists() else "is not a file")
    try:
        raw = open_recording(path)
    except RecordingError:
        return  # unreadable: the report says so where the traces would be
    stated = summary.get("recording") or {}
    rate_hz, length_s = stated.get("sfreq_hz"), stated.get("duration_s")
    channels = stated.get("channels_analysed") or []
    file_s = raw.n_times / raw.info["sfreq"]
    if ((rate_hz and abs(raw.info["sfreq"] - float(rate_hz)) > 1e-6)
            or (length_s and abs(file_s - float(length_s)) > 1.0)
            or not set(channels) <= set(raw.ch_names)):
        raise RecordingError(path, f"is not the recording of {source} ({raw.info['sfreq']:g} Hz, "
                             f"{file_s:.1f} s, channels {', '.join(raw.ch_names)}; the analysis: "
                             f"{float(rate_hz or 0):g} Hz, {float(length_s or 0):.1f} s, "
                             f"channels {', '.join(channels)})")


@contextmanager
def _blamed_on_summary(folder: str | None) -> Iterator[None]:
    """A summary from ``folder`` whose values are not of the kinds ``calfwatch analyze`` writes
    (an edited file) is named in a one-line :class:`calfwatch.report.model.ReportError`."""
    from jinja2 import UndefinedError

    from calfwatch.outputs import SUMMARY_FILE
    from calfwatch.report.model import ReportError

    try:
        yield
    except ReportError:
        raise
    except (TypeError, AttributeError, KeyError, IndexError, ValueError, UndefinedError) as exc:
        if folder is None:
            raise
        raise ReportError(f"{Path(folder) / SUMMARY_FILE}: a value is not of the kind calfwatch "
                          f"analyze writes ({type(exc).__name__}: {exc})") from exc


def run(args: argparse.Namespace) -> int:
    """Write the report (and PDF), print the wearer's summary and the paths; exit 4 when the
    night is not evaluable (the report says why)."""
    from calfwatch.cli import EXIT_NOT_EVALUABLE
    from calfwatch.report import write_report
    from calfwatch.report.model import build_context

    inp = load_input(args)
    out = _out_path(args)
    with _blamed_on_summary(args.folder if inp.source != "history" else None):
        context = build_context(inp)
        path = write_report(inp, out, context=context)
    if not args.quiet:
        print(context["wearer_text"])
    print(f"wrote {path}")
    if args.pdf:
        from calfwatch.report.pdf import print_to_pdf

        print(f"wrote {print_to_pdf(path, path.with_suffix('.pdf'))}")
    return EXIT_NOT_EVALUABLE if context["assessment"].get("level") == "not-evaluable" else 0
