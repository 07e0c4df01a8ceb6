"""The acquisition layer's checks on a device: which spec a kind names, and whether the values a
device states about itself can be recorded.

The device facts and factories are :class:`firmware_io.devices.DeviceSpec`; :func:`device_spec`
looks one up by kind (binding decoder options), :func:`with_device_info` applies what a device
states in its info frame, refusing with a one-line :class:`RecordingError` what cannot be right.
"""

from __future__ import annotations

import functools
import math
from dataclasses import replace

from acquisition.errors import RecordingError
from firmware_io.devices import DEVICES, DeviceSpec


def device_spec(device: str | DeviceSpec, **decoder_options: object) -> DeviceSpec:
    """Return the :class:`~firmware_io.devices.DeviceSpec` of a device kind, or a ready spec.

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
    if device not in DEVICES:
        raise ValueError(f"unknown device {device!r}; known devices: {', '.join(sorted(DEVICES))}")
    spec = DEVICES[device]
    if decoder_options:
        spec = replace(spec, make_decoder=functools.partial(spec.make_decoder, **decoder_options))
    return spec


def with_device_info(spec: DeviceSpec, info: object, port: str = "") -> DeviceSpec:
    """``spec`` with the rate, channels, resolution and scale the device states.

    Raises
    ------
    RecordingError
        When a value cannot be right (NaN, infinite, zero or negative scale or rate, no
        channel, a resolution outside 1-24 bits): recording it would store wrong numbers.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> info = SimpleNamespace(sfreq_hz=1000.0, n_channels=1, resolution_bits=24, uv_per_count=0.1)
    >>> with_device_info(device_spec("calfwatch"), info).sfreq_hz
    1000.0
    """
    sfreq_hz = float(getattr(info, "sfreq_hz", spec.sfreq_hz))
    n_channels = int(getattr(info, "n_channels", spec.n_channels))
    bits = int(getattr(info, "resolution_bits", spec.resolution_bits))
    uv = float(getattr(info, "uv_per_count", spec.uv_per_count))
    where = port or spec.kind
    check_positive(where, "sampling rate", sfreq_hz, "Hz")
    check_positive(where, "scale", uv, "µV per count")
    if n_channels < 1:
        raise RecordingError(where, f"the device reports {n_channels} channels; nothing to record")
    if not 1 <= bits <= 24:
        raise RecordingError(where, f"the device reports a {bits}-bit ADC; EDF+/BDF+ hold 1-24 bits")
    return replace(spec, sfreq_hz=sfreq_hz, n_channels=n_channels, resolution_bits=bits,
                   uv_per_count=uv)


def check_positive(where: str, what: str, value: float, unit: str) -> None:
    """Raise a one-line :class:`RecordingError` unless ``value`` is finite and positive."""
    if not (math.isfinite(value) and value > 0):
        raise RecordingError(where, f"the device reports a {what} of {value:g} {unit}; "
                                    f"it must be a finite positive number")
