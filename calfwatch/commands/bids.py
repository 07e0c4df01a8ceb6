"""``calfwatch bids``: recordings as a BIDS EMG dataset (mne-bids), the analysis as a derivative."""

from __future__ import annotations

import argparse

from calfwatch.commands._arg_types import channel_list

NAME = "bids"
HELP = ("write recordings as a BIDS EMG dataset with mne-bids (recording, channels.tsv, "
        "events.tsv), calfwatch's analysis as a derivative")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the subcommand."""
    parser.add_argument("recordings", nargs="+", metavar="RECORDING",
                        help="EDF/BDF/FIF/WFDB/CSV recordings of one subject, one night each")
    parser.add_argument("--root", required=True, metavar="DIR", help="the BIDS dataset folder")
    parser.add_argument("--subject", required=True, metavar="ID",
                        help="BIDS subject label (letters and digits)")
    parser.add_argument("--mains", type=float, choices=(50.0, 60.0), default=None,
                        help="mains frequency where the nights were recorded")
    parser.add_argument("--channels", type=channel_list, default=None, metavar="LIST",
                        help="channels to analyse, by number or name (default all; e.g. the leg "
                             "EMG of a polysomnograph's file); the recordings are written whole")


def run(args: argparse.Namespace) -> int:
    """Write the dataset; one line per recording written."""
    from calfwatch.bids import BidsError, check_label, write_bids
    from calfwatch.cli import UsageError

    try:
        check_label(args.subject, "--subject")
    except BidsError as exc:
        raise UsageError(str(exc)) from None
    write_bids(args.recordings, args.root, args.subject, mains_hz=args.mains,
               channels=args.channels,
               on_done=lambda item: print(f"wrote {item.bids_file} (analysis in "
                                          f"{item.derivative_dir})"))
    return 0
