"""What a live device is: its spec once it described itself, its channel names, its stream info."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from acquisition._device_spec import with_device_info
from acquisition.errors import RecordingError
from acquisition.stream import StreamInfo
from firmware_io.devices import DeviceSpec


class DeviceSession:
    """The device's description, settled from the first batches and its info frame.

    Parameters
    ----------
    port : str
        Normalized port path (named in errors and in the device facts).
    spec : DeviceSpec
        The registry's spec; a device that describes itself replaces its rate, channels and scale.
    ch_names : list of str or callable, optional
        Channel names, or a function of the channel count that returns them.
    site : str
        Recording site stored in the device facts.
    """

    def __init__(self, port: str, spec: DeviceSpec, ch_names: list[str] | Callable | None,
                 site: str) -> None:
        self.port = port
        self.spec = spec
        self.site = site
        self._ch_names = ch_names
        self.ch_names = self.names_for(spec.n_channels)
        # batches decoded before the stream's shape is known (the device's info frame, a text
        # stream's columns): placed once it is, with the arrival times they had
        self.starting: list = []
        self._device_info = None
        self._info_asked_s = 0.0
        self.info: StreamInfo | None = None

    def names_for(self, n_channels: int) -> list[str]:
        """The channel names for ``n_channels`` channels (``emg1``... by default)."""
        names = self._ch_names
        if callable(names):
            names = names(n_channels)
        names = list(names) if names else [f"emg{i + 1}" for i in range(n_channels)]
        if len(names) != n_channels:
            raise RecordingError(self.port, f"the {self.spec.kind} device has {n_channels} channels, "
                                            f"{len(names)} names were given")
        return names

    def start_batches(self, batch, now: float, ser) -> list | None:
        """Hold the first batches until the stream's shape is known, then return them.

        A device that describes itself is waited for (its info command re-sent each second on
        ``ser``): its rate, channel count and scale replace the registry's defaults. Otherwise the
        channel count is the decoder's (a text stream's columns). Returns None while the shape is
        unknown (or nothing arrived yet), the held ``(batch, arrival)`` list once it is.
        """
        if batch.n_samples:
            self.starting.append((batch, now))
        if not self.starting:
            return None
        if self.spec.describes_itself and self._device_info is None:
            if now - self._info_asked_s >= 1.0 and ser is not None and self.spec.info_command:
                self._info_asked_s = now
                ser.write(self.spec.info_command)
            return None
        if self.spec.describes_itself:
            self.spec = with_device_info(self.spec, self._device_info, self.port)
        n_channels = int(self.starting[0][0].counts.shape[0])
        if n_channels != self.spec.n_channels:
            self.spec = replace(self.spec, n_channels=n_channels)
        self.ch_names = self.names_for(self.spec.n_channels)
        started, self.starting = self.starting, []
        return started

    def device_facts(self, info: object) -> dict | None:
        """The facts of the device's info frame (firmware as text); checks them while starting."""
        if info is None:
            return None
        facts = info.as_dict() if hasattr(info, "as_dict") else dict(getattr(info, "__dict__", {}))
        if isinstance(facts.get("firmware"), tuple | list):
            facts["firmware"] = ".".join(str(v) for v in facts["firmware"])
        return facts

    def accept_device_info(self, info: object) -> None:
        """Keep the info frame of a device that describes itself, refusing what cannot be right."""
        if self.spec.describes_itself and self.info is None:
            with_device_info(self.spec, info, self.port)  # refuse what cannot be right, now
            self._device_info = info

    def make_info(self, now: float, n_first: int, serial_number, facts: dict) -> StreamInfo:
        """The stream info, dated by the first ``n_first`` samples that arrived at ``now``."""
        first_sample_s = (n_first - 1) / self.spec.sfreq_hz + (time.monotonic() - now)
        meas_date = datetime.now(UTC) - timedelta(seconds=first_sample_s)
        device = {
            "kind": self.spec.kind,
            "port": self.port,
            "serial_number": serial_number,
            "site": self.site,
            "baudrate": self.spec.baudrate,
        }
        device.update(facts)
        self.info = StreamInfo(
            sfreq_hz=self.spec.sfreq_hz,
            ch_names=list(self.ch_names),
            meas_date=meas_date,
            resolution_bits=self.spec.resolution_bits,
            uv_per_count=self.spec.uv_per_count,
            device=device,
        )
        return self.info
