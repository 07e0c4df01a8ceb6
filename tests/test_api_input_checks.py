"""What ``calfwatch.analyze`` takes: a channel NaN throughout is a lost lead, not lost time, on an
array, a Raw and a file alike; ``mains_hz``, the array and its rate are checked with a one-line
error naming what is wrong."""

from __future__ import annotations

import json
from pathlib import Path

import mne
import numpy as np
import pytest

import calfwatch
from acquisition.lost_time import nan_spans
from calfwatch.cli import main
from calfwatch.outputs import read_events_tsv

SFREQ = 2000.0
#: A span lost on the channel that has signal (samples): still lost time for the night.
LIVE_NAN = (20_000, 24_000)


@pytest.fixture(scope="module")
def night_uv(tmp_path_factory) -> np.ndarray:
    """Two channels of a simulated 2-minute night in µV, with fasciculations on both."""
    path = tmp_path_factory.mktemp("checks") / "night.edf"
    assert main(["simulate", "--profile", "benign-night", "--duration", "2m", "--channels", "2",
                 "--seed", "3", "--out", str(path)]) == 0
    raw = calfwatch.read_recording(path, preload=True, verbose="WARNING")
    assert raw.info["sfreq"] == SFREQ
    return raw.get_data() * 1e6


def _second_channel(night_uv: np.ndarray, value: float) -> np.ndarray:
    """The night with channel 2 at ``value`` throughout and channel 1 lost over LIVE_NAN."""
    x = night_uv.copy()
    x[1] = value
    x[0, slice(*LIVE_NAN)] = np.nan
    return x


def _events(night) -> list[tuple]:
    ev = night.events
    return list(zip(ev["channel"].tolist(), ev["kind"].tolist(), ev["sample"].tolist(),
                    np.round(ev["peak_to_peak_uv"], 6).tolist(), strict=True))


def _check_lead_lost(nan_night, zero_night, name: str) -> None:
    """The NaN channel is unusable, the other analysed as when the lost channel is flat."""
    assert nan_night.summary["unusable_channels"] == [name]
    assert nan_night.summary["unusable_reasons"] == {name: "no-signal"}
    assert _events(nan_night) == _events(zero_night)
    assert len(nan_night.events) > 0
    assert nan_night.summary["rest_minutes"] == zero_night.summary["rest_minutes"]
    gap = [[LIVE_NAN[0] / SFREQ, (LIVE_NAN[1] - LIVE_NAN[0]) / SFREQ]]
    assert nan_night.summary["recording"]["gaps_s"] == gap


def test_array_channel_nan_throughout_is_a_lost_lead(night_uv):
    """It made the whole night lost time: 'no usable signal: every channel is flat or missing'."""
    got = calfwatch.analyze((_second_channel(night_uv, np.nan), SFREQ), mains_hz=50,
                            verbose="WARNING")
    flat = calfwatch.analyze((_second_channel(night_uv, 0.0), SFREQ), mains_hz=50,
                             verbose="WARNING")
    _check_lead_lost(got, flat, "emg2")
    alone = calfwatch.analyze((_second_channel(night_uv, 0.0)[:1], SFREQ), mains_hz=50,
                              verbose="WARNING")
    assert _events(got) == _events(alone)


def _raw(x_uv: np.ndarray) -> mne.io.RawArray:
    info = mne.create_info(["calf_left", "calf_right"], SFREQ, "emg")
    return mne.io.RawArray(x_uv * 1e-6, info, verbose="error")


def test_raw_channel_nan_throughout_is_a_lost_lead(night_uv):
    raw = _raw(_second_channel(night_uv, np.nan))
    got = calfwatch.analyze(raw, mains_hz=50, verbose="WARNING")
    flat = calfwatch.analyze(_raw(_second_channel(night_uv, 0.0)), mains_hz=50, verbose="WARNING")
    _check_lead_lost(got, flat, "calf_right")
    assert len(raw.annotations) == 0  # the caller's Raw is left as it was


def _analyze_fif(x_uv: np.ndarray, folder: Path):
    folder.mkdir()
    path = folder / "night_raw.fif"
    _raw(x_uv).save(path, verbose="error")
    # exit 4: two minutes of rest are not evaluable (the outputs are written all the same)
    assert main(["analyze", str(path), "--out", str(folder), "--mains", "50", "--quiet"]) == 4
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    return summary, read_events_tsv(folder / "events.tsv")


def test_fif_channel_nan_throughout_is_a_lost_lead(night_uv, tmp_path):
    """``calfwatch analyze`` of a FIF whose second channel MNE holds as NaN (a lost lead)."""
    summary, events = _analyze_fif(_second_channel(night_uv, np.nan), tmp_path / "nan")
    flat_summary, flat_events = _analyze_fif(_second_channel(night_uv, 0.0), tmp_path / "flat")
    assert summary["unusable_reasons"] == {"calf_right": "no-signal"}
    assert events == flat_events and len(events) > 0
    assert {row["channel"] for row in events} == {"calf_left"}
    assert summary["recording"]["gaps_s"] == flat_summary["recording"]["gaps_s"] == [
        [LIVE_NAN[0] / SFREQ, (LIVE_NAN[1] - LIVE_NAN[0]) / SFREQ]]


def test_nan_spans_leave_out_only_channels_without_any_sample():
    """NaN throughout means every sample: a channel with one valid sample still has signal, so
    its NaN stays lost time (the engine would otherwise analyse NaN as signal)."""
    n = 300_000  # longer than one scan block (60 s at 2 kHz)
    x = np.zeros((3, n))
    x[1] = np.nan  # a lost lead
    x[2, 1:] = np.nan  # one sample, then lost
    raw = mne.io.RawArray(x, mne.create_info(3, SFREQ, "emg"), verbose="error")
    assert nan_spans(raw, [0, 1, 2]) == [(1, n)]
    assert nan_spans(raw, [0, 1]) == []
    assert nan_spans(raw, [1]) == []


@pytest.mark.parametrize("mains_hz", [55, -50, 1000, 0, "50", True, float("nan")])
def test_mains_other_than_50_or_60_is_refused(mains_hz):
    """55, -50 and 1000 Hz built notch filters there without a word; "50" failed in numpy."""
    with pytest.raises(ValueError, match="^mains_hz must be None, 50 or 60; got ") as info:
        calfwatch.analyze((np.zeros(4000), SFREQ), mains_hz=mains_hz, verbose="WARNING")
    assert repr(mains_hz) in str(info.value)


def test_mains_refused_for_a_file_too(tmp_path):
    with pytest.raises(ValueError, match="mains_hz must be None, 50 or 60; got 55"):
        calfwatch.analyze(tmp_path / "night.edf", mains_hz=55, verbose="WARNING")


def test_integer_array_is_microvolts_but_bools_are_refused(night_uv):
    """Integers are µV as floats are; a mask such as ``x > 0`` was analysed as 0/1 µV."""
    x = np.round(night_uv[0])
    as_int = calfwatch.analyze((x.astype(np.int32), SFREQ), mains_hz=50, verbose="WARNING")
    as_float = calfwatch.analyze((x, SFREQ), mains_hz=50, verbose="WARNING")
    assert _events(as_int) == _events(as_float) and len(as_int.events) > 0
    with pytest.raises(TypeError, match="^array holds bools; expected samples in µV"):
        calfwatch.analyze((night_uv > 0, SFREQ), mains_hz=50, verbose="WARNING")


@pytest.mark.parametrize(("sfreq", "shown"), [
    (None, "NoneType None"), ("2000", "str '2000'"), (True, "bool True"), ([2000.0], "list"),
])
def test_rate_that_is_not_a_number_is_refused_in_one_line(sfreq, shown):
    """None and "2000" gave numpy's "ufunc 'isfinite' not supported"; True was taken as 1 Hz."""
    with pytest.raises(TypeError, match="^sfreq_hz must be a number of Hz; got ") as info:
        calfwatch.analyze((np.zeros(4000), sfreq), verbose="WARNING")
    assert shown in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize(("data", "error", "message"), [
    ((np.array(["a"] * 4000), SFREQ), TypeError, "array must hold numbers .* got dtype <U1"),
    ((np.array([object()] * 4000), SFREQ), TypeError, "array must hold numbers .* dtype object"),
    (([np.zeros(4000), np.zeros(3000)], SFREQ), ValueError, "array must be rectangular"),
    ((np.zeros(4000), SFREQ, 1), TypeError, r"must be \(array_uv, sfreq_hz\); got 3 items"),
])
def test_arrays_not_of_numbers_are_refused_in_one_line(data, error, message):
    with pytest.raises(error, match=message) as info:
        calfwatch.analyze(data, verbose="WARNING")
    assert "\n" not in str(info.value)
