"""``calfwatch datasets``: list the sample recordings and simulated profiles, or show one."""

from __future__ import annotations

import argparse
import sys
import textwrap

NAME = "datasets"
HELP = "list sample recordings (real and simulated) with source, licence and citation"

_WIDTH = 100


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the subcommand."""
    parser.add_argument("--show", metavar="NAME", default=None,
                        help="print the details of one dataset (e.g. emgdb/neuropathy)")
    parser.add_argument("--data-dir", default=None,
                        help="folder of real sample recordings (default: $CALFWATCH_SAMPLE_DATA)")


def _short_licence(licence: str) -> str:
    return licence.split(" (", 1)[0].rstrip(".")


def _number(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds >= 3600:
        return f"{seconds / 3600:g} h"
    return f"{seconds:.1f} s" if seconds < 600 else f"{seconds / 60:g} min"


def _table(datasets: list) -> list[str]:
    rows = [("NAME", "KIND", "FS (Hz)", "DURATION", "LICENCE")]
    rows += [(d.name, d.kind, _number(d.sfreq_hz, "g"), _duration(d.duration_s),
              _short_licence(d.licence)) for d in datasets]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + "  " + r[4]
            for r in rows]


def _wrapped(label: str, text: str) -> list[str]:
    return textwrap.wrap(text, _WIDTH, initial_indent=f"  {label}: ",
                         subsequent_indent=" " * (len(label) + 4)) or [f"  {label}: -"]


def _sources(datasets: list) -> list[str]:
    """One block per source (datasets from one folder share it)."""
    lines: list[str] = []
    groups: dict[tuple[str, str], list[str]] = {}
    for d in datasets:
        if d.kind == "real":
            groups.setdefault((d.source, d.citation), []).append(d.name)
    for (source, citation), names in groups.items():
        lines.append(", ".join(names))
        lines += _wrapped("source", source) + _wrapped("cite", citation)
    return lines


def _show(dataset) -> list[str]:
    lines = [dataset.name, f"  kind: {dataset.kind}"]
    if dataset.path is not None:
        lines.append(f"  file: {dataset.path}")
    lines += [f"  sampling rate: {_number(dataset.sfreq_hz, 'g')} Hz",
              f"  duration: {_duration(dataset.duration_s)}"]
    lines += _wrapped("description", dataset.description)
    lines += _wrapped("source", dataset.source) + _wrapped("licence", dataset.licence)
    if dataset.citation:
        lines += _wrapped("cite", dataset.citation)
    for quirk in dataset.quirks:
        lines += textwrap.wrap(quirk, _WIDTH, initial_indent="  - ", subsequent_indent="    ")
    return lines


def run(args: argparse.Namespace) -> int:
    """List the datasets, or show one."""
    from calfwatch.datasets import ENV_VAR, get_dataset, list_datasets, sample_data_dir

    if args.data_dir is not None and sample_data_dir(args.data_dir) is None:
        raise FileNotFoundError(f"{args.data_dir}: no such folder")
    if args.show is not None:
        print("\n".join(_show(get_dataset(args.show, args.data_dir))))
        return 0
    datasets = list_datasets(args.data_dir)
    print("\n".join(_table(datasets)))
    sources = _sources(datasets)
    if sources:
        print("\nSources of the real recordings:")
        print("\n".join(sources))
    if sample_data_dir(args.data_dir) is None:
        print(f"\nNo real recordings: set {ENV_VAR} (or pass --data-dir) to the folder holding "
              "physionet_emgdb/, biosppy/ and musclesynergies/.", file=sys.stdout)
    return 0
