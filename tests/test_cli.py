"""The command line: help, version, one-line errors with the right exit codes."""

import subprocess
import sys

import pytest

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


def test_missing_config_file_is_usage_error(tmp_path):
    out = _run("--config", str(tmp_path / "absent.toml"), "history")
    assert out.returncode == 2
    assert "absent.toml: configuration file not found" in out.stderr
    assert "Traceback" not in out.stderr


def test_a_binary_file_given_as_config_is_one_line_naming_it(tmp_path):
    """A recording passed to --config by mistake."""
    user = tmp_path / "night.edf"
    user.write_bytes(b"0       " + bytes(range(128, 256)) * 4)
    out = _run("--config", str(user), "history", "--history", str(tmp_path / "h.sqlite"))
    assert out.returncode == 2
    assert out.stderr == f"calfwatch: error: {user}: not a TOML configuration file (not UTF-8 text)\n"


def test_config_option_reaches_the_threshold_loader(tmp_path, monkeypatch):
    import os

    from classifier.config import load_config

    user = tmp_path / "mine.toml"
    user.write_text("[assessment.rate_high]\nvalue = 7\n")
    monkeypatch.delenv("CALFWATCH_CONFIG", raising=False)
    main(["--config", str(user)])  # no command: prints help, but the option is applied first
    assert load_config().assessment.rate_high.value == 7
    os.environ.pop("CALFWATCH_CONFIG", None)


@pytest.mark.parametrize(("text", "message"), [
    ("[events]\nisolaton_s = 0.3\n", "unknown setting 'events.isolaton_s'"),
    ("[event]\nisolation_s = 0.3\n", "unknown setting 'event'"),
    ("[rest]\nmargin_s = \"two\"\n", "'rest.margin_s' must be a finite number"),
    ("[rest]\nmargin_s = nan\n", "'rest.margin_s' must be a finite number"),
    ("[events]\nplm_interval_s = [5.0, \"x\"]\n", "'events.plm_interval_s' must be a list"),
    ("rest = 3\n", "'rest' must be a table of settings"),
])
def test_a_configuration_with_unknown_keys_or_wrong_types_is_refused_at_once(tmp_path, text,
                                                                            message):
    user = tmp_path / "mine.toml"
    user.write_text(text)
    out = _run("--config", str(user), "history", "--history", str(tmp_path / "h.sqlite"))
    assert out.returncode == 2
    assert out.stderr.startswith(f"calfwatch: error: {user}: ") and message in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_the_readme_documents_every_command():
    """Each subcommand appears in the README's Commands section (``calfwatch NAME`` or a ``NAME``
    entry), and the section is the one that lists them."""
    import re
    from pathlib import Path

    from calfwatch.cli import _load_commands

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Commands", 1)[1].split("\n## ", 1)[0]
    for module in _load_commands():
        name = module.NAME
        assert re.search(rf"calfwatch {name}\b|^- `{name}\b", readme, re.M), name
    for name in ("devices", "symptoms", "history", "repair"):
        assert re.search(rf"^- `{name}\b", section, re.M), name


def test_a_reader_that_goes_away_ends_the_command_quietly():
    """``calfwatch datasets | head -1``: the pipe closes before the table is written."""
    proc = subprocess.Popen([sys.executable, "-m", "calfwatch", "datasets"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # long before the interpreter has imported calfwatch
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1
    assert err == b""
