"""A recording dated where an EDF header cannot say (before 1985, after 2084) is still analysed:
every output is written, events.edf without a date and its events from the first sample.

A device clock that was never set stamps 1970; a CSV's ISO or Unix stamps may say anything. Only
events.edf has the EDF header's two-digit year; the other outputs keep the date as read.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import edfio
import mne
import numpy as np
import pyedflib
import pytest

from acquisition.edf.annotation_file import EdfAnnotation, write_annotation_edf

OUTPUTS = ("events.tsv", "events.json", "annotations.txt", "events.edf", "summary.json")


@pytest.mark.parametrize("year", [1970, 1984, 2085, 2090])
def test_an_annotation_file_dated_outside_edf_years_is_written_undated(tmp_path, year):
    start = datetime(year, 1, 5, 22, 0, 3, 250000, tzinfo=UTC)
    events = [EdfAnnotation(2.5, 0.012, "fasciculation", "calf"),
              EdfAnnotation(30.125, 0.6, "voluntary", "calf")]
    path = write_annotation_edf(tmp_path / "events.edf", start, events)
    with pytest.raises(edfio.AnonymizedDateError):  # "Startdate X": the date is not stated
        _ = edfio.read_edf(path).startdate
    ann = mne.read_annotations(path)
    np.testing.assert_allclose(ann.onset, [2.5, 30.125])
    assert list(ann.description) == ["fasciculation@@calf", "voluntary@@calf"]
    with pyedflib.EdfReader(str(path)) as reader:
        onsets, _, texts = reader.readAnnotations()
    np.testing.assert_allclose(onsets, [2.5, 30.125])


@pytest.mark.parametrize("year", [1985, 2084])
def test_the_edf_years_limits_keep_their_date(tmp_path, year):
    start = datetime(year, 6, 1, 1, 2, 3, tzinfo=UTC)
    path = write_annotation_edf(tmp_path / "events.edf", start,
                                [EdfAnnotation(1.0, 0.0, "fasciculation")])
    edf = edfio.read_edf(path)
    assert (edf.startdate, edf.starttime) == (start.date(), start.time())


def _csv_night(path, start: datetime, sfreq_hz: float = 1000.0, seconds: float = 60.0) -> None:
    """Gaussian rest noise with a 300-uV biphasic potential every 4 s, ISO-stamped from ``start``."""
    rng = np.random.default_rng(5)
    n = int(seconds * sfreq_hz)
    x = rng.standard_normal(n) * 3.0
    t = np.arange(int(0.02 * sfreq_hz)) / sfreq_hz
    shape = 300.0 * np.sin(2 * np.pi * 50.0 * t) * np.hanning(t.size)
    for k in range(int(2 * sfreq_hz), n - t.size, int(4 * sfreq_hz)):
        x[k:k + t.size] += shape
    step = timedelta(seconds=1 / sfreq_hz)
    lines = ["datetime,calf_uV"]
    lines += [f"{(start + i * step).isoformat(timespec='microseconds')},{v:.3f}"
              for i, v in enumerate(x)]
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("year", [1970, 2090])
def test_analyze_writes_every_output_of_a_night_edf_cannot_date(tmp_path, year):
    recording = tmp_path / "night.csv"
    start = datetime(year, 1, 1, 23, 0, 0)
    _csv_night(recording, start)
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").write_text('{"from": "an earlier analysis"}')
    run = subprocess.run([sys.executable, "-m", "calfwatch", "analyze", str(recording),
                          "--out", str(out), "--quiet"], capture_output=True, text=True)
    assert run.returncode in (0, 4), run.stderr
    assert "Traceback" not in run.stderr
    assert all((out / name).is_file() for name in OUTPUTS)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["recording"]["start_utc"].startswith(f"{year}-01-01T23:00:00")
    with pytest.raises(edfio.AnonymizedDateError):
        _ = edfio.read_edf(out / "events.edf").startdate
    ann = mne.read_annotations(out / "events.edf")
    onsets = [float(line.split("\t")[0]) for line in
              (out / "events.tsv").read_text().splitlines()[1:]]
    assert len(onsets) >= 10
    np.testing.assert_allclose(np.sort(ann.onset), np.sort(onsets), atol=1e-4)


def test_a_channel_name_with_a_comma_is_kept_where_the_format_allows(tmp_path):
    """events.tsv and events.edf keep the recording's name; only MNE's text format, which has no
    quoting, writes its comma and # as ';'. calfwatch.read_events puts the events on the channel."""
    import calfwatch
    from calfwatch.outputs import read_events_tsv, write_outputs

    name = "calf, left #1"
    events = [{"onset_s": 1.5, "duration_s": 0.012, "kind": "fasciculation", "channel": name,
               "peak_to_peak_uv": 80.0, "phases": 2, "sample": 3000}]
    start = datetime(2026, 1, 5, 22, 0, tzinfo=UTC)
    write_outputs(tmp_path, events, {"schema": "x"}, start)
    assert read_events_tsv(tmp_path / "events.tsv")[0]["channel"] == name
    info = mne.create_info([name], 2000.0, "emg")
    raw = mne.io.RawArray(np.zeros((1, 20000)), info, verbose="error")
    raw.set_meas_date(start)
    ann = calfwatch.read_events(tmp_path, raw=raw)
    assert ann.ch_names[0] == (name,)
    text = mne.read_annotations(tmp_path / "annotations.txt")
    assert text.ch_names[0] == ("calf; left ;1",)
