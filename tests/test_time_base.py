"""One time base: every event lands on its potential, to the sample, in every reader.

A simulated night starting at a sub-second instant (with and without a gap of lost samples) is
written as EDF+ and analysed with ``calfwatch analyze``. The events are then placed over the
recording by independent readers: MNE (annotations.txt, events.edf, calfwatch.read_events), pyedflib
and edfio (events.edf), and EDFbrowser's ASCII import of annotations.txt as the README describes it.
Each placement must be the event's sample, and the events must sit on the simulator's potentials.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime

import mne
import numpy as np
import pytest
from report_nights import run_cli

import calfwatch
from acquisition.edf_writer import EdfPlusWriter
from calfwatch.outputs import read_events_tsv
from calfwatch.simulator import load_profile, simulate_night

SFREQ = 2000.0
START = "2026-01-05T22:00:03.720000+00:00"
GAP_AT = 40 * 2000  # the gap (when there is one) is written before this sample of the night


@pytest.fixture(scope="module", params=[0, 3001], ids=["no-gap", "gap"])
def night(request, tmp_path_factory):
    gap_n = request.param
    tmp = tmp_path_factory.mktemp(f"timebase{gap_n}")
    sim = simulate_night(load_profile("busy-night", duration_s=90.0, meas_date=START,
                                      fasc_rate_per_min=30.0), seed=5)
    p, info = sim.params, sim.info
    path = tmp / "night.edf"
    with EdfPlusWriter(path, info.ch_names, info.sfreq_hz, info.meas_date,
                       physical_min_uv=-p.rail_uv, physical_max_uv=p.rail_uv,
                       signal_type="EMG") as writer:  # labelled as record labels them
        for chunk in sim.chunks(10.0):
            if gap_n and chunk.start_sample == GAP_AT:
                writer.write_gap(gap_n, "test gap")
            writer.write(chunk.data_uv)
    code, _, err = run_cli("analyze", path, "--out", tmp / "out", "--quiet")
    assert code == 0, err
    truth = np.array(sorted(
        s + (gap_n if s >= GAP_AT else 0)
        for s in (round(t.onset_s * SFREQ) for t in sim.truth if t.kind == "fasciculation")))
    events = read_events_tsv(tmp / "out" / "events.tsv")
    assert sum(e["kind"] == "fasciculation" for e in events) >= 20
    return {"path": path, "out": tmp / "out", "events": events, "truth": truth, "gap_n": gap_n}


def _expected(night):
    return sorted((e["sample"], e["kind"]) for e in night["events"])


def _assert_on_samples(placed, night):
    """``placed``: (sample, kind) from a reader; every event at its own sample (+-1)."""
    placed, expected = sorted(placed), _expected(night)
    assert len(placed) == len(expected)
    for (got, kind), (want, want_kind) in zip(placed, expected, strict=True):
        assert kind == want_kind
        assert abs(got - want) <= 1, (got, want)


def test_events_sit_on_the_simulated_potentials(night):
    """The events' samples are the simulator's fasciculations (after the gap, shifted by it)."""
    fasc = [e["sample"] for e in night["events"] if e["kind"] == "fasciculation"]
    off = np.array([np.min(np.abs(night["truth"] - s)) for s in fasc])
    assert np.mean(off <= 0.005 * SFREQ) >= 0.9, np.percentile(off, [50, 90, 100])


def test_mne_places_annotations_txt_on_the_samples_beside_the_gaps(night):
    raw = mne.io.read_raw_edf(night["path"], infer_types=True, verbose="error")
    own = len(raw.annotations)
    assert (own > 0) == bool(night["gap_n"])  # the gap is annotated BAD_ACQ_SKIP
    ann = mne.read_annotations(night["out"] / "annotations.txt")
    raw.set_annotations(raw.annotations + ann)  # as the README says: keeps the file's own
    assert len(raw.annotations) == own + len(ann)
    mine = [(int(round((o - raw.first_time) * SFREQ)), d) for o, d in
            zip(raw.annotations.onset, raw.annotations.description, strict=True)
            if not d.startswith(("BAD_ACQ_SKIP", "acquisition gap"))]
    _assert_on_samples(mine, night)


def test_mne_reads_events_edf_and_read_events_on_the_samples(night):
    raw = mne.io.read_raw_edf(night["path"], infer_types=True, verbose="error")
    ann = calfwatch.read_events(night["out"])
    assert ann.orig_time == raw.info["meas_date"]
    raw.set_annotations(raw.annotations + ann)
    mine = [(int(round(o * SFREQ)), d) for o, d, c in zip(
        raw.annotations.onset - raw.first_time, raw.annotations.description,
        raw.annotations.ch_names, strict=True) if c]
    _assert_on_samples(mine, night)
    plain = mne.read_annotations(night["out"] / "events.edf")  # MNE alone: onsets from the data
    raw.set_annotations(plain)
    _assert_on_samples([(int(round(o * SFREQ)), d.split("@@")[0])
                        for o, d in zip(raw.annotations.onset, raw.annotations.description,
                                        strict=True)], night)


def test_read_events_follows_a_recording_read_with_its_edf_labels(night):
    """Without infer_types MNE names the channels "EMG calf_left": read_events(raw=) follows."""
    raw = mne.io.read_raw_edf(night["path"], verbose="error")
    assert all(name.startswith("EMG ") for name in raw.ch_names)
    raw.set_annotations(raw.annotations + calfwatch.read_events(night["out"], raw=raw))
    on_channels = [(int(round(o * SFREQ)), d) for o, d, c in zip(
        raw.annotations.onset, raw.annotations.description, raw.annotations.ch_names,
        strict=True) if c]
    assert {c for chans in raw.annotations.ch_names for c in chans} <= set(raw.ch_names)
    _assert_on_samples(on_channels, night)


def test_pyedflib_reads_events_edf_on_the_samples(night):
    pyedflib = pytest.importorskip("pyedflib")
    with pyedflib.EdfReader(str(night["out"] / "events.edf")) as f:
        onsets, _, texts = f.readAnnotations()
    _assert_on_samples([(int(round(o * SFREQ)), t.split("@@")[0])
                        for o, t in zip(onsets, texts, strict=True)], night)
    with pyedflib.EdfReader(str(night["path"])) as f:  # the recording: the same second
        rec_start = f.getStartdatetime()
    with pyedflib.EdfReader(str(night["out"] / "events.edf")) as f:
        assert f.getStartdatetime() == rec_start


def test_edfio_reads_events_edf_on_the_recordings_start(night):
    edfio = pytest.importorskip("edfio")
    events = edfio.read_edf(night["out"] / "events.edf")
    recording = edfio.read_edf(night["path"])
    start = datetime.fromisoformat(START).astimezone(UTC).replace(tzinfo=None)
    assert datetime.combine(recording.startdate, recording.starttime) == start
    assert (events.startdate, events.starttime) == (recording.startdate, recording.starttime)
    _assert_on_samples([(int(round(a.onset * SFREQ)), a.text.split("@@")[0])
                        for a in events.annotations], night)


def test_edfbrowser_ascii_import_of_annotations_txt(night):
    """README: comma separator, skip 3 lines, columns onset (s from the start), duration, text."""
    with open(night["out"] / "annotations.txt", newline="") as handle:
        rows = list(csv.reader(handle))[3:]
    _assert_on_samples([(int(round(float(r[0]) * SFREQ)), r[2]) for r in rows], night)
