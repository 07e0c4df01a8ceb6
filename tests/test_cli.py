"""The command line: help, version, one-line errors with the right exit codes."""

import subprocess
import sys

from calfwatch import __version__
from calfwatch.cli import main


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "calfwatch", *args], capture_output=True, text=True, timeout=120
    )


def test_version_prints_package_version():
    out = _run("--version")
    assert out.returncode == 0
    assert out.stdout.strip() == f"calfwatch {__version__}"


def test_help_lists_no_traceback():
    out = _run("--help")
    assert out.returncode == 0
    assert "usage: calfwatch" in out.stdout


def test_unknown_command_is_usage_error():
    out = _run("no-such-command")
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert out.stderr.strip().splitlines()[-1].startswith("calfwatch: error:")


def test_no_command_prints_help_and_exits_2(capsys):
    assert main([]) == 2
    assert "usage: calfwatch" in capsys.readouterr().err
