"""Decoder throughput per protocol, as a multiple of real time for 8 channels at 2 kHz.

For each protocol a stream equivalent to 8 channels x 2 kHz (BITalino: its maximum of 6 channels,
scaled to the same channel-sample rate) is decoded in 4096-byte reads, the way a serial reader feeds
it. The multiple is (channel-samples decoded per second) / (8 x 2000); the target is >= 50. The
baseline is a straightforward pure-Python per-frame decoder on the same bytes (shorter span), so the
ratio shows what the vectorised/numba decoders buy.

Run: ``python benchmarks/bench_decoders.py [seconds_of_signal]``.
"""

from __future__ import annotations

import struct
import sys
import time

import numpy as np

from firmware_io import ascii_lines, bitalino, calfwatch_protocol, cyton
from firmware_io.codec import cobs_decode, crc4_bitalino, crc16_ccitt

SFREQ_HZ = 2000
N_CH = 8
READ_BYTES = 4096


def _streams(seconds: float, rng: np.random.Generator) -> dict[str, tuple[bytes, int]]:
    n = int(seconds * SFREQ_HZ)
    out = {}
    counts = rng.integers(-(2**20), 2**20, (N_CH, n))
    frames = [calfwatch_protocol.encode_data(k, k * 500, 1, 0, counts[:, k : k + 8])
              for k in range(0, n, 8)]
    out["calfwatch"] = (b"\x00" + b"".join(frames), N_CH * n)
    out["cyton"] = (cyton.encode_packets(np.arange(n), counts), N_CH * n)
    nb = n * N_CH // 6
    bit = np.stack([rng.integers(0, 2 ** int(b), nb) for b in bitalino.channel_bits(6)])
    out["bitalino"] = (bitalino.encode_frames(np.arange(nb), bit), 6 * nb)
    out["ascii"] = (b"\r\n" + ascii_lines.encode_lines(rng.integers(0, 1024, (N_CH, n))), N_CH * n)
    return out


def _decoder(kind: str):
    return {"calfwatch": calfwatch_protocol.CalfwatchDecoder, "cyton": cyton.CytonDecoder,
            "bitalino": lambda: bitalino.BitalinoDecoder(6), "ascii": ascii_lines.AsciiDecoder}[kind]()


def _decode(kind: str, data: bytes) -> int:
    dec = _decoder(kind)
    total = 0
    for i in range(0, len(data), READ_BYTES):
        total += dec.feed(data[i : i + READ_BYTES]).n_samples
    total += dec.flush().n_samples
    return total * dec.n_channels


def _baseline(kind: str, data: bytes) -> int:
    """Pure-Python per-frame decoding of the same format (no resynchronisation logic)."""
    n = 0
    if kind == "calfwatch":
        for block in data.split(b"\x00"):
            raw = cobs_decode(block) if block else None
            if raw and crc16_ccitt(raw[:-2]) == int.from_bytes(raw[-2:], "big") and raw[0] == 1:
                nch, ns = raw[12], raw[13]
                vals = [int.from_bytes(raw[14 + 3 * j : 17 + 3 * j], "little", signed=True)
                        for j in range(nch * ns)]
                n += len(vals)
    elif kind == "cyton":
        for i in range(0, len(data) - 32, 33):
            if data[i] == 0xA0 and 0xC0 <= data[i + 32] <= 0xC6:
                vals = [int.from_bytes(data[i + 2 + 3 * c : i + 5 + 3 * c], "big", signed=True)
                        for c in range(8)]
                n += len(vals)
    elif kind == "bitalino":
        for i in range(0, len(data) - 7, 8):
            f = data[i : i + 8]
            if crc4_bitalino(f) == f[-1] & 0x0F:
                a = struct.unpack("8B", f)
                vals = [((a[6] & 0x0F) << 6) | (a[5] >> 2), ((a[5] & 0x03) << 8) | a[4],
                        (a[3] << 2) | (a[2] >> 6), ((a[2] & 0x3F) << 4) | (a[1] >> 4),
                        ((a[1] & 0x0F) << 2) | (a[0] >> 6), a[0] & 0x3F]
                n += len(vals)
    else:
        for line in data.split(b"\n"):
            try:
                vals = [float(v) for v in line.replace(b"\r", b"").split(b",") if v]
            except ValueError:
                continue
            n += len(vals)
    return n


def _timed(fn, *args) -> tuple[int, float]:
    t = time.perf_counter()
    n = fn(*args)
    return n, time.perf_counter() - t


def main(seconds: float = 60.0) -> int:
    rng = np.random.default_rng(0)
    streams = _streams(seconds, rng)
    warm = _streams(0.5, rng)
    rate = N_CH * SFREQ_HZ
    print(f"decoders on {seconds:g} s of 8 ch x 2 kHz, fed in {READ_BYTES}-byte reads (one core)")
    print(f"{'protocol':<10} {'MB/s':>8} {'x real time':>12} {'baseline x':>11} {'speed-up':>9}")
    worst = float("inf")
    for kind, (data, n_expected) in streams.items():
        _decode(kind, warm[kind][0])  # numba compile or cache load, not timed
        n, dt = _timed(_decode, kind, data)
        assert n == n_expected, (kind, n, n_expected)
        part = data[: max(1, len(data) // 20)]
        nb, dtb = _timed(_baseline, kind, part)
        multiple = n / dt / rate
        base_multiple = nb / dtb / rate
        worst = min(worst, multiple)
        print(f"{kind:<10} {len(data) / dt / 1e6:8.1f} {multiple:12.0f} {base_multiple:11.1f} "
              f"{multiple / base_multiple:9.1f}")
    print(f"slowest decoder: {worst:.0f} x real time (target >= 50)")
    return 0 if worst >= 50 else 1


if __name__ == "__main__":
    sys.exit(main(float(sys.argv[1]) if len(sys.argv) > 1 else 60.0))
