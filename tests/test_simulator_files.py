"""Simulated nights on disk: EDF+/BDF+/FIF read back by MNE and edfio, truth tables, determinism."""

from __future__ import annotations

import csv
import json

import mne
import numpy as np
import pytest

from calfwatch.simulator import load_profile, simulate_night, write_simulation

pytest.importorskip("acquisition.edf.writer")
edfio = pytest.importorskip("edfio")

#: Half a quantisation step of each format over +-6.5 mV, plus float32 storage for FIF.
TOLERANCE_UV = {"edf": 13000 / 65535 / 2 + 1e-6, "bdf": 13000 / 16777215 / 2 + 1e-6, "fif": 1e-3}


@pytest.fixture(scope="module")
def night():
    params = load_profile("busy-night", duration_s=60, n_channels=3, voluntary_per_h=120,
                          myoclonus_per_h=120, pop_per_h=60, saturation_per_h=60,
                          fasc_rate_per_min=90, fasc_doublet_prob=0.2, fasc_triplet_prob=0.1)
    return simulate_night(params, 21)


def _packaged_k() -> float:
    """``detectable_ptp_k`` read straight from the packaged thresholds file."""
    import tomllib
    from importlib import resources

    text = resources.files("classifier").joinpath("thresholds.toml").read_text(encoding="utf-8")
    return float(tomllib.loads(text)["detection"]["detectable_ptp_k"])


def _events_rows(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def _assert_same_events(got, expected, atol_s=2e-6):
    """One-to-one match of (kind, channel, onset, duration) lists, times within ``atol_s``."""
    got, expected = sorted(got), sorted(expected)
    assert len(got) == len(expected)
    assert [g[:2] for g in got] == [e[:2] for e in expected]
    assert np.allclose([g[2:] for g in got], [e[2:] for e in expected], rtol=0, atol=atol_s)


@pytest.mark.parametrize("fmt", ["edf", "bdf", "fif"])
def test_files_open_in_mne_with_the_same_samples_and_annotations(night, fmt, tmp_path):
    paths = write_simulation(night, tmp_path / "night.edf", fmt=fmt)
    assert all(p.exists() for p in paths.values())
    raw = mne.io.read_raw(paths["recording"], preload=True, verbose="error")
    assert raw.ch_names == night.info.ch_names
    assert raw.info["sfreq"] == night.info.sfreq_hz
    assert raw.info["meas_date"] == night.info.meas_date
    data_uv = raw.get_data() * 1e6
    assert data_uv.shape == (3, night.n_samples)
    assert np.abs(data_uv - night.data_uv()).max() <= TOLERANCE_UV[fmt]
    from_file = [(ann["description"], ch, ann["onset"], ann["duration"])
                 for ann in raw.annotations for ch in ann["ch_names"]]
    rows = _events_rows(paths["events"])
    from_tsv = [(r["kind"], r["channel"], float(r["onset"]), float(r["duration"])) for r in rows]
    _assert_same_events(from_file, from_tsv, atol_s=2e-5 if fmt == "fif" else 1e-6)  # FIF: float32
    assert len(rows) == len(night.truth)


def test_edf_matches_edfio_an_independent_reader(night, tmp_path):
    paths = write_simulation(night, tmp_path / "night.edf", fmt="edf")
    edf = edfio.read_edf(paths["recording"])
    signals = [s for s in edf.signals if s.label in night.info.ch_names]
    data_uv = np.vstack([s.data for s in signals])
    assert [s.label for s in signals] == night.info.ch_names
    assert {s.physical_dimension for s in signals} == {"uV"}
    assert np.abs(data_uv - night.data_uv()).max() <= TOLERANCE_UV["edf"]
    got = [(a.text, "", a.onset, a.duration) for a in edf.annotations]
    expected = [(f"{e.kind}@@{e.channel}", "", e.onset_s, e.duration_s) for e in night.truth]
    _assert_same_events(got, expected, atol_s=6e-7)


def test_events_table_and_truth_json(night, tmp_path):
    paths = write_simulation(night, tmp_path / "sub" / "n1.bdf", fmt="bdf")
    assert paths["recording"].name == "n1.bdf"
    assert paths["events"].name == "n1_events.tsv" and paths["truth"].name == "n1_truth.json"
    lines = paths["events"].read_text().splitlines()
    assert lines[0].split("\t") == ["onset", "duration", "kind", "channel", "unit",
                                    "peak_to_peak_uv", "detail", "detectable", "overlaps"]
    floor_uv = _packaged_k() * night.params.noise_rms_uv
    for line, e in zip(lines[1:], night.truth, strict=True):
        onset, duration, kind, channel, unit, ptp, detail, detectable, overlaps = line.split("\t")
        if e.kind == "fasciculation":
            assert detectable == ("true" if e.peak_to_peak_uv >= floor_uv else "false")
            assert overlaps == ("true" if e.overlaps else "false")
        else:
            assert detectable == overlaps == "n/a"
        assert len(onset.split(".")[1]) == 6 and len(ptp.split(".")[1]) == 6
        assert float(onset) == pytest.approx(e.onset_s, abs=5e-7)
        assert (kind, channel, int(unit)) == (e.kind, e.channel, e.unit)
        assert detail == (e.detail or "n/a")
    doc = json.loads(paths["truth"].read_text())
    assert doc["summary"]["fasciculations"] == night.truth_summary()["fasciculations"]
    assert doc["summary"]["detectable_fasciculations"] == sum(
        1 for row in doc["events"] if row["kind"] == "fasciculation" and row["detail"] != "doublet"
        and not row["overlaps"] and row["peak_to_peak_uv"] >= floor_uv)
    assert doc["summary"]["detection_floor"]["noise_rms_uv"] == night.params.noise_rms_uv
    assert doc["summary"]["detection_floor"]["floor_uv"] == pytest.approx(floor_uv)
    assert len(doc["events"]) == len(night.truth)
    assert doc["info"]["ch_names"] == night.info.ch_names
    assert set(doc["units"]) == set(night.info.ch_names)


@pytest.mark.parametrize("fmt", ["edf", "bdf"])
def test_same_seed_gives_identical_bytes(fmt, tmp_path):
    params = load_profile("benign-night", duration_s=20, voluntary_per_h=400, n_channels=2)
    files = []
    for i, seed in enumerate((5, 5, 6)):
        paths = write_simulation(simulate_night(params, seed), tmp_path / f"r{i}" / "n.edf",
                                 fmt=fmt)
        files.append([paths[k].read_bytes() for k in ("recording", "events", "truth")])
    assert files[0] == files[1]
    assert files[0][0] != files[2][0] and files[0][1] != files[2][1]


def test_unknown_format_is_refused(night, tmp_path):
    with pytest.raises(ValueError, match="format"):
        write_simulation(night, tmp_path / "n.edf", fmt="wav")


def test_night_of_fractional_seconds_is_not_padded(tmp_path):
    night = simulate_night(load_profile("quiet", duration_s=10.5, sfreq_hz=1000,
                                        fasc_rate_per_min=60), 0)
    paths = write_simulation(night, tmp_path / "n.edf")
    raw = mne.io.read_raw_edf(paths["recording"], preload=True, verbose="error")
    assert raw.n_times == night.n_samples == 10500
    assert set(raw.annotations.description) == {"fasciculation"}
    assert len(raw.annotations) == len(night.truth) > 3


@pytest.fixture
def permissive_umask():
    """A umask that leaves new files world-readable (0644), as many shells set it."""
    import os

    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.mark.parametrize("fmt", ["edf", "fif"])
def test_every_file_of_a_simulated_night_is_owner_only(night, fmt, tmp_path, permissive_umask):
    paths = write_simulation(night, tmp_path / "night.edf", fmt=fmt)
    modes = {name: oct(p.stat().st_mode & 0o777) for name, p in paths.items()}
    assert modes == {"recording": "0o600", "events": "0o600", "truth": "0o600"}
