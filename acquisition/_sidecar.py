"""The JSON sidecar beside a recording: its document and its atomic, retried rewriting."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from acquisition.safe_files import write_atomic

#: Version of the sidecar document.
SIDECAR_VERSION = 1
#: Gap spans listed one by one in the sidecar (all of them are annotated in the file).
MAX_LISTED_GAPS = 1000
#: Seconds between attempts to write a sidecar the folder refused.
SIDECAR_RETRY_S = 1.0


def _write_json_atomic(path: Path, document: dict) -> None:
    write_atomic(path, json.dumps(document, indent=2, default=str) + "\n")


class SidecarFile:
    """Rewrite a sidecar atomically, at least every ``every_s``; report and retry failures.

    Parameters
    ----------
    path : Path
        The sidecar's path.
    document : callable
        Returns the document as it stands.
    every_s : float
        Rewrite the sidecar at least this often (wall time).
    on_problem : callable, optional
        Called with one line when the sidecar cannot be written (and once when it can again).
    """

    def __init__(self, path: Path, document: Callable[[], dict], every_s: float,
                 on_problem: Callable[[str], None] | None) -> None:
        self.path = path
        self._document = document
        self.every_s = float(every_s)
        self._on_problem = on_problem
        self._last_s = 0.0
        #: why the last sidecar write failed (None once one succeeds again) and how often it did
        self.error: str | None = None
        self.failures = 0

    def due(self, now: float) -> bool:
        """Whether the sidecar should be rewritten at host time ``now``."""
        return now - self._last_s >= self.every_s

    def write(self) -> None:
        """Rewrite the sidecar atomically (temporary file + rename)."""
        _write_json_atomic(self.path, self._document())
        self._last_s = time.monotonic()

    def refresh(self) -> bool:
        """Rewrite the sidecar; a failure is reported (``on_problem``) and retried, never raised.

        Returns True when the sidecar was written.
        """
        try:
            self.write()
        except OSError as exc:
            self.failures += 1
            self._last_s = time.monotonic() - self.every_s + SIDECAR_RETRY_S
            message = " ".join(str(exc).split()) or type(exc).__name__
            if self.error is None:
                self._report(f"{self.path}: sidecar not written ({message}); the recording "
                             f"goes on and the sidecar is retried every {SIDECAR_RETRY_S:g} s")
            self.error = message
            return False
        if self.error is not None:
            self.error = None
            self._report(f"{self.path}: sidecar written again after "
                         f"{self.failures} failed attempts")
        return True

    def _report(self, line: str) -> None:
        if self._on_problem is not None:
            self._on_problem(line)


def sidecar_document(rec, stats: dict) -> dict:
    """The sidecar document of a recorder as it stands, with its source's ``stats``.

    ``rec`` is a :class:`~acquisition.recorder.Recorder` (its file, stream info, what it wrote).
    """
    decoder = stats.get("decoder", {})
    device = dict(rec.info.device)
    device.update(stats.get("device", {}))
    start = rec.info.meas_date.astimezone(UTC)
    return {
        "sidecar_version": SIDECAR_VERSION,
        "file": rec.path.name,
        "format": rec.fmt,
        "subject": rec.subject,
        "side": rec.side,
        "device": device,
        "sfreq_hz": rec.info.sfreq_hz,
        "ch_names": list(rec.info.ch_names),
        "resolution_bits": rec.info.resolution_bits,
        "uv_per_count": rec.info.uv_per_count,
        "start_utc": start.isoformat(),
        "start_local": start.astimezone().isoformat(),
        "timezone": local_zone_name(start),
        "duration_s": rec.next_sample / rec.info.sfreq_hz,
        "counters": _counters(rec, stats, decoder),
        "decoder": decoder,
        "gaps": list(rec.gaps),
        "gaps_listed_all": rec.n_gaps <= MAX_LISTED_GAPS,
        "events": list(stats.get("events", []))[:MAX_LISTED_GAPS],
        "connected_at_end": stats.get("connected"),
        "closed_cleanly": rec.closed_cleanly,
        "error": rec.error,
        "updated_utc": datetime.now(UTC).isoformat(),
    }


def _counters(rec, stats: dict, decoder: dict) -> dict:
    """The sidecar's counters: what the recorder wrote and lost, what the source and decoder saw."""
    return {
        "samples_received": rec.samples_received,
        "samples_lost": sum(rec.samples_lost.values()),
        "samples_lost_by_reason": dict(rec.samples_lost),
        "samples_on_timeline": rec.next_sample,
        "gaps": rec.n_gaps,
        "gaps_estimated_from_host_time": stats.get("gaps_estimated", 0),
        "frames_corrupted": decoder.get("crc_failures", 0) + decoder.get("counter_errors", 0),
        "bytes_skipped": decoder.get("bytes_skipped", 0),
        "sequence_gaps": sum(1 for g in rec.gaps if g["reason"] == "sequence gap")
        if rec.n_gaps <= MAX_LISTED_GAPS
        else decoder.get("sequence_gaps", 0),
        "reconnects": stats.get("reconnects", 0),
        "disconnects": stats.get("disconnects", 0),
        "stalls": stats.get("stalls", 0),
        "overflow_samples": stats.get("overflow_samples", 0),
        # received after a reconnection but not datable (counted among the lost)
        "samples_undated": stats.get("samples_undated", 0),
        "clipped_samples": rec.writer.clipped_samples,
        "sidecar_write_failures": rec.sidecar_failures,
        "gaps_annotated_in_merged_runs": rec.merged_gaps,
    }


def _zone_key(spec: str) -> str:
    """An IANA key from a ``$TZ`` value or a link target: ``:Europe/Berlin`` and
    ``/usr/share/zoneinfo/Europe/Berlin`` give ``Europe/Berlin``; other text stays as it is."""
    spec = spec.removeprefix(":")
    _, found, key = spec.rpartition("zoneinfo/")
    return key if found else spec


def local_zone_name(when: datetime | None = None) -> str | None:
    """The IANA name of this machine's time zone (``Europe/Berlin``), when it can be known.

    The name comes from ``$TZ`` when it is set (``Europe/Berlin``, ``:Europe/Berlin`` or a path
    into a zoneinfo folder), else from the link target of ``/etc/localtime``. It is given only
    when the time zone database knows it and its UTC offset at ``when`` (default now) is the
    one the system's local time has then: a POSIX rule in ``$TZ`` (``CET-1CEST``), a copied
    ``/etc/localtime`` or a name the database lacks give None, never a guess.

    Examples
    --------
    >>> _zone_key(":/usr/share/zoneinfo/Asia/Tokyo"), _zone_key("Asia/Tokyo")
    ('Asia/Tokyo', 'Asia/Tokyo')
    """
    spec = os.environ.get("TZ")
    if spec is None:
        try:
            spec = os.readlink("/etc/localtime")
        except OSError:
            return None
    key = _zone_key(spec)
    when = datetime.now(UTC) if when is None else when.astimezone(UTC)
    try:
        zone = ZoneInfo(key)
    except (KeyError, ValueError, OSError):  # not a name the database knows (or not a name)
        return None
    return key if when.astimezone(zone).utcoffset() == when.astimezone().utcoffset() else None


def read_sidecar(recording: str | os.PathLike) -> dict | None:
    """The JSON sidecar ``record`` wrote beside ``recording`` (same path, ``.json``), or None
    when there is none, it cannot be read, or it is not a calfwatch sidecar (e.g. a BIDS one)."""
    path = Path(recording).with_suffix(".json")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(document, dict) or "sidecar_version" not in document:
        return None
    return document
