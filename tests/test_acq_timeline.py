"""Timeline: decoder indices + host time -> absolute samples, checked against a simulated device's truth."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from acquisition._backoff import Backoff
from acquisition._chunk_queue import ChunkQueue, gap_chunk
from acquisition.stream import SampleChunk
from acquisition.timeline import Gap, Run, Timeline
from firmware_io.frames import DecoderStats, SequenceTracker

SFREQ = 250.0

step = st.one_of(
    st.tuples(st.just("deliver"), st.integers(1, 300)),
    st.tuples(st.just("drop"), st.integers(1, 7)),
    st.tuples(st.just("unplug"), st.integers(1, 3000)),
)


def _run(modulus: int, steps: list, jitter: list[float]):
    """Feed a simulated device through SequenceTracker + Timeline; return truth and placement."""
    tracker = SequenceTracker(modulus)
    timeline = Timeline(SFREQ, modulus)
    pos, truth_data, truth_gap, placed_data, placed_gap = 0, [], set(), [], set()
    first = None
    pending_loss = 0
    for i, (kind, n) in enumerate(steps):
        if kind == "deliver":
            idx = np.arange(pos, pos + n)
            events: list = []
            dec = tracker.track(idx % modulus, np.ones(n, np.int64), DecoderStats(), events)
            arrival = (pos + n - 1) / SFREQ + jitter[i % len(jitter)]
            if first is None:
                first = pos
            elif pending_loss:
                truth_gap.update(range(pos - pending_loss - first, pos - first))
            pending_loss = 0
            truth_data.extend((idx - first).tolist())
            for piece in timeline.place(dec, arrival):
                if isinstance(piece, Gap):
                    placed_gap.update(range(piece.start_sample, piece.start_sample + piece.n_samples))
                else:
                    assert isinstance(piece, Run)
                    placed_data.extend(range(piece.start_sample, piece.start_sample + piece.n_samples))
            pos += n
        else:
            if kind == "unplug":
                timeline.begin_session("unplugged")
            pos += n
            pending_loss += n if first is not None else 0
    return truth_data, truth_gap, placed_data, placed_gap


@settings(max_examples=150, deadline=None)
@given(
    modulus=st.sampled_from([256, 2**32]),
    steps=st.lists(step, min_size=1, max_size=25),
    jitter=st.lists(st.floats(-0.12, 0.12), min_size=1, max_size=5),
)
def test_timeline_places_every_sample_where_the_device_produced_it(modulus, steps, jitter):
    # drops longer than half a wrap inside one batch are ambiguous by nature: only unplugs are long
    truth_data, truth_gap, placed_data, placed_gap = _run(modulus, steps, jitter)
    assert placed_data == truth_data
    if truth_data:
        last = truth_data[-1]
        assert placed_gap == {g for g in truth_gap if g < last}


def test_device_reset_gap_comes_from_host_time():
    timeline = Timeline(SFREQ, 2**32)
    timeline.place(np.arange(0, 250), arrival_s=249 / SFREQ)
    # the device rebooted: 2 s without samples, then its counter restarted (decoder continues)
    pieces = timeline.place(np.arange(250, 500), arrival_s=(249 + 500 + 250) / SFREQ, reset_at=[250])
    gap = pieces[0]
    assert isinstance(gap, Gap) and gap.reason == "device reset" and gap.estimated
    assert gap.n_samples == 500
    assert pieces[1].start_sample == 250 + gap.n_samples


def test_gap_across_a_reconnection_at_ten_times_speed_resolves_counter_wraps():
    fast = SFREQ * 10
    timeline = Timeline(SFREQ, 256, clock_speed=10.0)
    assert timeline.rate_hz() == fast
    for k in range(30):  # reads of 25 samples arriving as they are produced
        timeline.place(np.arange(k * 25, (k + 1) * 25), arrival_s=((k + 1) * 25 - 1) / fast)
    timeline.begin_session("unplugged")
    lost = 1000  # 0.4 s at 10x: almost four counter wraps
    start = 30 * 25 + lost
    dec = 30 * 25 + (lost % 256)  # where the decoder alone puts it (modulo 256)
    pieces = timeline.place(np.arange(dec, dec + 250), arrival_s=(start + 249) / fast)
    assert pieces[0] == Gap(30 * 25, lost, "unplugged", estimated=True)


def test_queue_overflow_is_refused_and_gaps_merge():
    q = ChunkQueue(capacity_samples=100)
    assert q.put(SampleChunk(0, np.zeros((1, 80))))
    assert not q.put(SampleChunk(80, np.zeros((1, 30))))
    assert q.put(gap_chunk(80, 1, 30, "overflow"))
    assert q.put(gap_chunk(110, 1, 20, "overflow"))
    assert q.get(0.01).n_samples == 80
    merged = q.get(0.01)
    assert merged.gap and (merged.start_sample, merged.n_samples) == (80, 50)
    assert q.get(0.01) is None


def test_backoff_doubles_to_its_ceiling_and_resets():
    b = Backoff(0.1, 1.0)
    assert [b.next_delay_s() for _ in range(6)] == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    b.reset()
    assert b.next_delay_s() == 0.1


def test_a_reset_shorter_than_the_host_clock_resolves_is_still_a_gap():
    """At 20 x a 20-ms restart is 1 ms of wall time: reads on each side can arrive with no
    measurable time between them, yet the device was down and its counter restarted."""
    fast = SFREQ * 20
    timeline = Timeline(SFREQ, 2**32, clock_speed=20.0)
    timeline.place(np.arange(0, 250), arrival_s=249 / fast)
    pieces = timeline.place(np.arange(250, 500), arrival_s=498 / fast, reset_at=[250])
    gap = pieces[0]
    assert isinstance(gap, Gap) and gap.reason == "device reset" and gap.estimated
    assert gap.n_samples == 1
    assert pieces[1].start_sample == 251
