"""``calfwatch emulate``: serve an emulated EMG device on a virtual serial port, faults included."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time

from calfwatch.commands._arg_types import positive

NAME = "emulate"
HELP = "serve an emulated device (calfwatch, cyton, bitalino, ascii) on a virtual serial port"

_FAULT_HELP = (
    "faults to inject, comma-separated: corrupt=RATE, drop_bytes=RATE (per byte), "
    "drop_frames=RATE (per frame), stall=DUR@T[/EVERY] (nothing delivered for DUR, then all), "
    "reset@T[/EVERY] (firmware restart, counter to 0), unplug=DUR@T[/EVERY] (port disappears), "
    "garbage=N (random bytes at start-up). Times are device seconds (5s, 250ms, 2min). "
    "Example: corrupt=0.001,drop_frames=0.001,stall=30s@5s,reset@120s,unplug=5s@60s/300s,garbage=64"
)
_SIM_MIN_HZ = 500.0
_DEFAULT_RATE = {"calfwatch": 2000.0, "cyton": 250.0, "bitalino": 1000.0, "ascii": 500.0}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the options of ``calfwatch emulate``."""
    parser.add_argument("--device", required=True, choices=("calfwatch", "cyton", "bitalino", "ascii"),
                        help="firmware to emulate")
    parser.add_argument("--port", required=True, metavar="PATH",
                        help="path where the port appears (a symlink to a pseudo-terminal)")
    parser.add_argument("--source", default="benign-night", metavar="PROFILE|FILE",
                        help="simulator profile name or a recording file (default: benign-night)")
    parser.add_argument("--speed", type=positive, default=1.0, metavar="N",
                        help="stream at N x real time (default 1)")
    parser.add_argument("--faults", default="", metavar="SPEC", help=_FAULT_HELP)
    parser.add_argument("--seed", type=int, default=0, help="seed of the faults and the simulator")
    parser.add_argument("--sfreq", type=positive, default=None, metavar="HZ",
                        help="sampling rate of a simulated source (default: the device's)")
    parser.add_argument("--channels", type=int, default=None, metavar="N",
                        help="channels of a simulated source (default: the device's, at most 2)")
    parser.add_argument("--duration", type=positive, default=None, metavar="S",
                        help="stop after S seconds of wall time (default: until the source ends or Ctrl-C)")
    parser.add_argument("--counter-column", action="store_true",
                        help="ascii: print a counter before the values (sketches usually do not)")
    parser.add_argument("--log", default=None, metavar="FILE", help="write the fault log as JSON lines")


def _simulated(args, sfreq_hz: float, n_channels: int):
    from calfwatch.simulator import load_profile, simulate_night

    factor = 1
    while sfreq_hz * factor < _SIM_MIN_HZ:  # e.g. the Cyton's 250 Hz: simulate faster, average down
        factor += 1
    params = load_profile(args.source, sfreq_hz=sfreq_hz * factor, n_channels=n_channels)
    chunks = simulate_night(params, seed=args.seed).chunks(chunk_s=1.0)
    if factor == 1:
        return chunks
    return (_block_mean(c.data_uv, factor) for c in chunks)


def _block_mean(data_uv, factor: int):
    n = data_uv.shape[1] // factor * factor
    return data_uv[:, :n].reshape(data_uv.shape[0], -1, factor).mean(axis=2)


def _looks_like_path(text: str) -> bool:
    return os.sep in text or "." in os.path.basename(text)


def _recording(path: str):
    from acquisition.replay import recording_samples

    chunks, info = recording_samples(path)  # constant memory, even for an 8-hour EDF/BDF
    return chunks, info.sfreq_hz, info.n_channels


def run(args: argparse.Namespace) -> int:
    """Serve the device until the source ends, ``--duration`` passes or Ctrl-C."""
    from calfwatch.cli import UsageError
    from calfwatch.simulator import PROFILES
    from firmware_io.emulator import EmulatedDevice
    from firmware_io.faults import parse_faults

    try:
        plan = parse_faults(args.faults, seed=args.seed)
    except ValueError as exc:
        raise UsageError(f"--faults: {exc}") from exc
    if not args.speed > 0:
        raise UsageError(f"--speed must be positive, not {args.speed}")
    if os.path.exists(args.source):
        source, sfreq_hz, n_channels = _recording(args.source)
    elif args.source not in PROFILES and _looks_like_path(args.source):
        raise FileNotFoundError(f"{args.source}: no such file (--source takes a recording file "
                                f"or a profile: {', '.join(PROFILES)})")
    elif args.source not in PROFILES:
        raise UsageError(f"--source {args.source!r}: neither a file nor a profile "
                         f"(profiles: {', '.join(PROFILES)})")
    else:
        sfreq_hz = args.sfreq or _DEFAULT_RATE[args.device]
        n_channels = args.channels or (2 if args.device != "ascii" else 1)
        source = _simulated(args, sfreq_hz, n_channels)
    options = {"counter_column": True} if args.counter_column and args.device == "ascii" else {}
    device = EmulatedDevice(args.device, source, sfreq_hz, args.port, speed=args.speed,
                            faults=plan, n_channels=args.channels, **options)
    main_thread = threading.current_thread() is threading.main_thread()
    # stopped by kill: as by Ctrl-C (only the main thread may set a handler), from before the
    # port is announced, so that a kill as soon as it is up finds the handler there
    previous = signal.signal(signal.SIGTERM, _interrupt) if main_thread else None
    try:
        device.start()
        print(f"{args.device} device on {device.port_path} ({sfreq_hz:g} Hz, "
              f"{device.firmware.n_channels} channels, x{args.speed:g}); Ctrl-C to stop",
              flush=True)
        started = time.monotonic()
        while not device.finished.wait(0.2):
            if args.duration is not None and time.monotonic() - started >= args.duration:
                break
    except KeyboardInterrupt:
        pass
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)
        device.stop()  # the port's symlink goes with it
        _report(device, args.log)
    if device.error is not None:
        raise RuntimeError(f"{device.port_path}: emulated device stopped: {device.error}")
    return 0


def _interrupt(_signum, _frame) -> None:
    raise KeyboardInterrupt


def _report(device, log_path: str | None) -> None:
    totals = device.totals()
    lost = ", ".join(f"{k} {v}" for k, v in sorted(totals["lost_by_cause"].items())) or "none"
    print(f"samples produced {totals['samples_produced']}, delivered {totals['samples_delivered']}, "
          f"lost {totals['samples_lost']} ({lost}), delivered damaged "
          f"{totals['samples_corrupted_undetected']}", file=sys.stdout, flush=True)
    if log_path:
        with open(log_path, "w", encoding="utf-8") as fh:
            for rec in device.fault_log:
                fh.write(json.dumps(rec) + "\n")
