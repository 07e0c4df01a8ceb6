"""BITalino (r)evolution: frames of 3-8 bytes, 10-bit A1-A4 and 6-bit A5-A6, CRC-4 + 4-bit sequence.

The last byte of a frame is ``sequence << 4 | CRC-4`` (polynomial x^4 + x + 1 over the whole frame with
that nibble taken as zero); the byte before carries the four digital lines in its high nibble. After a
CRC failure the decoder shifts one byte at a time and requires three frames with valid CRC and
consecutive sequence numbers before it trusts the alignment again: a CRC-4 alone passes one random
alignment in 16.
"""

from __future__ import annotations

import numpy as np

from firmware_io._bitalino_numba import scan_bitalino
from firmware_io.codec import StreamDecoder, crc4_bitalino
from firmware_io.errors import ProtocolError
from firmware_io.frames import FrameBatch

BAUDRATE = 115200
SFREQ_HZ = 1000.0
MAX_CHANNELS = 6
COUNTER_MODULUS = 16
RATE_CODES = {1.0: 0x03, 10.0: 0x43, 100.0: 0x83, 1000.0: 0xC3}
CMD_STOP = 0x00
CMD_VERSION = 0x07
CMD_STATE = 0x0B
VERSION_TEXT = b"BITalino_v5.2\n"
VCC_V = 3.3
EMG_GAIN = 1009.0


def frame_size(n_channels: int) -> int:
    """Bytes per frame for ``n_channels`` analog channels (1-6)."""
    if not 1 <= n_channels <= MAX_CHANNELS:
        raise ProtocolError(f"BITalino acquires 1 to 6 analog channels, not {n_channels}")
    bits = 12 + 10 * n_channels if n_channels <= 4 else 52 + 6 * (n_channels - 4)
    return -(-bits // 8)


def channel_bits(n_channels: int) -> np.ndarray:
    """ADC resolution of each channel (10 for A1-A4, 6 for A5-A6)."""
    return np.array([10, 10, 10, 10, 6, 6][:n_channels])


def start_command(n_channels: int, simulated: bool = False) -> bytes:
    """Start byte: bit 0 live (or bit 1 simulated) plus one bit per channel A1.. from bit 2."""
    frame_size(n_channels)
    mask = 0
    for ch in range(n_channels):
        mask |= 1 << (2 + ch)
    return bytes([mask | (0x02 if simulated else 0x01)])


def rate_command(sfreq_hz: float) -> bytes:
    """Sampling-rate byte (1, 10, 100 or 1000 Hz)."""
    if float(sfreq_hz) not in RATE_CODES:
        raise ProtocolError(f"BITalino samples at 1, 10, 100 or 1000 Hz, not {sfreq_hz}")
    return bytes([RATE_CODES[float(sfreq_hz)]])


def encode_frames(seqs: np.ndarray, counts: np.ndarray, digital: int = 0) -> bytes:
    """Encode frames for ``counts`` of shape (n_channels, n) with their 4-bit sequence numbers."""
    counts = np.asarray(counts, dtype=np.int64)
    nch, n = counts.shape
    size = frame_size(nch)
    bits = channel_bits(nch)
    if counts.size and ((counts < 0).any() or (counts >= (1 << bits)[:, None]).any()):
        raise ProtocolError("BITalino frame: sample outside the channel's 10- or 6-bit range")
    v = np.zeros((6, n), np.int64)
    v[:nch] = counts
    a = np.zeros((n, 8), np.int64)
    a[:, 7] = (np.asarray(seqs) % 16) << 4
    a[:, 6] = ((digital & 0x0F) << 4) | ((v[0] >> 6) & 0x0F)
    a[:, 5] = ((v[0] & 0x3F) << 2) | ((v[1] >> 8) & 0x03)
    a[:, 4] = v[1] & 0xFF
    a[:, 3] = v[2] >> 2
    a[:, 2] = ((v[2] & 0x03) << 6) | (v[3] >> 4)
    a[:, 1] = ((v[3] & 0x0F) << 4) | (v[4] >> 2)
    a[:, 0] = ((v[4] & 0x03) << 6) | v[5]
    frames = a[:, 8 - size :].astype(np.uint8)
    for row in frames:
        row[-1] |= crc4_bitalino(row.tobytes())
    return frames.tobytes()


class BitalinoDecoder(StreamDecoder):
    """Incremental BITalino decoder for ``n_channels`` analog channels (1-6)."""

    modulus = COUNTER_MODULUS

    def __init__(self, n_channels: int = MAX_CHANNELS) -> None:
        self.size = frame_size(n_channels)
        super().__init__(n_channels)
        self.bits = channel_bits(n_channels)
        self._since = 0  # bytes skipped since the last frame accepted

    def to_uv(self, counts: np.ndarray) -> np.ndarray:
        """EMG sensor transfer function: (ADC / 2**bits - 1/2) x VCC / 1009, in µV."""
        counts = np.asarray(counts, dtype=np.float64)
        full = (2.0 ** self.bits)[:, None]
        return (counts / full - 0.5) * VCC_V / EMG_GAIN * 1e6

    def _scan(self, buf: np.ndarray, final: bool) -> FrameBatch:
        i, in_sync, last, skipped, bad, cerr, k, seqs, counts, _, since = scan_bitalino(
            buf, self.size, self.n_channels, self._in_sync, self._last, final, self._since)
        self._since = int(since)
        self._consumed = int(i)
        self._in_sync = bool(in_sync)
        self._last = int(last)
        self.stats.bytes_skipped += int(skipped)
        self.stats.crc_failures += int(bad)
        self.stats.counter_errors += int(cerr)
        return self._frame_batch(counts[:, :k], seqs[:k], [])
