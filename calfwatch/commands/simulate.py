"""``calfwatch simulate``: write a simulated night with its ground truth."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

NAME = "simulate"
HELP = "write a simulated calf-EMG night (EDF+/BDF+/FIF) with exact ground truth"

_UNITS_S = {"s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}


def parse_duration_s(text: str) -> float:
    """``"8h"``, ``"10m"``, ``"600s"`` or ``"600"`` (seconds) -> seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d*)?)\s*(s|m|min|h)?\s*", text)
    if not match:
        raise ValueError(f"bad duration {text!r} (use e.g. 8h, 10m, 600s)")
    return float(match.group(1)) * _UNITS_S[match.group(2) or "s"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the subcommand."""
    parser.add_argument("--profile", required=True,
                        help="quiet, benign-night, busy-night, no-twitch or complex")
    parser.add_argument("--duration", default=None,
                        help="length, e.g. 8h, 10m, 600s (default: the profile's, 8h)")
    parser.add_argument("--fs", type=float, default=2000.0, help="sampling rate in Hz (500-4000)")
    parser.add_argument("--channels", type=int, default=1, help="number of channels (1-8)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (same seed, same night)")
    parser.add_argument("--format", dest="fmt", choices=("edf", "bdf", "fif"), default=None,
                        help="file format (default: the suffix of --out, else edf)")
    parser.add_argument("--mains", type=float, choices=(50.0, 60.0), default=None,
                        help="mains frequency in Hz (default 50)")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="override any simulation parameter")
    parser.add_argument("--out", required=True, help="recording path; truth files go beside it")


def _format(args: argparse.Namespace) -> str:
    """The format: --format, else the suffix of --out, else EDF; a folder, or a suffix that
    contradicts --format, is refused (the file written would not be the one named)."""
    from calfwatch.cli import UsageError

    out = Path(args.out)
    if out.is_dir():
        raise UsageError(f"--out {out}: is a folder; name the recording file (e.g. "
                         f"{out / 'night.edf'})")
    named = out.suffix.lower().lstrip(".")
    named = named if named in ("edf", "bdf", "fif") else None
    if args.fmt and named and args.fmt != named:
        raise UsageError(f"--out {out} is a .{named} name but --format is {args.fmt}")
    return args.fmt or named or "edf"


def _params(args):
    from calfwatch.cli import UsageError
    from calfwatch.simulator import load_profile
    from calfwatch.simulator.params import SimulationError, parse_value

    overrides = {"sfreq_hz": args.fs, "n_channels": args.channels}
    try:
        if args.duration is not None:
            overrides["duration_s"] = parse_duration_s(args.duration)
        if args.mains is not None:
            overrides["mains_hz"] = args.mains
        for item in args.overrides:
            key, sep, value = item.partition("=")
            if not sep:
                raise SimulationError(f"--set {item!r} must be KEY=VALUE")
            overrides[key.strip()] = parse_value(key.strip(), value.strip())
        if args.seed < 0:
            raise SimulationError(f"seed={args.seed} must be a non-negative integer")
        return load_profile(args.profile, **overrides)
    except (SimulationError, ValueError, TypeError) as exc:
        raise UsageError(_with_options(str(exc))) from exc


_OPTION_OF = {"sfreq_hz=": "--fs ", "n_channels=": "--channels ", "duration_s=": "--duration ",
              "mains_hz=": "--mains ", "seed=": "--seed "}


def _with_options(message: str) -> str:
    """Name the command-line option rather than the parameter (``--fs 250``, not ``sfreq_hz=250``)."""
    for field, option in _OPTION_OF.items():
        if message.startswith(field):
            return option + message[len(field):]
    return message


def _describe(night, paths) -> str:
    s = night.truth_summary()
    p = night.params
    lines = [
        f"profile {p.profile}, seed {night.seed}: {p.duration_s / 3600:.2f} h at "
        f"{p.sfreq_hz:g} Hz, channels {', '.join(night.info.ch_names)}, mains {p.mains_hz:g} Hz",
        "events: " + ", ".join(f"{k} {n}" for k, n in s["counts"].items()),
    ]
    for ch, c in s["channels"].items():
        rate = c["fasciculations_per_min_rest"]
        lines.append(
            f"{ch}: rest {c['rest_minutes']:.1f} min, fasciculations {c['fasciculations']} "
            f"(+{c['doublets']} doublets), {rate:.2f}/min at rest"
        )
    lines.append(f"PLM index {s['plm_index_per_h']:.1f}/h")
    lines += [f"wrote {paths[k]}" for k in ("recording", "events", "truth")]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Simulate, write and describe the night."""
    from calfwatch.simulator import simulate_night, write_simulation

    fmt = _format(args)
    params = _params(args)
    night = simulate_night(params, seed=args.seed)
    paths = write_simulation(night, args.out, fmt=fmt)
    print(_describe(night, paths))
    return 0
