"""What the serial source needs to know about a device, read from ``firmware_io.devices``.

:class:`DeviceSpec` is the acquisition layer's view of a device: line speed, rate, channels, ADC
resolution and scale, counter width, start/stop commands and a decoder factory. :func:`device_spec`
builds one from a device kind (``"cyton"``) or accepts a ready spec.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from acquisition.errors import RecordingError


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
    describes_itself : bool
        The device states its rate, channels and scale in an info frame (calfwatch protocol): no
        sample is placed before that frame, and its values replace the registry's defaults.
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
    describes_itself: bool = False

    def with_device_info(self, info: object, port: str = "") -> DeviceSpec:
        """This spec with the rate, channels, resolution and scale the device states.

        Raises
        ------
        RecordingError
            When a value cannot be right (NaN, infinite, zero or negative scale or rate, no
            channel, a resolution outside 1-24 bits): recording it would store wrong numbers.

        Examples
        --------
        >>> from types import SimpleNamespace
        >>> spec = device_spec("calfwatch")
        >>> info = SimpleNamespace(sfreq_hz=1000.0, n_channels=1, resolution_bits=24, uv_per_count=0.1)
        >>> spec.with_device_info(info).sfreq_hz
        1000.0
        """
        sfreq_hz = float(getattr(info, "sfreq_hz", self.sfreq_hz))
        n_channels = int(getattr(info, "n_channels", self.n_channels))
        bits = int(getattr(info, "resolution_bits", self.resolution_bits))
        uv = float(getattr(info, "uv_per_count", self.uv_per_count))
        where = port or self.kind
        check_positive(where, "sampling rate", sfreq_hz, "Hz")
        check_positive(where, "scale", uv, "µV per count")
        if n_channels < 1:
            raise RecordingError(where, f"the device reports {n_channels} channels; nothing to record")
        if not 1 <= bits <= 24:
            raise RecordingError(where, f"the device reports a {bits}-bit ADC; EDF+/BDF+ hold 1-24 bits")
        return replace(self, sfreq_hz=sfreq_hz, n_channels=n_channels, resolution_bits=bits,
                       uv_per_count=uv)

    def with_n_channels(self, n_channels: int) -> DeviceSpec:
        """This spec with the channel count the decoder found (a text stream's columns)."""
        return replace(self, n_channels=int(n_channels))

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


def check_positive(where: str, what: str, value: float, unit: str) -> None:
    """Raise a one-line :class:`RecordingError` unless ``value`` is finite and positive."""
    if not (math.isfinite(value) and value > 0):
        raise RecordingError(where, f"the device reports a {what} of {value:g} {unit}; "
                                    f"it must be a finite positive number")


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


def device_spec(device: str | DeviceSpec | object, **decoder_options: object) -> DeviceSpec:
    """Return the :class:`DeviceSpec` of a device kind or of a firmware_io device description.

    ``decoder_options`` go to the decoder class (e.g. ``first_column="counter"`` for a text stream
    whose first column counts the lines).

    Raises
    ------
    ValueError
        For an unknown kind; the message lists the known ones.

    Examples
    --------
    >>> device_spec("ascii", first_column="counter").make_decoder().first_column
    'counter'
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
    if decoder_options:
        factory = functools.partial(factory, **decoder_options)
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
        describes_itself=bool(_first(desc, ("describes_itself",), False)),
    )
