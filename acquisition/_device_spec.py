"""What the serial source needs to know about a device, read from ``firmware_io.devices``.

:class:`DeviceSpec` is the acquisition layer's view of a device: line speed, rate, channels, ADC
resolution and scale, counter width, start/stop commands and a decoder factory. :func:`device_spec`
builds one from a device kind (``"cyton"``) or accepts a ready spec.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class DeviceSpec:
    """A device as the serial source uses it.

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
        ADC resolution (16 or less: EDF+; more: BDF+).
    uv_per_count : float
        Scale of the decoded counts.
    counter_modulus : int or None
        Width of the device counter, None when there is none.
    start_command, stop_command : bytes
        Sent to start and stop streaming.
    make_decoder : callable
        Returns a fresh decoder with ``feed(bytes) -> FrameBatch`` and ``stats``.
    info_command : bytes
        Sent once before the first start to have the device describe itself (firmware...); empty
        when asking would disturb the device (the Cyton's ``v`` is a soft reset).
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
    make_decoder: Callable[[], object]
    info_command: bytes = b""

    def warm_up(self) -> None:
        """Compile the decoder's kernel now (a fresh install compiles it on first use, 1-3 s).

        The serial source calls this before it sends the start command, so that its deadline for
        the device's first data measures the device, not the compiler.
        """
        self.make_decoder().feed(bytes(64))

    def default_ch_names(self) -> list[str]:
        """``emg1``, ``emg2``... one per channel."""
        return [f"emg{i + 1}" for i in range(self.n_channels)]

    def to_uv(self, decoder: object, counts: np.ndarray) -> np.ndarray:
        """Decoded counts in µV (the decoder's own conversion when it has one)."""
        convert = getattr(decoder, "to_uv", None)
        if convert is not None:
            try:
                return np.asarray(convert(counts), dtype=np.float64)
            except ValueError:
                pass  # the decoder does not know its scale yet (no info frame): the spec's default
        return np.asarray(counts, dtype=np.float64) * self.uv_per_count


def _first(obj: object, names: tuple[str, ...], default: object = None) -> object:
    for name in names:
        if isinstance(obj, dict) and name in obj:
            return obj[name]
        if hasattr(obj, name):
            return getattr(obj, name)
    return default


#: Device kinds whose "info" command resets the device: never sent while recording.
_INFO_RESETS = frozenset({"cyton"})


def _as_bytes(value: object) -> bytes:
    if callable(value):
        value = value()
    if value is None:
        return b""
    if isinstance(value, str):
        return value.encode("latin-1")
    return bytes(value)


def device_spec(device: str | DeviceSpec | object) -> DeviceSpec:
    """Return the :class:`DeviceSpec` of a device kind or of a firmware_io device description.

    Raises
    ------
    ValueError
        For an unknown kind; the message lists the known ones.
    """
    if isinstance(device, DeviceSpec):
        return device
    if isinstance(device, str):
        from firmware_io.devices import DEVICES

        if device not in DEVICES:
            raise ValueError(f"unknown device {device!r}; known devices: {', '.join(sorted(DEVICES))}")
        kind, desc = device, DEVICES[device]
    else:
        kind, desc = str(_first(device, ("kind", "name"), "device")), device
    channels = _first(desc, ("n_channels", "channels"))
    n_channels = len(channels) if isinstance(channels, list | tuple) else int(channels)
    modulus = _first(desc, ("counter_modulus", "modulus"))
    factory = _first(desc, ("make_decoder", "decoder"))
    kind = str(_first(desc, ("kind", "name"), kind))
    info = b"" if kind in _INFO_RESETS else _as_bytes(_first(desc, ("info_command",)))
    return DeviceSpec(
        kind=kind,
        baudrate=int(_first(desc, ("baudrate", "baud"))),
        sfreq_hz=float(_first(desc, ("sfreq_hz", "sfreq"))),
        n_channels=n_channels,
        resolution_bits=int(_first(desc, ("resolution_bits", "bits"), 24)),
        uv_per_count=float(_first(desc, ("uv_per_count",), 1.0)),
        counter_modulus=None if modulus in (None, 0) else int(modulus),
        start_command=_as_bytes(_first(desc, ("start_command", "start"))),
        stop_command=_as_bytes(_first(desc, ("stop_command", "stop"))),
        make_decoder=factory,
        info_command=info,
    )
