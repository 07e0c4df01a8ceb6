"""``calfwatch bids``: a BIDS EMG dataset that mne-bids reads back, the analysis as a derivative."""

from __future__ import annotations

import csv
import datetime
import json
import os
import stat
from collections import Counter

import numpy as np
import pytest
from report_nights import run_cli, simulate_edf
from sensor_outputs import rectified

from acquisition.edf.writer import EdfPlusWriter
from calfwatch.outputs import read_events_tsv
from calfwatch.simulator import load_profile, simulate_night

mne_bids = pytest.importorskip("mne_bids")

SFREQ = 2000.0


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bids")
    sim = simulate_night(load_profile("busy-night", duration_s=60.0, fasc_rate_per_min=30.0,
                                      meas_date="2026-01-05T22:00:03.720000+00:00"), seed=5)
    p, info = sim.params, sim.info
    path = tmp / "night.edf"
    with EdfPlusWriter(path, info.ch_names, info.sfreq_hz, info.meas_date,
                       physical_min_uv=-p.rail_uv, physical_max_uv=p.rail_uv,
                       signal_type="EMG", prefilter="HP:20Hz LP:450Hz") as writer:
        for chunk in sim.chunks(10.0):
            if chunk.start_sample == 30 * 2000:
                writer.write_gap(2001, "test gap")
            writer.write(chunk.data_uv)
    root = tmp / "ds"
    code, out, err = run_cli("bids", path, "--root", root, "--subject", "01")
    assert code == 0, err
    bids_path = mne_bids.BIDSPath(subject="01", session="20260105", task="sleep",
                                  datatype="emg", root=root)
    deriv = root / "derivatives" / "calfwatch" / "sub-01" / "ses-20260105" / "emg"
    return {"root": root, "bids_path": bids_path, "deriv": deriv, "out": out}


def _tsv(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def test_mne_bids_reads_emg_channels_with_the_real_cutoffs(dataset):
    raw = mne_bids.read_raw_bids(dataset["bids_path"], verbose="error")
    assert set(raw.get_channel_types()) == {"emg"}
    assert (raw.info["highpass"], raw.info["lowpass"]) == (20.0, 450.0)
    channels = _tsv(dataset["bids_path"].copy().update(suffix="channels", extension=".tsv"))
    assert [(c["type"], c["low_cutoff"], c["high_cutoff"]) for c in channels] == [
        ("EMG", "20.0", "450.0")]


def test_events_tsv_has_trial_type_on_the_samples_and_keeps_the_gaps(dataset):
    raw = mne_bids.read_raw_bids(dataset["bids_path"], verbose="error")
    ours = read_events_tsv(next(dataset["deriv"].glob("*_desc-calfwatch_events.tsv")))
    assert sum(e["kind"] == "fasciculation" for e in ours) >= 10
    ann = raw.annotations
    descriptions = list(ann.description)
    assert "BAD_ACQ_SKIP" in descriptions and "n/a" not in descriptions
    placed = sorted((int(round((o - raw.first_time) * SFREQ)), d)
                    for o, d in zip(ann.onset, descriptions, strict=True)
                    if d in {e["kind"] for e in ours})
    expected = sorted((e["sample"], e["kind"]) for e in ours)
    assert len(placed) == len(expected)
    assert all(abs(a[0] - b[0]) <= 1 and a[1] == b[1] for a, b in zip(placed, expected,
                                                                     strict=True))


def test_channels_tsv_marks_no_channel_of_a_raw_night_bad(dataset):
    channels = _tsv(dataset["bids_path"].copy().update(suffix="channels", extension=".tsv"))
    assert [c["status"] for c in channels] == ["good"]


def test_a_rectified_channel_is_bad_in_channels_tsv_with_its_reason(tmp_path):
    """A sensor's RECT output beside its RAW one: a reader of the dataset (MNE through mne-bids)
    gets the rectified channel as bad, and channels.tsv says why."""
    sim = simulate_night(load_profile("benign-night", duration_s=120.0, n_channels=2,
                                      meas_date="2026-01-06T22:00:00+00:00"), seed=3)
    x_uv = sim.data_uv()
    path = tmp_path / "mixed.edf"
    with EdfPlusWriter(path, ["raw", "rect"], sim.info.sfreq_hz, sim.info.meas_date,
                       physical_min_uv=-5000, physical_max_uv=5000) as writer:
        writer.write(np.stack([x_uv[0], rectified(x_uv[1], sim.info.sfreq_hz)]))
    code, _, err = run_cli("bids", path, "--root", tmp_path / "ds", "--subject", "02")
    assert code == 0, err
    bids_path = mne_bids.BIDSPath(subject="02", session="20260106", task="sleep",
                                  datatype="emg", root=tmp_path / "ds")
    raw = mne_bids.read_raw_bids(bids_path, verbose="error")
    assert len(raw.ch_names) == 2 and raw.info["bads"] == [raw.ch_names[1]]
    channels = _tsv(bids_path.copy().update(suffix="channels", extension=".tsv"))
    assert [c["status"] for c in channels] == ["good", "bad"]
    assert channels[0]["status_description"] == "n/a"
    assert "rectified" in channels[1]["status_description"]


def test_events_json_describes_every_column(dataset):
    tsv = dataset["bids_path"].copy().update(suffix="events", extension=".tsv")
    header = _tsv(tsv)[0].keys()
    described = json.loads(open(tsv.fpath.with_suffix(".json")).read())
    assert set(header) <= set(described)
    assert "fasciculation" in described["trial_type"]["Levels"]
    assert described["peak_to_peak_uv"]["Units"] == "uV"


def test_analysis_is_a_derivative(dataset):
    desc = json.loads((dataset["root"] / "derivatives" / "calfwatch" /
                       "dataset_description.json").read_text())
    assert desc["DatasetType"] == "derivative"
    names = sorted(p.name.split("_desc-calfwatch_")[1] for p in dataset["deriv"].iterdir())
    assert names == ["annotations.txt", "events.edf", "events.json", "events.tsv",
                     "summary.json"]
    assert "wrote" in dataset["out"]


def test_subject_must_be_a_bids_label(tmp_path):
    code, _, err = run_cli("bids", tmp_path / "x.edf", "--root", tmp_path, "--subject", "a-b")
    assert code == 2 and "BIDS label" in err


def test_without_the_bids_extra_the_error_names_it(tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_mne_bids(name, *args, **kwargs):
        if name == "mne_bids":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_mne_bids)
    code, _, err = run_cli("bids", tmp_path / "x.edf", "--root", tmp_path, "--subject", "01")
    assert code == 1 and "calfwatch[bids]" in err and err.count("\n") == 1


def test_an_undated_recording_is_session_undated(tmp_path):
    wfdb = pytest.importorskip("wfdb")
    counts = (np.random.default_rng(1).normal(0, 40, (40000, 1))).astype(np.int32)
    wfdb.wrsamp("rec", fs=2000, units=["uV"], sig_name=["calf"], d_signal=counts, fmt=["16"],
                adc_gain=[4.0], baseline=[0], write_dir=str(tmp_path))
    code, _, err = run_cli("bids", tmp_path / "rec.hea", "--root", tmp_path / "ds",
                           "--subject", "01")
    assert code == 0, err
    bids_path = mne_bids.BIDSPath(subject="01", session="undated", task="sleep", datatype="emg",
                                  root=tmp_path / "ds")
    raw = mne_bids.read_raw_bids(bids_path, verbose="error")
    assert raw.get_channel_types() == ["emg"]
    header = bids_path.fpath.read_bytes()[88:168].decode()
    assert header.startswith("Startdate X ")  # EDF+ "unknown", not a made-up date
    scans = _tsv(tmp_path / "ds" / "sub-01" / "ses-undated" / "sub-01_ses-undated_scans.tsv")
    assert scans[0]["acq_time"] == "n/a"


def test_a_file_of_several_rates_is_written_whole_and_analysed_on_the_channels_named(tmp_path):
    """A polysomnograph's EDF (EEG at 250 Hz, leg EMG at 2 kHz, labels stating no EDF+ type):
    the dataset holds the file as it is, both signals at their own rates; the analysis is of
    the leg channel named."""
    import edfio

    rng = np.random.default_rng(5)
    edf = edfio.Edf([edfio.EdfSignal(rng.normal(0, 20, 250 * 60), 250, label="C3-A2",
                                     physical_dimension="uV", physical_range=(-5000, 5000)),
                     edfio.EdfSignal(rng.normal(0, 5, 2000 * 60), 2000, label="Leg L",
                                     physical_dimension="uV", physical_range=(-5000, 5000))],
                    starttime=datetime.time(22, 0),
                    recording=edfio.Recording(startdate=datetime.date(2026, 1, 7)))
    edf.write(tmp_path / "psg.edf")
    code, _, err = run_cli("bids", tmp_path / "psg.edf", "--root", tmp_path / "ds",
                           "--subject", "03")
    assert code == 1 and "--channels" in err and "Leg L" in err
    code, _, err = run_cli("bids", tmp_path / "psg.edf", "--root", tmp_path / "ds",
                           "--subject", "03", "--channels", "Leg L")
    assert code == 0, err
    bids_path = mne_bids.BIDSPath(subject="03", session="20260107", task="sleep",
                                  datatype="emg", root=tmp_path / "ds")
    copied = edfio.read_edf(bids_path.fpath)
    assert [(s.label, s.sampling_frequency) for s in copied.signals] == [
        ("C3-A2", 250), ("Leg L", 2000)]
    deriv = tmp_path / "ds" / "derivatives" / "calfwatch" / "sub-03" / "ses-20260107" / "emg"
    summary = json.loads(next(deriv.glob("*summary.json")).read_text())
    assert list(summary["channels"]) == ["Leg L"]


def test_an_edf_typed_by_its_labels_keeps_those_types_in_channels_tsv(tmp_path):
    """A polysomnograph's EDF at one rate whose labels state each signal's type (``EEG C3-A2``,
    ``ECG``; EDF+ standard texts): channels.tsv types them so, the leg EMG (no type) EMG, and
    the analysis is of the leg alone."""
    import edfio

    rng = np.random.default_rng(8)
    edf = edfio.Edf([edfio.EdfSignal(rng.normal(0, 5, 2000 * 60), 2000, label=label,
                                     physical_dimension="uV", physical_range=(-5000, 5000))
                     for label in ("EEG C3-A2", "Leg L", "ECG")],
                    starttime=datetime.time(22, 0),
                    recording=edfio.Recording(startdate=datetime.date(2026, 1, 8)))
    edf.write(tmp_path / "psg.edf")
    code, _, err = run_cli("bids", tmp_path / "psg.edf", "--root", tmp_path / "ds",
                           "--subject", "04")
    assert code == 0, err
    bids_path = mne_bids.BIDSPath(subject="04", session="20260108", task="sleep",
                                  datatype="emg", root=tmp_path / "ds")
    channels = _tsv(bids_path.copy().update(suffix="channels", extension=".tsv"))
    assert [(c["name"], c["type"]) for c in channels] == [
        ("EEG C3-A2", "EEG"), ("Leg L", "EMG"), ("ECG", "ECG")]
    deriv = tmp_path / "ds" / "derivatives" / "calfwatch" / "sub-04" / "ses-20260108" / "emg"
    summary = json.loads(next(deriv.glob("*summary.json")).read_text())
    assert list(summary["channels"]) == ["Leg L"]


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _modes(root) -> dict[str, int]:
    """The permission bits of the root and of every file and folder under it, by relative path."""
    found = {".": _mode(root)}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(folder, name)
            found[os.path.relpath(path, root)] = _mode(path)
    return found


@pytest.fixture
def permissive_umask():
    """A umask that leaves new files world-readable (0644), as many shells set it."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def _night(path, date: str, **overrides):
    return simulate_edf(path, duration_s=60.0, seed=4, profile="benign-night",
                        meas_date=f"{date}T22:00:00+00:00", **overrides)


def test_every_file_and_folder_of_a_new_dataset_is_owner_only(tmp_path, permissive_umask):
    """Health data: the copied recording, the sidecars, the dataset-level files and the
    derivative are 0600, their folders (the new root too) 0700, whatever the umask."""
    night = _night(tmp_path / "night.edf", "2026-02-01")
    os.chmod(night, 0o600)
    code, _, err = run_cli("bids", night, "--root", tmp_path / "ds", "--subject", "01")
    assert code == 0, err
    modes = _modes(tmp_path / "ds")
    assert "sub-01/ses-20260201/emg/sub-01_ses-20260201_task-sleep_emg.edf" in modes
    assert "participants.tsv" in modes and "derivatives/calfwatch/dataset_description.json" in modes
    loose = {name: oct(mode) for name, mode in modes.items()
             if mode != (0o700 if (tmp_path / "ds" / name).is_dir() else 0o600)}
    assert loose == {}


def test_a_run_into_an_existing_dataset_tightens_only_what_it_wrote(tmp_path, permissive_umask):
    """A root already holding a night written world-readable and a file of the user's: the new
    night, its folders and the dataset-level files mne-bids rewrites become owner-only; the
    files this run did not write keep their modes."""
    root = tmp_path / "ds"
    code, _, err = run_cli("bids", _night(tmp_path / "n1.edf", "2026-02-01"), "--root", root,
                           "--subject", "01")
    assert code == 0, err
    os.chmod(root, 0o755)
    for folder, dirs, files in os.walk(root):  # as an earlier calfwatch left them
        for name in dirs:
            os.chmod(os.path.join(folder, name), 0o755)
        for name in files:
            os.chmod(os.path.join(folder, name), 0o644)
    (root / "notes.txt").write_text("the user's own file\n")
    os.chmod(root / "notes.txt", 0o644)
    earlier = {name: mode for name, mode in _modes(root).items() if "ses-20260201" in name}
    code, _, err = run_cli("bids", _night(tmp_path / "n2.edf", "2026-02-02"), "--root", root,
                           "--subject", "01")
    assert code == 0, err
    modes = _modes(root)
    new = {name: mode for name, mode in modes.items() if "ses-20260202" in name}
    assert len(new) >= 10
    assert {name: mode for name, mode in new.items() if mode not in (0o600, 0o700)} == {}
    for name in ("participants.tsv", "participants.json", "dataset_description.json",
                 "derivatives/calfwatch/dataset_description.json"):
        assert modes[name] == 0o600, name
    for name in ("sub-01", "derivatives/calfwatch/sub-01"):
        assert modes[name] == 0o700, name  # on the way to the new night
    assert {name: modes[name] for name in earlier} == earlier  # not written by this run
    assert modes["notes.txt"] == 0o644 and modes["."] == 0o755


def test_the_recordings_own_annotations_named_like_a_kind_are_told_apart(tmp_path):
    """A simulated night carries its ground truth as annotations ("fasciculation"...): in
    events.tsv they are "recording:fasciculation", so that counting trial_type fasciculation
    gives calfwatch's count, as analyze reports it."""
    import mne

    night = _night(tmp_path / "sim.edf", "2026-02-01", fasc_rate_per_min=20.0)
    truth = Counter(d.split("@@")[0]  # MNE reads an EDF+ channel annotation as "kind@@channel"
                    for d in mne.read_annotations(night).description)
    assert truth["fasciculation"] >= 5
    code, _, err = run_cli("analyze", night, "--out", tmp_path / "analysis", "--quiet")
    assert code in (0, 4), err
    analysed = Counter(r["kind"] for r in _tsv(tmp_path / "analysis" / "events.tsv"))
    code, _, err = run_cli("bids", night, "--root", tmp_path / "ds", "--subject", "01")
    assert code == 0, err
    rows = _tsv(next((tmp_path / "ds" / "sub-01").rglob("*_events.tsv")))
    in_bids = Counter(r["trial_type"] for r in rows)
    assert in_bids["fasciculation"] == analysed["fasciculation"] >= 1
    assert in_bids["recording:fasciculation"] == truth["fasciculation"]
    assert {k: n for k, n in in_bids.items() if not k.startswith("recording:")} == analysed


def test_the_same_recording_named_twice_is_one_run(tmp_path, monkeypatch):
    """As analyze does: the same file named again (another relative path, an absolute one) is
    written once, without run entities."""
    _night(tmp_path / "nights" / "night.edf", "2026-02-01")
    (tmp_path / "other").mkdir()
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli("bids", "nights/night.edf", "other/../nights/night.edf",
                             tmp_path / "nights" / "night.edf", "--root", "ds", "--subject", "01")
    assert code == 0, err
    assert out.count("wrote ") == 1
    written = sorted(p.name for p in (tmp_path / "ds").rglob("*_emg.edf"))
    assert written == ["sub-01_ses-20260201_task-sleep_emg.edf"]
    scans = _tsv(tmp_path / "ds" / "sub-01" / "ses-20260201" / "sub-01_ses-20260201_scans.tsv")
    assert [s["filename"] for s in scans] == ["emg/sub-01_ses-20260201_task-sleep_emg.edf"]


def test_an_edf_named_rec_is_written_as_the_same_edf(tmp_path):
    """PhysioNet's Sleep-EDF names its EDF files ``.rec``: told by its content, such a file is
    copied as it is and typed by its labels, as the same file named ``.edf`` (the ``EMG``
    prefix of a label kept), and mne-bids reads both back alike."""
    import edfio

    rng = np.random.default_rng(9)
    edf = edfio.Edf([edfio.EdfSignal(rng.normal(0, 5, 2000 * 60), 2000, label=label,
                                     physical_dimension="uV", physical_range=(-5000, 5000),
                                     prefiltering="HP:20Hz LP:450Hz")
                     for label in ("EEG Fpz-Cz", "EMG Leg L", "Resp oro-nasal")],
                    starttime=datetime.time(22, 0),
                    recording=edfio.Recording(startdate=datetime.date(2026, 1, 9)))
    edf.write(tmp_path / "SC4001E0-PSG.edf")
    (tmp_path / "SC4001E0-PSG.rec").write_bytes((tmp_path / "SC4001E0-PSG.edf").read_bytes())
    written = {}
    for suffix in ("edf", "rec"):
        root = tmp_path / f"ds_{suffix}"
        code, _, err = run_cli("bids", tmp_path / f"SC4001E0-PSG.{suffix}", "--root", root,
                               "--subject", "05")
        assert code == 0, err
        bids_path = mne_bids.BIDSPath(subject="05", session="20260109", task="sleep",
                                      datatype="emg", root=root)
        raw = mne_bids.read_raw_bids(bids_path, verbose="error")
        written[suffix] = (bids_path.fpath.read_bytes(), raw.ch_names, raw.get_channel_types(),
                           _tsv(bids_path.copy().update(suffix="channels", extension=".tsv")))
    assert written["rec"] == written["edf"]
    _, names, types, channels = written["rec"]
    assert names == ["EEG Fpz-Cz", "EMG Leg L", "Resp oro-nasal"]
    assert types == ["eeg", "emg", "resp"]
    assert [(c["name"], c["type"]) for c in channels] == [
        ("EEG Fpz-Cz", "EEG"), ("EMG Leg L", "EMG"), ("Resp oro-nasal", "RESP")]
