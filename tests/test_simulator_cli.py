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


@pytest.mark.parametrize(("out", "fmt", "written"), [
    ("x.bdf", None, "x.bdf"), ("f.fif", "fif", "f.fif"), ("g", None, "g.edf"),
    ("j", "bdf", "j.bdf"), ("k_raw.fif", None, "k_raw.fif"),
])
def test_the_recording_is_the_file_named(tmp_path, out, fmt, written):
    """--out names the recording: its suffix says the format unless --format does (x.bdf had
    been written as x.edf, f.fif as f_raw.fif); the truth files sit beside it."""
    from acquisition.reader import open_recording

    argv = ["simulate", "--profile", "quiet", "--duration", "1m", "--out", str(tmp_path / out)]
    assert main(argv + (["--format", fmt] if fmt else [])) == 0
    stem = written.split(".")[0].removesuffix("_raw")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [written, f"{stem}_events.tsv", f"{stem}_truth.json"])
    raw = open_recording(tmp_path / written)
    assert raw.n_times == 60 * raw.info["sfreq"]
    magic = {".edf": b"0       ", ".bdf": b"\xffBIOSEMI"}.get((tmp_path / written).suffix)
    assert magic is None or (tmp_path / written).read_bytes()[:8] == magic


@pytest.mark.parametrize(("args", "words"), [
    (["--format", "bdf", "--out", "y.edf"], "--out {d}/y.edf is a .edf name but --format is bdf"),
    (["--out", "."], "--out {d}: is a folder"),
])
def test_an_out_that_is_not_the_file_to_write_is_refused(tmp_path, capsys, monkeypatch, args,
                                                         words):
    monkeypatch.chdir(tmp_path)
    args = [str(tmp_path / a) if a in ("y.edf", ".") else a for a in args]
    code = main(["simulate", "--profile", "quiet", "--duration", "1m", *args])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert words.format(d=tmp_path) in err
    assert not [p for p in tmp_path.iterdir()]
