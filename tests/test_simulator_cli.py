"""``calfwatch simulate``: files, a description of the night, one-line usage errors."""

from __future__ import annotations

import json

import pytest

from calfwatch.cli import main
from calfwatch.commands.simulate import parse_duration_s

pytest.importorskip("acquisition.edf.writer")


def test_simulate_writes_and_describes_the_night(tmp_path, capsys):
    out = tmp_path / "night.edf"
    code = main(["simulate", "--profile", "benign-night", "--duration", "2m", "--fs", "1000",
                 "--channels", "2", "--seed", "3", "--mains", "60", "--set", "voluntary_per_h=90",
                 "--set", "fasc_rate_per_min=12", "--out", str(out)])
    text = capsys.readouterr().out
    assert code == 0
    assert out.exists() and (tmp_path / "night_events.tsv").exists()
    truth = json.loads((tmp_path / "night_truth.json").read_text())
    params = truth["summary"]["params"]
    assert (params["duration_s"], params["sfreq_hz"], params["n_channels"]) == (120, 1000, 2)
    assert (params["mains_hz"], params["voluntary_per_h"], params["fasc_rate_per_min"]) == (
        60, 90, 12)
    n_fasc = truth["summary"]["channels"]["calf_left"]["fasciculations"]
    assert "calf_left: rest" in text and f"fasciculations {n_fasc} " in text
    assert "calf_right" in text and "PLM index" in text


@pytest.mark.parametrize(
    "args",
    [["--profile", "nope"], ["--profile", "quiet", "--fs", "400"],
     ["--profile", "quiet", "--fs", "5000"], ["--profile", "quiet", "--channels", "0"],
     ["--profile", "quiet", "--channels", "9"], ["--profile", "quiet", "--set", "bogus=1"],
     ["--profile", "quiet", "--set", "noise_rms_uv"], ["--profile", "quiet", "--duration", "x"],
     ["--profile", "quiet", "--set", "noise_rms_uv=loud"],
     ["--profile", "quiet", "--set", "noise_rms_uv=inf"],
     ["--profile", "quiet", "--set", "fasc_rate_per_min=nan"],
     ["--profile", "quiet", "--set", "fasc_doublet_prob=1.5"],
     ["--profile", "quiet", "--set", "pop_uv=300,inf"]],
)
def test_bad_values_are_one_line_usage_errors(args, tmp_path, capsys):
    code = main(["simulate", *args, "--out", str(tmp_path / "n.edf")])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and err.startswith("calfwatch: error:")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("text,seconds", [("8h", 28800), ("10m", 600), ("600s", 600),
                                          ("90", 90), ("1.5h", 5400)])
def test_durations(text, seconds):
    assert parse_duration_s(text) == seconds
