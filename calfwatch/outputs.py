"""The output contract of ``calfwatch analyze`` and ``calfwatch record``: the files of one folder.

- ``events.tsv``: tab-separated, one header line, one row per event, columns :data:`EVENT_COLUMNS`
  (``onset`` and ``duration`` in seconds from the recording's first sample, ``trial_type`` and
  ``kind`` one of :data:`classifier.kinds.EVENT_KINDS`, ``channel``, ``peak_to_peak_uv``,
  ``phases``, then ``sample`` (onset sample), ``detail``); missing values are ``n/a`` (BIDS).
- ``events.json``: the BIDS description of every events.tsv column.
- ``summary.json``: the night summary with the assessment, quality, versions and thresholds.
- ``annotations.txt``: the events in MNE's annotation text format (``mne.read_annotations`` reads it),
  each annotation on the event's channel, ``orig_time`` the recording's start as MNE reads it.
- ``events.edf``: the events as an EDF+ annotation-only file on the recording's timeline
  (:mod:`acquisition.edf.annotation_file`), for EDFbrowser and any EDF+ reader.

Every file is written atomically (temporary file in the same folder, fsync, rename), so a reader or a
crash never sees half a file. One folder holds one recording's outputs: :func:`analysis_dir` names it
after the recording (``<recording name>_analysis`` beside it), where ``calfwatch record`` writes them
and ``calfwatch analyze`` does by default, so two recordings in one folder never share them.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from acquisition.stream import StreamInfo, annotation_origin
from calfwatch.log import logger

#: Columns of events.tsv, in order.
EVENT_COLUMNS = (
    "onset", "duration", "trial_type", "kind", "channel", "peak_to_peak_uv", "phases", "sample",
    "detail",
)
#: File names inside the output folder.
EVENTS_FILE = "events.tsv"
SUMMARY_FILE = "summary.json"
ANNOTATIONS_FILE = "annotations.txt"
EVENTS_EDF_FILE = "events.edf"
EVENTS_JSON_FILE = "events.json"
#: The file of each output, by the key :func:`write_outputs` returns it under (in writing order).
OUTPUT_FILES = {"events": EVENTS_FILE, "events_json": EVENTS_JSON_FILE,
                "annotations": ANNOTATIONS_FILE, "events_edf": EVENTS_EDF_FILE,
                "summary": SUMMARY_FILE}
#: Suffix of a recording's output folder (see :func:`analysis_dir`).
ANALYSIS_SUFFIX = "_analysis"


def analysis_dir(recording: str | os.PathLike) -> Path:
    """The output folder of one recording: ``<recording name>_analysis`` beside it.

    ``calfwatch record`` writes a night's outputs there (recording names are unique, so two
    recordings in one folder never share their outputs), ``calfwatch analyze`` writes there
    without ``--out``, and ``calfwatch review`` and ``calfwatch report`` find the recording
    beside it.

    Examples
    --------
    >>> analysis_dir("night/left_20260105T230003Z.bdf").as_posix()
    'night/left_20260105T230003Z_analysis'
    """
    path = Path(recording)
    return path.parent / f"{path.stem}{ANALYSIS_SUFFIX}"


def write_atomic(path: str | os.PathLike, text: str | bytes) -> Path:
    """Write ``text`` (or bytes) to ``path`` atomically, 0600, never through a symbolic link; return the path.

    See :func:`acquisition.safe_files.write_atomic`.
    """
    from acquisition.safe_files import write_atomic as _write_atomic

    return _write_atomic(path, text)


def _number(value: Any, fmt: str) -> str:
    if value is None:
        return "n/a"
    value = float(value)
    return format(value, fmt) if math.isfinite(value) else "n/a"


def _clean(text: Any) -> str:
    """One field of a table or an EDF+ annotation: tabs and line breaks as spaces, the text
    otherwise as it is (a channel keeps its name as in the recording)."""
    return re.sub(r"[\t\r\n\v\f]", " ", str(text)).strip() or "n/a"


def _mne_text_field(text: Any) -> str:
    """One field of MNE's text annotations, which has no quoting: a comma would split the field
    and a ``#`` end the line (numpy.loadtxt), so both are written ``;``."""
    return re.sub(r"[,#]", ";", _clean(text))


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
            _clean(e["kind"]),
            _clean(e["channel"]),
            _number(e.get("peak_to_peak_uv"), ".3f"),
            "n/a" if phases is None or phases < 0 else str(int(phases)),
            str(int(e["sample"])),
            _clean(e.get("detail") or "n/a"),
        ]))
    return "\n".join(lines) + "\n"


#: What each events.tsv column means (BIDS events.json; the event kinds as trial_type levels).
EVENT_COLUMN_DESCRIPTIONS: dict[str, dict[str, Any]] = {
    "onset": {"Description": "Onset of the event from the first sample of the recording.",
              "Units": "s"},
    "duration": {"Description": "Duration of the event.", "Units": "s"},
    "trial_type": {
        "LongName": "Event kind",
        "Description": "Kind of the event as classified by calfwatch (same as 'kind').",
        "Levels": {
            "fasciculation": "Fasciculation potential: a single motor unit's twitch at rest "
                             "(5-30 ms).",
            "myoclonus": "Myoclonic jerk: a brief burst on one or more channels.",
            "plm": "Periodic limb movement in sleep (part of a PLM series).",
            "cramp": "Cramp: sustained involuntary activity.",
            "voluntary": "Voluntary movement.",
            "artifact": "Artifact (electrode pop, motion, saturation, mains hum change, raised noise...).",
        },
    },
    "kind": {"Description": "Kind of the event (the same values as trial_type; kept for "
                            "readers of earlier calfwatch outputs)."},
    "channel": {"Description": "Channel the event was found on, named as in the recording."},
    "peak_to_peak_uv": {"Description": "Peak-to-peak amplitude of the band-passed waveform.",
                        "Units": "uV"},
    "phases": {"Description": "Number of phases of the potential (0 for bursts)."},
    "sample": {"Description": "Onset as a sample index from the first sample of the recording "
                              "(0-based).", "Units": "samples"},
    "detail": {"Description": "More about the event, e.g. 'doublet' for the second potential "
                              "of a doublet (listed, not counted as a new fasciculation)."},
}


def events_json_text() -> str:
    """The BIDS sidecar of events.tsv: every column described (units and kinds as levels)."""
    return json.dumps({c: EVENT_COLUMN_DESCRIPTIONS[c] for c in EVENT_COLUMNS}, indent=2) + "\n"


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


def annotations_text(
    events: Iterable[Mapping[str, Any]], orig_time: datetime | None, first_time_s: float = 0.0
) -> str:
    """The events in MNE's annotation text format (what ``mne.Annotations.save`` writes to .txt).

    Parameters
    ----------
    events : iterable of mapping
        With ``onset_s`` (seconds from the first sample), ``duration_s``, ``kind``, ``channel``.
    orig_time : datetime or None
        The recording's start as MNE reads it (for EDF/BDF the header's whole second, see
        :func:`acquisition.stream.annotation_origin`); None for a recording without a date.
    first_time_s : float
        Seconds from ``orig_time`` to the first sample in MNE's reading (0 for EDF/BDF).

    Returns
    -------
    str
        ``orig_time`` equals the recording's ``meas_date`` in MNE, so
        ``raw.set_annotations(raw.annotations + mne.read_annotations(...))`` works and places
        every event on its sample.
    """
    lines = ["# MNE-Annotations"]
    if orig_time is not None:
        start = orig_time.astimezone(UTC).replace(tzinfo=None)
        lines.append(f"# orig_time : {start.isoformat(sep=' ', timespec='microseconds')}")
    else:
        lines.append("# orig_time : None")
    lines.append("# onset, duration, description, ch_names")
    for e in events:
        lines.append(
            f"{float(e['onset_s']) + first_time_s:.6f},{float(e['duration_s']):.6f},"
            f"{_mne_text_field(e['kind'])},{_mne_text_field(e['channel'])}"
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
    start: StreamInfo | datetime | None,
) -> dict[str, Path]:
    """Write the output files into ``out_dir`` (created if needed).

    Parameters
    ----------
    out_dir : path-like
        The output folder.
    events : list of mapping
        The events (see :func:`events_tsv_text`).
    summary : mapping
        The night summary.
    start : StreamInfo, datetime or None
        The recording's stream description (its time zero in MNE, see
        :func:`acquisition.stream.annotation_origin`), or the time of its first sample for a
        recording written by calfwatch, or None for a recording without a date.

    Returns
    -------
    dict
        Paths by key: ``events``, ``events_json``, ``annotations``, ``events_edf``, ``summary``.
    """
    info = start if isinstance(start, StreamInfo) else StreamInfo(1.0, [], start)
    orig_time, first_time_s = annotation_origin(info)
    # every file's content first: a night that fails to write leaves the folder as it was,
    # never new files beside an earlier analysis's summary
    texts = {
        "events": events_tsv_text(events),
        "events_json": events_json_text(),
        "annotations": annotations_text(events, orig_time, first_time_s),
        "events_edf": events_edf_bytes(events, info.meas_date),
        "summary": summary_text(summary),
    }
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _remove_stale_reports(out)
    return {key: write_atomic(out / OUTPUT_FILES[key], content) for key, content in texts.items()}


#: The report ``calfwatch report DIR`` writes into the folder by default (and its PDF).
REPORT_FILES = ("report.html", "report.pdf")


def _remove_stale_reports(out: Path) -> None:
    """Remove the report of the analysis the folder held before: beside new outputs its numbers
    would be another night's, or another run's (``calfwatch report DIR`` writes it anew)."""
    for name in REPORT_FILES:
        path = out / name
        if path.is_file():
            path.unlink()
            logger.warning("%s: removed, the report of the analysis this folder held before "
                           "(calfwatch report %s writes the new one)", path, out)


def events_edf_bytes(events: Iterable[Mapping[str, Any]], meas_date: datetime | None) -> bytes:
    """The events as an EDF+ annotation-only file (``<kind>@@<channel>``, MNE's channel form).

    A start whose year an EDF header cannot state (1985-2084) is left out of the file, which then
    places its events from the first sample (:func:`acquisition.edf.annotation_file.
    annotation_edf_bytes`); the other outputs keep the date.
    """
    from acquisition.edf.annotation_file import EdfAnnotation, annotation_edf_bytes, dates_in_header

    if meas_date is not None and not dates_in_header(meas_date):
        logger.warning("%s written without a date: the recording's start %s is outside the years "
                       "an EDF header states (1985-2084); its events are placed from the first "
                       "sample", EVENTS_EDF_FILE, meas_date.isoformat())
    items = [EdfAnnotation(float(e["onset_s"]), float(e["duration_s"]), _clean(e["kind"]),
                           _clean(e["channel"])) for e in events]
    return annotation_edf_bytes(meas_date, items)
