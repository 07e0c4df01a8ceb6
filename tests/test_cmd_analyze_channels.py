"""Which channels ``calfwatch analyze`` analyses: ``--channels`` for one recording and for a batch,
and channels the file itself marks bad (MNE's ``info["bads"]`` in a FIF), which are left out as
MNE's own functions leave them out unless ``--channels`` names them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import mne
import numpy as np
import pytest

from acquisition.edf.writer import EdfPlusWriter
from calfwatch.simulator import load_profile, simulate_night


def _analyze(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "calfwatch", "analyze", *args],
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def night_uv() -> tuple[np.ndarray, float, object]:
    night = simulate_night(load_profile("benign-night", duration_s=60, n_channels=2), seed=7)
    return night.data_uv(), night.info.sfreq_hz, night.info.meas_date


def _edf(path: Path, night_uv) -> Path:
    data_uv, sfreq_hz, meas_date = night_uv
    with EdfPlusWriter(path, ["calf_a", "calf_b"], sfreq_hz, meas_date) as writer:
        writer.write(data_uv)
    return path


def _fif(path: Path, night_uv, bads: list[str]) -> Path:
    data_uv, sfreq_hz, meas_date = night_uv
    raw = mne.io.RawArray(data_uv * 1e-6, mne.create_info(["calf_a", "calf_b"], sfreq_hz, "emg"),
                          verbose="error")
    raw.set_meas_date(meas_date)
    raw.info["bads"] = bads
    raw.save(path, verbose="error")
    return path


def _channels(summary_path: Path) -> list[str]:
    return list(json.loads(summary_path.read_text())["channels"])


def test_a_batch_analyses_only_the_channels_asked_for(tmp_path, night_uv):
    files = [_edf(tmp_path / f"n{i}.edf", night_uv) for i in (1, 2)]
    proc = _analyze(*map(str, files), "--out", str(tmp_path / "out"), "--quiet",
                    "--channels", "2")
    assert proc.returncode in (0, 4), proc.stderr
    for name in ("n1", "n2"):
        assert _channels(tmp_path / "out" / name / "summary.json") == ["calf_b"]
    bad = _analyze(*map(str, files), "--out", str(tmp_path / "bad"), "--channels", "calf_c")
    assert bad.returncode == 1
    assert all(f"{f}: no channel 'calf_c'" in bad.stderr for f in files), bad.stderr


def test_a_channel_marked_bad_in_the_file_is_left_out_and_named(tmp_path, night_uv):
    path = _fif(tmp_path / "marked_raw.fif", night_uv, ["calf_b"])
    proc = _analyze(str(path), "--out", str(tmp_path / "one"))
    assert proc.returncode in (0, 4), proc.stderr
    assert f"calfwatch: note: {path}: left out, marked bad in the file: calf_b" in proc.stderr
    summary = json.loads((tmp_path / "one" / "summary.json").read_text())
    assert list(summary["channels"]) == ["calf_a"]
    assert summary["recording"]["device"]["marked_bad"] == ["calf_b"]
    chosen = _analyze(str(path), "--out", str(tmp_path / "chosen"), "--quiet",
                      "--channels", "calf_b")
    assert chosen.returncode in (0, 4), chosen.stderr
    assert _channels(tmp_path / "chosen" / "summary.json") == ["calf_b"]
    batch = _analyze(str(path), str(_edf(tmp_path / "plain.edf", night_uv)), "--out",
                     str(tmp_path / "batch"), "--quiet")
    assert batch.returncode in (0, 4), batch.stderr
    assert _channels(tmp_path / "batch" / "marked_raw" / "summary.json") == ["calf_a"]
    assert _channels(tmp_path / "batch" / "plain" / "summary.json") == ["calf_a", "calf_b"]


def test_every_channel_marked_bad_is_one_line(tmp_path, night_uv):
    path = _fif(tmp_path / "all_raw.fif", night_uv, ["calf_a", "calf_b"])
    proc = _analyze(str(path), "--out", str(tmp_path / "out"))
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        f"calfwatch: error: {path}: every EMG channel is marked bad in the file (calf_a, calf_b);"
        " name those to analyse with --channels (channels= in Python)"]


def _psg_like(path: Path, signals: list[tuple[str, float, np.ndarray]]) -> Path:
    """An EDF+ of signals at their own rates, as a polysomnograph writes (edfio)."""
    import edfio

    edfio.Edf([edfio.EdfSignal(x, hz, label=label, physical_dimension="uV",
                               physical_range=(-5000, 5000)) for label, hz, x in signals]
              ).write(path)
    return path


def test_a_file_of_several_rates_is_analysed_on_the_channels_named(tmp_path):
    """A polysomnograph's file: EEG at 250 Hz, the leg EMG at 2 kHz, breathing at 25 Hz, labels
    stating no EDF+ type. Without --channels it is refused in one line that lists the rates and
    the channels fast enough; the
    leg channel named is read as stored and finds the twitches it holds, as the same samples
    alone in a file do; channels of two rates named together are refused."""
    from independent_scenes import SceneSpec, make_scene

    from calfwatch.outputs import read_events_tsv

    spec = SceneSpec(minutes=2.0, rate_per_min=30, sfreq_hz=2000.0)
    scene = make_scene(spec, 11)
    leg = scene.data_uv[0]
    slow = np.random.default_rng(2).normal(0.0, 20.0, leg.size // 8)
    psg = _psg_like(tmp_path / "psg.edf", [("C3-A2", 250.0, slow), ("Leg L", 2000.0, leg),
                                           ("Flow", 25.0, slow[::10])])
    alone = _psg_like(tmp_path / "leg.edf", [("Leg L", 2000.0, leg)])

    refused = _analyze(str(psg), "--out", str(tmp_path / "all"))
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1, refused.stderr
    assert "psg.edf" in refused.stderr and "Leg L 2000 Hz" in refused.stderr
    assert "--channels" in refused.stderr and "C3-A2 250 Hz" in refused.stderr

    for name, args in (("named", (str(psg), "--channels", "Leg L")), ("alone", (str(alone),))):
        proc = _analyze(*args, "--out", str(tmp_path / name), "--quiet")
        assert proc.returncode in (0, 4), proc.stderr
    assert _channels(tmp_path / "named" / "summary.json") == ["Leg L"]
    named = read_events_tsv(tmp_path / "named" / "events.tsv")
    assert named == read_events_tsv(tmp_path / "alone" / "events.tsv")
    truth = scene.truth[(scene.truth["kind"] == "fasciculation")
                        & (scene.truth["ptp_uv"] >= 10 * scene.noise_rms_uv)]
    found = [e["onset"] for e in named if e["trial_type"].startswith("fasciculation")]
    hit = [np.any(np.abs(np.asarray(found) - t) < 0.03) for t in truth["onset_s"]]
    assert len(truth) >= 15 and np.mean(hit) >= 0.9

    mixed = _analyze(str(psg), "--channels", "1,2", "--out", str(tmp_path / "two"))
    assert mixed.returncode == 1 and mixed.stderr.count("\n") == 1
    assert "different rates" in mixed.stderr and "psg.edf" in mixed.stderr


def test_an_edf_whose_labels_type_other_signals_is_analysed_on_its_emg(tmp_path):
    """EDF+ labels state each signal's type (``EEG C3-A2``, ``ECG``; the EDF+ standard texts). Of
    a polysomnograph's file at one rate, the signals typed other than EMG are left out beside the
    leg EMG (labelled with no type, or ``EMG``) with a note, and the leg's events are those of
    its samples alone in a file; so of a file whose typed signals are slower, read without
    --channels. --channels analyses a typed signal too; a file that types every signal EEG (a
    board's export) is read whole."""
    from independent_scenes import SceneSpec, make_scene

    from calfwatch.outputs import read_events_tsv

    scene = make_scene(SceneSpec(minutes=2.0, rate_per_min=30, sfreq_hz=2000.0), 12)
    leg = scene.data_uv[0]
    rng = np.random.default_rng(3)
    eeg, ecg = rng.normal(0.0, 20.0, leg.size), rng.normal(0.0, 5.0, leg.size)
    ecg[::1600] += 900.0  # a beat every 0.8 s
    one_rate = _psg_like(tmp_path / "psg.edf", [("EEG C3-A2", 2000.0, eeg),
                                                ("Leg L", 2000.0, leg), ("ECG", 2000.0, ecg)])
    slower = _psg_like(tmp_path / "slow.edf", [("EEG C3-A2", 250.0, eeg[::8]),
                                               ("EMG Leg L", 2000.0, leg),
                                               ("Resp oro-nasal", 25.0, eeg[::80])])
    alone = _psg_like(tmp_path / "leg.edf", [("Leg L", 2000.0, leg)])
    notes = {}
    for name, path in (("one", one_rate), ("slow", slower), ("alone", alone)):
        proc = _analyze(str(path), "--out", str(tmp_path / name))
        assert proc.returncode in (0, 4), proc.stderr
        assert _channels(tmp_path / name / "summary.json") == ["Leg L"]
        notes[name] = [line for line in proc.stderr.splitlines() if "typed other than EMG" in line]
    assert len(notes["one"]) == 1 and "EEG C3-A2 (eeg), ECG (ecg)" in notes["one"][0]
    assert len(notes["slow"]) == 1 and "Resp oro-nasal (resp)" in notes["slow"][0]
    assert notes["alone"] == []
    expected = read_events_tsv(tmp_path / "alone" / "events.tsv")
    assert len(expected) >= 15
    for name in ("one", "slow"):
        assert read_events_tsv(tmp_path / name / "events.tsv") == expected

    named = _analyze(str(one_rate), "--channels", "ECG,Leg L", "--out", str(tmp_path / "named"),
                     "--quiet")
    assert named.returncode in (0, 4), named.stderr
    assert _channels(tmp_path / "named" / "summary.json") == ["ECG", "Leg L"]
    board = _psg_like(tmp_path / "board.edf", [("EEG 1", 2000.0, leg), ("EEG 2", 2000.0, eeg)])
    proc = _analyze(str(board), "--out", str(tmp_path / "board"), "--quiet")
    assert proc.returncode in (0, 4), proc.stderr
    assert _channels(tmp_path / "board" / "summary.json") == ["EEG 1", "EEG 2"]


def _typed_fif(path: Path, night_uv, types: list[str]) -> Path:
    data_uv, sfreq_hz, meas_date = night_uv
    names = ["Fpz", "calf_b", "ECG"]
    data = np.vstack([data_uv[0] * 0.2, data_uv[1], data_uv[0] * 5.0]) * 1e-6
    raw = mne.io.RawArray(data, mne.create_info(names, sfreq_hz, types), verbose="error")
    raw.set_meas_date(meas_date)
    raw.save(path, verbose="error")
    return path


def test_a_fif_that_types_its_emg_channels_is_analysed_on_those(tmp_path, night_uv):
    """A FIF whose channels MNE types EEG, EMG and ECG (a polysomnograph's, saved from MNE): the
    EMG channel is analysed, the others left out with a note, as ``calfwatch.analyze`` of the
    Raw does; --channels analyses them too. A FIF that types no channel EMG is read whole."""
    typed = _typed_fif(tmp_path / "typed_raw.fif", night_uv, ["eeg", "emg", "ecg"])
    proc = _analyze(str(typed), "--out", str(tmp_path / "typed"))
    assert proc.returncode in (0, 4), proc.stderr
    assert _channels(tmp_path / "typed" / "summary.json") == ["calf_b"]
    note = [line for line in proc.stderr.splitlines() if "typed other than EMG" in line]
    assert len(note) == 1 and "Fpz (eeg)" in note[0] and "ECG (ecg)" in note[0]
    named = _analyze(str(typed), "--out", str(tmp_path / "named"), "--quiet",
                     "--channels", "ECG,calf_b")
    assert named.returncode in (0, 4), named.stderr
    assert _channels(tmp_path / "named" / "summary.json") == ["ECG", "calf_b"]
    untyped = _typed_fif(tmp_path / "misc_raw.fif", night_uv, ["misc", "misc", "misc"])
    proc = _analyze(str(untyped), "--out", str(tmp_path / "misc"), "--quiet")
    assert proc.returncode in (0, 4), proc.stderr
    assert _channels(tmp_path / "misc" / "summary.json") == ["Fpz", "calf_b", "ECG"]


@pytest.mark.parametrize("suffix", ["_raw.fif", ".edf"])
def test_spans_marked_bad_in_the_file_are_left_out(tmp_path, suffix):
    """A clinician marks movement and a cough BAD in MNE's browser and saves the file (FIF, or
    EDF+ by mne.export): those spans are left out as MNE's functions leave them out (as lost
    time, in gaps_s, with a note), and the twitches in them are not counted; they had been."""
    fs_hz, n = 2000.0, 2000 * 60
    x_uv = np.random.default_rng(5).normal(0, 5, (1, n))
    twitch_s = np.arange(2.0, 58.0, 2.0)
    for t in twitch_s:
        x_uv[0, int(t * fs_hz):int(t * fs_hz) + 20] += 200 * np.sin(np.linspace(0, 2 * np.pi, 20))
    raw = mne.io.RawArray(x_uv * 1e-6, mne.create_info(["calf"], fs_hz, "emg"), verbose="error")
    raw.set_meas_date(1796680800)
    marked = [(10.5, 9.0), (30.5, 5.0)]
    raw.set_annotations(mne.Annotations([o for o, _ in marked], [d for _, d in marked],
                                        ["BAD_movement", "bad_cough"],
                                        orig_time=raw.info["meas_date"]))
    path = tmp_path / f"marked{suffix}"
    if suffix == ".edf":
        mne.export.export_raw(path, raw, verbose="error")
    else:
        raw.save(path, verbose="error")
    proc = _analyze(str(path), "--out", str(tmp_path / "out"))
    assert proc.returncode in (0, 4), proc.stderr
    assert ("left out, marked bad in the file: 2 spans, 14.0 s (BAD_movement, bad_cough), "
            "as lost time") in proc.stderr
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["recording"]["gaps_s"] == [list(span) for span in marked]
    from calfwatch.outputs import read_events_tsv

    found = [e["onset"] for e in read_events_tsv(tmp_path / "out" / "events.tsv")
             if e["trial_type"].startswith("fasciculation")]
    assert not [t for t in found if any(o <= t < o + d for o, d in marked)]
    outside = [t for t in twitch_s if not any(o - 1 <= t < o + d + 1 for o, d in marked)]
    assert sum(any(abs(f - t) < 0.02 for f in found) for t in outside) >= len(outside) - 2
