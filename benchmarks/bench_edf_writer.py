"""Benchmark: streaming EdfPlusWriter against edfio's whole-file writer on the same signal.

Writes 1 h of 2 channels at 2 kHz with both (edfio needs the whole night in memory, the streaming
writer takes 10 s chunks and fsyncs about once per second of wall time), then an 8 h night with the
streaming writer alone, in 10 s chunks and in 50 ms chunks (as a live recorder would). Prints times
and the ratio streaming / edfio.
"""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from acquisition.edf.writer import EdfPlusWriter

SFREQ_HZ = 2000.0
N_CHANNELS = 2
MEAS_DATE = datetime(2024, 1, 1, 22, 0, tzinfo=UTC)


def block(seconds: float) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.normal(0.0, 50.0, size=(N_CHANNELS, int(seconds * SFREQ_HZ)))


def stream(path: Path, hours: float, chunk_s: float, fmt: str = "edf") -> float:
    chunk = block(chunk_s)
    n_chunks = int(hours * 3600 / chunk_s)
    t0 = time.perf_counter()
    with EdfPlusWriter(path, ["calf_left", "calf_right"], SFREQ_HZ, MEAS_DATE, fmt=fmt) as writer:
        for k in range(n_chunks):
            if k % 600 == 0:
                writer.annotate(k * chunk_s, 0.02, "marker")
            writer.write(chunk)
    return time.perf_counter() - t0


def edfio_whole(path: Path, hours: float) -> float:
    import edfio

    data = np.tile(block(10.0), (1, int(hours * 360)))
    t0 = time.perf_counter()
    signals = [
        edfio.EdfSignal(
            data[i],
            SFREQ_HZ,
            label=f"calf{i}",
            physical_dimension="uV",
            physical_range=(-5000.0, 5000.0),
        )
        for i in range(N_CHANNELS)
    ]
    edf = edfio.Edf(signals, starttime=MEAS_DATE.time(), data_record_duration=1.0)
    edf.write(path)
    return time.perf_counter() - t0


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t_edfio = edfio_whole(folder / "edfio.edf", 1.0)
        t_stream = stream(folder / "stream.edf", 1.0, 10.0)
        print(
            f"1 h x {N_CHANNELS} ch x {SFREQ_HZ:g} Hz EDF: edfio whole-file {t_edfio:.2f} s, "
            f"EdfPlusWriter 10 s chunks {t_stream:.2f} s, ratio {t_stream / t_edfio:.2f}"
        )
        for fmt, chunk_s in (("edf", 10.0), ("bdf", 10.0), ("edf", 0.05)):
            path = folder / f"night.{fmt}"
            seconds = stream(path, 8.0, chunk_s, fmt)
            size_mb = path.stat().st_size / 1e6
            path.unlink()
            print(
                f"8 h night {fmt.upper()} in {chunk_s:g} s chunks: {seconds:.2f} s "
                f"({8 * 3600 / seconds:.0f}x real time, {size_mb:.0f} MB)"
            )


if __name__ == "__main__":
    main()
