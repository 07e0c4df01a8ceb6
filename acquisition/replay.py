"""Replay any recording as a :class:`~acquisition.stream.SampleStream`, in constant memory.

:class:`ReplayStream` reads the recording lazily (``preload=False``) one slice at a time with
``raw.get_data(start=, stop=)``, so an 8-hour file costs no more memory than a 1-minute one; as
fast as the consumer reads, the next slice is read on a reader thread meanwhile. Spans
annotated ``BAD_ACQ_SKIP`` come back as gap chunks (NaN), so a recorded night replays with its gaps
exactly where the recorder put them. ``speed=None`` replays as fast as the consumer reads;
``speed=N`` paces the chunks at N times real time on the monotonic clock.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import numpy as np

from acquisition._chunk_queue import gap_chunk
from acquisition.edf.constants import GAP_TEXT
from acquisition.edf.labels import filter_corners_hz
from acquisition.edf.stream import BadEdfHeader, EdfStream, is_marked_bad, merge_spans
from acquisition.errors import RecordingError
from acquisition.stream import MAX_SAMPLE_UV, SampleChunk, StreamInfo


class _RawBackend:
    """Slices of an MNE Raw (opened with ``preload=False``), in µV."""

    def __init__(self, raw) -> None:
        self.raw = raw
        names = getattr(raw, "filenames", None) or [None]
        self.path = None if names[0] is None else os.fspath(names[0])
        self.sfreq_hz = float(raw.info["sfreq"])
        self.n_times = int(raw.n_times)
        self.ch_names = list(raw.ch_names)
        self.orig_time = raw.info["meas_date"]
        self.first_time_s = float(raw.first_time)
        self.meas_date = None
        if self.orig_time is not None:
            self.meas_date = self.orig_time + timedelta(seconds=self.first_time_s)
        self.uv_per_count = 1.0
        self.gaps = gap_spans(raw, self.n_times)
        self.marked_bad = [(float(a["onset"]) - self.first_time_s, float(a["duration"]),
                            str(a["description"])) for a in raw.annotations
                           if is_marked_bad(a["description"]) and a["duration"] > 0]
        low, high = float(raw.info["highpass"] or 0.0), float(raw.info["lowpass"] or 0.0)
        #: The recording's own filter as the file states it (MNE: sfreq / 2 and 0 when unstated).
        self.filter_hz = (low if low > 0 else None,
                          high if 0 < high < 0.999 * self.sfreq_hz / 2 else None)

    def get_uv(self, start: int, stop: int) -> np.ndarray:
        return self.raw.get_data(start=start, stop=stop) * 1e6


class _EdfBackend:
    """Slices of an EDF/BDF file read record by record (constant memory)."""

    def __init__(self, edf: EdfStream) -> None:
        self.edf = edf
        self.path = edf.path
        self.sfreq_hz = edf.sfreq_hz
        self.n_times = edf.n_times
        self.ch_names = edf.ch_names
        self.meas_date = edf.meas_date
        self.orig_time = None  # the EDF convention (see acquisition.stream.annotation_origin)
        self.first_time_s = 0.0
        self.uv_per_count = edf.uv_per_count
        self.marked_bad = edf.marked_bad()
        self.gaps = edf.gap_spans(GAP_TEXT, also=[(o, d) for o, d, _ in self.marked_bad])
        self.get_uv = edf.get_uv
        corners = [filter_corners_hz(text) for text in edf.prefilters]
        highs = [hp for hp, _ in corners if hp is not None]
        lows = [lp for _, lp in corners if lp is not None]
        #: The narrowest band any signal's prefilter field states (None where none states it).
        self.filter_hz = (max(highs) if highs else None, min(lows) if lows else None)


def _open(source, signals: Sequence[int] | None = None):
    mne = sys.modules.get("mne")  # an opened Raw means MNE is imported; EDF/BDF files need no MNE
    if mne is not None and isinstance(source, mne.io.BaseRaw):
        return _RawBackend(source)
    try:
        return _EdfBackend(EdfStream(source, signals))
    except BadEdfHeader:
        raise  # an EDF/BDF header that cannot be right: never guessed by a lenient reader
    except (ValueError, OSError):
        if signals is not None:
            raise
        # not an EDF/BDF (or mixed rates): the general reader says what it is
    from acquisition.reader import open_recording

    backend = _RawBackend(open_recording(source, preload=False))
    backend.path = os.fspath(source)
    return backend


def gap_spans(raw, n_times: int) -> list[tuple[int, int]]:
    """Sample spans ``[start, stop)`` annotated ``BAD_ACQ_SKIP`` (lost) or otherwise ``BAD...``
    (marked to be left out, as MNE's browser marks them and its functions leave them out),
    merged and clipped to the data.

    Parameters
    ----------
    raw : mne.io.BaseRaw
        The recording.
    n_times : int
        Samples in the recording.
    """
    ann = raw.annotations
    if len(ann) == 0:
        return []
    sfreq = raw.info["sfreq"]
    texts = np.asarray(ann.description)
    keep = np.array([str(t).upper().startswith(GAP_TEXT) or is_marked_bad(t) for t in texts],
                    dtype=bool)
    if not keep.any():
        return []
    onset_s = np.asarray(ann.onset)[keep] - raw.first_time
    starts = np.rint(onset_s * sfreq).astype(np.int64)
    stops = starts + np.rint(np.asarray(ann.duration)[keep] * sfreq).astype(np.int64)
    order = np.argsort(starts, kind="stable")
    return merge_spans(zip(starts[order], stops[order], strict=True), n_times)


class ReplayStream:
    """A recording as a sample stream: data chunks in µV and gap chunks where ``BAD_ACQ_SKIP`` says,
    and where another ``BAD...`` annotation marks data to leave out (listed, onset, duration and
    text, in ``info.device["marked_bad_spans"]``).

    Parameters
    ----------
    source : str, os.PathLike or mne.io.BaseRaw
        Any recording ``acquisition.reader.open_recording`` reads, or an already opened Raw
        (best opened with ``preload=False``). EDF/BDF files given by path are read record by
        record (MNE's reader holds twice the file in memory at open).
    speed : float or None
        None: as fast as the consumer reads. N: N times real time.
    chunk_s : float
        Length of the data chunks.
    start_s, stop_s : float, optional
        Replay only this part (seconds from the start); sample numbers stay those of the file.
    signals : sequence of int, optional
        An EDF/BDF file's data signals to replay (see :class:`acquisition.edf.stream.EdfStream`),
        read as they are stored: those of one rate in a file of several rates.

    Raises
    ------
    RecordingError
        The file cannot be read (from the reader), or the arguments do not fit it.
    """

    def __init__(
        self,
        source,
        *,
        speed: float | None = None,
        chunk_s: float = 1.0,
        start_s: float = 0.0,
        stop_s: float | None = None,
        signals: Sequence[int] | None = None,
    ) -> None:
        self._backend = _open(source, signals)
        #: The data signals replayed, as asked (None: all of the file's).
        self.signals = None if signals is None else list(signals)
        self.path = self._backend.path
        label = self.path or "recording"
        if speed is not None and not speed > 0:
            raise RecordingError(label, f"replay speed must be positive, got {speed}")
        if not chunk_s > 0:
            raise RecordingError(label, f"chunk length must be positive, got {chunk_s}")
        self.speed = speed
        sfreq = float(self._backend.sfreq_hz)
        self.n_times = int(self._backend.n_times)
        self.chunk_n = max(1, int(round(chunk_s * sfreq)))
        self.start = max(0, int(round(start_s * sfreq)))
        self.stop = self.n_times if stop_s is None else min(self.n_times, int(round(stop_s * sfreq)))
        self.gaps = self._backend.gaps
        self._closed = threading.Event()
        self.info = StreamInfo(
            sfreq_hz=sfreq,
            ch_names=list(self._backend.ch_names),
            meas_date=_utc(self._backend.meas_date),
            resolution_bits=_resolution_bits(self.path),
            uv_per_count=self._backend.uv_per_count,
            device={"kind": "replay", "file": os.path.basename(self.path) if self.path else ""},
            orig_time=self._backend.orig_time,
            first_time_s=self._backend.first_time_s,
        )
        from acquisition.edf.units import left_out_signals

        high_hz, low_hz = self._backend.filter_hz
        if high_hz:
            self.info.device["highpass_hz"] = high_hz
        if low_hz:
            self.info.device["lowpass_hz"] = low_hz
        left_out = left_out_signals(self.path) if self.path else []
        if left_out:  # signals not in a voltage unit (see acquisition.reader)
            self.info.device["left_out"] = [f"{label} ({unit or 'no unit'})"
                                            for label, unit in left_out]
        if self._backend.marked_bad:  # left out as lost time is (gap chunks)
            self.info.device["marked_bad_spans"] = [
                [round(o, 6), round(d, 6), t] for o, d, t in self._backend.marked_bad]

    def chunks(self) -> Iterator[SampleChunk]:
        """Yield the recording from ``start_s`` to ``stop_s``, gaps as NaN chunks, paced if asked.

        Unpaced, the next chunk is read on a reader thread while the consumer works on this one
        (the consumer gets the same chunks in the same order; a read error is raised at the
        chunk it concerns)."""
        if self.speed is None:
            yield from self._read_ahead()
            return
        t0 = time.monotonic()
        for start, stop, is_gap in self._pieces():
            if self._closed.is_set():
                return
            chunk = self._chunk(start, stop, is_gap)
            due = t0 + (stop - self.start) / (self.info.sfreq_hz * self.speed)
            if self._closed.wait(max(0.0, due - time.monotonic())):
                return
            yield chunk

    def _chunk(self, start: int, stop: int, is_gap: bool) -> SampleChunk:
        if is_gap:
            return gap_chunk(start, self.info.n_channels, stop - start, GAP_TEXT)
        return SampleChunk(start_sample=start, data_uv=self._read(start, stop))

    def _read_ahead(self) -> Iterator[SampleChunk]:
        """The chunks, each read on a reader thread while the one before is consumed."""
        reader = ThreadPoolExecutor(1, thread_name_prefix="calfwatch-read")
        pending = None
        try:
            for piece in self._pieces():
                if self._closed.is_set():
                    return
                coming = reader.submit(self._chunk, *piece)  # one at a time, in order
                if pending is not None:
                    yield pending.result()
                pending = coming
            if pending is not None and not self._closed.is_set():
                yield pending.result()
        finally:
            reader.shutdown(wait=True, cancel_futures=True)

    def _read(self, start: int, stop: int) -> np.ndarray:
        """Samples ``start:stop`` in µV; a file that fails there (truncated) is named."""
        try:
            data_uv = self._backend.get_uv(start, stop)
        except RecordingError:
            raise
        except (ValueError, OSError, EOFError) as exc:
            problem = " ".join(str(exc).split()) or type(exc).__name__
            raise RecordingError(self.path or "recording",
                                 f"cannot be read at sample {start} ({problem})") from None
        self._check_sizes(data_uv, start)
        return data_uv

    def _check_sizes(self, data_uv: np.ndarray, start: int) -> None:
        """Refuse, naming the file, a sample that is infinite or beyond ``MAX_SAMPLE_UV`` (NaN is
        a lost sample and passes)."""
        with np.errstate(invalid="ignore"):
            beyond = np.abs(data_uv) > MAX_SAMPLE_UV
        if beyond.any():
            ch, i = (int(v[0]) for v in np.nonzero(beyond))
            raise RecordingError(
                self.path or "recording",
                f"sample {start + i} of channel {self.info.ch_names[ch]!r} is "
                f"{data_uv[ch, i]:g} µV, beyond any voltage on skin (1 kV): a corrupt value or "
                "a wrong scale")

    def close(self) -> None:
        """Stop the replay (the generator ends at its next chunk)."""
        self._closed.set()

    def _pieces(self) -> Iterator[tuple[int, int, bool]]:
        """``(start, stop, is_gap)`` spans tiling ``[self.start, self.stop)``."""
        pos = self.start
        for g0, g1 in self.gaps + [(self.stop, self.stop)]:
            g0, g1 = max(g0, pos), min(g1, self.stop)
            while pos < min(g0, self.stop):
                end = min(pos + self.chunk_n, g0, self.stop)
                yield pos, end, False
                pos = end
            if g1 > pos:
                yield pos, g1, True
                pos = g1
            if pos >= self.stop:
                return


def _utc(when: datetime | None) -> datetime | None:
    return None if when is None else when.astimezone(UTC)


def _resolution_bits(path: str | None) -> int:
    """16 for an EDF file (by content, whatever its name), else 24."""
    from acquisition.edf.header import edf_kind

    return 16 if path and edf_kind(path) == "edf" else 24


def recording_samples(source, *, chunk_s: float = 1.0) -> tuple[Iterator[np.ndarray], StreamInfo]:
    """A recording as µV arrays for an emulated device, read in constant memory.

    Gaps (``BAD_ACQ_SKIP``) come out as zeros: a device has no way to send "no sample", and the file
    itself stores a flat value there. Returns the arrays (shape ``(n_channels, n)``) and the
    recording's :class:`StreamInfo`.
    """
    stream = ReplayStream(source, chunk_s=chunk_s)

    def arrays() -> Iterator[np.ndarray]:
        for chunk in stream.chunks():
            yield np.zeros(chunk.data_uv.shape) if chunk.gap else chunk.data_uv

    return arrays(), stream.info


def emulate_recording(
    source, kind: str, port_path: str, *, speed: float = 1.0, faults=None, chunk_s: float = 1.0
):
    """Serve a recording as an emulated ``kind`` device on a virtual port (not started yet).

    Parameters
    ----------
    source : str, os.PathLike or mne.io.BaseRaw
        Any recording :class:`ReplayStream` reads.
    kind : str
        Device to emulate (``"calfwatch"``, ``"cyton"``...).
    port_path : str
        Where the port appears.
    speed : float
        Multiple of real time.
    faults : firmware_io.faults.FaultPlan, optional
        Faults to inject.

    Returns
    -------
    firmware_io.emulator.EmulatedDevice
        Call ``.start()`` (or use it as a context manager).
    """
    from firmware_io.emulator import EmulatedDevice

    arrays, info = recording_samples(source, chunk_s=chunk_s)
    return EmulatedDevice(
        kind, arrays, info.sfreq_hz, port_path, speed=speed, faults=faults,
        n_channels=info.n_channels,
    )
