"""OpenBCI Cyton: 33-byte packets at 115200 baud, 8 channels of 24-bit big-endian two's complement.

Packet: 0xA0, sample counter (0-255), 8 x 3 bytes channel data, 6 aux bytes, footer 0xC0-0xC6.
There is no checksum: a packet is accepted when its header and footer are in place; after a loss of
synchronisation three consecutive packets with consecutive counters are required. A packet whose counter
contradicts both neighbours is dropped (``counter_errors``).

A restarted board prints its banner, ending ``\n$$$``, and counts from 0 again: the first packet after
a banner starts a new device session (a ``reset`` event), so the host measures what the restart cost
instead of reading the counter's jump as a few lost packets.
"""

from __future__ import annotations

import numpy as np

from firmware_io._cyton_numba import FRAME, scan_cyton
from firmware_io.codec import StreamDecoder
from firmware_io.errors import ProtocolError
from firmware_io.frames import FrameBatch, concat_batches

BAUDRATE = 115200
SFREQ_HZ = 250.0
N_CHANNELS = 8
COUNTER_MODULUS = 256
VREF_V = 4.5
DEFAULT_GAIN = 24
GAINS = (1, 2, 4, 6, 8, 12, 24)
CMD_START = b"b"
CMD_STOP = b"s"
CMD_RESET = b"v"
CMD_DEFAULTS = b"d"
BANNER = (b"OpenBCI V3 8-16 channel\nOn Board ADS1299 Device ID: 0x3E\n"
          b"LIS3DH Device ID: 0x33\nFirmware: v3.1.2\n$$$")
#: The end of the banner a board prints when it (re)starts: a line of text, then ``$$$``.
BANNER_END = b"\n$$$"
#: Printable bytes required just before BANNER_END (packets of binary data do not end so).
_BANNER_TEXT = 8


def banner_end(buf: bytes) -> int:
    """Position just after the first restart banner in ``buf``, or -1."""
    at = buf.find(BANNER_END)
    while at >= 0:
        text = buf[max(0, at - _BANNER_TEXT):at]
        if len(text) == _BANNER_TEXT and all(32 <= c < 127 for c in text):
            return at + len(BANNER_END)
        at = buf.find(BANNER_END, at + 1)
    return -1


def uv_per_count(gain: int = DEFAULT_GAIN) -> float:
    """µV per count: 4.5 V / gain / (2**23 - 1)."""
    if gain not in GAINS:
        raise ProtocolError(f"Cyton gain {gain} is not one of {GAINS}")
    return VREF_V * 1e6 / gain / (2**23 - 1)


def encode_packet(counter: int, counts: np.ndarray, footer: int = 0xC0, aux: bytes = bytes(6)) -> bytes:
    """Encode one packet of 8 channel counts (signed 24-bit)."""
    return encode_packets(np.array([counter]), np.asarray(counts).reshape(8, 1), footer, aux)


def encode_packets(counters: np.ndarray, counts: np.ndarray, footer: int = 0xC0,
                   aux: bytes = bytes(6)) -> bytes:
    """Encode packets for ``counts`` of shape (8, n) with their counters (taken modulo 256)."""
    counts = np.asarray(counts, dtype=np.int64)
    if counts.shape[0] != N_CHANNELS:
        raise ProtocolError(f"Cyton packets carry 8 channels, got {counts.shape[0]}")
    if counts.size and (counts.min() < -(2**23) or counts.max() >= 2**23):
        raise ProtocolError("Cyton packet: sample outside the signed 24-bit range")
    n = counts.shape[1]
    out = np.zeros((n, FRAME), np.uint8)
    out[:, 0] = 0xA0
    out[:, 1] = np.asarray(counters) % 256
    be = np.ascontiguousarray(counts.T & 0xFFFFFF).astype(">u4").view(np.uint8).reshape(n, 8, 4)[:, :, 1:]
    out[:, 2:26] = be.reshape(n, 24)
    out[:, 26:32] = np.frombuffer(bytes(aux), np.uint8)
    out[:, 32] = footer
    return out.tobytes()


class CytonDecoder(StreamDecoder):
    """Incremental Cyton decoder; ``to_uv`` uses the channel gain (default 24)."""

    modulus = COUNTER_MODULUS

    def __init__(self, gain: int = DEFAULT_GAIN) -> None:
        super().__init__(N_CHANNELS)
        self.gain = gain
        self.scale_uv = uv_per_count(gain)

    def to_uv(self, counts: np.ndarray) -> np.ndarray:
        """Counts to µV at the decoder's gain."""
        return np.asarray(counts, dtype=np.float64) * self.scale_uv

    _restarted = False  # a banner was seen and no packet has followed it yet

    def _scan(self, buf: np.ndarray, final: bool) -> FrameBatch:
        end = banner_end(buf.tobytes())
        if end < 0:
            return self._scan_packets(buf, final)
        # the session before the banner is over: what its packets confirm, then a new count
        before = self._scan_packets(buf[:end], True)
        self._in_sync, self._last, self._restarted = False, -1, True
        after = self._scan(buf[end:], final)
        self._consumed += end
        return concat_batches([before, after], N_CHANNELS)

    def _scan_packets(self, buf: np.ndarray, final: bool) -> FrameBatch:
        i, in_sync, last, skipped, cerr, bad, k, counters, counts, _ = scan_cyton(
            buf, self._in_sync, self._last, final)
        self._consumed = int(i)
        self._in_sync = bool(in_sync)
        self._last = int(last)
        self.stats.bytes_skipped += int(skipped)
        self.stats.counter_errors += int(cerr)
        self.stats.crc_failures += int(bad)
        resets = None
        if self._restarted and k:
            resets = np.zeros(k, bool)
            resets[0], self._restarted = True, False
        return self._frame_batch(counts[:, :k], counters[:k], [], resets)
