"""NightEngine: the same night in any chunking and with gaps gives the same events; live emission
agrees with the final analysis; channels without signal are left out; the engine keeps no samples."""

from __future__ import annotations

import numpy as np
import pytest
from sensor_outputs import rectified

from acquisition.stream import SampleChunk
from calfwatch.engine import NightEngine
from calfwatch.engine.channels import select_channels, usable_channels
from calfwatch.simulator import load_profile, simulate_night
from dsp.chain import DetectionChain, concat_outputs


@pytest.fixture(scope="module")
def night():
    return simulate_night(load_profile("busy-night", duration_s=150.0, n_channels=2), seed=21)


@pytest.fixture(scope="module")
def data(night):
    return night.data_uv()


def _rechunk(data: np.ndarray, sizes: list[int], gaps: dict[int, int] | None = None):
    """Chunks of the given sizes (cycled); samples [a, a+n) for a, n in ``gaps`` become gap chunks."""
    gaps = gaps or {}
    pos, i = 0, 0
    while pos < data.shape[1]:
        if pos in gaps:
            n = gaps[pos]
            yield SampleChunk(pos, np.full((data.shape[0], n), np.nan), gap=True, reason="test")
        else:
            n = sizes[i % len(sizes)]
            nxt = min([g for g in gaps if g > pos] + [data.shape[1]])
            n = min(n, nxt - pos)
            yield SampleChunk(pos, data[:, pos:pos + n])
            i += 1
        pos += n


def _run(night, chunks, **kw):
    engine = NightEngine(night.info, **kw)
    for chunk in chunks:
        engine.feed(chunk)
    return engine, engine.finish()


def test_events_do_not_depend_on_chunking(night, data):
    _, whole = _run(night, [SampleChunk(0, data)])
    assert sum(e["kind"] == "fasciculation" for e in whole.events) > 10
    for sizes in ([200], [1, 3999, 777], [20000, 33]):
        _, res = _run(night, _rechunk(data, sizes))
        assert res.events == whole.events
        assert res.summary["fasciculations"] == whole.summary["fasciculations"]


def test_gaps_are_kept_and_equal_in_any_chunking(night, data):
    gaps = {40000: 3000, 150000: 1}
    _, a = _run(night, _rechunk(data, [200], gaps))
    _, b = _run(night, _rechunk(data, [4096, 17], gaps))
    assert a.events == b.events
    spans = a.summary["recording"]["gaps_s"]
    assert spans == [[40000 / 2000, 3000 / 2000], [150000 / 2000, 1 / 2000]]
    for e in a.events:  # nothing detected inside a lost span
        assert not (40000 <= e["sample"] < 43000)


def test_a_hole_in_the_timeline_is_a_gap(night, data):
    chunks = [c for c in _rechunk(data, [2000]) if not (60000 <= c.start_sample < 64000)]
    engine, res = _run(night, chunks)
    assert engine.gaps == [(-1, 60000, 64000)]
    assert res.n_samples == data.shape[1]


def test_engine_matches_the_chain_it_wraps(night, data):
    """The engine's chain outputs are the DetectionChain's (default settings, one call)."""
    engine, _ = _run(night, _rechunk(data, [200]))
    chain = DetectionChain(night.info.sfreq_hz, 2)
    ref = concat_outputs([chain.process(data, 0), chain.flush()])
    got = concat_outputs(engine.outputs)
    np.testing.assert_array_equal(got.candidates, ref.candidates)
    np.testing.assert_array_equal(got.envelope_uv, ref.envelope_uv)


def _live_run(night, data, every_chunks: int = 1, mains_hz: float | None = None):
    """Feed 0.1-s chunks, ask for live events every ``every_chunks``; return (rows with the
    signal time each was given at, engine)."""
    engine = NightEngine(night.info, mains_hz=mains_hz)
    given = []
    for i, chunk in enumerate(_rechunk(data, [200])):
        engine.feed(chunk)
        if i % every_chunks == every_chunks - 1:
            now_s = chunk.stop_sample / night.info.sfreq_hz
            given += [(now_s, r) for r in engine.live_events()]
    return given, engine


def test_live_fasciculations_are_the_final_ones(night, data):
    given, engine = _live_run(night, data, every_chunks=3)
    final = engine.finish().events
    believed = {}  # what the live view says in the end, corrections applied
    for _, r in given:
        key = (r["sample"], r["channel"])
        assert r["live"] in ("provisional", "settled", "revised", "withdrawn")
        if r["live"] in ("provisional", "settled"):
            assert key not in believed  # each event is new once
        else:
            assert believed[key]["live"] == "provisional"  # only early calls are corrected
        believed[key] = r
    key = [(e["sample"], e["channel"]) for e in final if e["kind"] == "fasciculation"]
    got = [k for k, r in believed.items() if r["kind"] == "fasciculation" and r["live"] != "withdrawn"]
    assert len(got) >= 0.9 * len(key)
    assert len(set(got) & set(key)) >= 0.9 * len(got)


def test_live_view_drops_a_channel_once_it_reads_rectified(night, data):
    """The second channel is a sensor's RECT output: the final analysis leaves it out, and the
    live view gives nothing of it once three quality windows (30 s) have said so."""
    mixed = np.stack([data[0], rectified(data[1], night.info.sfreq_hz)])
    given, engine = _live_run(night, mixed, every_chunks=3)
    result = engine.finish()
    assert result.unusable_reasons == {night.info.ch_names[1]: "rectified"}
    assert all(e["channel"] == night.info.ch_names[0] for e in result.events)
    believed = {}
    for _, r in given:
        believed[(r["sample"], r["channel"])] = r
    second = [r for r in believed.values()
              if r["channel"] == night.info.ch_names[1] and r["live"] != "withdrawn"]
    assert second and max(r["onset_s"] for r in second) < 35.0  # given early on, then not
    first = {k for k, r in believed.items() if r["kind"] == "fasciculation"
             and r["channel"] == night.info.ch_names[0] and r["live"] != "withdrawn"}
    final = {(e["sample"], e["channel"]) for e in result.events if e["kind"] == "fasciculation"}
    assert len(first & final) >= 0.9 * len(final)


def test_live_fasciculations_come_within_half_a_second_of_their_end(night, data):
    given, engine = _live_run(night, data)
    first = [(t, r) for t, r in given if r["kind"] == "fasciculation" and r["live"] == "provisional"]
    assert len(first) >= 8  # the check is not vacuous
    startup_s = engine.chain_config.mains_detect_s  # nothing comes out while 50/60 Hz is chosen
    delays = np.array([t - (r["onset_s"] + r["duration_s"]) for t, r in first
                       if r["onset_s"] > startup_s])
    assert delays.min() >= 0.0  # never before the potential has ended
    assert delays.max() < 0.5  # signal time: chunking and the chain's look-ahead only


def test_with_the_mains_given_live_events_start_at_once_and_the_night_is_the_same(night, data):
    given, engine = _live_run(night, data, mains_hz=night.params.mains_hz)
    first = [(t, r) for t, r in given if r["kind"] == "fasciculation" and r["live"] == "provisional"]
    startup_s = engine.chain_config.mains_detect_s
    early = [(t, r) for t, r in first if r["onset_s"] + r["duration_s"] < startup_s]
    assert early  # without the mains given, nothing comes out before startup_s
    delays = np.array([t - (r["onset_s"] + r["duration_s"]) for t, r in first])
    assert delays.min() >= 0.0 and delays.max() < 0.5
    decided = _run(night, _rechunk(data, [200]))[1].events  # mains decided from the data
    assert engine.finish().events == decided


def test_flat_channel_left_out(night, data):
    x = data.copy()
    x[1] = 5.0
    engine, res = _run(night, _rechunk(x, [4000]))
    assert res.unusable_channels == [night.info.ch_names[1]]
    assert list(res.summary["channels"]) == [night.info.ch_names[0]]
    _, ref = _run(night, _rechunk(data, [4000]))
    only0 = [e for e in ref.events if e["channel"] == night.info.ch_names[0]]
    assert [e["sample"] for e in res.events if e["kind"] == "fasciculation"] == [
        e["sample"] for e in only0 if e["kind"] == "fasciculation"]


def test_select_channels_renumbers(night, data):
    engine, _ = _run(night, _rechunk(data, [4000]))
    whole = concat_outputs(engine.outputs)
    keep, dead = usable_channels(whole, night.info.ch_names)
    assert keep == [0, 1] and dead == {}
    one = select_channels(whole, [1])
    mask = whole.candidates["channel"] == 1
    np.testing.assert_array_equal(one.candidates["onset"], whole.candidates["onset"][mask])
    assert set(one.candidates["channel"].tolist()) <= {0}
    np.testing.assert_array_equal(one.envelope_uv, whole.envelope_uv[1:2])


def test_engine_keeps_no_samples(night, data):
    engine, _ = _run(night, _rechunk(data, [2000]))
    kept = sum(o.envelope_uv.nbytes + o.noise_uv.nbytes + o.snippets.nbytes
               + o.candidates.nbytes + o.features.nbytes + o.quality.nbytes
               for o in engine.outputs)
    # Sustained activity is kept as one 100-ms candidate piece per 100 ms (a third of this busy
    # night's candidates); samples would be the whole of data.nbytes.
    assert kept < data.nbytes / 8


def test_an_electrode_offset_adds_no_event(night, data):
    """A DC-coupled amplifier records each electrode's offset (tens to hundreds of mV), and a new
    one after a gap: the night's events are those of the same night without it (no burst at the
    start or where the signal resumes), in any chunking."""
    gaps = {40000: 3000}
    offset_uv = np.where(np.arange(data.shape[1]) < 40000, 120_000.0, -60_000.0)
    offset_uv = offset_uv * np.array([[1.0], [-2.5]])
    _, plain = _run(night, _rechunk(data, [4096], gaps))
    _, shifted = _run(night, _rechunk(data + offset_uv, [200, 3999], gaps))
    assert [(e["kind"], e["sample"], e["channel"]) for e in shifted.events] == \
        [(e["kind"], e["sample"], e["channel"]) for e in plain.events]
    assert shifted.summary["fasciculations"] == plain.summary["fasciculations"]
