"""Registry of the supported devices: serial settings, scale, counters, commands, codec factories.

``DEVICES[kind]`` is a :class:`DeviceSpec`. A serial reader opens the port at ``spec.baudrate``, writes
``spec.start_command()``, feeds what it reads to ``spec.make_decoder()`` and converts counts with the
decoder's ``to_uv``; ``spec.stop_command()`` ends streaming.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from firmware_io import ascii_lines, bitalino, calfwatch_protocol, cyton


@dataclass(frozen=True)
class DeviceSpec:
    """Facts and factories of one device kind.

    Attributes
    ----------
    kind : str
        Registry key.
    description : str
        One line for help texts.
    baudrate : int
        Serial speed.
    sfreq_hz : float
        Default sampling rate.
    n_channels : int
        Default channel count.
    resolution_bits : int
        ADC resolution (16 or less is recorded as EDF+, more as BDF+).
    uv_per_count : float
        Default scale (the decoder's ``to_uv`` is authoritative: info frame, gain, transfer function).
    counter_modulus : int or None
        Wrap of the device counter; None when the protocol has none.
    describes_itself : bool
        The device states rate, channels and scale in an info frame, which the host must wait for.
    """

    kind: str
    description: str
    baudrate: int
    sfreq_hz: float
    n_channels: int
    resolution_bits: int
    uv_per_count: float
    counter_modulus: int | None
    _decoder: Callable = field(repr=False)
    _start: Callable = field(repr=False)
    _stop: bytes = field(repr=False, default=b"")
    _info: bytes = field(repr=False, default=b"")
    describes_itself: bool = False

    def make_decoder(self, **kwargs):
        """A new incremental decoder (keyword arguments go to the decoder class)."""
        return self._decoder(**kwargs)

    def start_command(self, **kwargs) -> bytes:
        """Bytes that start streaming."""
        return self._start(**kwargs)

    def stop_command(self) -> bytes:
        """Bytes that stop streaming (empty when the device streams unconditionally)."""
        return self._stop

    def info_command(self) -> bytes:
        """Bytes that ask the device to describe itself (empty when it cannot)."""
        return self._info


def _calfwatch_start(seq: int = 0) -> bytes:
    return calfwatch_protocol.encode_command("start", seq)


def _bitalino_start(n_channels: int = bitalino.MAX_CHANNELS, sfreq_hz: float = bitalino.SFREQ_HZ,
                    simulated: bool = False) -> bytes:
    return bitalino.rate_command(sfreq_hz) + bitalino.start_command(n_channels, simulated)


DEVICES: dict[str, DeviceSpec] = {
    "calfwatch": DeviceSpec(
        "calfwatch", "calfwatch sensor protocol (COBS frames, CRC-16, 32-bit counter)",
        calfwatch_protocol.BAUDRATE, 2000.0, 2, 24, 0.1, calfwatch_protocol.COUNTER_MODULUS,
        calfwatch_protocol.CalfwatchDecoder, _calfwatch_start,
        calfwatch_protocol.encode_command("stop", 0), calfwatch_protocol.encode_command("info", 0),
        describes_itself=True,
    ),
    "cyton": DeviceSpec(
        "cyton", "OpenBCI Cyton (33-byte packets, 8 x 24-bit, 8-bit counter)",
        cyton.BAUDRATE, cyton.SFREQ_HZ, cyton.N_CHANNELS, 24, cyton.uv_per_count(),
        cyton.COUNTER_MODULUS, cyton.CytonDecoder, lambda: cyton.CMD_START, cyton.CMD_STOP,
        cyton.CMD_RESET,
    ),
    "bitalino": DeviceSpec(
        "bitalino", "BITalino (r)evolution (CRC-4, 4-bit sequence, 10/6-bit channels)",
        bitalino.BAUDRATE, bitalino.SFREQ_HZ, bitalino.MAX_CHANNELS, 16,
        bitalino.VCC_V / bitalino.EMG_GAIN / 1024 * 1e6, bitalino.COUNTER_MODULUS,
        bitalino.BitalinoDecoder, _bitalino_start, bytes([bitalino.CMD_STOP]),
        bytes([bitalino.CMD_VERSION]),
    ),
    "ascii": DeviceSpec(
        "ascii", "ASCII lines from a microcontroller sketch (e.g. MyoWare 2.0 RAW)",
        ascii_lines.BAUDRATE, ascii_lines.SFREQ_HZ, 1, 16, 1.0, None,
        ascii_lines.AsciiDecoder, lambda: b"",
    ),
}
