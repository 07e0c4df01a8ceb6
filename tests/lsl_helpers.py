"""An LSL outlet that plays samples on loopback at a multiple of real time (for the LSL tests)."""

from __future__ import annotations

import threading
import time

import numpy as np


class PacedOutlet(threading.Thread):
    """Push ``data_uv`` (n_channels, n) as LSL stream ``name``, stamped at ``t0 + k / sfreq_hz``.

    Samples in ``skip`` spans ``[(start, stop), ...]`` are not sent (a stream gap); their time
    stamps pass all the same. Pushing starts once a consumer is connected.
    """

    def __init__(self, name: str, data_uv: np.ndarray, sfreq_hz: float, *, speed: float = 10.0,
                 ch_names: list[str] | None = None, unit: str = "microvolts",
                 skip: list[tuple[int, int]] = (), chunk_s: float = 0.05,
                 fmt: str = "float32") -> None:
        super().__init__(daemon=True)
        import pylsl

        self.pylsl = pylsl
        self.data = np.asarray(data_uv)
        self.sfreq_hz, self.speed, self.skip = sfreq_hz, speed, list(skip)
        self.chunk_n = max(1, int(chunk_s * sfreq_hz))
        formats = {"float32": (pylsl.cf_float32, np.float32),
                   "double64": (pylsl.cf_double64, np.float64)}
        cf, self.dtype = formats[fmt]
        info = pylsl.StreamInfo(name, "EMG", self.data.shape[0], sfreq_hz, cf, f"{name}-src")
        chans = info.desc().append_child("channels")
        for ch in ch_names or [f"ch{i}" for i in range(self.data.shape[0])]:
            c = chans.append_child("channel")
            c.append_child_value("label", ch)
            c.append_child_value("unit", unit)
        self.outlet = pylsl.StreamOutlet(info, 0, 60)
        self.stop_event = threading.Event()
        self.pushed = 0

    def run(self) -> None:
        while not self.outlet.have_consumers():
            if self.stop_event.wait(0.01):
                return
        time.sleep(0.2)  # the inlet subscribes to the data once its info is read
        t0 = self.pylsl.local_clock()
        w0 = time.monotonic()
        n = self.data.shape[1]
        for start in range(0, n, self.chunk_n):
            stop = min(n, start + self.chunk_n)
            due = w0 + stop / self.sfreq_hz / self.speed
            if self.stop_event.wait(max(0.0, due - time.monotonic())):
                return
            keep = np.ones(stop - start, bool)
            for a, b in self.skip:
                keep[max(a, start) - start:max(min(b, stop) - start, 0)] = False
            idx = np.flatnonzero(keep)
            for part in np.split(idx, np.flatnonzero(np.diff(idx) > 1) + 1):
                if not len(part):
                    continue
                block = np.ascontiguousarray(self.data[:, start + part].T, dtype=self.dtype)
                last_t = t0 + (start + part[-1]) / self.sfreq_hz
                self.outlet.push_chunk(block, last_t)
                self.pushed += len(part)

    def stop(self) -> None:
        self.stop_event.set()
        if self.is_alive():
            self.join(5.0)
