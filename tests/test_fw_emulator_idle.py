"""An emulated device waits, without spinning, while no host has its port open.

The pty master reports a hang-up at once while nobody has the slave open, so a poll with a timeout
returned immediately and the firmware thread spun a whole core until a host came. Each turn of its
loop now lasts at least the poll interval: the number of turns is bounded by the time elapsed,
whatever the machine's speed (a slower machine only makes fewer).
"""

from __future__ import annotations

import time

import numpy as np
import serial

from firmware_io import calfwatch_protocol
from firmware_io.devices import DEVICES
from firmware_io.emulator import EmulatedDevice


def test_no_host_no_busy_loop_and_a_host_still_gets_data(tmp_path):
    kind = "calfwatch"
    source = [np.zeros((2, 2000))] * 20
    device = EmulatedDevice(kind, source, 2000.0, str(tmp_path / "port"))
    polls: list[float] = []
    poll = device._link.poll

    def counting_poll(wait_s):
        polls.append(wait_s)
        return poll(wait_s)

    device._link.poll = counting_poll
    with device:
        time.sleep(0.1)
        n0, t0 = len(polls), time.monotonic()
        time.sleep(0.5)
        n1, t1 = len(polls), time.monotonic()
        wait_s = min(polls)
        # every turn without a host waits its interval: at most one per interval (+ the one going
        # on); the old loop turned tens of thousands of times
        assert n1 - n0 <= (t1 - t0) / wait_s + 2, (n1 - n0, t1 - t0, wait_s)
        ser = serial.Serial(device.port_path, DEVICES[kind].baudrate, timeout=0.2)
        try:
            ser.write(calfwatch_protocol.encode_command("start", 1))
            decoder = DEVICES[kind].make_decoder()
            got = 0
            for _ in range(200):  # a generous bound for a failure only: data come within ms
                got += decoder.feed(ser.read(ser.in_waiting or 1)).n_samples
                if got >= 100:
                    break
        finally:
            ser.close()
    assert got >= 100
