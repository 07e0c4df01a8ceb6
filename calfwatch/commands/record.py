"""``calfwatch record``: record a device on a serial port to EDF+/BDF+ with a JSON sidecar.

The loop is simple on purpose: open the source, then for each chunk write it and call the per-chunk
hooks (live processing plugs in there), until the duration is reached or SIGINT/SIGTERM asks to stop;
then the file is closed cleanly and the final sidecar written. Unplugging the device does not stop
the recording: the source reconnects and the lost span is annotated. Closing the terminal (SIGHUP)
stops it the same way, the file closed and the night analysed, the messages no one can read any
more sent nowhere (:func:`_stop_signals`); under ``nohup`` (SIGHUP ignored) the recording goes on.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time

from calfwatch.commands._arg_types import positive
from calfwatch.commands._device_args import add_device_options, device_from_args

NAME = "record"
#: ``--device`` value for a Lab Streaming Layer stream (``--port`` names it).
LSL_DEVICE = "lsl"
HELP = (
    "record a device on a serial port to EDF+/BDF+ with a JSON sidecar; survives unplugging, "
    "annotates every lost span"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the device, port, output and session arguments."""
    parser.add_argument("--device", required=True,
                        help="device kind (see `calfwatch devices`), or lsl for a Lab Streaming "
                        "Layer stream")
    parser.add_argument("--port", required=True,
                        help="serial port, e.g. /dev/ttyUSB0 or COM3; with --device lsl the LSL "
                        "stream's name")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for the recording")
    parser.add_argument("--subject", default="", help="subject code stored in the file")
    parser.add_argument("--side", choices=("left", "right"), help="which calf")
    parser.add_argument("--duration", type=positive, metavar="S",
                        help="stop after S seconds of signal")
    parser.add_argument(
        "--stall-s", type=positive, default=5.0, metavar="S",
        help="no data for S seconds is a stall: re-send start, then reopen the port (default 5)",
    )
    parser.add_argument(
        "--clock-speed", type=positive, default=1.0, metavar="N",
        help="the device runs at N x real time (emulated devices: the emulator's --speed); "
        "used to measure gaps across reconnections",
    )
    parser.add_argument(
        "--status-every", type=positive, default=None, metavar="S",
        help="status line period (default: 1 s on a terminal, 30 s otherwise)",
    )
    parser.add_argument(
        "--outputs-every", type=positive, default=300.0, metavar="S",
        help="rewrite the output files (events.tsv, summary.json, annotations.txt, events.edf...) "
             "in DIR/<recording name>_analysis every S seconds (default 300) and at the end",
    )
    parser.add_argument("--history", metavar="FILE", default=None,
                        help="history file (default: $CALFWATCH_HOME/history.sqlite)")
    parser.add_argument("--mains", type=float, choices=(50.0, 60.0), default=None,
                        help="mains frequency where you are: live events from the first second "
                        "(default: decided from the first 10 s of signal, which wait for it)")
    parser.add_argument("--no-detect", action="store_true",
                        help="record only, without live detection and analysis")
    parser.add_argument("--lsl", nargs="?", const="calfwatch", default=None, metavar="NAME",
                        help="publish the samples (µV) as LSL stream NAME (default calfwatch) "
                        "and the live events as NAME-events (needs calfwatch[lsl])")
    parser.add_argument("--hardware-filter", metavar="TEXT", default=None,
                        type=hardware_filter_text,
                        help="the sensor's analog filter in EDF+ form, e.g. 'HP:20Hz LP:498Hz' "
                        "(HP:DC for none; N:50Hz for a notch), written in the recording's "
                        "prefilter field (default: the device's known filter, or nothing)")
    add_device_options(parser)


def hardware_filter_text(text: str) -> str:
    """The ``--hardware-filter`` text in the EDF+ form the readers parse
    (:func:`acquisition.edf.labels.prefilter_text`), or an argparse error saying the forms.

    Examples
    --------
    >>> hardware_filter_text("hp: 0.1 hz  LP:1kHz")
    'HP:0.1Hz LP:1000Hz'
    """
    from acquisition.edf.labels import prefilter_text

    try:
        return prefilter_text(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def channel_names(n_channels: int, side: str | None) -> list[str]:
    """``calf_left`` for one channel, ``calf_left_1``... for several (``emg1``... without a side)."""
    if not side:
        return [f"emg{i + 1}" for i in range(n_channels)]
    if n_channels == 1:
        return [f"calf_{side}"]
    return [f"calf_{side}_{i + 1}" for i in range(n_channels)]


def status_text(recorder, source, live=None) -> str:
    """One status line: elapsed signal time, samples, losses, reconnections, twitches, state."""
    stats = source.stats()
    lost = sum(recorder.samples_lost.values())
    total = max(1, recorder.next_sample)
    stopped = getattr(source, "stop_requested", lambda: False)()
    state = "" if stats.get("connected", True) or stopped else "  [disconnected, retrying]"
    return (
        f"{recorder.next_sample / recorder.info.sfreq_hz:8.1f} s  "
        f"samples {recorder.samples_received}  lost {lost} ({100.0 * lost / total:.2f} %)  "
        f"reconnects {stats.get('reconnects', 0)}"
        + (f"  twitches {live.twitches}" if live is not None else "") + state
    )


class _Status(threading.Thread):
    """Refresh the status line in place on a terminal, print plain lines otherwise."""

    def __init__(self, recorder, source, every_s: float | None, live=None) -> None:
        super().__init__(daemon=True)
        self.tty = sys.stderr.isatty()
        self.every_s = every_s or (1.0 if self.tty else 30.0)
        self.recorder, self.source, self.live = recorder, source, live
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(self.every_s):
            self.show()

    def show(self, final: bool = False) -> None:
        text = status_text(self.recorder, self.source, self.live)
        if self.tty:
            sys.stderr.write("\r\033[K" + text + ("\n" if final else ""))
        else:
            sys.stderr.write(text + "\n")
        sys.stderr.flush()


def run(args: argparse.Namespace, on_chunk=None) -> int:
    """Record until the duration is reached or SIGINT/SIGTERM; close cleanly; exit 0.

    ``on_chunk`` (for callers that add live processing) is called with every chunk written.
    """
    from acquisition.picks import pick_channels
    from acquisition.recorder import Recorder, run_recording

    source = _open_source(args)
    try:
        if args.hardware_filter:
            source.info.device["hardware_filter"] = " ".join(args.hardware_filter.split())
        source = pick_channels(source, args.channels, args.port)
        publisher = _publisher(args, source.info)
        recorder = Recorder.create(
            args.out, source.info, subject=args.subject, side=args.side or "",
            source_stats=source.stats, on_problem=_warn,
        )
        live = None if not _detects(args, source.info) else _live(recorder, args, publisher)
    except BaseException:
        source.close()
        raise
    stop = threading.Event()

    def _ask_stop(signum, frame):  # noqa: ARG001 - signal handler signature
        stop.set()
        source.request_stop()

    previous = {s: signal.signal(s, handler) for s, handler in _stop_signals(_ask_stop).items()}
    status = _Status(recorder, source, args.status_every, live)
    status.start()
    started = time.monotonic()
    try:
        why = run_recording(
            source, recorder, duration_s=args.duration,
            on_chunk=_hooks(publisher and publisher.push_chunk, live, on_chunk),
            should_stop=stop.is_set,
        )
    finally:
        status.done.set()
        source.close()
        recorder.close()
        if publisher is not None:
            publisher.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    status.show(final=True)
    print(f"recorded {recorder.path} ({_outcome(recorder, source, time.monotonic() - started)}, "
          f"{_STOP_WORDS.get(why, why)}); sidecar {recorder.sidecar_path}")
    if recorder.sidecar_error is not None:
        _warn(f"{recorder.sidecar_path}: the final sidecar could not be written "
              f"({recorder.sidecar_error}); the recording {recorder.path} is complete")
    if live is not None:
        _finish_live(live, args)
    return 0


def _outcome(recorder, source, wall_s: float) -> str:
    """What the file holds: its length, the samples lost, and for how long the device was
    disconnected at the end (a disconnection still going on at the stop, annotated lost)."""
    sfreq = recorder.info.sfreq_hz
    lost = sum(recorder.samples_lost.values())
    text = f"{recorder.next_sample / sfreq:.1f} s of signal in {wall_s:.1f} s, {lost} samples lost"
    at_stop = source.stats().get("samples_lost_at_stop", 0)
    if at_stop:
        text += f", disconnected for the last {at_stop / sfreq:.1f} s"
    return text


def _stop_signals(ask_stop) -> dict:
    """The handler of each signal that stops a recording cleanly: ``ask_stop`` for SIGINT and
    SIGTERM; for SIGHUP (the terminal closed) ``ask_stop`` once the terminal's output is sent
    nowhere, unless SIGHUP was ignored when calfwatch started (``nohup``), where it stays so."""
    handlers = {signal.SIGINT: ask_stop, signal.SIGTERM: ask_stop}
    hangup = getattr(signal, "SIGHUP", None)  # not on Windows
    if hangup is not None and signal.getsignal(hangup) is not signal.SIG_IGN:
        terminal_fds = [fd for fd in (1, 2) if os.isatty(fd)]  # a hung-up one no longer says so

        def _hung_up(signum, frame):
            _detach(terminal_fds)
            ask_stop(signum, frame)

        handlers[hangup] = _hung_up
    return handlers


def _detach(fds: list[int]) -> None:
    """Point ``fds`` (standard output and error that were a terminal) at the null device: after a
    hangup every write to the terminal fails (EIO), which would end the night's last steps (the
    analysis, the summary) with an error no one sees."""
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        for fd in fds:
            os.dup2(null, fd)
    finally:
        os.close(null)


def _warn(line: str) -> None:
    """One warning line on stderr (the status line on a terminal is redrawn after it)."""
    sys.stderr.write(f"\ncalfwatch: warning: {line}\n" if sys.stderr.isatty()
                     else f"calfwatch: warning: {line}\n")
    sys.stderr.flush()


_STOP_WORDS = {"duration": "stopped at --duration",
               "stopped": "stopped by Ctrl-C, SIGTERM or hangup",
               "source ended": "the device stopped sending"}


def _detects(args: argparse.Namespace, info) -> bool:
    """Whether to detect live; a device slower than the analysis needs is recorded with a warning."""
    from calfwatch.engine import MIN_SFREQ_HZ

    if args.no_detect:
        return False
    if info.sfreq_hz < MIN_SFREQ_HZ:
        sys.stderr.write(
            f"calfwatch: warning: {args.port}: the device samples at {info.sfreq_hz:g} Hz, below the "
            f"{MIN_SFREQ_HZ:g} Hz fasciculation detection needs; recording without detection\n"
        )
        return False
    return True


def _open_source(args: argparse.Namespace):
    """The serial device, or the LSL stream named by --port with ``--device lsl``."""
    site = f"{args.side} calf" if args.side else ""
    if args.device == LSL_DEVICE:
        from acquisition.lsl_source import LslSource

        return LslSource(args.port, fallback_names=lambda n: channel_names(n, args.side),
                         stall_s=args.stall_s, site=site)
    from acquisition.serial_source import SerialSource
    from calfwatch.cli import UsageError

    try:
        spec = device_from_args(args)
    except UsageError as exc:
        if str(exc).startswith("unknown device"):
            raise UsageError(f"{exc}, {LSL_DEVICE}") from exc
        raise
    # chunks of 0.1 s at real time; N x 0.1 s from a device N times faster, so the analysis
    # runs as often per wall second as at real time
    speed = max(1.0, float(args.clock_speed or 1.0))
    return SerialSource(
        args.port, spec, ch_names=lambda n: channel_names(n, args.side),
        stall_s=args.stall_s, site=site, clock_speed=args.clock_speed, chunk_s=0.1 * speed,
    )


def _publisher(args: argparse.Namespace, info):
    """The LSL outlets of ``--lsl NAME`` (None without it)."""
    if getattr(args, "lsl", None) is None:
        return None
    from calfwatch.lsl_out import LslPublisher

    return LslPublisher(info, name=args.lsl)


def _live(recorder, args: argparse.Namespace, publisher=None):
    """Live detection on the values the file stores (see calfwatch.live)."""
    from calfwatch.live import LiveAnalysis
    from calfwatch.outputs import analysis_dir

    return LiveAnalysis(recorder, analysis_dir(recorder.path), subject=args.subject,
                        side=args.side or "", outputs_every_s=args.outputs_every,
                        mains_hz=args.mains,
                        on_events=publisher.push_events if publisher is not None else None)


def _hooks(*hooks):
    """One per-chunk hook calling each given one in order (None when none is given)."""
    hooks = [h for h in hooks if h is not None]
    if len(hooks) <= 1:
        return hooks[0] if hooks else None

    def each(chunk):
        for hook in hooks:
            hook(chunk)

    return each


def _finish_live(live, args: argparse.Namespace) -> None:
    """The final analysis of the night: output files, history, the wearer's summary."""
    from calfwatch.engine.result import NoRawEmgError
    from calfwatch.summary_text import wearer_summary

    try:
        result, paths = live.finish(history_path=args.history)
    except NoRawEmgError as exc:  # what the signal is: analyze would say the same
        sys.stderr.write(f"calfwatch: analysis not written: {' '.join(str(exc).split())} "
                         f"(the recording is complete and kept)\n")
        return
    except (OSError, ValueError) as exc:
        sys.stderr.write(f"calfwatch: analysis not written: {' '.join(str(exc).split())} "
                         f"(the recording is complete; run calfwatch analyze on it)\n")
        return
    print(f"twitches {live.twitches} (final analysis; the live view counted "
          f"{live.twitches_before_final} and took {live.final_corrections} correction(s) from it)")
    if getattr(args, "print_summary", True):
        print(wearer_summary(result.summary, _earlier_nights(args)))
    for key in ("events", "events_json", "summary", "annotations", "events_edf", "history"):
        if key in paths:
            print(f"wrote {paths[key]}")


def _earlier_nights(args: argparse.Namespace):
    """The subject's stored nights (tonight's included; the summary text skips it)."""
    if not args.subject:
        return None
    from calfwatch.history import open_store

    with open_store(args.history) as store:
        return store.nights(args.subject, args.side)
