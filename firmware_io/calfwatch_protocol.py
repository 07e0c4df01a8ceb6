"""The calfwatch sensor protocol (docs/protocol.md): encoders, command helpers and the decoder.

Every frame on the wire is ``COBS(type | payload | CRC-16/CCITT-FALSE big-endian)`` followed by 0x00.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np

from firmware_io._calfwatch_numba import CRC16_TABLE, scan_calfwatch
from firmware_io.codec import StreamDecoder, cobs_decode, cobs_encode, crc16_ccitt
from firmware_io.errors import ProtocolError
from firmware_io.frames import FrameBatch, SequenceTracker

PROTOCOL_VERSION = 1
BAUDRATE = 921600
COUNTER_MODULUS = 2**32
MAX_FRAME_BYTES = 1024
MAX_ENCODED_BYTES = MAX_FRAME_BYTES + MAX_FRAME_BYTES // 254 + 2

# frame types, device -> host
T_DATA = 0x01
T_INFO = 0x02
T_ACK = 0x03
# commands, host -> device
CMD_START = 0x10
CMD_STOP = 0x11
CMD_SET_RATE = 0x12
CMD_PING = 0x13
CMD_INFO = 0x14
COMMANDS = {"start": CMD_START, "stop": CMD_STOP, "set_rate": CMD_SET_RATE, "ping": CMD_PING,
            "info": CMD_INFO}
# acknowledgement results
ACK_OK = 0
ACK_BAD_ARGUMENT = 1
ACK_UNKNOWN = 2
ACK_BUSY = 3
# status flags of a data frame
STATUS_LEAD_OFF = 0x01
STATUS_SATURATED = 0x02
STATUS_BATTERY_LOW = 0x04
STATUS_OVERFLOW = 0x08

_DATA_HEAD = struct.Struct("<BIIHBBB")


@dataclass(frozen=True)
class DeviceInfo:
    """The content of an info frame."""

    device_id: int
    firmware: tuple[int, int, int]
    sfreq_hz: float
    n_channels: int
    resolution_bits: int
    uv_per_count: float
    boot_id: int
    sites: tuple[str, ...] = field(default=())
    protocol_version: int = PROTOCOL_VERSION


def wire(frame: bytes) -> bytes:
    """Append the CRC, COBS-encode and delimit one frame (type byte first)."""
    if len(frame) + 2 > MAX_FRAME_BYTES:
        raise ProtocolError(f"frame of {len(frame) + 2} bytes exceeds {MAX_FRAME_BYTES}")
    return cobs_encode(frame + crc16_ccitt(frame).to_bytes(2, "big")) + b"\x00"


def unwire(encoded: bytes) -> bytes | None:
    """Decode one COBS block (without its delimiter) and check the CRC; the frame or None."""
    raw = cobs_decode(encoded)
    if raw is None or len(raw) < 3 or crc16_ccitt(raw[:-2]) != int.from_bytes(raw[-2:], "big"):
        return None
    return raw[:-2]


def encode_data(counter: int, timestamp_us: int, boot_id: int, status: int,
                counts: np.ndarray) -> bytes:
    """Encode one data frame of ``counts`` (int, shape (n_channels, n_samples)), delimiter included."""
    counts = np.asarray(counts, dtype=np.int64)
    n_ch, n_s = counts.shape
    if counts.size and (counts.min() < -(2**23) or counts.max() >= 2**23):
        raise ProtocolError("calfwatch data frame: sample outside the signed 24-bit range")
    head = _DATA_HEAD.pack(T_DATA, counter % COUNTER_MODULUS, timestamp_us % 2**32,
                           boot_id & 0xFFFF, status & 0xFF, n_ch, n_s)
    le = (np.ascontiguousarray(counts.T).reshape(-1) & 0xFFFFFF).astype("<u4").view(np.uint8).reshape(-1, 4)[:, :3]
    return wire(head + le.tobytes())


def encode_info(info: DeviceInfo) -> bytes:
    """Encode an info frame, delimiter included."""
    body = struct.pack(
        "<BBI3BIBBfH", T_INFO, info.protocol_version, info.device_id & 0xFFFFFFFF,
        *info.firmware, round(info.sfreq_hz * 1000), info.n_channels, info.resolution_bits,
        info.uv_per_count, info.boot_id & 0xFFFF,
    )
    sites = list(info.sites) + [""] * (info.n_channels - len(info.sites))
    for site in sites[: info.n_channels]:
        raw = site.encode("utf-8")[:64]
        body += bytes([len(raw)]) + raw
    return wire(body)


def decode_info(frame: bytes) -> DeviceInfo:
    """Parse an info frame (type byte first, CRC removed)."""
    head = struct.Struct("<BBI3BIBBfH")
    if len(frame) < head.size or frame[0] != T_INFO:
        raise ProtocolError("calfwatch info frame too short")
    t, ver, dev, f0, f1, f2, sf_mhz, nch, bits, upc, boot = head.unpack_from(frame)
    sites = []
    pos = head.size
    for _ in range(nch):
        if pos >= len(frame) or pos + 1 + frame[pos] > len(frame):
            raise ProtocolError("calfwatch info frame: truncated site names")
        sites.append(frame[pos + 1 : pos + 1 + frame[pos]].decode("utf-8", "replace"))
        pos += 1 + frame[pos]
    return DeviceInfo(dev, (f0, f1, f2), sf_mhz / 1000.0, nch, bits, float(upc), boot,
                      tuple(sites), ver)


def encode_ack(command: int, seq: int, result: int = ACK_OK) -> bytes:
    """Encode an acknowledgement, delimiter included."""
    return wire(bytes([T_ACK, command & 0xFF, seq & 0xFF, result & 0xFF]))


def encode_command(name: str, seq: int = 0, sfreq_hz: float | None = None) -> bytes:
    """Encode a host command (``start``, ``stop``, ``set_rate``, ``ping``, ``info``), delimiter included."""
    if name not in COMMANDS:
        raise ProtocolError(f"unknown calfwatch command {name!r}; expected one of {sorted(COMMANDS)}")
    body = bytes([COMMANDS[name], seq & 0xFF])
    if name == "set_rate":
        if sfreq_hz is None or not 0 < sfreq_hz < 4.2e6:
            raise ProtocolError("set_rate needs a sampling rate in Hz")
        body += struct.pack("<I", round(sfreq_hz * 1000))
    return b"\x00" + wire(body)


class CalfwatchDecoder(StreamDecoder):
    """Incremental decoder of the calfwatch protocol.

    Parameters
    ----------
    n_channels : int, optional
        Expected channels; learned from the first info or data frame when omitted. Data frames with
        another channel count are rejected (counted in ``crc_failures``).
    uv_per_count : float, optional
        Scale until an info frame arrives (the info frame's value wins).

    Notes
    -----
    Data frames go to the returned batch; info frames and acknowledgements become events
    (``{"kind": "info", "info": DeviceInfo}``, ``{"kind": "ack", "command", "seq", "result"}``) and
    ``self.info`` holds the latest info. A changed boot id or a counter that goes backwards is a reset.
    """

    modulus = COUNTER_MODULUS

    def __init__(self, n_channels: int | None = None, uv_per_count: float | None = None) -> None:
        super().__init__(n_channels or 0)
        self.uv_per_count = uv_per_count
        self.info: DeviceInfo | None = None
        self.acks: list[dict] = []
        self._synced = False
        self._boot: int | None = None
        self.timestamps_us = np.zeros(0, np.int64)

    def to_uv(self, counts: np.ndarray) -> np.ndarray:
        """Convert counts to µV with the info frame's scale."""
        if self.uv_per_count is None:
            raise ProtocolError("calfwatch device: no info frame received yet; send the info command")
        return np.asarray(counts, dtype=np.float64) * self.uv_per_count

    def _scan(self, buf: np.ndarray, final: bool) -> FrameBatch:
        (consumed, synced, skipped, crc_fail, nf, f_counter, f_ts, f_boot, f_status, f_ns, f_nch,
         samples, nv, nc, ctrl_buf, ctrl_off, ctrl_len) = scan_calfwatch(
            buf, self._synced, final, self.n_channels, MAX_ENCODED_BYTES, CRC16_TABLE)
        self._consumed = int(consumed)
        self._synced = bool(synced)
        st = self.stats
        st.bytes_skipped += int(skipped)
        st.crc_failures += int(crc_fail)
        events: list = []
        for k in range(int(nc)):
            self._control(bytes(ctrl_buf[ctrl_off[k] : ctrl_off[k] + ctrl_len[k]]), events)
        if nf == 0:
            return FrameBatch(np.zeros((self.n_channels, 0)), np.zeros(0, np.int64),
                              np.zeros(0, np.int64), np.zeros(0, np.uint8), events)
        self.n_channels = int(f_nch[0])
        return self._data_batch(f_counter[:nf], f_ts[:nf], f_boot[:nf], f_status[:nf], f_ns[:nf],
                                samples[:nv], events)

    def _control(self, frame: bytes, events: list) -> None:
        self.stats.control_frames += 1
        if frame[0] == T_INFO:
            try:
                info = decode_info(frame)
            except ProtocolError:
                self.stats.crc_failures += 1
                return
            self.info = info
            self.uv_per_count = info.uv_per_count
            if self.n_channels == 0:
                self.n_channels = info.n_channels
            events.append({"kind": "info", "info": info})
        elif frame[0] == T_ACK and len(frame) >= 4:
            ack = {"kind": "ack", "command": frame[1], "seq": frame[2], "result": frame[3]}
            self.acks.append(ack)
            events.append(ack)

    def _data_batch(self, counter, ts, boot, status, ns, samples, events) -> FrameBatch:
        resets = np.zeros(counter.shape[0], bool)
        prev = np.empty_like(boot)
        prev[1:] = boot[:-1]
        prev[0] = boot[0] if self._boot is None else self._boot
        resets = boot != prev
        self._boot = int(boot[-1])
        tracker: SequenceTracker = self._tracker
        starts = tracker.track(counter, ns, self.stats, events, reset_flags=resets)
        total = int(ns.sum())
        per = np.repeat(np.arange(ns.shape[0]), ns)
        offset = np.arange(total) - np.repeat(np.cumsum(ns) - ns, ns)
        self.stats.frames_ok += int(ns.shape[0])
        self.stats.samples_ok += total
        self.timestamps_us = ts
        return FrameBatch(
            counts=samples.reshape(total, self.n_channels).T.astype(np.float64),
            sample_index=starts[per] + offset,
            counter=(counter[per] + offset) % COUNTER_MODULUS,
            status=status[per],
            events=events,
        )
