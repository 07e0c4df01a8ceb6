"""Record a sample stream to EDF+ or BDF+ as it arrives, with a JSON sidecar that accounts for every sample.

:class:`Recorder` writes each chunk through :class:`~acquisition.edf.writer.EdfPlusWriter` (EDF+ for
devices of 16 bits or less, BDF+ above): data as they come, gaps as a flat value annotated
``BAD_ACQ_SKIP`` over exactly the lost span. The writer keeps the file valid at every moment and
fsyncs at least every second. Next to the file, ``<name>.json`` (rewritten atomically every few seconds
and at close) keeps the device facts, the start time in UTC and local time, and the counters:
samples received and lost (by reason), corrupted frames, skipped bytes, reconnections, stalls,
overflow and clipping, and whether the recording was closed cleanly.

:func:`run_recording` is the loop the ``record`` command runs: source -> recorder, with a callback per
chunk (live detection hooks in there).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import UTC
from pathlib import Path

from acquisition._sidecar import MAX_LISTED_GAPS, SidecarFile, sidecar_document
from acquisition._sidecar import SIDECAR_RETRY_S as SIDECAR_RETRY_S
from acquisition._sidecar import SIDECAR_VERSION as SIDECAR_VERSION
from acquisition.edf.constants import digital_range
from acquisition.edf.gap_notes import GapAnnotator
from acquisition.edf.labels import EMG_TYPE, hardware_prefilter
from acquisition.edf.writer import EdfPlusWriter
from acquisition.stream import SampleChunk, StreamInfo

#: Recordings with one name (same subject, side and start second) before giving up.
_MAX_SAME_NAME = 1000


def recording_name(info: StreamInfo, subject: str = "", side: str = "") -> str:
    """File stem for a recording: ``<subject>_<side>_<UTC start>`` (empty parts left out).

    :meth:`Recorder.create` adds ``-2``, ``-3``... when a recording already has the name.
    """
    stamp = info.meas_date.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    parts = [_safe(subject), _safe(side), stamp]
    return "_".join(p for p in parts if p)


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-." else "-" for c in str(text).strip())


def physical_range_uv(info: StreamInfo) -> tuple[float, float, str]:
    """Physical range and format that hold every device count: ``(min_uv, max_uv, "edf"|"bdf")``."""
    fmt = "edf" if info.resolution_bits <= 16 else "bdf"
    dmin, dmax = digital_range(fmt == "bdf")
    return dmin * info.uv_per_count, dmax * info.uv_per_count, fmt


def _annotation_room(info: StreamInfo, record_s: float, fmt: str) -> int:
    """Annotation bytes per record: a sixth of the signal's (at least 600, at most 8192), room
    for the exact spans of a few dozen gaps a second before runs of them are merged."""
    signal_bytes = info.n_channels * round(info.sfreq_hz * record_s) * (3 if fmt == "bdf" else 2)
    return int(min(8192, max(600, signal_bytes // 6)))


def _claim(path: Path) -> None:
    """Create ``path`` empty (0600), or raise FileExistsError: the name belongs to one recording."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600))


class Recorder:
    """Write chunks of a stream to an EDF+/BDF+ file and keep its JSON sidecar.

    Parameters
    ----------
    path : str or os.PathLike
        The EDF/BDF file to create; the sidecar is the same path with ``.json``.
    info : StreamInfo
        The stream's description (rate, channels, start, resolution, device facts).
    source_stats : callable, optional
        Returns the source's counters (``SerialSource.stats``) for the sidecar.
    subject, side : str
        Who and which calf; stored in the header and the sidecar.
    record_s : float
        EDF data record duration.
    sidecar_every_s : float
        Rewrite the sidecar at least this often (wall time).
    on_problem : callable, optional
        Called with one line when the sidecar cannot be written (and once when it can again):
        the signal keeps being written and the sidecar is retried every ``SIDECAR_RETRY_S``.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        info: StreamInfo,
        *,
        source_stats: Callable[[], dict] | None = None,
        subject: str = "",
        side: str = "",
        record_s: float = 1.0,
        sidecar_every_s: float = 5.0,
        on_problem: Callable[[str], None] | None = None,
    ) -> None:
        self.path = Path(path)
        self.sidecar_path = self.path.with_suffix(".json")
        _claim(self.sidecar_path)  # the name is ours (an .edf and a .bdf share one sidecar)
        self.info = info
        self.subject = subject
        self.side = side
        self._source_stats = source_stats
        pmin, pmax, self.fmt = physical_range_uv(info)
        try:
            self.writer = self._open_writer(info, pmin, pmax, record_s)
        except BaseException:
            self.sidecar_path.unlink(missing_ok=True)
            raise
        self._gap_notes = GapAnnotator(self.writer)
        self.next_sample = 0
        self.samples_received = 0
        self.samples_lost: dict[str, int] = {}
        self.gaps: list[dict] = []
        self.n_gaps = 0
        self.closed_cleanly = False
        self.error: str | None = None
        self._closed = False
        self._sidecar = SidecarFile(self.sidecar_path, self.sidecar, sidecar_every_s, on_problem)
        self.write_sidecar()

    def _open_writer(self, info: StreamInfo, pmin: float, pmax: float, record_s: float):
        """The EDF+/BDF+ writer, on a file that must not exist yet (never another recording's)."""
        return EdfPlusWriter(
            self.path,
            list(info.ch_names),
            info.sfreq_hz,
            info.meas_date,
            fmt=self.fmt,
            physical_min_uv=pmin,
            physical_max_uv=pmax,
            record_s=record_s,
            patient_id=f"{_safe(self.subject) or 'X'} X X X",
            recording_id=f"calf {self.side}".strip() if self.side else "",
            equipment=str(info.device.get("kind", "")),
            prefilter=hardware_prefilter(info.device),
            signal_type=EMG_TYPE,
            annotation_chars_per_record=_annotation_room(info, record_s, self.fmt),
            overwrite=False,
        )

    @classmethod
    def create(
        cls, out_dir: str | os.PathLike, info: StreamInfo, *, subject: str = "", side: str = "", **kw
    ) -> Recorder:
        """Create a recording in ``out_dir`` named after subject, side and start time."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        fmt = physical_range_uv(info)[2]
        stem = recording_name(info, subject, side)
        for n in range(1, _MAX_SAME_NAME + 1):
            path = out / (f"{stem}.{fmt}" if n == 1 else f"{stem}-{n}.{fmt}")
            try:
                return cls(path, info, subject=subject, side=side, **kw)
            except FileExistsError:
                continue  # another recording has this name: take the next one
        raise FileExistsError(f"{out}: {_MAX_SAME_NAME} recordings named {stem} already")

    # ------------------------------------------------------------------------------------ writing
    def write_chunk(self, chunk: SampleChunk) -> None:
        """Append one chunk (data or gap) at its place on the timeline.

        Raises
        ------
        ValueError
            When the chunk overlaps what was already written.
        acquisition.edf.writer.RecordingWriteError
            When the disk refuses the data (full...): the file stays valid up to its last record,
            the sidecar says why the recording stopped.
        """
        if chunk.start_sample < self.next_sample:
            raise ValueError(
                f"{self.path}: chunk at sample {chunk.start_sample} overlaps the recording "
                f"(next sample is {self.next_sample})"
            )
        try:
            if chunk.start_sample > self.next_sample:
                self._gap(chunk.start_sample - self.next_sample, "missing from the source")
            if chunk.gap:
                self._gap(chunk.n_samples, chunk.reason or "lost")
            else:
                self._gap_notes.before_samples(chunk.n_samples)
                self.writer.write(chunk.data_uv)
                self.samples_received += chunk.n_samples
                self.next_sample += chunk.n_samples
        except OSError as exc:
            self._fail(exc)
            raise
        if self._sidecar.due(time.monotonic()):
            self.refresh_sidecar()

    def annotate(self, onset_s: float, duration_s: float, text: str) -> None:
        """Add an event annotation (seconds from the recording start)."""
        self.writer.annotate(onset_s, duration_s, text)

    def flush(self) -> None:
        """Make everything written so far durable and refresh the sidecar."""
        self.writer.flush()
        self.refresh_sidecar()

    def close(self) -> None:
        """Close the file (header patched) and write the final sidecar. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        try:
            self._gap_notes.close()
            self.writer.close()
            self.closed_cleanly = self.error is None
        except OSError as exc:
            self.error = self.error or str(exc)
            raise
        finally:
            self.refresh_sidecar()

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _gap(self, n_samples: int, reason: str) -> None:
        self._gap_notes.gap(n_samples, reason)
        self.samples_lost[reason] = self.samples_lost.get(reason, 0) + int(n_samples)
        self.n_gaps += 1
        if len(self.gaps) < MAX_LISTED_GAPS:
            self.gaps.append(
                {
                    "onset_s": self.next_sample / self.info.sfreq_hz,
                    "duration_s": n_samples / self.info.sfreq_hz,
                    "start_sample": self.next_sample,
                    "n_samples": int(n_samples),
                    "reason": reason,
                }
            )
        self.next_sample += int(n_samples)

    def _fail(self, exc: OSError) -> None:
        self.error = " ".join(str(exc).split())
        try:
            self.writer.close()
        except OSError:
            pass
        self._closed = True
        self.refresh_sidecar()

    # ------------------------------------------------------------------------------------ sidecar
    def sidecar(self) -> dict:
        """The sidecar document as it stands."""
        stats = self._source_stats() if self._source_stats is not None else {}
        return sidecar_document(self, stats)

    @property
    def merged_gaps(self) -> int:
        """Gaps annotated inside merged runs (too many in one record to list each)."""
        return self._gap_notes.merged_gaps

    @property
    def sidecar_error(self) -> str | None:
        """Why the last sidecar write failed (None once one succeeds again)."""
        return self._sidecar.error

    @property
    def sidecar_failures(self) -> int:
        """How many sidecar writes failed."""
        return self._sidecar.failures

    def write_sidecar(self) -> None:
        """Rewrite the sidecar atomically (temporary file + rename)."""
        self._sidecar.write()

    def refresh_sidecar(self) -> bool:
        """Rewrite the sidecar; a failure is reported (``on_problem``) and retried, never raised.

        The folder may refuse a new file (made read-only, out of inodes or descriptors) while the
        open recording can still grow: the night goes on, the sidecar follows when it can.
        Returns True when the sidecar was written.
        """
        return self._sidecar.refresh()


def run_recording(
    source,
    recorder: Recorder,
    *,
    duration_s: float | None = None,
    on_chunk: Callable[[SampleChunk], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> str:
    """Copy ``source`` chunks into ``recorder`` until the source ends, the duration is reached or
    ``should_stop()`` says so; return why it stopped (``"duration"``, ``"stopped"``, ``"source ended"``).

    ``on_chunk`` is called with every chunk after it is written (gaps included): the hook for live
    processing. The recorder is not closed here.

    After a stop, a source that can be asked to stop (``request_stop``) is asked and read to its
    end: what it received before the stop reaches the file, and so does the gap of a
    disconnection still going on at the stop, which it hands on last.
    """
    limit = None if duration_s is None else int(round(duration_s * recorder.info.sfreq_hz))
    stopping = False
    for chunk in source.chunks():
        if limit is not None and chunk.stop_sample > limit:
            chunk = _head(chunk, limit - chunk.start_sample)
        if chunk.n_samples:
            recorder.write_chunk(chunk)
            if on_chunk is not None:
                on_chunk(chunk)
        if limit is not None and recorder.next_sample >= limit:
            return "duration"
        if not stopping and should_stop is not None and should_stop():
            request_stop = getattr(source, "request_stop", None)
            if request_stop is None:
                return "stopped"
            request_stop()  # its chunks() ends once the reader stopped and the queue is empty
            stopping = True
    return "stopped" if stopping or (should_stop is not None and should_stop()) else "source ended"


def _head(chunk: SampleChunk, n: int) -> SampleChunk:
    n = max(0, int(n))
    return SampleChunk(chunk.start_sample, chunk.data_uv[:, :n], chunk.gap, chunk.reason)
