"""Shared pieces of the binary protocols: CRC-16, CRC-4 (BITalino), COBS, and the decoder base class.

These pure-Python functions are the reference implementations (used by the encoders, the emulator and
the tests); the decoders use numba kernels that compute the same things.
"""

from __future__ import annotations

import binascii

import numpy as np

from firmware_io.errors import ProtocolError
from firmware_io.frames import DecoderStats, FrameBatch, SequenceTracker


def crc16_ccitt(data: bytes) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor).

    The check value of ``b"123456789"`` is 0x29B1.
    """
    return binascii.crc_hqx(bytes(data), 0xFFFF)


def crc4_bitalino(frame: bytes) -> int:
    """The BITalino CRC-4 (poly x^4 + x + 1) of a frame whose last low nibble is taken as zero."""
    x = 0
    last = len(frame) - 1
    for i, byte in enumerate(frame):
        if i == last:
            byte &= 0xF0
        for bit in range(7, -1, -1):
            x <<= 1
            if x & 0x10:
                x ^= 0x03
            x ^= (byte >> bit) & 1
    return x & 0x0F


def cobs_encode(data: bytes) -> bytes:
    """Consistent Overhead Byte Stuffing: the result contains no 0x00 byte."""
    out = bytearray()
    block = bytearray()
    for byte in data:
        if byte == 0:
            out.append(len(block) + 1)
            out += block
            block.clear()
        else:
            block.append(byte)
            if len(block) == 254:
                out.append(255)
                out += block
                block.clear()
    out.append(len(block) + 1)
    out += block
    return bytes(out)


def cobs_decode(data: bytes) -> bytes | None:
    """Inverse of :func:`cobs_encode`; None when ``data`` is not a valid COBS block."""
    out = bytearray()
    i = 0
    n = len(data)
    while i < n:
        code = data[i]
        if code == 0 or i + code > n:
            return None
        out += data[i + 1 : i + code]
        i += code
        if code < 255 and i < n:
            out.append(0)
    return bytes(out)


class StreamDecoder:
    """The decoder contract, and a base that buffers the incomplete tail and runs a scanning kernel.

    What a reader may call on every decoder:

    - ``feed(data) -> FrameBatch``: the samples of the frames ``data`` completes (any chunking);
    - ``flush() -> FrameBatch``: at the end of a stream, what a final partial confirmation allows;
    - ``new_connection()``: the next bytes open a new link (alignment and counters start over);
    - ``stats``: a :class:`~firmware_io.frames.DecoderStats`, updated as bytes are decoded;
    - ``to_uv(counts)``: counts in µV; raises ``ValueError`` while the scale is unknown (the default:
      the device spec's scale then applies).

    Subclasses implement ``_scan(buf: np.ndarray, final: bool) -> FrameBatch`` which must return the
    batch and set ``self._consumed`` (bytes fully processed), and ``to_uv`` when they know the scale.
    """

    #: counter modulus (None when the protocol has no counter)
    modulus: int | None = None

    def __init__(self, n_channels: int) -> None:
        self.n_channels = n_channels
        self.stats = DecoderStats()
        self._buf = bytearray()
        self._consumed = 0
        self._tracker = SequenceTracker(self.modulus)
        # alignment of protocols without a frame check strong enough to resynchronise alone:
        # whether the scan is locked on frame boundaries, and the last frame counter accepted
        self._in_sync = False
        self._last = -1

    def feed(self, data: bytes) -> FrameBatch:
        """Decode the frames completed by ``data`` (any length, any split) and return their samples."""
        self.stats.bytes_in += len(data)
        self._buf += data
        return self._run(final=False)

    def flush(self) -> FrameBatch:
        """Decode what is left at the end of a stream (frames awaiting confirmation included)."""
        batch = self._run(final=True)
        self.stats.bytes_skipped += len(self._buf)
        self._buf.clear()
        return batch

    def new_connection(self) -> None:
        """Start over on frame alignment and counter continuity: the next bytes open a new link.

        Counters on either side of a reconnection are unrelated as far as the scan can tell (the
        device ran on while nobody listened), so they must not be checked against each other: a
        first counter that happens to equal the last one would pass for a damaged frame and be
        dropped. The sample timeline across the break is the host clock's business. Call
        :meth:`flush` first to keep what the old link left complete.
        """
        self._buf.clear()
        self._in_sync = False
        self._last = -1

    def to_uv(self, counts: np.ndarray) -> np.ndarray:
        """Counts in µV; this default knows no scale and raises ``ProtocolError`` (a ValueError)."""
        raise ProtocolError(f"{type(self).__name__} has no scale of its own; use the device's")

    def _run(self, final: bool) -> FrameBatch:
        if not self._buf:
            return FrameBatch.empty(self.n_channels)
        buf = np.frombuffer(bytes(self._buf), dtype=np.uint8)
        self._consumed = 0
        batch = self._scan(buf, final)
        del self._buf[: self._consumed]
        return batch

    def _scan(self, buf: np.ndarray, final: bool) -> FrameBatch:  # pragma: no cover - abstract
        raise NotImplementedError

    def _frame_batch(
        self,
        counts: np.ndarray,
        counters: np.ndarray,
        events: list,
        resets: np.ndarray | None = None,
    ) -> FrameBatch:
        """Batch for protocols with one sample per frame and a frame counter (``resets``: frames
        that start a new device session)."""
        n = counters.shape[0]
        starts = self._tracker.track(counters, np.ones(n, np.int64), self.stats, events,
                                     reset_flags=resets)
        self.stats.frames_ok += n
        self.stats.samples_ok += n
        return FrameBatch(
            counts=counts.astype(np.float64),
            sample_index=starts,
            counter=counters.astype(np.int64),
            status=np.zeros(n, np.uint8),
            events=events,
        )
