"""Device options shared by ``record`` and ``check``: units of a raw device, profiles, channel choice.

A device whose samples are raw ADC counts in unknown units (an ASCII sketch printing
``analogRead()``) must be told its scale, offset and rate, on the command line or in a device
profile (a JSON file); it is refused otherwise, as its numbers would be stored as µV. ``--channels``
keeps some of the device's channels (a wearer with one or two electrodes on a six-channel board).
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import replace
from pathlib import Path

from calfwatch.commands._arg_types import channel_list, finite, positive

#: Device kinds whose samples carry no unit and no rate: scale, offset and rate must be given.
RAW_DEVICES = frozenset({"ascii"})
_PROFILE_KEYS = {"device", "sfreq_hz", "uv_per_count", "offset_counts", "counter_column"}


def add_device_options(parser: argparse.ArgumentParser) -> None:
    """Add --scale-uv-per-count, --offset-counts, --sfreq, --counter-column, --device-profile and
    --channels."""
    parser.add_argument("--device-profile", metavar="FILE", default=None,
                        help="JSON file with the facts a raw device cannot tell: "
                        '{"device": "ascii", "sfreq_hz": 500, "uv_per_count": 24.41, '
                        '"offset_counts": 512, "counter_column": false}')
    parser.add_argument("--scale-uv-per-count", type=positive, default=None, metavar="UV",
                        help="raw devices (ascii): µV per ADC count, e.g. 24.41 for a MyoWare 2.0 "
                        "RAW output on a 10-bit 5 V ADC (5e6 / 1024 / 200)")
    parser.add_argument("--offset-counts", type=finite, default=None, metavar="N",
                        help="raw devices (ascii): the count of 0 µV, e.g. 512 for a 10-bit ADC")
    parser.add_argument("--sfreq", type=positive, default=None, metavar="HZ",
                        help="raw devices (ascii): the rate the sketch prints lines at")
    parser.add_argument("--counter-column", action="store_true",
                        help="ascii: the first column of each line counts the lines (lost lines "
                        "then become gaps; without it they cannot be seen)")
    parser.add_argument("--channels", type=channel_list, default=None, metavar="LIST",
                        help="channels to use, by number or name: 1,2 or emg1,emg2 (default all)")


def load_profile(path: str) -> dict:
    """Read a device profile; one-line errors naming the file."""
    from acquisition.errors import RecordingError

    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise RecordingError(path, f"cannot read the device profile ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise RecordingError(path, f"the device profile is not valid JSON ({exc})") from None
    if not isinstance(doc, dict) or set(doc) - _PROFILE_KEYS:
        unknown = sorted(set(doc) - _PROFILE_KEYS) if isinstance(doc, dict) else "not an object"
        raise RecordingError(path, f"device profile: unexpected {unknown}; "
                                   f"known keys: {', '.join(sorted(_PROFILE_KEYS))}")
    return doc


def _refuse_raw_options(args: argparse.Namespace) -> None:
    """Refuse the options of a raw device given for a device that states its own units and rate:
    ignored, they would let the user believe the recording used them."""
    from calfwatch.cli import UsageError

    given = [flag for flag, value in (("--scale-uv-per-count", args.scale_uv_per_count),
                                      ("--offset-counts", args.offset_counts),
                                      ("--sfreq", args.sfreq),
                                      ("--counter-column", args.counter_column or None),
                                      ("--device-profile", args.device_profile))
             if value is not None]
    if given:
        raise UsageError(f"{', '.join(given)}: for raw devices ({', '.join(sorted(RAW_DEVICES))}) "
                         f"only; --device {args.device} states its own units and rate")


def device_from_args(args: argparse.Namespace):
    """The :class:`~firmware_io.devices.DeviceSpec` the options describe.

    Raises
    ------
    calfwatch.cli.UsageError
        An unknown device, or a raw device without its scale, offset and rate (one line).
    """
    from acquisition._device_spec import device_spec
    from calfwatch.cli import UsageError

    profile = load_profile(args.device_profile) if args.device_profile else {}
    if profile.get("device", args.device) != args.device:
        raise UsageError(f"{args.device_profile}: the profile is for a {profile['device']} "
                         f"device, not {args.device}")
    facts = {"sfreq_hz": args.sfreq, "uv_per_count": args.scale_uv_per_count,
             "offset_counts": args.offset_counts}
    facts = {k: (v if v is not None else profile.get(k)) for k, v in facts.items()}
    counter = bool(args.counter_column or profile.get("counter_column", False))
    if args.device not in RAW_DEVICES:
        _refuse_raw_options(args)
        try:
            return device_spec(args.device)
        except ValueError as exc:  # an unknown device name is a usage error (exit 2)
            raise UsageError(str(exc)) from exc
    missing = [f"--{flag}" for key, flag in (("uv_per_count", "scale-uv-per-count"),
                                             ("offset_counts", "offset-counts"), ("sfreq_hz", "sfreq"))
               if facts[key] is None]
    if missing:
        raise UsageError(f"--device {args.device} sends raw ADC counts in unknown units at an unknown "
                         f"rate: give {', '.join(missing)} or --device-profile FILE (MyoWare 2.0 RAW "
                         f"on a 10-bit 5 V ADC: --scale-uv-per-count 24.41 --offset-counts 512)")
    for key in ("uv_per_count", "sfreq_hz"):
        if not (math.isfinite(float(facts[key])) and float(facts[key]) > 0):
            raise UsageError(f"--{'scale-uv-per-count' if key == 'uv_per_count' else 'sfreq'} "
                             f"must be a finite positive number, not {facts[key]}")
    if not math.isfinite(float(facts["offset_counts"])):  # a profile's JSON may say NaN
        raise UsageError(f"--offset-counts must be a finite number, not {facts['offset_counts']}")
    spec = device_spec(args.device, first_column="counter" if counter else "none",
                       uv_per_count=float(facts["uv_per_count"]),
                       offset_counts=float(facts["offset_counts"]))
    return replace(spec, sfreq_hz=float(facts["sfreq_hz"]), uv_per_count=float(facts["uv_per_count"]))
