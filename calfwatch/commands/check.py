"""``calfwatch check``: is the sensor placed well? Live signal quality per channel, advice, verdict.

Exit codes: 0 when every channel passes, 3 when one fails (advice printed), 1 on errors (port).
"""

from __future__ import annotations

import argparse
import sys

from calfwatch.commands._arg_types import positive
from calfwatch.commands._device_args import add_device_options, device_from_args

NAME = "check"
HELP = "check electrode placement: live signal quality per channel, advice and a pass/fail verdict"

EXIT_FAIL = 3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the subcommand."""
    parser.add_argument("--device", required=True, help="device kind (see `calfwatch devices`)")
    parser.add_argument("--port", required=True, help="serial port, e.g. /dev/ttyUSB0 or COM3")
    parser.add_argument("--seconds", type=positive, default=30.0,
                        help="length of the check in seconds of signal (default 30)")
    parser.add_argument("--mains", type=float, choices=(50.0, 60.0), default=None,
                        help="mains frequency (default: detected from the first seconds)")
    add_device_options(parser)


def _row(name: str, q) -> str:
    def f(v, fmt):
        return "   -" if v != v else format(v, fmt)  # NaN-safe

    return (f"{name:<14} {f(q.noise_uv, '6.1f')} {f(100 * q.mains_fraction, '6.0f')} "
            f"{f(100 * q.saturated_fraction, '6.1f')} {f(100 * q.flat_fraction, '6.0f')} "
            f"{f(q.movement_uv, '7.1f')} {f(100 * q.lost_fraction, '6.1f')}")


HEADER = f"{'channel':<14} {'noise':>6} {'mains':>6} {'sat.':>6} {'flat':>6} {'moving':>7} {'lost':>6}"
UNITS = f"{'':<14} {'µV':>6} {'%':>6} {'%':>6} {'%':>6} {'µV':>7} {'%':>6}"


class _Table:
    """The table of the last second, redrawn in place on a terminal, as lines otherwise."""

    def __init__(self, ch_names: list[str]) -> None:
        self.ch_names = ch_names
        self.tty = sys.stdout.isatty()
        self.drawn = 0

    def show(self, second: int, rows) -> None:
        lines = [f"second {second}", HEADER, UNITS] + [
            _row(n, q) for n, q in zip(self.ch_names, rows, strict=True)]
        if self.tty:
            if self.drawn:
                sys.stdout.write(f"\033[{self.drawn}F")
            sys.stdout.write("".join(f"\033[K{line}\n" for line in lines))
            self.drawn = len(lines)
        elif second == 1 or second % 5 == 0:  # piped: a block with its headers every 5 s
            sys.stdout.write("\n".join(lines) + "\n")
        sys.stdout.flush()


def _mains(args, source, first) -> float:
    if args.mains is not None:
        return args.mains
    from dsp.filters import detect_mains_hz

    return detect_mains_hz(first, source.info.sfreq_hz)


def run(args: argparse.Namespace) -> int:
    """Measure for ``--seconds``, show the table, print advice and the verdict."""
    import numpy as np

    from acquisition.picks import pick_channels
    from acquisition.serial_source import SerialSource
    from calfwatch.check_quality import QualityMeter, channel_summary, verdict

    if not args.seconds > 0:
        from calfwatch.cli import UsageError

        raise UsageError("--seconds must be positive")
    spec = device_from_args(args)
    source = SerialSource(args.port, spec)
    try:
        source = pick_channels(source, args.channels, args.port)
    except BaseException:
        source.close()
        raise
    info = source.info
    table = _Table(list(info.ch_names))
    limit = int(round(args.seconds * info.sfreq_hz))
    meter = None
    pending = []
    try:
        for chunk in source.chunks():
            data = chunk.data_uv[:, : max(0, limit - chunk.start_sample)]
            if meter is None:
                pending.append(data)
                head = np.concatenate(pending, axis=1)
                if head.shape[1] < min(limit, int(2 * info.sfreq_hz)):
                    continue
                meter = QualityMeter(info.sfreq_hz, info.n_channels,
                                     _mains(args, source, np.nan_to_num(head)))
                data = head
            for rows in meter.feed(data):
                table.show(len(meter.seconds), rows)
            if chunk.stop_sample >= limit:
                break
    finally:
        source.close()
    if meter is not None:
        for rows in meter.finish():
            table.show(len(meter.seconds), rows)
    seconds = meter.seconds if meter is not None else []
    mains = meter.mains_hz if meter is not None else 50.0
    ok, tips = verdict(seconds, list(info.ch_names), mains)
    print(f"over {len(seconds)} s (median per channel):")
    print("  " + HEADER)
    print("  " + UNITS)
    for c, name in enumerate(info.ch_names):
        print("  " + _row(name, channel_summary(seconds, c)))
        for tip in tips[name]:
            print(f"    - {tip}")
    print("PASS: the sensor is ready for the night" if ok else
          "FAIL: fix the points above and run the check again")
    return 0 if ok else EXIT_FAIL
