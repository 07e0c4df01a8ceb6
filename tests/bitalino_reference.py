"""BITalino (r)evolution frames written from the vendor's own decoder, independently of firmware_io.

The vendor's Python API (``BITalino.read``) reads a frame of ``ceil((12 + 10 n) / 8)`` bytes (n <= 4
channels, else ``ceil((52 + 6 (n - 4)) / 8)``) from its end: the last byte is ``seq << 4 | CRC-4``,
the CRC over the frame with that nibble zeroed (shift left, XOR 0x03 when bit 4 is set, XOR the next
bit, MSB first); A1 = ``(d[-2] & 0x0F) << 6 | d[-3] >> 2``, A2 = ``(d[-3] & 0x03) << 8 | d[-4]``,
A3 = ``d[-5] << 2 | d[-6] >> 6``, A4 = ``(d[-6] & 0x3F) << 4 | d[-7] >> 4``,
A5 = ``(d[-7] & 0x0F) << 2 | d[-8] >> 6``, A6 = ``d[-8] & 0x3F``. The frames here are built by
inverting those lines byte by byte, so the decoder under test is checked against the vendor's layout,
not against its own encoder.
"""

from __future__ import annotations

import math

import numpy as np


def frame_bytes(n_channels: int) -> int:
    """The vendor's frame length for ``n_channels`` analog channels."""
    if n_channels <= 4:
        return math.ceil((12.0 + 10.0 * n_channels) / 8.0)
    return math.ceil((52.0 + 6.0 * (n_channels - 4)) / 8.0)


def crc4(frame: bytes | bytearray) -> int:
    """The vendor's CRC-4 of a frame (its last low nibble taken as zero)."""
    data = bytearray(frame)
    data[-1] &= 0xF0
    x = 0
    for byte in data:
        for bit in range(7, -1, -1):
            x <<= 1
            if x & 0x10:
                x ^= 0x03
            x ^= (byte >> bit) & 0x01
    return x & 0x0F


def frame(seq: int, values: list[int]) -> bytes:
    """One frame carrying ``values`` (A1.. in ADC counts) with sequence number ``seq``."""
    n = frame_bytes(len(values))
    v = list(values) + [0] * (6 - len(values))
    d = [0] * 8  # d[-1] .. d[-8] as d[7] .. d[0]
    d[7] = (seq % 16) << 4
    d[6] = (v[0] >> 6) & 0x0F  # digital lines (high nibble) left at zero
    d[5] = ((v[0] & 0x3F) << 2) | ((v[1] >> 8) & 0x03)
    d[4] = v[1] & 0xFF
    d[3] = (v[2] >> 2) & 0xFF
    d[2] = ((v[2] & 0x03) << 6) | ((v[3] >> 4) & 0x3F)
    d[1] = ((v[3] & 0x0F) << 4) | ((v[4] >> 2) & 0x0F)
    d[0] = ((v[4] & 0x03) << 6) | (v[5] & 0x3F)
    out = bytearray(d[8 - n:])
    out[-1] |= crc4(out)
    return bytes(out)


def stream(counts: np.ndarray) -> bytes:
    """Frames for ``counts`` (n_channels, n_frames), sequence numbers 0, 1, ... (mod 16)."""
    return b"".join(frame(k, [int(c) for c in counts[:, k]]) for k in range(counts.shape[1]))
