"""``calfwatch devices``: list the serial ports with their descriptions, and the device kinds known."""

from __future__ import annotations

import argparse
import json

NAME = "devices"
HELP = "list serial ports (path, description, USB serial number) and the device kinds calfwatch reads"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--json``."""
    parser.add_argument("--json", action="store_true", help="print the list as JSON")


def _device_kinds() -> list[dict]:
    try:
        from firmware_io.devices import DEVICES
    except ImportError:
        return []
    from acquisition._device_spec import device_spec

    kinds = []
    for kind in sorted(DEVICES):
        spec = device_spec(kind)
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
    if args.json:
        print(json.dumps({"ports": [p.as_dict() for p in ports], "devices": kinds}, indent=2))
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
    return 0
