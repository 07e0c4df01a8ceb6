"""The ``calfwatch`` command line.

Each subcommand lives in its own module under :mod:`calfwatch.commands` and defines ``NAME``, ``HELP``,
``add_arguments(parser)`` and ``run(args) -> int``. Modules import their heavy dependencies inside ``run``
so that ``calfwatch --help`` stays fast. Errors reach the user as one line on stderr with a non-zero exit
code (2 for usage errors); ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from types import ModuleType

from calfwatch import __version__
from calfwatch.commands._arg_types import is_value_error

#: Environment variable read by classifier.config; --config sets it for the whole run.
CONFIG_ENV = "CALFWATCH_CONFIG"

#: Subcommand modules, in the order ``--help`` lists them. A module that is not there yet is skipped.
COMMAND_MODULES = (
    "demo",
    "check",
    "record",
    "analyze",
    "report",
    "history",
    "symptoms",
    "review",
    "bids",
    "simulate",
    "datasets",
    "devices",
    "emulate",
    "repair",
)

EXIT_ERROR = 1
EXIT_USAGE = 2
#: analyze and report: the outputs were written but the night could not be assessed (too little
#: rest, no usable channel, too little usable signal or too much noise; see the assessment).
EXIT_NOT_EVALUABLE = 4
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """A command was called with arguments that do not fit (exit code 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:
        """The message in one line, exit 2, as every other error is; where the arguments do
        not fit the command (not only a value an option's type refused,
        :mod:`calfwatch.commands._arg_types`) the line says where its usage is."""
        hint = "" if is_value_error(message) else f" (see {self.prog} --help)"
        sys.stderr.write(f"calfwatch: error: {' '.join(message.split())}{hint}\n")
        raise SystemExit(EXIT_USAGE)


def _load_commands() -> list[ModuleType]:
    modules = []
    for name in COMMAND_MODULES:
        try:
            modules.append(importlib.import_module(f"calfwatch.commands.{name}"))
        except ModuleNotFoundError as exc:
            if exc.name != f"calfwatch.commands.{name}":
                raise
    return modules


def build_parser() -> argparse.ArgumentParser:
    """Return the top-level parser with every available subcommand."""
    parser = _Parser(
        prog="calfwatch",
        description="Record calf surface EMG overnight and measure fasciculations. "
        "calfwatch measures and compares with named thresholds; it does not diagnose.",
    )
    parser.add_argument("--version", action="version", version=f"calfwatch {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    parser.add_argument("--verbose", action="store_true",
                        help="show progress messages (calfwatch's INFO log) on stderr")
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="a TOML file overriding thresholds (default: $CALFWATCH_CONFIG, if set)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module in _load_commands():
        cmd = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(cmd)
        cmd.set_defaults(_run=module.run)
    return parser


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        # "[Errno 20] Not a directory: 'x'" -> "x: not a directory"
        reason = exc.strerror[:1].lower() + exc.strerror[1:]
        text = f"{os.fsdecode(exc.filename)}: {reason}"
        if exc.filename2 is not None:
            text += f" ({os.fsdecode(exc.filename2)})"
        return " ".join(text.split())
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text


def _silence_stdout() -> None:
    """Point standard output at the null device, so that the interpreter's last flush of what
    could not be written does not fail again (Python's advice for SIGPIPE, ``signal`` docs)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # a stdout without a descriptor (captured)
        pass


def _tolerant_output() -> None:
    """Let a terminal that cannot show a character (µ on an ASCII terminal) show '?' rather than
    end the command with UnicodeEncodeError (``record --help`` did)."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="replace")
            except (ValueError, OSError):  # a stream that cannot change: left as it is
                pass


def main(argv: list[str] | None = None) -> int:
    """Run the command line and return its exit code."""
    _tolerant_output()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # a usage error (2), or --help and --version (0): returned as code
        return int(exc.code or 0)
    from calfwatch.log import set_log_level

    set_log_level("DEBUG" if args.debug else "INFO" if args.verbose else "WARNING")
    if args.config:
        if not os.path.isfile(args.config):
            sys.stderr.write(f"calfwatch: error: {args.config}: configuration file not found\n")
            return EXIT_USAGE
        os.environ[CONFIG_ENV] = os.path.abspath(args.config)
    if args.config or os.environ.get(CONFIG_ENV):
        from classifier.config import load_config

        try:  # before any work: a misspelt key or a wrong type must not surface hours later
            load_config()
        except ValueError as exc:
            sys.stderr.write(f"calfwatch: error: {_one_line(exc)}\n")
            return EXIT_USAGE
    if getattr(args, "_run", None) is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        sys.stderr.write("calfwatch: interrupted\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # the reader went away ("calfwatch history | head"): stop quietly
        _silence_stdout()
        return EXIT_ERROR
    except UsageError as exc:
        if args.debug:
            traceback.print_exc()
        sys.stderr.write(f"calfwatch: error: {_one_line(exc)}\n")
        return EXIT_USAGE
    except (OSError, ValueError, RuntimeError, LookupError) as exc:
        if args.debug:
            traceback.print_exc()
        sys.stderr.write(f"calfwatch: error: {_one_line(exc)}\n")
        return EXIT_ERROR
    except Exception as exc:  # a bug: still one line, with a hint
        if args.debug:
            traceback.print_exc()
        sys.stderr.write(
            f"calfwatch: internal error: {type(exc).__name__}: {_one_line(exc)} "
            "(run with --debug for the traceback)\n"
        )
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
