"""A device that restarts within a second of being plugged back in: every sample at its true place.

After a reconnection the serial source holds about a second of reads to date the device clock from
their arrival times. A device reset inside that second used to be dated with the reads before it,
ignoring the time the device was down: the samples it cost were counted nowhere and the rest of the
recording was placed that much early. The emulated device sends sample i with the value i counts, so
every recorded value says where it belongs.
"""

from __future__ import annotations

import numpy as np
from test_acq_emulated import lost_by_log, record_emulated, warm_up

from firmware_io.devices import DEVICES
from firmware_io.faults import parse_faults


def test_reset_just_after_a_replug_keeps_every_sample_in_place(tmp_path):
    """Every sample before the reset exactly in place; after it one shift of at most the host
    clock's dating error (the reset's cost is measured by the arrival times of reads, which a
    loaded machine delays by a few ms); every sample once, and every loss counted."""
    kind, speed = "calfwatch", 1.0  # real time: the reconnection's hold spans the reset
    uv, sfreq = DEVICES[kind].uv_per_count, DEVICES[kind].sfreq_hz
    tol = round(0.005 * sfreq)
    plan = parse_faults("unplug=2s@3s,reset@5900ms", seed=1)
    warm_up(kind)
    device, source, chunks = record_emulated(kind, 2, 8.5, tmp_path / "ttyRESET", speed,
                                             plan, timeout_s=30)
    reset_lost = [r for r in device.fault_log if r["fault"] == "reset" and r["samples_lost"]]
    assert reset_lost and source.stats()["reconnects"] == 1
    reset = reset_lost[0]
    first = next(c for c in chunks if not c.gap)
    d0 = int(round(first.data_uv[0, 0] / uv)) - first.start_sample
    shifts, values = {"before": set(), "after": set()}, []
    for chunk in (c for c in chunks if not c.gap):
        value = np.rint(chunk.data_uv[0] / uv).astype(np.int64)
        shift = value - (np.arange(chunk.start_sample, chunk.stop_sample) + d0)
        assert np.all(shift == shift[0])  # in order, none missing or repeated inside a chunk
        shifts["before" if value[0] < reset["first_sample"] else "after"].add(int(shift[0]))
        values.append(value)
    assert shifts["before"] == {0}  # exactly in place up to the reset
    assert len(shifts["after"]) == 1 and abs(shifts["after"].pop()) <= tol, shifts
    values = np.concatenate(values)
    assert len(np.unique(values)) == len(values)  # nothing recorded twice
    logged = lost_by_log(device)
    assert not logged & set(values.tolist())  # nothing lost recorded, nothing recorded lost
    missing = set(range(int(values.min()), int(values.max()) + 1)) - set(values.tolist())
    assert missing == {i for i in logged if values.min() <= i <= values.max()}
    gaps = [c for c in chunks if c.gap and c.reason == "device reset"]
    assert len(gaps) == 1 and abs(gaps[0].n_samples - reset["samples_lost"]) <= tol


def test_reset_after_a_replug_on_a_short_counter_at_20x(tmp_path):
    """A Cyton (counter of 256) at 20 x that restarts 0.7 s of device time after coming back:
    the reads between the replug and the restart are the backlog of the reconnection (35 ms of
    host time), too late to date anything. They used to date the restart's gap and moved the
    rest of the recording 80-256 samples; now the restart (its banner) is measured from the
    clock before the unplug, and what could not be dated is counted lost."""
    kind, speed = "cyton", 20.0
    sfreq, uv = DEVICES[kind].sfreq_hz, DEVICES[kind].uv_per_count
    plan = parse_faults("unplug=2s@10s,reset@12700ms", seed=1)
    warm_up(kind)
    device, source, chunks = record_emulated(kind, 2, 60.0, tmp_path / "ttyCYTON", speed,
                                             plan, timeout_s=30)
    assert source.stats()["reconnects"] == 1
    assert source.stats()["decoder"]["resets"] == 1  # the banner marks the restart
    offsets = []
    for chunk in chunks:
        if not chunk.gap:
            device_idx = np.rint(chunk.data_uv[0] / uv).astype(np.int64)
            offsets.append(device_idx - np.arange(chunk.start_sample, chunk.stop_sample))
    offsets = np.concatenate(offsets)
    levels, counts = np.unique(offsets, return_counts=True)
    steady = levels[counts >= 3]  # a packet damaged unseen could stray; none is sent here
    assert steady.size <= 2  # before the unplug, and after the restart
    # the restart's downtime is measured by host time: within 10 ms of it at this speed
    assert np.ptp(steady) <= 0.010 * speed * sfreq, steady
