"""``calfwatch demo``: the whole chain on a simulated night, through a real pseudo-terminal.

1. simulate a night (:mod:`calfwatch.simulator`);
2. serve it from an emulated calfwatch sensor (:class:`firmware_io.emulator.EmulatedDevice`) on a
   pseudo-terminal, N times faster than real time;
3. record it with live detection: the very code of ``calfwatch record`` (its ``run``), into DIR;
4. analyse the recorded file offline (``calfwatch analyze``'s code) and check that live and offline
   found the same events;
5. print the wearer's summary and the files written (and the HTML report when reports exist).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import os
import tempfile
from pathlib import Path

from calfwatch.commands._arg_types import positive

NAME = "demo"
HELP = "simulate a night, record it live through an emulated sensor on a pseudo-terminal, analyse it"

#: The emulated sensor (2 channels at 2 kHz, 24 bit).
DEVICE = "calfwatch"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the subcommand."""
    parser.add_argument("--out", default="demo-output", metavar="DIR", help="output folder")
    parser.add_argument("--profile", default="benign-night",
                        help="simulated night: quiet, benign-night, busy-night, no-twitch, complex")
    parser.add_argument("--minutes", type=positive, default=10.0,
                        help="length of the simulated night")
    parser.add_argument("--speed", type=positive, default=30.0,
                        help="replay speed of the emulated sensor (x real time)")
    parser.add_argument("--seed", type=int, default=1, help="simulation seed")
    parser.add_argument("--subject", default="", help="add the night to this subject's history")


def _simulate(args: argparse.Namespace):
    from calfwatch.cli import UsageError
    from calfwatch.simulator import SimulationError, load_profile, simulate_night
    from firmware_io.devices import DEVICES

    spec = DEVICES[DEVICE]
    if not (0 < args.minutes <= 600 and args.speed > 0):
        raise UsageError("--minutes must be in (0, 600] and --speed positive")
    try:
        params = load_profile(args.profile, duration_s=args.minutes * 60.0,
                              sfreq_hz=spec.sfreq_hz, n_channels=spec.n_channels)
    except (SimulationError, ValueError, TypeError) as exc:
        raise UsageError(str(exc)) from exc
    return simulate_night(params, seed=args.seed)


def _record(night, port: str, args: argparse.Namespace, out: Path) -> Path:
    """Run ``calfwatch record`` against the emulated sensor; return the recording's path."""
    from calfwatch.commands import record
    from firmware_io.emulator import EmulatedDevice

    parser = argparse.ArgumentParser(prog="calfwatch record")
    record.add_arguments(parser)  # the command's own defaults, as `calfwatch record` gets them
    argv = ["--device", DEVICE, "--port", port, "--out", str(out), "--side", "left",
            "--duration", repr(night.params.duration_s), "--clock-speed", repr(args.speed)]
    rec_args = parser.parse_args(argv + (["--subject", args.subject] if args.subject else []))
    rec_args.print_summary = False
    device = EmulatedDevice(DEVICE, night.chunks(1.0), night.params.sfreq_hz, port,
                            speed=args.speed)
    with device:
        before = set(out.glob("*.bdf"))
        code = record.run(rec_args)
    if code != 0:
        raise RuntimeError(f"recording through {port} failed (exit {code})")
    new = sorted(set(out.glob("*.bdf")) - before, key=os.path.getmtime)
    if not new:
        raise RuntimeError(f"no recording appeared in {out}")
    return new[-1]


def compare_events(live_tsv: Path, offline_tsv: Path) -> tuple[bool, str]:
    """Whether two events.tsv files list the same events; and a one-line account."""
    from calfwatch.outputs import read_events_tsv

    live, offline = read_events_tsv(live_tsv), read_events_tsv(offline_tsv)
    key = ("sample", "kind", "channel", "phases")
    same = len(live) == len(offline) and all(
        [a[k] for k in key] == [b[k] for k in key] for a, b in zip(live, offline, strict=True))
    if same:
        return True, f"live and offline analyses agree: {len(live)} identical events"
    return False, (f"live and offline analyses differ: {len(live)} live events, "
                   f"{len(offline)} offline")


def _report(analysis: Path, out: Path) -> Path | None:
    if importlib.util.find_spec("calfwatch.commands.report") is None:
        return None
    from calfwatch.cli import main

    path = out / "report.html"
    with contextlib.redirect_stdout(io.StringIO()):  # the report repeats the wearer's summary
        code = main(["report", str(analysis), "--out", str(path)])
    return path if code in (0, 4) else None  # 4: written, the night not evaluable


def run(args: argparse.Namespace) -> int:
    """Simulate, record live through a pseudo-terminal, analyse offline, compare, summarise."""
    from calfwatch.analysis import analyze_file
    from calfwatch.outputs import analysis_dir
    from calfwatch.summary_text import wearer_summary

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    night = _simulate(args)
    print(f"simulated {args.minutes:g} min of '{args.profile}' (seed {args.seed}); streaming it "
          f"from an emulated {DEVICE} sensor at {args.speed:g}x through a pseudo-terminal")
    with tempfile.TemporaryDirectory(prefix="calfwatch-demo-") as tmp:
        recording = _record(night, os.path.join(tmp, "ttyCALFWATCH"), args, out)
    live = analysis_dir(recording)  # where record wrote the night's outputs
    _, offline_paths = analyze_file(recording, out / "offline")
    same, account = compare_events(live / "events.tsv", offline_paths["events"])
    print(account)
    summary = json.loads((live / "summary.json").read_text(encoding="utf-8"))
    truth = night.truth_summary()
    print(f"simulated truth: {truth['fasciculations']} fasciculations at rest in "
          f"{truth['rest_minutes']:.1f} min of rest")
    print()
    print(wearer_summary(summary))
    report = _report(live, out)
    print()
    for path in [recording, live / "events.tsv", live / "summary.json", live / "annotations.txt",
                 offline_paths["events"], report]:
        if path is not None:
            print(f"wrote {path}")
    return 0 if same else 1
