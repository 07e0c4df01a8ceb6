"""Bad input at the command line: one line on stderr naming the file/option, the right exit code."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from calfwatch.cli import EXIT_USAGE, main


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("calfwatch: error: "), err
    assert "Traceback" not in err and "[Errno" not in err
    return lines[0]


def test_simulate_out_of_range_rate_names_the_option(tmp_path, capsys):
    rc = main(["simulate", "--profile", "quiet", "--duration", "1m", "--fs", "250",
               "--out", str(tmp_path / "x.edf")])
    line = _one_error_line(capsys)
    assert rc == EXIT_USAGE and "--fs 250" in line and "sfreq_hz" not in line


@pytest.mark.parametrize("command", ["record", "check"])
def test_unknown_device_is_a_usage_error(tmp_path, capsys, command):
    argv = [command, "--device", "nosuch", "--port", str(tmp_path / "p")]
    argv += ["--out", str(tmp_path)] if command == "record" else []
    rc = main(argv)
    line = _one_error_line(capsys)
    assert rc == EXIT_USAGE and "nosuch" in line


@pytest.mark.parametrize("argv, words", [
    (["--faults", "bogus=1"], "--faults"),
    (["--source", "nosuch"], "--source 'nosuch'"),
])
def test_emulate_bad_options_are_usage_errors(tmp_path, capsys, argv, words):
    rc = main(["emulate", "--device", "ascii", "--port", str(tmp_path / "p"), *argv])
    line = _one_error_line(capsys)
    assert rc == EXIT_USAGE and words in line


def test_emulate_missing_source_file_is_named(tmp_path, capsys):
    missing = tmp_path / "night.edf"
    rc = main(["emulate", "--device", "ascii", "--port", str(tmp_path / "p"),
               "--source", str(missing)])
    line = _one_error_line(capsys)
    assert rc == 1 and f"{missing}: no such file" in line and "profile" in line


def test_output_under_a_file_names_the_path_without_errno(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    rc = main(["simulate", "--profile", "quiet", "--duration", "10s",
               "--out", str(blocker / "x.edf")])
    line = _one_error_line(capsys)
    assert rc == 1 and str(blocker) in line


def test_repair_missing_file_is_plain(tmp_path, capsys):
    missing = tmp_path / "gone.edf"
    rc = main(["repair", str(missing)])
    line = _one_error_line(capsys)
    assert rc == 1 and line == f"calfwatch: error: {missing}: no such file or directory"


@pytest.mark.parametrize(("argv", "option", "value"), [
    (["record", "--device", "calfwatch", "--port", "P", "--out", "D"], "--duration", "nan"),
    (["record", "--device", "calfwatch", "--port", "P", "--out", "D"], "--duration", "inf"),
    (["record", "--device", "calfwatch", "--port", "P", "--out", "D"], "--duration", "-5"),
    (["record", "--device", "calfwatch", "--port", "P", "--out", "D"], "--clock-speed", "inf"),
    (["record", "--device", "calfwatch", "--port", "P", "--out", "D"], "--outputs-every", "0"),
    (["record", "--device", "calfwatch", "--port", "P", "--out", "D"], "--status-every", "nan"),
    (["record", "--device", "calfwatch", "--port", "P", "--out", "D"], "--stall-s", "-1"),
    (["record", "--device", "ascii", "--port", "P", "--out", "D"], "--offset-counts", "nan"),
    (["record", "--device", "ascii", "--port", "P", "--out", "D"], "--sfreq", "inf"),
    (["check", "--device", "calfwatch", "--port", "P"], "--seconds", "inf"),
    (["review", "night.edf"], "--start", "nan"),
    (["review", "night.edf"], "--window", "0"),
    (["demo"], "--speed", "inf"),
    (["demo"], "--minutes", "nan"),
    (["devices"], "--lsl-wait", "-1"),
    (["emulate", "--device", "ascii", "--port", "P"], "--duration", "nan"),
])
def test_numbers_that_make_no_sense_are_refused_where_the_option_is_read(capsys, argv, option,
                                                                          value):
    """NaN, infinity or a wrong sign: refused at once, naming the option (they had ended in
    "cannot convert float NaN to integer", an internal OverflowError, or, for a negative
    duration, a recording of nothing that said it had stopped at the duration)."""
    rc = main([*argv, option, value])
    line = _one_error_line(capsys)
    assert rc == EXIT_USAGE
    assert line.startswith(f"calfwatch: error: argument {option}: must be ")
    assert line.endswith(f"not {value!r}")


@pytest.mark.parametrize(("argv", "words"), [
    (["record", "--device", "calfwatch"], "the following arguments are required: --port"),
    (["analyze", "night.edf", "--mains", "55"], "argument --mains: invalid choice: 55.0"),
    (["analyze"], "the following arguments are required: PATH"),
])
def test_arguments_that_do_not_fit_are_one_line_pointing_to_the_help(capsys, argv, words):
    """As every other error: one line (argparse printed its usage block before it), which says
    where the usage is."""
    assert main(argv) == EXIT_USAGE
    line = _one_error_line(capsys)
    assert line.startswith(f"calfwatch: error: {words}")
    assert line.endswith(f"(see calfwatch {argv[0]} --help)")


def test_jobs_that_are_not_a_number_name_the_option_not_the_parser(capsys):
    assert main(["analyze", "x.edf", "--jobs", "abc"]) == EXIT_USAGE
    assert _one_error_line(capsys) == (
        "calfwatch: error: argument --jobs: must be a whole number, 0 or more, not 'abc'")


def test_several_symptoms_after_one_add(tmp_path, capsys):
    """The README writes ``--add SYMPTOM ...``: one --add takes several."""
    history = tmp_path / "h.sqlite"
    assert main(["symptoms", "--subject", "me", "--add", "weakness", "seizures",
                 "--history", str(history)]) == 0
    out = capsys.readouterr().out
    assert "(weakness)" in out and "(seizures)" in out


@pytest.mark.parametrize("command", ["record", "check", "analyze"])
def test_a_terminal_that_cannot_show_mu_gets_question_marks_not_a_traceback(command):
    proc = subprocess.run([sys.executable, "-m", "calfwatch", command, "--help"],
                          capture_output=True, timeout=60,
                          env={**os.environ, "PYTHONIOENCODING": "ascii"})
    assert proc.returncode == 0, proc.stderr
    assert b"Traceback" not in proc.stderr and b"usage: calfwatch" in proc.stdout


@pytest.mark.parametrize("argv", [
    ["analyze", "night.edf"], ["bids", "night.edf", "--root", "r", "--subject", "a"],
    ["check", "--device", "calfwatch", "--port", "P"],
    ["record", "--device", "calfwatch", "--port", "P"],
])
def test_an_empty_channel_list_is_refused_not_taken_for_every_channel(capsys, argv):
    assert main([*argv, "--channels", ""]) == EXIT_USAGE
    assert _one_error_line(capsys) == ("calfwatch: error: argument --channels: must be a list "
                                       "of channels (numbers or names), not ''")


def test_jobs_beside_a_scheduler_is_refused_not_ignored(tmp_path, capsys):
    nights = []
    for name in ("a.edf", "b.edf"):
        assert main(["simulate", "--profile", "quiet", "--duration", "1m",
                     "--out", str(tmp_path / name)]) == 0
        nights.append(str(tmp_path / name))
    capsys.readouterr()
    assert main(["analyze", *nights, "--jobs", "2", "--scheduler", "tcp://127.0.0.1:1"]) == 2
    assert "--jobs and --scheduler" in _one_error_line(capsys)


def test_history_takes_the_sides_analyze_stores(tmp_path, capsys):
    assert main(["history", "--side", "both", "--history", str(tmp_path / "h.sqlite")]) in (0, 1)
    assert "invalid choice" not in capsys.readouterr().err


@pytest.mark.parametrize("command", ["check", "record"])
@pytest.mark.parametrize(("option", "value"), [
    ("--scale-uv-per-count", "24.41"), ("--offset-counts", "512"), ("--sfreq", "1000"),
    ("--counter-column", None),
])
def test_raw_device_options_for_a_device_that_states_its_units_are_refused(capsys, command,
                                                                            option, value):
    """The options of a raw device (an ASCII sketch's scale, offset, rate) given for a device
    that states its own: they had been ignored without a word, as if they applied."""
    argv = [command, "--device", "calfwatch", "--port", "P", option] + ([value] if value else [])
    argv += ["--out", "night"] if command == "record" else []
    assert main(argv) == EXIT_USAGE
    assert _one_error_line(capsys) == (f"calfwatch: error: {option}: for raw devices (ascii) "
                                       "only; --device calfwatch states its own units and rate")
