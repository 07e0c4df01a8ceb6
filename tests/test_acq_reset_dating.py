"""A device reset is a boundary wherever it falls in a read, and host time measures it unbiased.

The decoder continues its numbering across a restart (the device's counter says nothing about the
time it was down), so host time measures the downtime. Two faults used to spoil that:

* a restart that was not the first sample of a read got no gap at all (only one at a read's first
  column was measured): the samples it cost were counted nowhere and every later sample was placed
  that much early;
* the downtime was the arrival time of the one read after the restart against the lower envelope
  of the reads before it: the read's own latency (a few ms a busy host adds) was counted as
  downtime, every restart placed the rest of the recording a little later, and a night of restarts
  drifted by hundreds of samples.

Now the reads from a restart on are held for a moment and dated by their own lower envelope, as
the reads before it were: like compared with like, the latency cancels.
"""

from __future__ import annotations

import time

import numpy as np
from test_acq_emulated import lost_by_log, record_emulated, warm_up

from acquisition._device_spec import device_spec
from acquisition._placement import SamplePlacer
from acquisition._source_stats import SourceCounters
from acquisition.serial_source import SerialSource
from firmware_io.devices import DEVICES
from firmware_io.faults import parse_faults
from firmware_io.firmware import make_firmware

SFREQ = 2000.0
SPEED = 2.0
RESET_LOST = 40  # 20 ms of device time
#: host-time latency of successive reads (s): a busy host delays some reads by a few ms
LATENCIES = (0.0, 0.003, 0.001, 0.004, 0.002, 0.0035)


def _reads(resets: dict[int, int], n_frames: int, frames_per_read: int):
    """(bytes, device index of the read's last sample) of a calfwatch device whose frame
    ``k`` in ``resets`` is the first after a restart; each read holds ``frames_per_read``
    frames, so a restart falls inside a read unless its frame starts one."""
    firmware = make_firmware("calfwatch", SFREQ, 2)
    spf = firmware.samples_per_frame
    pending, device_pos = firmware.boot(), 0
    for k in range(n_frames):
        if k in resets:
            pending += firmware.boot()
            device_pos += resets[k]  # sampled while the firmware restarted: never sent
        counts = np.vstack([np.arange(device_pos, device_pos + spf)] * 2).astype(np.int64)
        counts[1] *= -1
        pending += firmware.encode(counts, device_pos).data
        device_pos += spf
        if (k + 1) % frames_per_read == 0:
            yield pending, device_pos - 1
            pending = b""


def _place(resets: dict[int, int], frames_per_read: int):
    """Feed the reads to a :class:`SamplePlacer` at arrival times of a fake host clock (the
    production time of the read's last sample plus a latency from ``LATENCIES``); return the
    chunks it handed on."""
    spec = device_spec("calfwatch")
    decoder = spec.make_decoder()
    placer = SamplePlacer(spec, decoder, SourceCounters(), queue_s=600.0, clock_speed=SPEED,
                          chunk_s=0.1, settle_s=1.0, on_placed=lambda now, n: None)
    rate = SFREQ * SPEED
    for k, (data, last) in enumerate(_reads(resets, 4000, frames_per_read)):
        arrival = 10.0 + last / rate + LATENCIES[k % len(LATENCIES)]
        placer.on_data(decoder.feed(data), arrival)
        placer.tick(arrival)
    placer.release_held(settled=True)
    placer.flush_acc()
    chunks = []
    while (chunk := placer.queue.get(0.0)) is not None:
        chunks.append(chunk)
    return chunks, spec.uv_per_count


def _check(chunks: list, uv: float, resets: dict[int, int]) -> None:
    """Every sample at its device index; one gap per restart over exactly what it cost."""
    pos = 0
    gaps = []
    for chunk in chunks:
        assert chunk.start_sample == pos
        pos = chunk.stop_sample
        if chunk.gap:
            gaps.append((chunk.start_sample, chunk.n_samples, chunk.reason))
            continue
        counts = np.rint(chunk.data_uv[0] / uv).astype(np.int64)
        np.testing.assert_array_equal(counts, np.arange(chunk.start_sample, chunk.stop_sample))
    spf = make_firmware("calfwatch", SFREQ, 2).samples_per_frame
    expected, lost = [], 0
    for k in sorted(resets):
        expected.append((k * spf + lost, resets[k], "device reset"))
        lost += resets[k]
    assert gaps == expected


def test_a_reset_inside_a_read_is_a_gap_measured_without_the_read_latency():
    """Restarts in the middle of a read (frames 1001 and 2502 with 3 frames a read) and at the
    first frame of one (frame 1500): each a gap of exactly the 40 samples it cost, though the
    reads after them arrive up to 4 ms (16 samples at 2 x) late."""
    resets = {1001: RESET_LOST, 1500: RESET_LOST, 2502: RESET_LOST}
    chunks, uv = _place(resets, frames_per_read=3)
    _check(chunks, uv, resets)


def test_restarts_at_the_first_frame_of_reads_do_not_drift():
    """Ten restarts, each at a read's first frame, the read after each one late by a few ms:
    none adds the latency to the downtime (that used to drift the recording by ~5 samples a
    restart at 2 x, ~100 at 10 x)."""
    resets = {k: RESET_LOST for k in range(300, 4000, 370)}
    chunks, uv = _place(resets, frames_per_read=1)
    _check(chunks, uv, resets)


def test_every_reset_over_a_pty_is_a_gap_wherever_it_falls_in_a_read(tmp_path, monkeypatch):
    """The emulated calfwatch restarts every 1.5 s behind a host that reads every 0.15 s (a USB
    adapter handing bytes over in large packets): most restarts fall inside a read. Each one is
    an annotated gap, and every sample is recorded once, in order."""
    kind, speed = "calfwatch", 1.0
    uv = DEVICES[kind].uv_per_count
    read_once = SerialSource._read_once

    def slow_read(self):
        time.sleep(0.15)
        read_once(self)

    monkeypatch.setattr(SerialSource, "_read_once", slow_read)
    plan = parse_faults("reset@1500ms/1500ms", seed=1)
    warm_up(kind)
    device, source, chunks = record_emulated(kind, 2, 7.2, tmp_path / "ttyRESET", speed, plan,
                                             timeout_s=40)
    resets = [r for r in device.fault_log if r["fault"] == "reset" and r["samples_lost"]]
    assert len(resets) == 4
    gaps = [c for c in chunks if c.gap]
    assert [g.reason for g in gaps] == ["device reset"] * len(resets)
    assert all(g.n_samples >= 1 for g in gaps)
    values = np.concatenate([np.rint(c.data_uv[0] / uv) for c in chunks if not c.gap])
    assert np.all(np.diff(values) > 0)  # in order, none twice
    assert not set(values.astype(np.int64).tolist()) & lost_by_log(device)
    assert source.stats()["gaps_estimated"] == len(resets)


def test_the_timeline_measures_a_reset_inside_a_batch():
    """:class:`Timeline` itself: a restart at the 51st sample of a batch, 40 samples down, the
    batch's last sample arriving as it is made: a 40-sample gap, the samples after it in place."""
    from acquisition.timeline import Gap, Timeline

    timeline = Timeline(SFREQ, 2**32)
    timeline.place(np.arange(0, 250), arrival_s=249 / SFREQ)
    pieces = timeline.place(np.arange(250, 500), arrival_s=539 / SFREQ, reset_at=[300])
    gaps = [p for p in pieces if isinstance(p, Gap)]
    assert [(g.start_sample, g.n_samples, g.reason) for g in gaps] == [(300, 40, "device reset")]
    assert pieces[-1].start_sample == 340 and pieces[-1].col0 == 50
