"""Sample datasets: discovery, NOTICE-derived metadata, loading, and ``calfwatch datasets``."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from calfwatch.cli import main
from calfwatch.datasets import list_datasets, load_dataset, parse_notice

REAL_NAMES = {"emgdb/healthy", "emgdb/myopathy", "emgdb/neuropathy", "biosppy/emg",
              "biosppy/emg_1", "musclesynergies/ID0012_TW_01"}


def _fake_emgdb(root: Path, notice: str | None) -> Path:
    """A data folder holding one small WFDB record under the emgdb name, and a NOTICE.txt."""
    folder = root / "physionet_emgdb"
    folder.mkdir(parents=True)
    counts = np.arange(-400, 400, dtype=np.int16)
    counts.tofile(folder / "emg_healthy.dat")
    checksum = (int(counts.astype(np.int64).sum()) + 32768) % 65536 - 32768
    (folder / "emg_healthy.hea").write_text(
        f"emg_healthy 1 4000 {counts.size}\n"
        f"emg_healthy.dat 16 10000/mV 16 0 -400 {checksum} 0 EMG\n")
    if notice is not None:
        (folder / "NOTICE.txt").write_text(notice)
    return root


def _normalised(text: str) -> str:
    return " ".join(text.split())


# --- metadata read from NOTICE.txt ---------------------------------------------------------------


def test_parse_notice_fields_and_mid_line_key():
    text = ("Source: Somewhere, a repository\nSnapshot 0123. License: MIT (c) 2099 Someone.\n"
            "Cite: Doe J, Roe R. A paper that goes\non a second line. J Test 1:1 (2099).\n"
            "Other notes that are not part of the citation.\n")
    fields = parse_notice(text)
    assert fields["source"] == "Somewhere, a repository Snapshot 0123."
    assert fields["license"] == "MIT (c) 2099 Someone."
    assert fields["cite"] == "Doe J, Roe R. A paper that goes on a second line. J Test 1:1 (2099)."


def test_metadata_comes_from_the_folder_notice(tmp_path):
    notice = ("Source: Test source line.\nLicense: Made-Up Licence 2.0 (MUL-2.0).\n"
              "Cite: Unique Author Q. Unrepeatable Title (2099).\n")
    root = _fake_emgdb(tmp_path, notice)
    (dataset,) = [d for d in list_datasets(root) if d.kind == "real"]
    assert dataset.name == "emgdb/healthy"
    assert dataset.licence == "Made-Up Licence 2.0 (MUL-2.0)."
    assert dataset.citation == "Unique Author Q. Unrepeatable Title (2099)."
    assert dataset.source == "Test source line."
    assert dataset.sfreq_hz == 4000 and dataset.duration_s == pytest.approx(800 / 4000)
    raw = load_dataset("emgdb/healthy", root)
    np.testing.assert_allclose(raw.get_data()[0], np.arange(-400, 400) / 10000 * 1e-3)


def test_missing_notice_is_said_not_invented(tmp_path):
    root = _fake_emgdb(tmp_path, None)
    (dataset,) = [d for d in list_datasets(root) if d.kind == "real"]
    assert "NOTICE.txt missing" in dataset.licence
    assert "NOTICE.txt missing" in dataset.citation


def test_environment_variable_is_the_default(tmp_path, monkeypatch):
    root = _fake_emgdb(tmp_path, "License: X.\n")
    monkeypatch.setenv("CALFWATCH_SAMPLE_DATA", str(root))
    assert "emgdb/healthy" in {d.name for d in list_datasets()}
    monkeypatch.delenv("CALFWATCH_SAMPLE_DATA")
    assert all(d.kind == "simulated" for d in list_datasets())


# --- the real sample recordings ------------------------------------------------------------------


def test_real_datasets_listed_with_notice_text(sample_data):
    datasets = {d.name: d for d in list_datasets(sample_data)}
    assert REAL_NAMES <= set(datasets)
    for name in REAL_NAMES:
        d = datasets[name]
        notice = _normalised((d.path.parent / "NOTICE.txt").read_text())
        assert d.kind == "real" and d.path.is_file()
        assert d.licence and d.licence in notice
        assert d.citation
        assert all(part.strip() in notice for part in d.citation.replace("Data: ", "").split(". "))
    assert datasets["emgdb/neuropathy"].duration_s == pytest.approx(147858 / 4000)
    assert datasets["biosppy/emg_1"].sfreq_hz == 1000
    assert any("needle" in q for q in datasets["emgdb/myopathy"].quirks)


def test_load_real_datasets(sample_data):
    raw = load_dataset("musclesynergies/ID0012_TW_01", sample_data)
    table = np.loadtxt(datasets_path(sample_data), delimiter=",", skiprows=1)
    assert len(raw.ch_names) == 13 and raw.info["sfreq"] == 1000
    np.testing.assert_allclose(raw.get_data(), table[:, 1:].T * 1e-6, rtol=1e-12)
    emg = load_dataset("emgdb/myopathy", sample_data)
    assert emg.preload is False and emg.n_times == 110337
    assert load_dataset("emgdb/myopathy", sample_data, preload=True).preload is True


def datasets_path(root: Path) -> Path:
    return root / "musclesynergies" / "ID0012_TW_01_raw_emg.csv"


# --- simulated datasets --------------------------------------------------------------------------


def test_simulated_profiles_listed_and_loadable(tmp_path):
    simulator = pytest.importorskip("calfwatch.simulator")
    names = {d.name for d in list_datasets(tmp_path / "absent")}
    assert {f"sim/{p}" for p in simulator.PROFILES} <= names
    raw = load_dataset("sim/quiet", tmp_path / "absent", duration_s=4, out_dir=tmp_path, seed=3)
    assert raw.info["sfreq"] == simulator.PROFILES["quiet"].sfreq_hz
    assert raw.n_times == pytest.approx(4 * raw.info["sfreq"])
    assert set(raw.get_channel_types()) == {"emg"}
    assert Path(raw.filenames[0]).parent == tmp_path


# --- the command line ----------------------------------------------------------------------------


def test_cli_lists_without_data(capsys, monkeypatch):
    monkeypatch.delenv("CALFWATCH_SAMPLE_DATA", raising=False)
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    assert "CALFWATCH_SAMPLE_DATA" in out
    assert "NAME" in out and "LICENCE" in out


def test_cli_table_and_show(sample_data, capsys):
    assert main(["datasets", "--data-dir", str(sample_data)]) == 0
    out = capsys.readouterr().out
    for name in REAL_NAMES:
        assert name in out
    assert "Goldberger AL" in out
    assert main(["datasets", "--data-dir", str(sample_data), "--show", "emgdb/neuropathy"]) == 0
    shown = capsys.readouterr().out
    notice = (sample_data / "physionet_emgdb" / "NOTICE.txt").read_text()
    licence = re.search(r"License: (.*)", notice).group(1).strip()
    assert licence in _normalised(shown)
    assert "needle" in shown and "4000 Hz" in shown


@pytest.mark.parametrize("argv", [
    ["datasets", "--show", "nope"],
    ["datasets", "--show", "emgdb/healthy", "--data-dir", "/nonexistent-calfwatch-dir"],
])
def test_cli_errors_are_one_line(capsys, monkeypatch, argv):
    monkeypatch.delenv("CALFWATCH_SAMPLE_DATA", raising=False)
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("calfwatch: error: ") and err.count("\n") == 1


def test_cli_show_unavailable_real_dataset(capsys, monkeypatch):
    monkeypatch.delenv("CALFWATCH_SAMPLE_DATA", raising=False)
    assert main(["datasets", "--show", "emgdb/healthy"]) == 1
    assert "set CALFWATCH_SAMPLE_DATA" in capsys.readouterr().err
