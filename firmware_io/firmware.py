"""Firmware behaviour of each emulated device: commands, quantisation, framing, and how damage shows.

A firmware object is driven by :class:`firmware_io.emulator.EmulatedDevice`: ``handle(data)`` answers
host bytes, ``encode(counts, first_sample)`` frames a block of samples, ``boot()`` says what the device
prints when it (re)starts. ``damage(original, damaged)`` tells whether a damaged frame is rejected by the
protocol's own check (``"lost"``) or passes with wrong values (``"undetected"``).
"""

from __future__ import annotations

import struct

import numpy as np

from firmware_io import ascii_lines, bitalino, calfwatch_protocol, cyton
from firmware_io.calfwatch_protocol import DeviceInfo
from firmware_io.codec import crc4_bitalino
from firmware_io.errors import ProtocolError


class Encoded:
    """Frames of one block: ``data`` bytes, frame ``offsets`` (n+1), first sample and length of each."""

    def __init__(self, data: bytes, offsets: np.ndarray, first: np.ndarray, n_samples: np.ndarray,
                 counters: np.ndarray) -> None:
        self.data = data
        self.offsets = offsets
        self.first = first
        self.n_samples = n_samples
        self.counters = counters


class Firmware:
    """Base: streaming state, the device counter and the common quantisation."""

    kind = ""
    uv_per_count = 1.0
    offset_counts = 0.0
    lo, hi = -(2**23), 2**23 - 1
    autostart = False
    #: byte that ends every frame (a boundary whose damage also spoils the next frame), if any
    delimiter: int | None = None
    #: what the link shows first when re-enumerated while the firmware keeps running
    resync = b""
    #: samples per data frame; frames start where the stream's sample index is a multiple of it
    samples_per_frame = 1

    def __init__(self, sfreq_hz: float, n_channels: int) -> None:
        self.sfreq_hz = float(sfreq_hz)
        self.n_channels = n_channels
        self.streaming = self.autostart
        self.counter = 0
        self.boots = 0

    def quantise(self, data_uv: np.ndarray) -> np.ndarray:
        """µV to device counts (rounded, clipped to the ADC range)."""
        counts = np.round(np.asarray(data_uv) / self.uv_per_count + self.offset_counts)
        return np.clip(np.nan_to_num(counts), self.lo, self.hi).astype(np.int64)

    def boot(self) -> bytes:
        """A restart: the counter goes back to 0; returns what the device prints."""
        self.counter = 0
        self.boots += 1
        return b""

    def handle(self, data: bytes) -> bytes:
        """Answer host bytes; return the reply."""
        return b""

    def encode(self, counts: np.ndarray, first_sample: int) -> Encoded:
        """Frame ``counts`` (n_channels, n), one sample per frame unless overridden."""
        n = counts.shape[1]
        counters = self.counter + np.arange(n)
        data = self._frames(counts, counters)
        self.counter += n
        size = len(data) // n if n else 0
        return Encoded(data, np.arange(n + 1) * size, first_sample + np.arange(n),
                       np.ones(n, np.int64), counters)

    def _frames(self, counts: np.ndarray, counters: np.ndarray) -> bytes:  # pragma: no cover
        raise NotImplementedError

    def damage(self, original: bytes, damaged: bytes) -> str:
        """``"lost"`` when the protocol rejects the damaged frame, else ``"undetected"``."""
        return "lost" if len(damaged) != len(original) else "undetected"


class CalfwatchFirmware(Firmware):
    """A calf sensor speaking the calfwatch protocol."""

    kind = "calfwatch"
    uv_per_count = float(np.float32(0.1))  # what the info frame's float32 field carries
    delimiter = 0
    resync = b"\x00"

    def __init__(self, sfreq_hz: float, n_channels: int, device_id: int = 0xCA1F0001) -> None:
        super().__init__(sfreq_hz, n_channels)
        per = max(1, round(self.sfreq_hz / 250.0))
        self.samples_per_frame = min(per, (calfwatch_protocol.MAX_FRAME_BYTES - 16) // (3 * n_channels))
        self.device_id = device_id
        self.boot_id = 0x5EED
        self._inbox = bytearray()

    def info(self) -> DeviceInfo:
        """The info frame content."""
        return DeviceInfo(self.device_id, (1, 0, 0), self.sfreq_hz, self.n_channels, 24,
                          self.uv_per_count, self.boot_id,
                          tuple(f"calf {i + 1}" for i in range(self.n_channels)))

    def boot(self) -> bytes:
        super().boot()
        self.boot_id = (self.boot_id * 1103515245 + 12345) & 0xFFFF
        return b"\x00" + calfwatch_protocol.encode_info(self.info())

    def handle(self, data: bytes) -> bytes:
        self._inbox += data
        reply = bytearray()
        while b"\x00" in self._inbox:
            block, _, rest = bytes(self._inbox).partition(b"\x00")
            self._inbox = bytearray(rest)
            frame = calfwatch_protocol.unwire(block) if block else None
            if frame is None or len(frame) < 2:
                continue
            reply += self._command(frame)
        return bytes(reply)

    def _command(self, frame: bytes) -> bytes:
        cmd, seq = frame[0], frame[1]
        P = calfwatch_protocol
        if cmd == P.CMD_START:
            self.streaming = True
            return P.encode_ack(cmd, seq)
        if cmd == P.CMD_STOP:
            self.streaming = False
            return P.encode_ack(cmd, seq)
        if cmd == P.CMD_PING:
            return P.encode_ack(cmd, seq)
        if cmd == P.CMD_INFO:
            return P.encode_ack(cmd, seq) + P.encode_info(self.info())
        if cmd == P.CMD_SET_RATE:
            if self.streaming:
                return P.encode_ack(cmd, seq, P.ACK_BUSY)
            if len(frame) != 6:
                return P.encode_ack(cmd, seq, P.ACK_BAD_ARGUMENT)
            (mhz,) = struct.unpack("<I", frame[2:6])
            ok = mhz == round(self.sfreq_hz * 1000)  # the emulated source has one rate
            return P.encode_ack(cmd, seq, P.ACK_OK if ok else P.ACK_BAD_ARGUMENT)
        return P.encode_ack(cmd, seq, P.ACK_UNKNOWN)

    def encode(self, counts: np.ndarray, first_sample: int) -> Encoded:
        n = counts.shape[1]
        spf = self.samples_per_frame
        # on the stream's own grid, so that how the emulator slices time does not change the frames
        bounds = np.union1d([0, n], np.arange((-first_sample) % spf, n, spf)).astype(np.int64)
        starts, ends = bounds[:-1], bounds[1:]
        parts, offsets, lengths, counters = [], [0], [], []
        for s, e in zip(starts, ends, strict=True):
            block = counts[:, s:e]
            ts_us = int(round((self.counter) * 1e6 / self.sfreq_hz))
            parts.append(calfwatch_protocol.encode_data(self.counter, ts_us, self.boot_id, 0, block))
            offsets.append(offsets[-1] + len(parts[-1]))
            lengths.append(block.shape[1])
            counters.append(self.counter)
            self.counter += block.shape[1]
        return Encoded(b"".join(parts), np.array(offsets), first_sample + starts,
                       np.array(lengths, np.int64), np.array(counters, np.int64))

    def damage(self, original: bytes, damaged: bytes) -> str:
        return "lost"  # CRC-16 detects every burst of 16 bits or less


class CytonFirmware(Firmware):
    """OpenBCI Cyton over its dongle: 'b' start, 's' stop, 'v' reset banner, 'd' defaults."""

    kind = "cyton"
    uv_per_count = cyton.uv_per_count()

    def boot(self) -> bytes:
        super().boot()
        return cyton.BANNER

    def handle(self, data: bytes) -> bytes:
        reply = b""
        for byte in data:
            ch = bytes([byte])
            if ch == cyton.CMD_START:
                self.streaming = True
            elif ch == cyton.CMD_STOP:
                self.streaming = False
            elif ch == cyton.CMD_RESET:
                self.streaming = False
                reply += self.boot()
            elif ch == cyton.CMD_DEFAULTS and not self.streaming:
                reply += b"updating channel settings to default$$$"
        return reply

    def _frames(self, counts: np.ndarray, counters: np.ndarray) -> bytes:
        full = np.zeros((cyton.N_CHANNELS, counts.shape[1]), np.int64)
        full[: self.n_channels] = counts[: cyton.N_CHANNELS]
        return cyton.encode_packets(counters, full)

    def damage(self, original: bytes, damaged: bytes) -> str:
        if len(damaged) != len(original):
            return "lost"
        if damaged[0] != 0xA0 or not 0xC0 <= damaged[32] <= 0xC6 or damaged[1] != original[1]:
            return "lost"
        return "undetected"


class BitalinoFirmware(Firmware):
    """BITalino (r)evolution: rate byte, start byte with channel mask, 0x00 stop, version, state."""

    kind = "bitalino"
    lo, hi = 0, 1023

    def __init__(self, sfreq_hz: float, n_channels: int) -> None:
        if float(sfreq_hz) not in bitalino.RATE_CODES:
            raise ProtocolError(f"BITalino samples at 1, 10, 100 or 1000 Hz, not {sfreq_hz}")
        super().__init__(sfreq_hz, n_channels)
        self.mask = list(range(min(n_channels, bitalino.MAX_CHANNELS)))
        self.uv_per_count = bitalino.VCC_V / bitalino.EMG_GAIN / 1024 * 1e6
        self.offset_counts = 512.0

    def quantise(self, data_uv: np.ndarray) -> np.ndarray:
        data_uv = np.asarray(data_uv)
        out = np.zeros((len(self.mask), data_uv.shape[1]), np.int64)
        bits = bitalino.channel_bits(len(self.mask))
        for row, ch in enumerate(self.mask):
            full = 2.0 ** bits[row]
            src = data_uv[ch] if ch < data_uv.shape[0] else np.zeros(data_uv.shape[1])
            v = np.round((src * 1e-6 * bitalino.EMG_GAIN / bitalino.VCC_V + 0.5) * full)
            out[row] = np.clip(np.nan_to_num(v), 0, full - 1)
        return out

    def handle(self, data: bytes) -> bytes:
        reply = b""
        for cmd in data:
            low = cmd & 0x03
            if cmd == 0x00 or (not self.streaming and low == 0):
                self.streaming = False if cmd == 0x00 else self.streaming
            elif low in (1, 2) and cmd >> 2:
                self.mask = [ch for ch in range(6) if cmd >> (2 + ch) & 1]
                self.counter = 0
                self.streaming = True
            elif cmd == bitalino.CMD_VERSION and not self.streaming:
                reply += bitalino.VERSION_TEXT
            elif cmd == bitalino.CMD_STATE and not self.streaming:
                reply += self._state()
        return reply

    def _state(self) -> bytes:
        body = bytes(12) + struct.pack("<H", 900) + bytes([0, 0, 0])
        return body[:-1] + bytes([crc4_bitalino(body)])

    def _frames(self, counts: np.ndarray, counters: np.ndarray) -> bytes:
        return bitalino.encode_frames(counters, counts)

    def damage(self, original: bytes, damaged: bytes) -> str:
        if len(damaged) != len(original) or crc4_bitalino(damaged) != damaged[-1] & 0x0F:
            return "lost"
        return "lost" if damaged[-1] >> 4 != original[-1] >> 4 else "undetected"


class AsciiFirmware(Firmware):
    """An Arduino sketch printing analogRead() of a MyoWare 2.0 RAW output, one line per sample.

    10-bit ADC at 5 V behind the RAW output's gain of 200: 24.4 µV per count around 512.
    """

    kind = "ascii"
    autostart = True
    uv_per_count = 5.0e6 / 1024 / 200
    offset_counts = 512.0
    lo, hi = 0, 1023
    delimiter = 10
    resync = b"\r\n"

    def __init__(self, sfreq_hz: float, n_channels: int, counter_column: bool = False) -> None:
        super().__init__(sfreq_hz, n_channels)
        self.counter_column = counter_column

    def boot(self) -> bytes:
        super().boot()
        return b"\r\n"  # Serial.println() in setup()

    def encode(self, counts: np.ndarray, first_sample: int) -> Encoded:
        n = counts.shape[1]
        counters = self.counter + np.arange(n)
        lines = ascii_lines.encode_lines(counts, counters if self.counter_column else None)
        self.counter += n
        ends = np.flatnonzero(np.frombuffer(lines, np.uint8) == 10) + 1
        return Encoded(lines, np.concatenate([[0], ends]), first_sample + np.arange(n),
                       np.ones(n, np.int64), counters)

    def damage(self, original: bytes, damaged: bytes) -> str:
        """``undetected`` when the host would take a piece of the damaged line for a line of its
        own: the host ends a line at every ``\\n``, so a byte damaged into one splits the line, and
        the part before it (``1234,1`` of ``1234,115``) has as many numbers as a good line."""
        def fields(line: bytes) -> list[str] | None:
            text = line.decode("latin-1").replace(";", ",").replace("\t", ",").replace(" ", ",")
            parts = [p for p in text.strip("\r\n").replace("\r", ",").split(",") if p]
            try:
                [float(p) for p in parts]
            except ValueError:
                return None
            return parts
        a = fields(original)
        pieces = [fields(p) for p in damaged.split(b"\n") if p.strip(b"\r")]
        passes = any(b is not None and len(b) == len(a) for b in pieces) if a else False
        return "undetected" if passes else "lost"


FIRMWARE = {"calfwatch": CalfwatchFirmware, "cyton": CytonFirmware, "bitalino": BitalinoFirmware,
            "ascii": AsciiFirmware}


def make_firmware(kind: str, sfreq_hz: float, n_channels: int, **kwargs) -> Firmware:
    """The firmware model of ``kind``."""
    if kind not in FIRMWARE:
        raise ProtocolError(f"unknown device kind {kind!r}; expected one of {sorted(FIRMWARE)}")
    return FIRMWARE[kind](sfreq_hz, n_channels, **kwargs)
