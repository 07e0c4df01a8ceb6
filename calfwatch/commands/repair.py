"""``calfwatch repair FILE...``: give EDF/BDF files left by a crash a correct header."""

from __future__ import annotations

import argparse
import sys

NAME = "repair"
HELP = (
    "fix EDF/BDF recordings left by a crash: set the record count from the file size and cut "
    "a torn last record (consistent files are left untouched)"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the file arguments."""
    parser.add_argument("files", nargs="+", metavar="FILE", help="EDF/EDF+/BDF/BDF+ file(s)")


def run(args: argparse.Namespace) -> int:
    """Repair each file; print one line per file; exit 1 when any file could not be repaired."""
    from acquisition.edf.repair import repair_edf

    status = 0
    for path in args.files:
        try:
            report = repair_edf(path)
        except (OSError, ValueError) as exc:
            message = " ".join(str(exc).split())
            if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
                message = f"{path}: {exc.strerror[:1].lower()}{exc.strerror[1:]}"
            sys.stderr.write(f"calfwatch: error: {message}\n")
            status = 1
            continue
        print(report.summary())
    return status
