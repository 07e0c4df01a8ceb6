"""The output contract of ``calfwatch analyze`` and ``calfwatch record``: three files in one folder.

- ``events.tsv``: tab-separated, one header line, one row per event, columns :data:`EVENT_COLUMNS`
  (``onset`` and ``duration`` in seconds from the recording start, ``kind`` one of
  :data:`classifier.kinds.EVENT_KINDS`, ``channel``, ``peak_to_peak_uv``, ``phases``, then ``sample``
  (onset sample), ``detail``); missing values are ``n/a`` (BIDS).
- ``summary.json``: the night summary with the assessment, quality, versions and thresholds.
- ``annotations.txt``: the events in MNE's annotation text format (``mne.read_annotations`` reads it),
  each annotation on the event's channel, onsets relative to the recording start (``orig_time``).

Every file is written atomically (temporary file in the same folder, fsync, rename), so a reader or a
crash never sees half a file.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

#: Columns of events.tsv, in order.
EVENT_COLUMNS = (
    "onset", "duration", "kind", "channel", "peak_to_peak_uv", "phases", "sample", "detail",
)
#: File names inside the output folder.
EVENTS_FILE = "events.tsv"
SUMMARY_FILE = "summary.json"
ANNOTATIONS_FILE = "annotations.txt"


def write_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file and a rename; return the path."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def _number(value: Any, fmt: str) -> str:
    if value is None:
        return "n/a"
    value = float(value)
    return format(value, fmt) if math.isfinite(value) else "n/a"


def _clean(text: Any) -> str:
    """One field of a table: no tabs, newlines or commas (commas would split MNE's text format)."""
    text = " ".join(str(text).split())
    return text.replace(",", ";") or "n/a"


def events_tsv_text(events: Iterable[Mapping[str, Any]]) -> str:
    """The events table as text.

    Parameters
    ----------
    events : iterable of mapping
        Each with ``onset_s``, ``duration_s``, ``kind``, ``channel``, ``peak_to_peak_uv``, ``phases``,
        ``sample`` and optionally ``detail``.
    """
    lines = ["\t".join(EVENT_COLUMNS)]
    for e in events:
        phases = e.get("phases")
        lines.append("\t".join([
            _number(e["onset_s"], ".6f"),
            _number(e["duration_s"], ".6f"),
            _clean(e["kind"]),
            _clean(e["channel"]),
            _number(e.get("peak_to_peak_uv"), ".3f"),
            "n/a" if phases is None or phases < 0 else str(int(phases)),
            str(int(e["sample"])),
            _clean(e.get("detail") or "n/a"),
        ]))
    return "\n".join(lines) + "\n"


def read_events_tsv(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Read an events.tsv back (numbers as float/int, ``n/a`` as None)."""
    text = Path(path).read_text(encoding="utf-8").splitlines()
    header = text[0].split("\t")
    rows = []
    for line in text[1:]:
        if not line:
            continue
        row: dict[str, Any] = dict(zip(header, line.split("\t"), strict=True))
        for key in ("onset", "duration", "peak_to_peak_uv"):
            row[key] = None if row[key] == "n/a" else float(row[key])
        row["phases"] = None if row["phases"] == "n/a" else int(row["phases"])
        row["sample"] = int(row["sample"])
        rows.append(row)
    return rows


def annotations_text(events: Iterable[Mapping[str, Any]], meas_date: datetime) -> str:
    """The events in MNE's annotation text format (what ``mne.Annotations.save`` writes to .txt).

    ``orig_time`` is the recording start, so onsets are seconds from the start as in events.tsv.
    """
    start = meas_date.astimezone(UTC).replace(tzinfo=None)
    lines = [
        "# MNE-Annotations",
        f"# orig_time : {start.isoformat(sep=' ', timespec='microseconds')}",
        "# onset, duration, description, ch_names",
    ]
    for e in events:
        lines.append(
            f"{float(e['onset_s']):.6f},{float(e['duration_s']):.6f},"
            f"{_clean(e['kind'])},{_clean(e['channel'])}"
        )
    return "\n".join(lines) + "\n"


def _jsonable(value: Any) -> Any:
    """Plain JSON: NaN/inf as null, numpy scalars and arrays as Python values."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "tolist"):
        return _jsonable(value.tolist())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def summary_text(summary: Mapping[str, Any]) -> str:
    """The summary document as indented JSON text."""
    return json.dumps(_jsonable(summary), indent=2, ensure_ascii=False) + "\n"


def write_outputs(
    out_dir: str | os.PathLike,
    events: list[Mapping[str, Any]],
    summary: Mapping[str, Any],
    meas_date: datetime,
) -> dict[str, Path]:
    """Write events.tsv, summary.json and annotations.txt into ``out_dir`` (created if needed).

    Returns
    -------
    dict
        ``{"events": Path, "summary": Path, "annotations": Path}``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return {
        "events": write_atomic(out / EVENTS_FILE, events_tsv_text(events)),
        "annotations": write_atomic(out / ANNOTATIONS_FILE, annotations_text(events, meas_date)),
        "summary": write_atomic(out / SUMMARY_FILE, summary_text(summary)),
    }
