"""``calfwatch record --lsl``: publish the recording on Lab Streaming Layer while it is made.

Two outlets: the samples (type ``EMG``, float32 µV, channel labels, units ``microvolts`` and
type in the stream description, as XDF expects), and the live events (type ``Markers``, one
JSON string per event as :meth:`calfwatch.engine.NightEngine.live_events` gives it: kind,
channel, onset, duration, amplitude and the live state ``provisional``, ``settled``, ``revised``
or ``withdrawn``), time-stamped at the event's onset on the samples' clock. Samples are stamped
``offset + sample / sfreq_hz``, the offset following their arrival on the LSL clock slowly and
smoothly (:data:`CLOCK_GAIN`, :data:`CLOCK_MAX_STEP`), so stamps stay regular and in order
through delivery jitter and bursts, and a lost span keeps its length. LabRecorder,
mne-lsl or a sleep lab's PSG software can record both beside their own streams.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from acquisition.lsl_source import require_pylsl
from acquisition.stream import SampleChunk, StreamInfo

#: Weight with which the samples' clock follows each chunk's arrival (smooths delivery jitter).
CLOCK_GAIN = 0.05
#: Largest move of that clock per chunk, as a fraction of the chunk's length, spread over its
#: samples: consecutive stamps stay 0.75-1.25 sample periods apart (in order, and no jump a
#: reader would take for lost samples).
CLOCK_MAX_STEP = 0.25
#: Suffix of the marker stream's name.
EVENTS_SUFFIX = "-events"
#: Keys of a live event row sent in each marker.
MARKER_KEYS = ("kind", "channel", "onset_s", "duration_s", "sample", "peak_to_peak_uv",
               "detail", "live")


def sample_stream_info(pylsl, info: StreamInfo, name: str, source_id: str):
    """The LSL description of the sample stream: labels, units and types of the channels."""
    lsl_info = pylsl.StreamInfo(name, "EMG", info.n_channels, info.sfreq_hz, pylsl.cf_float32,
                                source_id)
    channels = lsl_info.desc().append_child("channels")
    for ch_name in info.ch_names:
        ch = channels.append_child("channel")
        ch.append_child_value("label", ch_name)
        ch.append_child_value("unit", "microvolts")
        ch.append_child_value("type", "EMG")
    acq = lsl_info.desc().append_child("acquisition")
    acq.append_child_value("manufacturer", "calfwatch")
    acq.append_child_value("model", str(info.device.get("kind", "")))
    return lsl_info


class LslPublisher:
    """Publish the samples and the live events of a recording on LSL.

    Parameters
    ----------
    info : StreamInfo
        The stream recorded.
    name : str
        Name of the sample stream; the events go to ``name + "-events"``.

    Raises
    ------
    LslUnavailable
        pylsl is not installed.
    """

    def __init__(self, info: StreamInfo, name: str = "calfwatch") -> None:
        self._pylsl = pylsl = require_pylsl()
        self.info = info
        source = str(info.device.get("serial_number") or info.device.get("device_id")
                     or info.device.get("port") or name)
        self.samples = pylsl.StreamOutlet(sample_stream_info(pylsl, info, name, source))
        marker_info = pylsl.StreamInfo(name + EVENTS_SUFFIX, "Markers", 1, pylsl.IRREGULAR_RATE,
                                       pylsl.cf_string, source + EVENTS_SUFFIX)
        self.markers = pylsl.StreamOutlet(marker_info)
        self._offset: float | None = None  # LSL time of timeline sample 0
        self.samples_pushed = 0
        self.markers_pushed = 0

    def push_chunk(self, chunk: SampleChunk) -> None:
        """Publish a data chunk (a gap publishes nothing: its span stays empty on the clock)."""
        if chunk.gap or not chunk.n_samples:
            return
        n, sfreq = chunk.n_samples, self.info.sfreq_hz
        last_s = (chunk.stop_sample - 1) / sfreq
        now = self._pylsl.local_clock()
        old = now - last_s if self._offset is None else self._offset
        # follows arrival slowly, spread over the chunk's samples: stamps stay in order
        step = CLOCK_MAX_STEP * n / sfreq
        self._offset = old + float(np.clip(CLOCK_GAIN * (now - (old + last_s)), -step, step))
        ramp = old + (self._offset - old) * np.arange(1, n + 1) / n
        stamps = ramp + np.arange(chunk.start_sample, chunk.stop_sample) / sfreq
        data = np.ascontiguousarray(chunk.data_uv.T, dtype=np.float32)
        self.samples.push_chunk(data, stamps.tolist())
        self.samples_pushed += n

    def lsl_time(self, sample: int) -> float:
        """The LSL time stamp of a sample of the timeline (the one it was or will be sent with,
        up to the clock's slow following of arrival)."""
        if self._offset is None:
            return self._pylsl.local_clock()
        return self._offset + sample / self.info.sfreq_hz

    def push_events(self, rows: list[dict[str, Any]]) -> None:
        """Publish live event rows, each stamped at its onset."""
        for row in rows:
            marker = json.dumps({k: row.get(k) for k in MARKER_KEYS}, separators=(",", ":"))
            self.markers.push_sample([marker], self.lsl_time(int(row["sample"])))
            self.markers_pushed += 1

    def close(self) -> None:
        """Withdraw both streams."""
        self.samples = self.markers = None
