"""calfwatch review: the recording in MNE's browser (non-interactive backend), filtered for EMG,
with every event of the analysis as a channel annotation."""

from __future__ import annotations

import csv
import shutil

import matplotlib
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from report_nights import analyze, run_cli, simulate_edf
from scipy import signal

from calfwatch.review import RECORDING_PREFIX, ReviewError, emg_band_sos, filtfilt_blocks, review

matplotlib.use("Agg", force=True)


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    """A 2-minute busy simulated night and its analysis folder (the default name beside it)."""
    root = tmp_path_factory.mktemp("review")
    recording = simulate_edf(root / "night.edf", duration_s=120.0, seed=11)
    out = root / "night_analysis"
    analyze(recording, out)
    return recording, out


def _tsv(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def _ours(annotations):
    keep = [i for i, d in enumerate(annotations.description)
            if not d.startswith(RECORDING_PREFIX) and not d.startswith("BAD_")]
    return [(annotations.onset[i], annotations.duration[i], annotations.description[i],
             annotations.ch_names[i]) for i in keep]


def _check_events_match(annotations, events_tsv, min_events: int = 5, first_time: float = 0.0):
    """Every event once (MNE orders annotations with equal onsets its own way, so both sides are
    sorted); without a measurement date MNE counts onsets from time 0 of the file's clock, so
    they carry the first sample's time (``first_time``)."""
    shift = first_time if annotations.orig_time is None else 0.0
    shown = sorted((round(o - shift, 6), round(d, 6), k, c) for o, d, k, c in _ours(annotations))
    rows = sorted((round(float(r["onset"]), 6), round(float(r["duration"]), 6), r["kind"],
                   (r["channel"],)) for r in _tsv(events_tsv))
    assert len(rows) >= min_events
    assert shown == rows


def test_every_event_is_an_annotation_on_its_channel(night):
    recording, out = night
    fig = review(recording, out)
    assert fig.mne.inst.annotations is not None
    _check_events_match(fig.mne.inst.annotations, out / "events.tsv")
    matplotlib.pyplot.close(fig)


def test_recordings_own_annotations_are_kept_and_told_apart(night):
    recording, out = night
    fig = review(recording)  # default folder: night_analysis beside the recording
    truth = _tsv(recording.with_name("night_events.tsv"))
    own = [d for d in fig.mne.inst.annotations.description if d.startswith(RECORDING_PREFIX)]
    assert sorted(own) == sorted(RECORDING_PREFIX + r["kind"] for r in truth)
    _check_events_match(fig.mne.inst.annotations, out / "events.tsv")
    matplotlib.pyplot.close(fig)


def test_events_table_alone_gives_the_same_annotations(night, tmp_path):
    recording, out = night
    only_tsv = tmp_path / "events"
    only_tsv.mkdir()
    shutil.copy(out / "events.tsv", only_tsv / "events.tsv")
    fig = review(recording, only_tsv)
    _check_events_match(fig.mne.inst.annotations, out / "events.tsv")
    matplotlib.pyplot.close(fig)


def test_shown_signal_is_the_emg_band_at_microvolt_scale(night):
    import edfio

    recording, out = night
    fig = review(recording, out)
    shown = fig.mne.inst.get_data(picks="emg")[0]
    edf = edfio.read_edf(recording)
    sig = next(s for s in edf.signals if s.label == fig.mne.inst.ch_names[0])
    x_v = np.asarray(sig.data, float) * 1e-6  # µV in the file
    fs = sig.sampling_frequency
    sos = signal.butter(4, [20.0, 450.0], btype="bandpass", fs=fs, output="sos")
    expected = signal.sosfiltfilt(sos, x_v)
    middle = slice(int(5 * fs), len(x_v) - int(5 * fs))
    err = np.sqrt(np.mean((shown[middle] - expected[middle]) ** 2))
    assert err < 1e-3 * np.sqrt(np.mean(expected[middle] ** 2))
    f, p_shown = signal.welch(shown, fs, nperseg=4096)
    _, p_raw = signal.welch(x_v, fs, nperseg=4096)
    low = f < 8.0
    assert p_shown[low].sum() < 0.01 * p_raw[low].sum()
    assert fig.mne.scalings["emg"] == pytest.approx(200e-6)
    assert fig.mne.duration == pytest.approx(10.0)
    matplotlib.pyplot.close(fig)


def test_missing_events_are_a_one_line_error(night, tmp_path):
    recording, _ = night
    with pytest.raises(ReviewError, match="no annotations.txt or events.tsv"):
        review(recording, tmp_path)
    code, _, err = run_cli("review", recording, "--events", tmp_path)
    assert code == 1 and err.count("\n") == 1 and str(tmp_path) in err
    code, _, err = run_cli("review", tmp_path / "nothing.edf")
    assert code == 1 and err.count("\n") == 1 and "nothing.edf" in err


def test_command_returns_at_once_without_a_display(night):
    recording, out = night
    code, stdout, err = run_cli("review", recording, "--events", out, "--start", "30")
    assert code in (0, 4), err  # 4: a short night is not evaluable
    n_events = len(_tsv(out / "events.tsv"))
    n_truth = len(_tsv(recording.with_name("night_events.tsv")))
    assert f"{n_events + n_truth} annotations" in stdout
    matplotlib.pyplot.close("all")


def test_review_of_a_real_needle_recording(sample_data, tmp_path):
    recording = sample_data / "physionet_emgdb" / "emg_neuropathy.hea"
    if not recording.is_file():
        pytest.skip("physionet_emgdb/emg_neuropathy is not in the sample data")
    analyze(recording, tmp_path / "out")
    fig = review(recording, tmp_path / "out")
    _check_events_match(fig.mne.inst.annotations, tmp_path / "out" / "events.tsv", min_events=1)
    assert fig.mne.inst.info["sfreq"] == pytest.approx(4000.0)
    matplotlib.pyplot.close(fig)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 6000), block=st.integers(50, 3000), seed=st.integers(0, 2**31 - 1),
       high=st.sampled_from([450.0, None]))
def test_blockwise_filtfilt_equals_one_call(n, block, seed, high):
    """Chunked against whole: any block size gives scipy's sosfiltfilt over the whole signal."""
    fs = 2000.0
    x = np.random.default_rng(seed).standard_normal(n) * 50.0 + 200.0
    sos = emg_band_sos(fs, high)
    if n <= 3 * (2 * len(sos) + 1):  # too short for filtfilt's padding: scipy refuses, so do we
        with pytest.raises(ValueError):
            filtfilt_blocks(x.copy(), sos, block, 4000)
        return
    expected = signal.sosfiltfilt(sos, x)
    got = filtfilt_blocks(x.copy(), sos, block, margin=int(2.0 * fs))
    np.testing.assert_allclose(got, expected, atol=1e-9 * np.abs(expected).max() + 1e-9)


def test_review_of_a_real_csv_needs_and_takes_units(sample_data, tmp_path):
    recording = sample_data / "musclesynergies" / "ID0012_TW_01_raw_emg.csv"
    if not recording.is_file():
        pytest.skip("musclesynergies CSV is not in the sample data")
    code, _, err = run_cli("review", recording, "--events", tmp_path)
    assert code == 1 and err.count("\n") == 1 and "units" in err
    analyze(recording, tmp_path / "out", "--units", "uV")
    fig = review(recording, tmp_path / "out", units="uV")
    assert len(fig.mne.inst.ch_names) > 1 and fig.mne.inst.first_time > 0  # time column from 14 ms
    _check_events_match(fig.mne.inst.annotations, tmp_path / "out" / "events.tsv", min_events=1,
                        first_time=fig.mne.inst.first_time)
    matplotlib.pyplot.close(fig)


def test_a_recording_too_large_to_load_is_shown_from_start_for_what_fits(night, monkeypatch,
                                                                        capsys):
    from calfwatch import review as review_mod

    recording, out = night
    whole = review(recording, out).mne.inst
    sfreq, n_ch = whole.info["sfreq"], len(whole.ch_names)
    monkeypatch.setattr(review_mod, "MAX_LOAD_SAMPLES", int(30 * sfreq * n_ch))  # 30 s fit
    part = review(recording, out, start_s=40.0).mne.inst
    assert "showing 40-70 s of 120 s" in capsys.readouterr().err
    assert part.n_times == int(30 * sfreq)
    np.testing.assert_allclose(part.get_data(), whole.get_data(start=int(40 * sfreq),
                                                             stop=int(70 * sfreq)), atol=1e-9)
    onsets = [o for o, _, _, _ in _ours(part.annotations)]
    expected = [o for o, _, _, _ in _ours(whole.annotations) if 40.0 <= o < 70.0]
    assert len(onsets) == len(expected) > 0
    with pytest.raises(ReviewError, match="beyond the end"):
        review(recording, out, start_s=500.0)
