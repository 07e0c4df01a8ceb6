"""``calfwatch devices``: list the serial ports with their descriptions, the device kinds known, and
the Lab Streaming Layer streams seen (``record --device lsl --port NAME``) when pylsl is installed."""

from __future__ import annotations

import argparse
import json

from calfwatch.commands._arg_types import non_negative

NAME = "devices"
HELP = ("list serial ports (path, description, USB serial number), the device kinds calfwatch "
        "reads and the LSL streams seen")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--json``."""
    parser.add_argument("--json", action="store_true", help="print the list as JSON")
    parser.add_argument("--lsl-wait", type=non_negative, default=1.0, metavar="S",
                        help="seconds to look for LSL streams (default 1; 0 skips them)")


def _device_kinds() -> list[dict]:
    try:
        from firmware_io.devices import DEVICES
    except ImportError:
        return []
    kinds = []
    for kind in sorted(DEVICES):
        spec = DEVICES[kind]
        kinds.append(
            {
                "kind": kind,
                "baudrate": spec.baudrate,
                "sfreq_hz": spec.sfreq_hz,
                "channels": spec.n_channels,
                "resolution_bits": spec.resolution_bits,
            }
        )
    return kinds


def run(args: argparse.Namespace) -> int:
    """Print the ports (one per line) and the device kinds; exit 0 even when there is no port."""
    from acquisition.ports import list_serial_ports

    ports = list_serial_ports()
    kinds = _device_kinds()
    streams, lsl_note = _lsl_streams(args.lsl_wait)
    if args.json:
        print(json.dumps({"ports": [p.as_dict() for p in ports], "devices": kinds,
                          "lsl_streams": streams}, indent=2))
        return 0
    if not ports:
        print("no serial ports found: is the device (or its USB dongle) plugged in and powered?")
    for port in ports:
        extra = f"  serial {port.serial_number}" if port.serial_number else ""
        print(f"{port.device}  {port.description or '-'}  [{port.hwid or '-'}]{extra}")
    if kinds:
        print("device kinds (--device):")
        for k in kinds:
            print(
                f"  {k['kind']:<10} {k['sfreq_hz']:g} Hz, {k['channels']} channel(s), "
                f"{k['resolution_bits']}-bit, {k['baudrate']} baud"
            )
    _print_lsl(streams, lsl_note)
    return 0


def _lsl_streams(wait_s: float) -> tuple[list[dict], str]:
    """The LSL streams seen within ``wait_s``, or none and why."""
    if not wait_s > 0:
        return [], ""
    from acquisition.lsl_source import LslUnavailable, list_lsl_streams

    try:
        return list_lsl_streams(wait_s), ""
    except LslUnavailable as exc:
        return [], str(exc)


def _print_lsl(streams: list[dict], note: str) -> None:
    if note:
        print(f"LSL streams: not looked for ({note})")
        return
    print("LSL streams (--device lsl --port NAME):" if streams else "LSL streams: none seen")
    for s in streams:
        print(f"  {s['name']:<20} {s['type'] or '-'}, {s['channels']} channel(s), "
              f"{s['sfreq_hz']:g} Hz, from {s['hostname'] or '?'} ({s['source_id'] or '-'})")
