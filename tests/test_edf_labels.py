"""Recordings label channels the EDF+ way and state the device's hardware filter.

MNE types ``EMG <name>`` channels as EMG (``infer_types=True``) and reads the prefilter field as
the cut-offs; edfio reads the same fields; calfwatch reads the channels under their plain names.
"""

from __future__ import annotations

from datetime import UTC, datetime

import edfio
import mne
import numpy as np
import pytest

from acquisition.reader import open_recording
from acquisition.recorder import Recorder
from acquisition.replay import ReplayStream
from acquisition.stream import SampleChunk, StreamInfo

START = datetime(2026, 3, 1, 22, 15, 30, 250000, tzinfo=UTC)


def _record(tmp_path, device: dict, names=("calf_left", "calf_right"), sfreq=1000.0):
    info = StreamInfo(sfreq, list(names), START, 16, 0.5, device=device)
    data = np.random.default_rng(0).normal(0, 20, (len(names), 3000))
    with Recorder.create(tmp_path, info) as rec:
        rec.write_chunk(SampleChunk(0, data))
    return rec.path


@pytest.mark.parametrize(("kind", "hp", "lp"), [("bitalino", 25.0, 482.0),
                                                ("cyton", 0.0, 65.5)])
def test_labels_and_prefilter_of_a_known_device(tmp_path, kind, hp, lp):
    path = _record(tmp_path, {"kind": kind})
    edf = edfio.read_edf(path) if path.suffix == ".edf" else edfio.read_bdf(path)
    labels = [s.label for s in edf.signals]
    assert labels == ["EMG calf_left", "EMG calf_right"]
    prefilter = {s.prefiltering for s in edf.signals}
    assert len(prefilter) == 1 and prefilter.pop().startswith(f"HP:{'DC' if not hp else '25Hz'}")
    raw = mne.io.read_raw(path, infer_types=True, verbose="error")
    assert raw.ch_names == ["calf_left", "calf_right"]
    assert set(raw.get_channel_types()) == {"emg"}
    assert raw.info["highpass"] == pytest.approx(hp) and raw.info["lowpass"] == pytest.approx(lp)
    assert open_recording(path).ch_names == ["calf_left", "calf_right"]
    assert ReplayStream(path).info.ch_names == ["calf_left", "calf_right"]


def test_stated_hardware_filter_wins_and_unknown_stays_empty(tmp_path):
    stated = _record(tmp_path / "a", {"kind": "ascii", "hardware_filter": "HP:20Hz LP:498Hz"})
    raw = mne.io.read_raw(stated, infer_types=True, verbose="error")
    assert (raw.info["highpass"], raw.info["lowpass"]) == (20.0, 498.0)
    unknown = _record(tmp_path / "b", {"kind": "calfwatch"})
    edf = edfio.read_bdf(unknown) if unknown.suffix == ".bdf" else edfio.read_edf(unknown)
    assert {s.prefiltering for s in edf.signals if s.label.startswith("EMG")} == {""}


def test_foreign_labels_keep_their_names(tmp_path):
    """Only the EMG type is dropped, and only when the names stay distinct."""
    from acquisition.edf.labels import channel_names

    assert channel_names(["EMG calf", "EEG Fpz-Cz", "EMG"]) == ["calf", "EEG Fpz-Cz", "EMG"]
    assert channel_names(["EMG a", "a"]) == ["EMG a", "a"]


@pytest.mark.parametrize(("label", "kind"), [
    ("EEG Fpz-Cz", "eeg"), ("eeg C3", "eeg"), ("EEG1", "eeg"), ("ECG", "ecg"), ("EKG II", "ecg"),
    ("EOG(L)", "eog"), ("Resp oro-nasal", "resp"), ("Temp rectal", "temperature"),
    ("SaO2", "bio"), ("Event marker", "misc"), ("EMG calf", "emg"), ("EMG", "emg"),
    ("Leg L", None), ("calf_left", None), ("Eventual", None), ("Respiration", None),
    ("ECGx", None), ("", None),
])
def test_the_signal_type_is_the_labels_first_word(label, kind):
    """The EDF+ standard texts begin a label with its signal type; a word that merely begins
    with a type's letters is a name, not a type."""
    from acquisition.edf.labels import signal_type

    assert signal_type(label) == kind


def test_typed_signals_are_left_out_only_beside_emg_or_untyped_ones():
    from acquisition.edf.labels import typed_other_than_emg

    assert typed_other_than_emg(["eeg", None, "ecg"]) == [True, False, True]
    assert typed_other_than_emg(["emg", "resp"]) == [False, True]
    assert typed_other_than_emg(["eeg", "ecg"]) == [False, False]
    assert typed_other_than_emg([None, None]) == [False, False]


def test_signals_labelled_alike_are_told_apart_as_mne_tells_them(tmp_path):
    """Two signals labelled ``EMG`` (a device that labels every input so): each keeps its own
    name, the one MNE gives it, in the record-by-record reader too, so its events and rate are
    its own and not pooled under one name."""
    import json

    import pyedflib
    from report_nights import run_cli

    fs = 1000
    x = np.random.default_rng(0).normal(0, 5, (2, 30 * fs))
    spike = 200 * np.sin(2 * np.pi * np.arange(10) / 10)
    for row, times in ((0, (3, 7.5, 12.25, 18, 23.4, 27.7)), (1, (4, 9))):
        for t in times:
            x[row, int(t * fs):int(t * fs) + 10] += spike
    path = str(tmp_path / "alike.edf")
    writer = pyedflib.EdfWriter(path, 2, file_type=pyedflib.FILETYPE_EDFPLUS)
    writer.setSignalHeaders([dict(label="EMG", dimension="uV", sample_frequency=fs,
                                  physical_min=-3276.8, physical_max=3276.7,
                                  digital_min=-32768, digital_max=32767)] * 2)
    writer.writeSamples([x[0], x[1]])
    writer.close()
    mne_names = mne.io.read_raw_edf(path, verbose="error").ch_names
    assert ReplayStream(path).info.ch_names == open_recording(path).ch_names == mne_names
    code, _, err = run_cli("analyze", path, "--out", tmp_path / "out")
    assert code in (0, 4), err
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert list(summary["channels"]) == mne_names == ["EMG-0", "EMG-1"]
    assert [summary["channels"][name]["fasciculations"] for name in mne_names] == [6, 2]
