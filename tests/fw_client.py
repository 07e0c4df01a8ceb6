"""A minimal host for the emulator tests: pyserial on the port path, reconnecting after an unplug."""

from __future__ import annotations

import os
import time

import serial

from firmware_io.frames import concat_batches


def read_device(dev, decoder, start: bytes, baudrate: int, timeout_s: float = 20.0,
                idle_s: float = 0.3):
    """Open ``dev.port_path``, send ``start``, decode until the device finished and the line is idle.

    Returns (batch, reconnects).
    """
    batches = []
    reconnects = 0
    ser = serial.Serial(dev.port_path, baudrate, timeout=0.02)
    if start:
        ser.write(start)
    t0 = time.monotonic()
    last = t0
    while time.monotonic() - t0 < timeout_s:
        try:
            data = ser.read(ser.in_waiting or 1)
        except (serial.SerialException, OSError):
            ser.close()
            ser = _reopen(dev.port_path, baudrate, t0 + timeout_s)
            reconnects += 1
            continue
        now = time.monotonic()
        if data:
            batches.append(decoder.feed(data))
            last = now
        elif dev.finished.is_set() and now - last > idle_s:
            break
    ser.close()
    batches.append(decoder.flush())
    return concat_batches(batches, decoder.n_channels), reconnects


def _reopen(path: str, baudrate: int, deadline: float) -> serial.Serial:
    while time.monotonic() < deadline:
        if os.path.exists(path):
            try:
                return serial.Serial(path, baudrate, timeout=0.02)
            except (serial.SerialException, OSError):
                pass
        time.sleep(0.005)
    raise TimeoutError(f"{path}: did not come back")
