"""Registry of the supported devices: serial settings, scale, counters, commands, decoder factories.

``DEVICES[kind]`` is a :class:`DeviceSpec`. A serial reader opens the port at ``spec.baudrate``, writes
``spec.start_command``, feeds what it reads to ``spec.make_decoder()`` and converts counts with
``spec.to_uv``; ``spec.stop_command`` ends streaming.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from firmware_io import ascii_lines, bitalino, calfwatch_protocol, cyton
from firmware_io.codec import StreamDecoder


@dataclass(frozen=True)
class DeviceSpec:
    """Facts and factories of one device.

    Attributes
    ----------
    kind : str
        Device kind (``"cyton"``, ``"calfwatch"``, ``"bitalino"``, ``"ascii"``).
    baudrate : int
        Serial line speed.
    sfreq_hz : float
        Sampling rate.
    n_channels : int
        Channels per sample.
    resolution_bits : int
        ADC resolution (16 or less is recorded as EDF+, more as BDF+).
    uv_per_count : float
        Default scale (the decoder's ``to_uv`` is authoritative: info frame, gain, transfer function).
    counter_modulus : int or None
        Wrap of the device counter; None when the protocol has none.
    start_command, stop_command : bytes
        Sent to start and stop streaming (empty when the device streams unconditionally).
    make_decoder : callable
        Returns a fresh :class:`~firmware_io.codec.StreamDecoder`.
    info_command : bytes
        Sent once before the first start to have the device describe itself (firmware...); empty
        when asking would disturb the device (the Cyton's ``v`` is a soft reset).
    describes_itself : bool
        The device states its rate, channels and scale in an info frame (calfwatch protocol): no
        sample is placed before that frame, and its values replace the registry's defaults.
    description : str
        One line for help texts.

    Examples
    --------
    >>> DEVICES["cyton"].start_command
    b'b'
    """

    kind: str
    baudrate: int
    sfreq_hz: float
    n_channels: int
    resolution_bits: int
    uv_per_count: float
    counter_modulus: int | None
    start_command: bytes
    stop_command: bytes
    make_decoder: Callable[[], StreamDecoder]
    info_command: bytes = b""
    describes_itself: bool = False
    description: str = ""

    def warm_up(self) -> None:
        """Compile the decoder's kernel now (a fresh install compiles it on first use, 1-3 s).

        A serial reader calls this before it sends the start command, so that its deadline for
        the device's first data measures the device, not the compiler.
        """
        self.make_decoder().feed(bytes(64))

    def to_uv(self, decoder: StreamDecoder, counts: np.ndarray) -> np.ndarray:
        """Decoded counts in µV: the decoder's own conversion, or this spec's scale while the
        decoder knows none (no info frame yet, or no scale in the protocol)."""
        try:
            return np.asarray(decoder.to_uv(counts), dtype=np.float64)
        except ValueError:
            return np.asarray(counts, dtype=np.float64) * self.uv_per_count


DEVICES: dict[str, DeviceSpec] = {
    "calfwatch": DeviceSpec(
        kind="calfwatch", baudrate=calfwatch_protocol.BAUDRATE, sfreq_hz=2000.0, n_channels=2,
        resolution_bits=24, uv_per_count=0.1, counter_modulus=calfwatch_protocol.COUNTER_MODULUS,
        start_command=calfwatch_protocol.encode_command("start", 0),
        stop_command=calfwatch_protocol.encode_command("stop", 0),
        make_decoder=calfwatch_protocol.CalfwatchDecoder,
        info_command=calfwatch_protocol.encode_command("info", 0), describes_itself=True,
        description="calfwatch sensor protocol (COBS frames, CRC-16, 32-bit counter)",
    ),
    "cyton": DeviceSpec(
        kind="cyton", baudrate=cyton.BAUDRATE, sfreq_hz=cyton.SFREQ_HZ, n_channels=cyton.N_CHANNELS,
        resolution_bits=24, uv_per_count=cyton.uv_per_count(),
        counter_modulus=cyton.COUNTER_MODULUS, start_command=cyton.CMD_START,
        stop_command=cyton.CMD_STOP, make_decoder=cyton.CytonDecoder,
        info_command=b"",  # cyton.CMD_RESET describes the board but resets it: never while recording
        description="OpenBCI Cyton (33-byte packets, 8 x 24-bit, 8-bit counter)",
    ),
    "bitalino": DeviceSpec(
        kind="bitalino", baudrate=bitalino.BAUDRATE, sfreq_hz=bitalino.SFREQ_HZ,
        n_channels=bitalino.MAX_CHANNELS, resolution_bits=16,
        uv_per_count=bitalino.VCC_V / bitalino.EMG_GAIN / 1024 * 1e6,
        counter_modulus=bitalino.COUNTER_MODULUS,
        start_command=(bitalino.rate_command(bitalino.SFREQ_HZ)
                       + bitalino.start_command(bitalino.MAX_CHANNELS)),
        stop_command=bytes([bitalino.CMD_STOP]), make_decoder=bitalino.BitalinoDecoder,
        info_command=bytes([bitalino.CMD_VERSION]),
        description="BITalino (r)evolution (CRC-4, 4-bit sequence, 10/6-bit channels)",
    ),
    "ascii": DeviceSpec(
        kind="ascii", baudrate=ascii_lines.BAUDRATE, sfreq_hz=ascii_lines.SFREQ_HZ, n_channels=1,
        resolution_bits=16, uv_per_count=1.0, counter_modulus=None, start_command=b"",
        stop_command=b"", make_decoder=ascii_lines.AsciiDecoder,
        description="ASCII lines from a microcontroller sketch (e.g. MyoWare 2.0 RAW)",
    ),
}
