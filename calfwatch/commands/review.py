"""``calfwatch review``: a recording in MNE's browser with the events as annotations."""

from __future__ import annotations

import argparse

from calfwatch.commands._arg_types import non_negative, positive

NAME = "review"
HELP = "open a recording in MNE's browser, filtered for EMG, with calfwatch's events on it"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the subcommand."""
    parser.add_argument("recording", metavar="RECORDING", help="EDF/BDF/FIF/WFDB/CSV recording")
    parser.add_argument("--events", metavar="DIR", default=None,
                        help="output folder of calfwatch analyze (default <recording>_analysis "
                             "beside the recording, when present)")
    parser.add_argument("--start", type=non_negative, default=0.0, metavar="SECONDS",
                        help="first second shown")
    parser.add_argument("--window", type=positive, default=10.0, metavar="SECONDS",
                        help="seconds per screen (default 10)")
    parser.add_argument("--units", choices=("uV", "mV", "V"), default=None,
                        help="units of CSV channels whose header does not state them")


def run(args: argparse.Namespace) -> int:
    """Open the browser (returns at once under a non-interactive matplotlib backend)."""
    from calfwatch.cli import UsageError
    from calfwatch.review import is_interactive_backend, review

    if not args.window > 0 or args.start < 0:
        raise UsageError("--window must be positive and --start not negative")
    fig = review(args.recording, args.events, start_s=args.start, window_s=args.window,
                 units=args.units)
    if not is_interactive_backend():
        n = len(fig.mne.inst.annotations)
        print(f"{args.recording}: {n} annotations; no interactive display (matplotlib backend "
              "is non-interactive), nothing shown")
    return 0
