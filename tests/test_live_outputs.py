"""Periodic outputs while recording: a snapshot of the night so far, classified off the recording loop."""

from __future__ import annotations

import threading

import pytest

from acquisition.recorder import Recorder
from calfwatch.engine import NightEngine
from calfwatch.live import LiveAnalysis
from calfwatch.outputs import read_events_tsv
from calfwatch.simulator import load_profile, simulate_night


@pytest.fixture(scope="module")
def night():
    return simulate_night(load_profile("busy-night", duration_s=90.0, n_channels=2), seed=5)


def test_a_snapshot_is_not_moved_by_later_samples(night):
    chunks = list(night.chunks(0.5))
    engine = NightEngine(night.info)
    for chunk in chunks[:100]:
        engine.feed(chunk)
    job = engine.snapshot(final=False)
    now = engine.finish(final=False)
    for chunk in chunks[100:]:
        engine.feed(chunk)
    later = job()
    assert later.n_samples == now.n_samples < night.n_samples
    assert later.events == now.events and len(now.events) >= 5
    assert later.summary == now.summary


def test_periodic_outputs_do_not_hold_the_recording_loop(tmp_path, night):
    recorder = Recorder(tmp_path / "night.bdf", night.info)
    live = LiveAnalysis(recorder, tmp_path / "out", outputs_every_s=1e9)
    gate, started, covered = threading.Event(), threading.Event(), {}
    snapshot = live.engine.snapshot

    def gated_snapshot(final: bool = False):
        job = snapshot(final)

        def run(**kw):
            started.set()
            assert gate.wait(30), "the test never opened the gate"
            result = job(**kw)
            covered["n_samples"] = result.n_samples
            return result

        return run

    live.engine.snapshot = gated_snapshot
    chunks = list(night.chunks(0.5))
    try:
        for chunk in chunks[:120]:
            recorder.write_chunk(chunk)
            live(chunk)
        live.write_partial()  # returns at once: the analysis waits at the gate on its thread
        assert started.wait(30)
        for chunk in chunks[120:]:  # the loop goes on writing meanwhile
            recorder.write_chunk(chunk)
            live(chunk)
        assert recorder.next_sample == night.n_samples
        assert not (tmp_path / "out" / "events.tsv").exists()
        gate.set()
        live.wait_for_outputs()
    finally:
        gate.set()
        recorder.close()
    assert 0 < covered["n_samples"] < night.n_samples
    written = read_events_tsv(tmp_path / "out" / "events.tsv")
    assert written and max(e["onset"] for e in written) * night.info.sfreq_hz < covered["n_samples"]


def test_record_mains_option_reaches_the_live_engine(tmp_path, night):
    from calfwatch.cli import build_parser
    from calfwatch.commands.record import _live

    recorder = Recorder(tmp_path / "night.bdf", night.info)
    try:
        for mains, want in ((["--mains", "60"], 60.0), ([], None)):
            args = build_parser().parse_args(
                ["record", "--device", "calfwatch", "--port", "p", "--out", str(tmp_path), *mains])
            assert _live(recorder, args).engine.chain.mains_hz == want
    finally:
        recorder.close()
