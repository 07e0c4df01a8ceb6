"""A recording filtered into the band potentials are measured in says so: a polysomnograph's leg
EMG channel (10-100 Hz) gives potentials without their fast phases, and its rate is not that of a
surface-EMG sensor's night. The filter comes from the EDF+ prefilter field (``HP:10Hz LP:100Hz``)
or an MNE Raw's ``info``; a sensor made for surface EMG (the BITalino's 25-482 Hz) gets no note."""

from __future__ import annotations

import json
from pathlib import Path

import mne
import pytest
from analyze_cli import run_analyze

from calfwatch.cli import main

NOTE = "low-pass before calfwatch"


def _with_prefilter(source: Path, target: Path, text: str) -> Path:
    data = bytearray(source.read_bytes())
    n = int(data[252:256])
    labels = [data[256 + 16 * i : 272 + 16 * i].decode().strip() for i in range(n)]
    at = 256 + n * (16 + 80 + 8 * 5)  # label, transducer, dimension and four ranges
    for i, label in enumerate(labels):
        if label not in ("EDF Annotations", "BDF Annotations"):
            data[at + 80 * i : at + 80 * (i + 1)] = text.encode().ljust(80)
    target.write_bytes(bytes(data))
    return target


@pytest.fixture(scope="module")
def night(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("filters") / "night.edf"
    assert main(["simulate", "--profile", "benign-night", "--duration", "120s", "--seed", "4",
                 "--out", str(path)]) == 0
    return path


def _notes(path: Path, out: Path) -> list[str]:
    proc = run_analyze(path, out)
    assert proc.returncode in (0, 4), proc.stderr
    return json.loads((out / "summary.json").read_text())["notes"]


@pytest.mark.parametrize(("prefilter", "words"), [
    ("HP:10Hz LP:100Hz N:50Hz", ["a 100 Hz low-pass", "below the 450 Hz top"]),
    ("HP:100Hz LP:1kHz", ["a 100 Hz high-pass", "above the 20 Hz bottom"]),
    ("HP:25Hz LP:482Hz", []),
])
def test_an_edf_prefilter_into_the_band_is_noted(night, tmp_path, prefilter, words):
    notes = _notes(_with_prefilter(night, tmp_path / "f.edf", prefilter), tmp_path / "out")
    filtered = [n for n in notes if "before calfwatch" in n]
    assert len(filtered) == (1 if words else 0)
    assert all(w in filtered[0] for w in words)


def test_a_raw_low_passed_by_its_recorder_is_noted(night, tmp_path):
    raw = mne.io.read_raw_edf(night, preload=True, verbose="error")
    raw.filter(None, 100.0, verbose="error")  # info["lowpass"] is then 100 Hz
    raw.save(tmp_path / "night_raw.fif", verbose="error")
    assert sum(NOTE in n for n in _notes(tmp_path / "night_raw.fif", tmp_path / "out")) == 1
    assert not any(NOTE in n for n in _notes(night, tmp_path / "plain"))
