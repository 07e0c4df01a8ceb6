"""``calfwatch analyze``: offline analysis of recordings through the same engine as a live night.

Writes ``events.tsv``, ``summary.json`` and ``annotations.txt`` (see the README's output contract)
per recording, prints the wearer's summary, and with ``--subject`` adds the night to the history and
assesses it with the earlier nights. Several files, folders or a BIDS root make a batch
(:mod:`calfwatch.batch`): ``--jobs N`` worker processes or a Dask cluster (``--scheduler``), one
``cohort.csv`` row per recording; a bad file is reported and skipped. The exit code is 1 when any
failed, else 4 when any night was not evaluable (outputs written, no verdict), else 0.
"""

from __future__ import annotations

import argparse
import sys
from functools import partial
from pathlib import Path

from calfwatch.commands._arg_types import channel_list

NAME = "analyze"
HELP = "analyse recordings (EDF/BDF/FIF/WFDB/OpenSignals/CSV) offline: events, summary, assessment"

#: Recordings longer than this get a progress bar (on a terminal).
PROGRESS_MIN_S = 600.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the subcommand."""
    parser.add_argument("recordings", nargs="+", metavar="PATH",
                        help="recordings, folders searched for recordings, or a BIDS root")
    parser.add_argument(
        "--out", metavar="DIR",
        help="output folder (default: <recording name>_analysis beside each recording; with "
             "several recordings, one sub-folder per recording inside DIR, and cohort.csv)")
    parser.add_argument("--jobs", type=_jobs, default=1, metavar="N",
                        help="worker processes for a batch, at most one per core (default 1; "
                        "0: one per core when the batch is large enough to repay their start); "
                        "more than 1 needs calfwatch[cluster]")
    parser.add_argument("--scheduler", metavar="ADDRESS", default=None,
                        help="run the batch on this dask.distributed scheduler (e.g. "
                        "tcp://10.0.0.5:8786)")
    parser.add_argument("--subject", default="", help="add the night to this subject's history")
    parser.add_argument("--side", choices=("left", "right", "both"), default=None,
                        help="which calf (stored with the night)")
    parser.add_argument("--history", metavar="FILE", default=None,
                        help="history file (default: $CALFWATCH_HOME/history.sqlite)")
    parser.add_argument("--units", choices=("uV", "mV", "V"), default=None,
                        help="units of CSV channels whose header does not state them")
    parser.add_argument("--mains", type=float, choices=(50.0, 60.0), default=None,
                        help="mains frequency of the recordings (default: decided from the first "
                        "10 s of each)")
    parser.add_argument("--quiet", action="store_true", help="print only the paths written")
    parser.add_argument("--channels", type=channel_list, default=None, metavar="LIST",
                        help="channels to analyse, by number or name: 1,2 or calf_left (default all)")
    parser.add_argument("--anonymize", action="store_true",
                        help="leave out names, birth dates and free text from the recording header")


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number, 0 or more, not {text!r}")
    return value


class _Progress:
    """What analyze tells of one file as it runs: signals left out, and a tqdm bar on stderr for
    long files on a terminal."""

    def __init__(self, name: str, path: str) -> None:
        self.name = name
        self.path = path
        self.bar = None
        self.sfreq = 1.0

    def open(self, stream) -> None:
        """Name the signals the reader left out; size the bar from the opened stream (long
        recordings on a terminal only)."""
        from calfwatch.analysis import reader_notes

        for note in reader_notes(stream, self.path):
            sys.stderr.write(f"calfwatch: note: {note}\n")
        self.sfreq = stream.info.sfreq_hz
        total_s = getattr(stream, "n_times", 0) / self.sfreq
        if sys.stderr.isatty() and total_s >= PROGRESS_MIN_S:
            from tqdm import tqdm

            self.bar = tqdm(total=round(total_s), unit="s", desc=self.name, file=sys.stderr,
                            leave=False)

    def __call__(self, chunk) -> None:
        if self.bar is not None:
            self.bar.update(round(chunk.stop_sample / self.sfreq) - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _analyze_one(path: str, out_dir: str, args: argparse.Namespace) -> str:
    """Analyse one recording; return its assessment level."""
    from calfwatch.analysis import analyze_file
    from calfwatch.summary_text import wearer_summary

    progress = _Progress(Path(path).name, path)
    try:
        result, paths = analyze_file(
            path, out_dir, subject=args.subject,
            side=args.side or "", history_path=args.history, on_chunk=progress,
            units=args.units, on_open=progress.open, mains_hz=args.mains, channels=args.channels)
    finally:
        progress.close()
    if args.anonymize:
        from calfwatch.anonymize import anonymize_outputs

        anonymize_outputs(paths, args.subject, args.side)
    if not args.quiet:
        print(f"== {path}")
        print(wearer_summary(result.summary, _earlier(args)))
    for key in ("events", "events_json", "summary", "annotations", "events_edf", "history"):
        if key in paths:
            print(f"wrote {paths[key]}")
    return _level(result.summary)


def _level(summary) -> str:
    """The night's assessment level (``not-evaluable`` when it has none)."""
    return str(((summary or {}).get("assessment") or {}).get("level") or "not-evaluable")


def _earlier(args: argparse.Namespace):
    if not args.subject:
        return None
    from calfwatch.history import open_store

    with open_store(args.history) as store:
        return store.nights(args.subject, args.side)


def run(args: argparse.Namespace) -> int:
    """Analyse one recording, or a batch; report failures one line each; exit 1 if any failed,
    4 if any night was not evaluable."""
    from calfwatch.batch import plan_batch
    from calfwatch.cli import EXIT_NOT_EVALUABLE

    batch = plan_batch(args.recordings, args.out, args.anonymize)
    if args.units is not None and any(not j.path.lower().endswith(".csv") for j in batch.jobs):
        from calfwatch.cli import UsageError

        raise UsageError("--units applies to CSV recordings only")
    if not batch.is_batch:
        from dsp.warmup import start_early

        start_early(1)  # compiles what a cold cache lacks while the file is opened (the usual 1)
        level = _analyze_one(batch.jobs[0].path, batch.jobs[0].out_dir, args)
        return EXIT_NOT_EVALUABLE if level == "not-evaluable" else 0
    return _run_batch(batch, args)


def _show(job, outcome, nights, write, quiet: bool = False,
          not_evaluable: list | None = None) -> None:
    """Print one finished recording of a batch: notes, its error, or its summary and paths
    (a night not evaluable is added to ``not_evaluable``)."""
    for note in outcome.notes:
        write(f"calfwatch: note: {note}", sys.stderr)
    if outcome.failed:
        write(f"calfwatch: error: {outcome.error}", sys.stderr)
        return
    if not_evaluable is not None and _level(outcome.summary) == "not-evaluable":
        not_evaluable.append(job.path)
    if not quiet:
        from calfwatch.summary_text import wearer_summary

        write(f"== {job.path}")
        write(wearer_summary(outcome.summary, nights))
    for key in ("events", "events_json", "summary", "annotations", "events_edf", "history"):
        if key in outcome.paths:
            write(f"wrote {outcome.paths[key]}")


def _run_batch(batch, args: argparse.Namespace) -> int:
    from calfwatch.batch import Options, run_batch
    from calfwatch.batch.engines import local_workers, require_distributed
    from classifier.config import load_config

    if args.scheduler and args.jobs != 1:
        from calfwatch.cli import UsageError

        raise UsageError("--jobs and --scheduler: the cluster's workers run the batch; give one")
    n_jobs = 1 if args.scheduler else local_workers(args.jobs, [j.source for j in batch.jobs])
    if args.scheduler or n_jobs > 1:
        require_distributed("--scheduler" if args.scheduler else f"--jobs {args.jobs}")
    options = Options(load_config(), units=args.units, mains_hz=args.mains,
                      subject=args.subject, side=args.side or "", anonymize=args.anonymize,
                      channels=args.channels)
    not_evaluable: list[str] = []
    result = run_batch(batch, options, n_jobs=n_jobs, scheduler=args.scheduler,
                       history_path=args.history,
                       show=partial(_show, quiet=args.quiet, not_evaluable=not_evaluable))
    for key in ("cohort", "cohort_parquet"):
        if key in result.cohort_paths:
            print(f"wrote {result.cohort_paths[key]}")
    if result.failed:
        sys.stderr.write(f"calfwatch: {len(result.failed)} of {len(batch.jobs)} recordings "
                         f"failed: {', '.join(result.failed)}\n")
        return 1
    from calfwatch.cli import EXIT_NOT_EVALUABLE

    return EXIT_NOT_EVALUABLE if not_evaluable else 0
