"""One time base: every event lands on its potential, to the sample, in every reader.

A simulated night starting at a sub-second instant is recorded by calfwatch's recorder (with and
without a gap of lost samples) or written by the simulator, and analysed with ``calfwatch analyze``. The events are then placed over the
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
from acquisition.recorder import Recorder
from acquisition.stream import SampleChunk
from calfwatch.outputs import read_events_tsv
from calfwatch.simulator import load_profile, simulate_night, write_simulation

SFREQ = 2000.0
START = "2026-01-05T22:00:03.720000+00:00"
GAP_AT = 40 * 2000  # the gap (when there is one) is written before this sample of the night


@pytest.fixture(scope="module", params=[("recorder", 0), ("recorder", 3001), ("simulator", 0)],
                ids=["recorded", "recorded-gap", "simulated"])
def night(request, tmp_path_factory):
    """A night recorded by calfwatch's recorder (with or without a gap) or written by the
    simulator (which stores its truth as the recording's own annotations), then analysed."""
    writer, gap_n = request.param
    tmp = tmp_path_factory.mktemp(f"timebase_{writer}{gap_n}")
    sim = simulate_night(load_profile("busy-night", duration_s=90.0, meas_date=START,
                                      fasc_rate_per_min=30.0), seed=5)
    if writer == "simulator":
        path = write_simulation(sim, tmp / "night.edf")["recording"]
    else:
        with Recorder.create(tmp / "rec", sim.info) as rec:
            for chunk in sim.chunks(10.0):
                shift = gap_n if chunk.start_sample >= GAP_AT else 0  # the recorder annotates it
                rec.write_chunk(SampleChunk(chunk.start_sample + shift, chunk.data_uv))
        path = rec.path
    code, _, err = run_cli("analyze", path, "--out", tmp / "out", "--quiet")
    assert code in (0, 4), err  # 4: a short night is not evaluable (outputs written)
    truth = np.array(sorted(
        s + (gap_n if s >= GAP_AT else 0)
        for s in (round(t.onset_s * SFREQ) for t in sim.truth if t.kind == "fasciculation")))
    events = read_events_tsv(tmp / "out" / "events.tsv")
    assert sum(e["kind"] == "fasciculation" for e in events) >= 20
    return {"path": path, "out": tmp / "out", "events": events, "truth": truth, "gap_n": gap_n,
            "writer": writer}


def _own_renamed(raw):
    """The recording's own annotations, told apart from the events added over them."""
    own = raw.annotations
    return mne.Annotations(own.onset, own.duration, [f"own:{d}" for d in own.description],
                           orig_time=own.orig_time, ch_names=own.ch_names)


def _added(raw, first_time=None):
    """(sample, description) of the annotations that are not the recording's own."""
    first = raw.first_time if first_time is None else first_time
    return [(int(round((o - first) * SFREQ)), d.split("@@")[0]) for o, d in
            zip(raw.annotations.onset, raw.annotations.description, strict=True)
            if not d.startswith("own:")]


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
    """The events' samples are the simulator's fasciculations (after the gap, shifted by it).

    The truth onset is where a potential reaches 2 % of its peak; a potential with a slow lead-in
    leaves the noise up to about 10 ms later, where the detector places it."""
    fasc = [e["sample"] for e in night["events"] if e["kind"] == "fasciculation"]
    off = np.array([np.min(np.abs(night["truth"] - s)) for s in fasc])
    assert np.mean(off <= 0.005 * SFREQ) >= 0.75, np.percentile(off, [50, 90, 100])
    assert np.mean(off <= 0.010 * SFREQ) >= 0.95, np.percentile(off, [50, 90, 100])


def test_mne_places_annotations_txt_on_the_samples_beside_the_gaps(night):
    raw = mne.io.read_raw_edf(night["path"], infer_types=True, verbose="error")
    own = len(raw.annotations)
    if night["writer"] == "recorder":
        assert (own > 0) == bool(night["gap_n"])  # the gap is annotated BAD_ACQ_SKIP
    else:
        assert own > 0  # the simulator's truth
    ann = mne.read_annotations(night["out"] / "annotations.txt")
    raw.set_annotations(_own_renamed(raw) + ann)  # as the README says: beside the file's own
    assert len(raw.annotations) == own + len(ann)
    _assert_on_samples(_added(raw), night)


def test_mne_reads_events_edf_and_read_events_on_the_samples(night):
    raw = mne.io.read_raw_edf(night["path"], infer_types=True, verbose="error")
    ann = calfwatch.read_events(night["out"])
    assert ann.orig_time == raw.info["meas_date"]
    raw.set_annotations(_own_renamed(raw) + ann)
    assert all(c for c, d in zip(raw.annotations.ch_names, raw.annotations.description,
                                 strict=True) if not d.startswith("own:"))  # on their channel
    _assert_on_samples(_added(raw), night)
    raw.set_annotations(mne.read_annotations(night["out"] / "events.edf"))  # MNE alone
    _assert_on_samples(_added(raw), night)


def test_read_events_follows_a_recording_read_with_its_edf_labels(night):
    """Without infer_types MNE may name the channels "EMG calf_left": read_events(raw=) follows."""
    raw = mne.io.read_raw_edf(night["path"], verbose="error")
    raw.set_annotations(_own_renamed(raw) + calfwatch.read_events(night["out"], raw=raw))
    chans = [c for c, d in zip(raw.annotations.ch_names, raw.annotations.description,
                               strict=True) if not d.startswith("own:")]
    assert all(len(c) == 1 and c[0] in raw.ch_names for c in chans)
    _assert_on_samples(_added(raw), night)


def test_review_draws_the_events_on_their_samples(night):
    from calfwatch.review import review

    fig = review(night["path"], night["out"], block=False, show=False)
    inst = fig.mne.inst
    placed = [(int(round((o - inst.first_time) * SFREQ)), d) for o, d in
              zip(inst.annotations.onset, inst.annotations.description, strict=True)
              if d in {e["kind"] for e in night["events"]}]
    if night["writer"] == "simulator":  # the file's own annotations show as recording:<kind>
        assert any(d.startswith("recording:") for d in inst.annotations.description)
    _assert_on_samples(placed, night)


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


@pytest.mark.parametrize("dated", [True, False], ids=["dated", "undated"])
def test_a_fif_that_starts_after_its_meas_date(tmp_path, dated):
    """FIF keeps a first sample after meas_date (first_samp): annotations.txt and read_events
    count from MNE's time zero of that file, so events land on their samples there too."""
    from calfwatch.outputs import write_outputs

    sfreq, first_samp = 1000.0, 2345
    info = mne.create_info(["calf_left"], sfreq, "emg")
    raw = mne.io.RawArray(np.zeros((1, 5000)), info, first_samp=first_samp, verbose="error")
    if dated:
        raw.set_meas_date(datetime(2026, 1, 5, 22, 0, 3, 720000, tzinfo=UTC))
    path = tmp_path / "night_raw.fif"
    raw.save(path, verbose="error")
    from acquisition.replay import ReplayStream

    stream = ReplayStream(path)
    events = [{"onset_s": k / sfreq, "duration_s": 0.01, "kind": "fasciculation",
               "channel": "calf_left", "peak_to_peak_uv": 80.0, "phases": 2, "sample": k}
              for k in (100, 1234, 4321)]
    write_outputs(tmp_path / "out", events, {}, stream.info)
    for ann in (mne.read_annotations(tmp_path / "out" / "annotations.txt"),
                calfwatch.read_events(tmp_path / "out", raw=mne.io.read_raw_fif(path,
                                                                              verbose="error"))):
        back = mne.io.read_raw_fif(path, verbose="error")
        back.set_annotations(ann)
        got = sorted(int(round((o - back.first_time) * sfreq)) for o in back.annotations.onset)
        assert got == [100, 1234, 4321]
