"""A FIF's NaN spans are lost time: annotated, listed in ``gaps_s`` at their time, never analysed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import mne
import numpy as np
import pytest
from analyze_cli import run_analyze
from dsp_signals import scene

from acquisition.reader import open_recording
from acquisition.replay import ReplayStream

FIF_FS = 2000.0
NAN_FROM_S, NAN_S = 20.0, 3.5


def _results(out: Path) -> tuple[dict, str]:
    summary = json.loads((out / "summary.json").read_text())
    return summary, (out / "events.tsv").read_text()


def _emg_uv(n_channels: int = 2) -> np.ndarray:
    """A minute of calf EMG with potentials everywhere (inside the NaN span too, before NaN)."""
    return np.array([scene(60.0, FIF_FS, rate_per_min=60.0, ptp_uv=(80.0, 250.0),
                           noise_uv=3.0, seed=11 + ch)[0] for ch in range(n_channels)])


def _nan_span(x_uv: np.ndarray, rows: slice | int = slice(None)) -> np.ndarray:
    x_uv = x_uv.copy()
    a = int(round(NAN_FROM_S * FIF_FS))
    x_uv[rows, a : a + int(round(NAN_S * FIF_FS))] = np.nan
    return x_uv


def _write_fif(path: Path, x_uv: np.ndarray, *, dated: bool = True, first_s: float = 0.0,
               names: list[str] | None = None, bads: list[str] = ()) -> Path:
    names = names or [f"calf{i}" for i in range(x_uv.shape[0])]
    info = mne.create_info(names, FIF_FS, "emg")
    raw = mne.io.RawArray(x_uv * 1e-6, info, first_samp=int(round(first_s * FIF_FS)),
                          verbose="error")
    raw.set_meas_date(datetime(2026, 1, 1, 22, tzinfo=UTC) if dated else None)
    raw.info["bads"] = list(bads)
    raw.save(path, overwrite=True, verbose="error")
    return path


def _events_in(events_tsv: str, a_s: float, b_s: float) -> list[str]:
    rows = [line.split("\t") for line in events_tsv.splitlines()[1:] if line]
    return ["\t".join(r) for r in rows if float(r[0]) < b_s and float(r[0]) + float(r[1]) > a_s]


def _one_gap(summary: dict) -> tuple[float, float]:
    gaps = summary["recording"]["gaps_s"]
    assert len(gaps) == 1, gaps
    return tuple(gaps[0])


@pytest.mark.parametrize(("dated", "first_s"), [(True, 0.0), (False, 7.0), (True, 7.0)])
def test_a_fif_nan_span_is_a_gap_at_its_time(tmp_path, dated, first_s):
    """Also of a FIF whose first sample is not sample 0 (a cropped recording) or undated."""
    path = _write_fif(tmp_path / "night_raw.fif", _nan_span(_emg_uv()), dated=dated,
                      first_s=first_s)
    out = run_analyze(path, tmp_path / "out")
    assert out.returncode in (0, 4), out.stderr  # 4: a minute is too short to assess
    summary, events = _results(tmp_path / "out")
    start_s, length_s = _one_gap(summary)
    assert abs(start_s - NAN_FROM_S) <= 1 / FIF_FS and abs(length_s - NAN_S) <= 1 / FIF_FS
    assert _events_in(events, NAN_FROM_S, NAN_FROM_S + NAN_S) == []
    assert len(events.splitlines()) > 10  # the potentials elsewhere are found


def test_a_fif_nan_on_one_channel_is_lost_time_as_in_an_array(tmp_path):
    """The same data given to ``calfwatch.analyze`` as an array in µV."""
    import calfwatch

    x_uv = _nan_span(_emg_uv(), rows=1)
    path = _write_fif(tmp_path / "night_raw.fif", x_uv)
    assert run_analyze(path, tmp_path / "out").returncode in (0, 4)
    summary, _ = _results(tmp_path / "out")
    night = calfwatch.analyze((x_uv, FIF_FS), verbose="WARNING")
    assert summary["recording"]["gaps_s"] == night.summary["recording"]["gaps_s"]
    start_s, length_s = _one_gap(summary)
    assert abs(start_s - NAN_FROM_S) <= 1 / FIF_FS and abs(length_s - NAN_S) <= 1 / FIF_FS


@pytest.mark.parametrize("preload", [False, True])
def test_the_fif_reader_annotates_nan_spans_lost_but_not_a_bad_channel(tmp_path, preload):
    """A channel marked bad whose samples are all NaN does not make the night lost time."""
    x_uv = np.vstack([_nan_span(_emg_uv()), np.full((1, 60 * int(FIF_FS)), np.nan)])
    path = _write_fif(tmp_path / "night_raw.fif", x_uv, first_s=7.0, bads=["calf2"])
    raw = open_recording(path, preload=preload)
    lost = [(a["onset"] - raw.first_time, a["duration"]) for a in raw.annotations
            if a["description"] == "BAD_ACQ_SKIP"]
    assert len(lost) == 1
    assert abs(lost[0][0] - NAN_FROM_S) <= 1 / FIF_FS and abs(lost[0][1] - NAN_S) <= 1 / FIF_FS
    stream = ReplayStream(raw)
    a = int(round(NAN_FROM_S * FIF_FS))
    assert stream.gaps == [(a, a + int(round(NAN_S * FIF_FS)))]


def test_nan_on_a_channel_left_out_costs_the_analysed_ones_nothing(tmp_path):
    """``--channels calf0``: calf1's NaN made lost time on calf0 too (the reader marked NaN over
    every EMG channel before the pick). calf0 is analysed as in a file where calf1 has none."""
    x_uv = _emg_uv()
    with_nan = _write_fif(tmp_path / "nan_raw.fif", _nan_span(x_uv, rows=1))
    without = _write_fif(tmp_path / "clean_raw.fif", x_uv)
    for path, out in ((with_nan, "a"), (without, "b")):
        proc = run_analyze(path, tmp_path / out, "--channels", "calf0")
        assert proc.returncode in (0, 4), proc.stderr
    (summary, events), (clean, clean_events) = _results(tmp_path / "a"), _results(tmp_path / "b")
    assert summary["recording"]["gaps_s"] == [] and events == clean_events
    assert summary["rest_minutes"] == clean["rest_minutes"]


def test_nan_on_a_bad_channel_named_is_lost_time_not_signal(tmp_path):
    """A channel the file marks bad, named with ``--channels``: its NaN was not lost time and was
    analysed as signal (rest counted over it). It is now as if the channel were not marked bad."""
    x_uv = _nan_span(_emg_uv(), rows=1)
    marked = _write_fif(tmp_path / "bad_raw.fif", x_uv, bads=["calf1"])
    unmarked = _write_fif(tmp_path / "good_raw.fif", x_uv)
    assert run_analyze(marked, tmp_path / "a", "--channels", "calf0,calf1").returncode in (0, 4)
    assert run_analyze(unmarked, tmp_path / "b").returncode in (0, 4)
    (summary, events), (plain, plain_events) = _results(tmp_path / "a"), _results(tmp_path / "b")
    start_s, length_s = _one_gap(summary)
    assert abs(start_s - NAN_FROM_S) <= 1 / FIF_FS and abs(length_s - NAN_S) <= 1 / FIF_FS
    assert summary["recording"]["gaps_s"] == plain["recording"]["gaps_s"]
    assert events == plain_events and summary["rest_minutes"] == plain["rest_minutes"]
