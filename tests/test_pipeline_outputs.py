"""The output contract's files: events.tsv and annotations.txt read back (MNE for the annotations),
atomic writes, and the live path's file-value mapping against a real recorded file."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

import mne
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acquisition.recorder import Recorder
from acquisition.replay import ReplayStream
from acquisition.stream import SampleChunk, StreamInfo
from calfwatch.live import FileValues
from calfwatch.outputs import (
    EVENT_COLUMNS,
    read_events_tsv,
    write_atomic,
    write_outputs,
)
from classifier.kinds import EVENT_KINDS

START = datetime(2026, 3, 1, 22, 15, 30, 250000, tzinfo=UTC)

_event = st.fixed_dictionaries({
    "sample": st.integers(0, 2000 * 3600 * 9),
    "duration_s": st.floats(0.0, 600.0, allow_nan=False),
    "kind": st.sampled_from(EVENT_KINDS),
    "channel": st.sampled_from(["calf_left", "calf_right", "emg 3"]),
    "peak_to_peak_uv": st.one_of(st.none(), st.floats(0.0, 1e5, allow_nan=False)),
    "phases": st.integers(0, 12),
    "detail": st.sampled_from(["", "doublet", "pop", "series 3"]),
})


def _rows(raw_events):
    rows = []
    for e in sorted(raw_events, key=lambda e: e["sample"]):
        rows.append({**e, "onset_s": e["sample"] / 2000.0})
    return rows


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_event, max_size=40))
def test_events_tsv_and_annotations_match(tmp_path, raw_events):
    events = _rows(raw_events)
    paths = write_outputs(tmp_path, events, {"fasciculations": 0}, START)
    back = read_events_tsv(paths["events"])
    header = paths["events"].read_text().splitlines()[0].split("\t")
    assert tuple(header) == EVENT_COLUMNS
    assert len(back) == len(events)
    for got, exp in zip(back, events, strict=True):
        assert got["onset"] == pytest.approx(exp["onset_s"], abs=1e-6)
        assert got["duration"] == pytest.approx(exp["duration_s"], abs=1e-6)
        assert (got["kind"], got["channel"], got["phases"]) == (exp["kind"], exp["channel"],
                                                               exp["phases"])
        assert got["sample"] == exp["sample"]
        if exp["peak_to_peak_uv"] is None:
            assert got["peak_to_peak_uv"] is None
        else:
            assert got["peak_to_peak_uv"] == pytest.approx(exp["peak_to_peak_uv"], abs=1e-3)
    ann = mne.read_annotations(paths["annotations"])
    assert len(ann) == len(events)
    assert ann.orig_time == START.replace(microsecond=0)  # the EDF header second, as MNE reads it
    # MNE orders annotations that share an onset its own way: compare as sorted lists
    got = sorted((round(o, 6), round(d, 6), k, tuple(c))
                 for o, d, k, c in zip(ann.onset, ann.duration, ann.description, ann.ch_names,
                                       strict=True))
    exp = sorted((round(r["onset"], 6), round(r["duration"], 6), r["kind"], (r["channel"],))
                 for r in back)
    assert len(got) == len(exp)
    for g, e in zip(got, exp, strict=True):
        assert g[0] == pytest.approx(e[0], abs=1e-6) and g[1] == pytest.approx(e[1], abs=1e-6)
        assert g[2:] == e[2:]


def test_annotations_open_over_a_recording(tmp_path):
    """The annotations file set on the recording it describes lands at the right samples."""
    info = StreamInfo(1000.0, ["calf_left"], START, 24, 0.1)
    with Recorder.create(tmp_path, info) as rec:
        rec.write_chunk(SampleChunk(0, np.zeros((1, 5000))))
    raw = mne.io.read_raw_bdf(rec.path, infer_types=True, verbose="error")  # "EMG calf_left"
    events = [{"onset_s": 1.234, "duration_s": 0.012, "kind": "fasciculation",
               "channel": "calf_left", "peak_to_peak_uv": 80.0, "phases": 3, "sample": 1234}]
    paths = write_outputs(tmp_path / "out", events, {}, raw.info["meas_date"])
    raw.set_annotations(mne.read_annotations(paths["annotations"]))
    ev, ids = mne.events_from_annotations(raw, verbose="error")
    assert ev[:, 0].tolist() == [1234]
    assert list(ids) == ["fasciculation"]


def test_write_atomic_leaves_no_temporary_and_replaces(tmp_path):
    path = tmp_path / "summary.json"
    write_atomic(path, "one\n")
    write_atomic(path, "two\n")
    assert path.read_text() == "two\n"
    assert sorted(os.listdir(tmp_path)) == ["summary.json"]


@pytest.mark.parametrize("bits, uv_per_count, scale_uv", [(16, 0.5, 3000.0), (24, 0.1, 300.0)])
def test_file_values_equal_what_the_file_gives_back(tmp_path, bits, uv_per_count, scale_uv):
    """The live path sees exactly the samples an analysis of the recorded file sees."""
    info = StreamInfo(2000.0, ["a", "b"], START, bits, uv_per_count)
    rec = Recorder.create(tmp_path, info)
    values = FileValues(rec.path)
    x = np.random.default_rng(bits).normal(0, scale_uv, (2, 7000))
    x[0, 10] = 1e9  # beyond the physical range: clipped by the writer and by the mapping alike
    rec.write_chunk(SampleChunk(0, x[:, :3000]))
    rec.write_chunk(SampleChunk(3000, np.full((2, 500), np.nan), gap=True, reason="test"))
    rec.write_chunk(SampleChunk(3500, x[:, 3500:]))
    rec.close()
    chunks = list(ReplayStream(rec.path).chunks())
    got = np.concatenate([c.data_uv for c in chunks], axis=1)[:, :7000]
    expected = values(x)
    expected[:, 3000:3500] = np.nan
    np.testing.assert_array_equal(got, expected)
    err = np.abs(np.delete(expected[1] - x[1], np.s_[3000:3500]))  # channel 1 is within range: at most half a count off
    assert float(err.max()) <= uv_per_count / 2 * (1 + 1e-6)
    assert float(err.max()) > 0  # and quantised, so not the device's float values


def test_events_json_describes_every_events_tsv_column(tmp_path):
    """BIDS: events.json has an entry for each column, units for timed ones, every kind a level."""
    events = [{"onset_s": 1.0, "duration_s": 0.01, "kind": "plm", "channel": "calf_left",
               "peak_to_peak_uv": 50.0, "phases": 0, "sample": 2000}]
    paths = write_outputs(tmp_path, events, {}, START)
    header = paths["events"].read_text().splitlines()[0].split("\t")
    described = json.loads(paths["events_json"].read_text())
    assert set(described) == set(header)
    assert header[:3] == ["onset", "duration", "trial_type"]
    assert all(described[c].get("Description") for c in header)
    assert described["onset"]["Units"] == described["duration"]["Units"] == "s"
    assert set(described["trial_type"]["Levels"]) == set(EVENT_KINDS)
    row = dict(zip(header, paths["events"].read_text().splitlines()[1].split("\t"), strict=True))
    assert row["trial_type"] == row["kind"] == "plm"


def test_electrode_pops_in_the_quality_are_the_pops_found():
    """The quality's ``pops`` (the report's "Electrode pops", the cohort's column) are the pop
    artifacts among the events; large twitches swing beyond 50 sigma as pops do and are counted
    apart (``loud_excursions``). It had read 52 electrode pops for a night with none."""
    import calfwatch
    from calfwatch.simulator import load_profile, simulate_night

    params = load_profile("quiet", duration_s=300.0, n_channels=2, pop_per_h=60.0,
                          fasc_rate_per_min=20.0)
    sim = simulate_night(params, seed=4)
    night = calfwatch.analyze((sim.data_uv(), params.sfreq_hz), mains_hz=params.mains_hz,
                              verbose="WARNING")
    ev = night.events
    for name, quality in night.summary["quality"].items():
        mine = ev[ev["channel"] == name]
        assert quality["pops"] == int(np.sum((mine["kind"] == "artifact")
                                             & (mine["detail"] == "pop")))
    true_pops = sum(e.kind == "artifact" and e.detail == "pop" for e in sim.truth)
    found = sum(q["pops"] for q in night.summary["quality"].values())
    excursions = sum(q["loud_excursions"] for q in night.summary["quality"].values())
    assert true_pops >= 3 and found >= 1
    assert excursions > found  # the large twitches' too
