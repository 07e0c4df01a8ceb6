"""Lab Streaming Layer on loopback: a real outlet -> calfwatch record -> the same events as the file;
stream gaps counted lost; calfwatch publishing its samples and live events; devices listing."""

from __future__ import annotations

import json
import threading
import uuid
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pylsl")

import calfwatch  # noqa: E402
from acquisition.lsl_source import LslSource, LslStreamError, require_pylsl  # noqa: E402
from calfwatch.cli import main  # noqa: E402
from calfwatch.outputs import analysis_dir, read_events_tsv  # noqa: E402
from tests.lsl_helpers import PacedOutlet  # noqa: E402

#: The recorded file stores 0.01 µV steps: amplitudes measured from it may differ from those of
#: the source file by a few hundredths of a µV.
PTP_TOL_UV = 0.05
SPEED = 10.0


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """A simulated 2-minute night as a file and as the µV it holds."""
    require_pylsl()
    path = tmp_path_factory.mktemp("lsl") / "night.edf"
    assert main(["simulate", "--profile", "benign-night", "--duration", "120s", "--seed", "3",
                 "--out", str(path)]) == 0
    raw = calfwatch.read_recording(path, preload=True, verbose="WARNING")
    return path, raw.get_data() * 1e6, raw.info["sfreq"], raw.ch_names


def _name(what: str) -> str:
    return f"cw-test-{what}-{uuid.uuid4().hex[:8]}"


def _record(name: str, out: Path, duration_s: float, *extra: str) -> int:
    return main(["record", "--device", "lsl", "--port", name, "--out", str(out), "--duration",
                 f"{duration_s:g}", "--mains", "50", "--status-every", "60", *extra])


def _events(path: Path) -> list[tuple]:
    return [(r["onset"], r["duration"], r["kind"], r["phases"], r["sample"], r["detail"])
            for r in read_events_tsv(path)]


def _compare(recorded: list[dict], night) -> None:
    ev = night.events
    assert len(recorded) == len(ev) > 0
    assert [r["kind"] for r in recorded] == ev["kind"].tolist()
    assert [r["sample"] for r in recorded] == ev["sample"].tolist()
    assert [r["phases"] for r in recorded] == ev["phases"].tolist()
    np.testing.assert_allclose([r["onset"] for r in recorded], ev["onset_s"], atol=1e-6)
    np.testing.assert_allclose([r["duration"] for r in recorded], ev["duration_s"], atol=1e-6)
    np.testing.assert_allclose([r["peak_to_peak_uv"] for r in recorded], ev["peak_to_peak_uv"],
                               atol=PTP_TOL_UV)


def _recording(out: Path) -> Path:
    (bdf,) = out.glob("*.bdf")
    return bdf


def test_round_trip_gives_the_events_of_the_file(source, tmp_path):
    path, data, sfreq, ch_names = source
    name = _name("rt")
    outlet = PacedOutlet(name, data, sfreq, speed=SPEED, ch_names=ch_names)
    outlet.start()
    try:
        assert _record(name, tmp_path, data.shape[1] / sfreq) == 0
    finally:
        outlet.stop()
    _compare(read_events_tsv(analysis_dir(_recording(tmp_path)) / "events.tsv"),
             calfwatch.analyze(path, mains_hz=50, verbose="WARNING"))
    raw = calfwatch.read_recording(_recording(tmp_path), verbose="WARNING")
    assert raw.ch_names == ch_names  # named by the stream's channel labels
    sent = data.astype(np.float32).astype(np.float64)
    np.testing.assert_allclose(raw.get_data() * 1e6, sent, rtol=0, atol=0.005 + 1e-9)
    counters = json.loads(_recording(tmp_path).with_suffix(".json").read_text())["counters"]
    assert (counters["samples_received"], counters["samples_lost"]) == (data.shape[1], 0)


def test_stream_gap_is_counted_lost(source, tmp_path):
    path, data, sfreq, ch_names = source
    data, n = data[:, : int(60 * sfreq)], int(60 * sfreq)
    gap = (int(30.0 * sfreq), int(31.5 * sfreq))
    name = _name("gap")
    outlet = PacedOutlet(name, data, sfreq, speed=SPEED, ch_names=ch_names, skip=[gap])
    outlet.start()
    try:
        assert _record(name, tmp_path, n / sfreq) == 0
    finally:
        outlet.stop()
    assert outlet.pushed == n - (gap[1] - gap[0])
    counters = json.loads(_recording(tmp_path).with_suffix(".json").read_text())["counters"]
    assert counters["samples_lost_by_reason"] == {"stream gap": gap[1] - gap[0]}
    assert counters["samples_received"] == outlet.pushed
    raw = calfwatch.read_recording(_recording(tmp_path), verbose="WARNING")
    lost = [(a["onset"], a["duration"]) for a in raw.annotations
            if a["description"] == "BAD_ACQ_SKIP"]
    assert lost == [pytest.approx((30.0, 1.5))]
    with_gap = data.copy()
    with_gap[:, gap[0]:gap[1]] = np.nan
    _compare(read_events_tsv(analysis_dir(_recording(tmp_path)) / "events.tsv"),
             calfwatch.analyze((with_gap, sfreq), mains_hz=50, verbose="WARNING"))


def test_samples_that_are_not_a_voltage_are_lost_at_their_place(source, tmp_path):
    """NaN (a sender's dropout), infinity or 1e300 from a float stream are lost samples, counted
    and annotated where they fell: not the end of the night, not a rail in the file."""
    path, data, sfreq, ch_names = source
    data, n = data[:, : int(60 * sfreq)].copy(), int(60 * sfreq)
    spans = {np.nan: (int(20.0 * sfreq), int(20.5 * sfreq)),
             1e300: (int(35.0 * sfreq), int(35.1 * sfreq)),
             -np.inf: (int(41.0 * sfreq), int(41.0 * sfreq) + 1)}
    for value, (a, b) in spans.items():
        data[0, a:b] = value
    name = _name("invalid")
    outlet = PacedOutlet(name, data, sfreq, speed=SPEED, ch_names=ch_names, fmt="double64")
    outlet.start()
    try:
        assert _record(name, tmp_path, n / sfreq) == 0
    finally:
        outlet.stop()
    n_lost = sum(b - a for a, b in spans.values())
    counters = json.loads(_recording(tmp_path).with_suffix(".json").read_text())["counters"]
    assert counters["samples_lost_by_reason"] == {"invalid sample": n_lost}
    assert counters["samples_received"] == n - n_lost
    assert counters["clipped_samples"] == 0
    raw = calfwatch.read_recording(_recording(tmp_path), verbose="WARNING")
    lost = _joined([(a["onset"], a["duration"]) for a in raw.annotations
                    if a["description"] == "BAD_ACQ_SKIP"], 0.5 / sfreq)
    assert lost == [pytest.approx((a / sfreq, (b - a) / sfreq)) for a, b in spans.values()]
    as_gaps = data.copy()
    as_gaps[:, ~np.isfinite(data).all(axis=0) | (np.abs(data) > 1e9).any(axis=0)] = np.nan
    _compare(read_events_tsv(analysis_dir(_recording(tmp_path)) / "events.tsv"),
             calfwatch.analyze((as_gaps, sfreq), mains_hz=50, verbose="WARNING"))


def _joined(spans: list[tuple[float, float]], tol_s: float) -> list[tuple[float, float]]:
    """(onset, duration) spans with those that touch joined: a dropout whose second half reaches
    the inlet only after a pull came back empty is two gaps, one after the other, each annotated
    exactly (acquisition.lsl_source.PullPlacer joins the halves of consecutive pulls)."""
    out: list[tuple[float, float]] = []
    for onset, duration in sorted(spans):
        if out and abs(out[-1][0] + out[-1][1] - onset) <= tol_s:
            out[-1] = (out[-1][0], onset + duration - out[-1][0])
        else:
            out.append((onset, duration))
    return out


class _Listener(threading.Thread):
    """Collects the samples and markers calfwatch publishes as ``name`` and ``name-events``."""

    def __init__(self, name: str) -> None:
        super().__init__(daemon=True)
        self.name, self.stop_event = name, threading.Event()
        self.samples, self.stamps, self.markers, self.info = [], [], [], None

    def run(self) -> None:
        pylsl = require_pylsl()
        found: dict[str, object] = {}
        while len(found) < 2 and not self.stop_event.is_set():
            for s in pylsl.resolve_streams(0.2):
                if s.name() in (self.name, self.name + "-events"):
                    found[s.name()] = s
        if self.stop_event.is_set():
            return
        data_in = pylsl.StreamInlet(found[self.name])
        marks_in = pylsl.StreamInlet(found[self.name + "-events"])
        self.info = data_in.info(5.0)
        marks_in.open_stream(5.0)
        while not self.stop_event.is_set():
            chunk, stamps = data_in.pull_chunk(timeout=0.05, max_samples=8192, as_numpy=True)
            if len(chunk):
                self.samples.append(np.asarray(chunk))
                self.stamps.append(np.asarray(stamps))
            marks, stamps = marks_in.pull_chunk(timeout=0.0)
            self.markers += [json.loads(m[0]) for m in marks]


def test_record_publishes_samples_and_live_events(source, tmp_path):
    path, data, sfreq, ch_names = source
    name_in, name_out = _name("in"), _name("out")
    listener = _Listener(name_out)
    listener.start()
    outlet = PacedOutlet(name_in, data, sfreq, speed=SPEED, ch_names=ch_names)
    outlet.start()
    try:
        assert _record(name_in, tmp_path, data.shape[1] / sfreq, "--lsl", name_out) == 0
    finally:
        outlet.stop()
        listener.stop_event.set()
        listener.join(5.0)
    info = listener.info
    assert info is not None and info.type() == "EMG" and info.nominal_srate() == sfreq
    ch = info.desc().child("channels").child("channel")
    assert (ch.child_value("label"), ch.child_value("unit")) == (ch_names[0], "microvolts")
    got = np.concatenate(listener.samples)[:, 0]
    sent = data[0].astype(np.float32)
    assert len(got) > sent.size // 2
    first = next(k for k in np.flatnonzero(sent == got[0])  # joined after the recording started
                 if np.array_equal(sent[k:k + 200], got[:200]))
    np.testing.assert_array_equal(got, sent[first:first + len(got)])
    steps = np.diff(np.concatenate(listener.stamps))
    period = 1.0 / sfreq  # in order, never a jump a reader would take for lost samples
    assert 0.75 * period - 1e-9 <= steps.min() and steps.max() <= 1.25 * period + 1e-9
    final = {r["sample"] for r in read_events_tsv(analysis_dir(_recording(tmp_path)) / "events.tsv")
             if r["kind"] == "fasciculation"}
    last_word = {}  # the live view's last word on each event: provisional, then corrections
    for m in listener.markers:
        last_word[(m["sample"], m["channel"])] = m
    live = {m["sample"] for m in last_word.values()
            if m["kind"] == "fasciculation" and m["live"] != "withdrawn"}
    assert final and final == live
    assert {m["channel"] for m in listener.markers} == set(ch_names)


def test_devices_lists_streams(source, capsys):
    _, data, sfreq, ch_names = source
    name = _name("dev")
    outlet = PacedOutlet(name, data[:, :10], sfreq, ch_names=ch_names)
    try:
        assert main(["devices", "--json", "--lsl-wait", "2"]) == 0
        doc = json.loads(capsys.readouterr().out)
        (mine,) = [s for s in doc["lsl_streams"] if s["name"] == name]
        assert (mine["channels"], mine["sfreq_hz"], mine["type"]) == (1, sfreq, "EMG")
        assert main(["devices", "--lsl-wait", "2"]) == 0
        assert name in capsys.readouterr().out
    finally:
        outlet.stop()


def test_units_are_converted_and_bad_streams_refused(source, capsys, tmp_path):
    _, data, sfreq, ch_names = source
    name = _name("mv")
    outlet = PacedOutlet(name, data / 1000.0, sfreq, unit="millivolts", fmt="double64",
                         speed=SPEED)
    outlet.start()
    try:
        src = LslSource(name)
        got = []
        for chunk in src.chunks():
            got.append(chunk.data_uv)
            if sum(g.shape[1] for g in got) >= 4000:
                break
        src.close()
    finally:
        outlet.stop()
    got = np.concatenate(got, axis=1)
    np.testing.assert_allclose(got, data[:, :got.shape[1]], rtol=1e-12)
    bad = PacedOutlet(_name("counts"), data, sfreq, unit="counts")
    bad.start()
    try:
        assert _record(bad.outlet.get_info().name(), tmp_path, 1.0) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert err == [f"calfwatch: error: {bad.outlet.get_info().name()}: channel unit "
                       "'counts' is not a voltage (microvolts, millivolts or volts)"]
    finally:
        bad.stop()
    with pytest.raises(LslStreamError, match="no LSL stream of that name"):
        LslSource(_name("absent"), resolve_timeout_s=0.5)


def test_outlet_restart_is_a_gap_at_its_true_place():
    """The sending app stops for 2 s and comes back (same source id): the samples it did not send,
    and those sent while the inlet was finding it again, are one gap; every sample received sits
    at its own index (each sample's value is its index)."""
    pylsl = require_pylsl()
    sfreq, name = 1000.0, _name("restart")

    def outlet():
        info = pylsl.StreamInfo(name, "EMG", 1, sfreq, pylsl.cf_float32, name + "-src")
        return pylsl.StreamOutlet(info)

    stop = threading.Event()

    def produce() -> None:
        out, k = outlet(), 0
        while not out.have_consumers() and not stop.wait(0.01):
            pass
        t0 = pylsl.local_clock()
        for restart_at, pause_s in ((2000, 2.0), (None, 0.0)):
            while k < (restart_at or 10_000) and not stop.wait(0.02):
                block = np.arange(k, k + 50, dtype=np.float32)[:, None]
                out.push_chunk(block, t0 + (k + 49) / sfreq)
                k += 50
            if restart_at is not None:
                del out
                stop.wait(pause_s)
                k += int(pause_s * sfreq)
                out = outlet()

    producer = threading.Thread(target=produce, daemon=True)
    producer.start()
    src = LslSource(name, stall_s=0.5)
    chunks = []
    try:
        for chunk in src.chunks():
            chunks.append(chunk)
            if chunk.stop_sample >= 9000:
                break
    finally:
        src.close()
        stop.set()
        producer.join(5.0)
    gaps = [c for c in chunks if c.gap]
    assert len(gaps) == 1
    # the last block before the stop may die with its outlet; the pause is lost in any case
    assert 1900 <= gaps[0].start_sample <= 2000 <= 4000 <= gaps[0].stop_sample
    assert all(a.stop_sample == b.start_sample for a, b in zip(chunks[:-1], chunks[1:], strict=True))
    for c in chunks:
        if not c.gap:
            np.testing.assert_array_equal(c.data_uv[0], np.arange(c.start_sample, c.stop_sample))
    stats = src.stats()
    assert stats["samples_lost"] == {"stream gap": gaps[0].n_samples}
    assert stats["stalls"] == 1 and stats["reconnects"] == 1
