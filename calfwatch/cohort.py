"""The cohort table of a batch: one row per recording, as ``cohort.csv`` (and Parquet).

Each row holds who and when (subject, session, side, night date, start), how much was measured
(duration, rest minutes, usable channels), what was counted (each event kind, the fasciculations at
rest that the rate uses, doublets), the rates with their exact 95 % Poisson intervals, the assessment
level, the signal-quality figures of the recording's worst channel, the calfwatch version, and for a
recording that failed, the error (every other figure is then empty).

The table depends only on the recordings and the settings: rows are in the batch's order and no
figure depends on timing, the number of workers or the scheduler.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from classifier.kinds import EVENT_KINDS

#: Coverage of the rate intervals.
CONFIDENCE = 0.95
#: File names of the table.
CSV_FILE = "cohort.csv"
PARQUET_FILE = "cohort.parquet"

_TEXT = ("recording", "output", "subject", "session", "side", "night_date", "start_utc")
_QUALITY_MAX = ("noise_rms_uv", "mains_fraction", "saturated_fraction", "flat_fraction",
                "lost_fraction")
#: Columns in order, with their type: ``str``, ``int`` or ``float``.
COLUMNS: dict[str, type] = {
    **{name: str for name in _TEXT},
    "duration_min": float, "rest_min": float, "channels": int, "unusable_channels": str,
    "unusable_reasons": str,
    **{f"count_{kind}": int for kind in EVENT_KINDS},
    "fasciculations_rest": int, "doublets": int,
    "fasc_per_min_rest": float, "fasc_per_min_rest_ci_low": float,
    "fasc_per_min_rest_ci_high": float,
    "plm": int, "plm_per_h": float, "plm_per_h_ci_low": float, "plm_per_h_ci_high": float,
    "assessment": str,
    **{f"{name}_max": float for name in _QUALITY_MAX},
    "usable_fraction_min": float, "pops": int, "detection_floor_uv_max": float,
    "calfwatch_version": str, "error": str,
}


def rate_interval(count: Any, exposure: Any) -> tuple[float | None, float | None, float | None]:
    """Rate ``count / exposure`` with its exact 95 % Poisson interval
    (:func:`classifier.rates.poisson_rate_interval`); Nones without exposure.

    Examples
    --------
    >>> rate, low, high = rate_interval(10, 100.0)
    >>> rate, round(low, 4), round(high, 4)
    (0.1, 0.048, 0.1839)
    """
    from classifier.rates import poisson_rate_interval

    if count is None or exposure is None or not exposure > 0:
        return None, None, None
    low, high = poisson_rate_interval(int(count), float(exposure), CONFIDENCE)
    return int(count) / exposure, low, high


def _given_interval(summary: Mapping[str, Any], key: str) -> tuple[float, float] | None:
    """An interval the summary states itself (``<key>_<suffix>`` as [low, high] or
    {"low", "high"}, as :mod:`calfwatch.night` reads it), if any."""
    for name, value in summary.items():
        if not name.startswith(f"{key}_"):
            continue
        if isinstance(value, Mapping):
            value = (value.get("low"), value.get("high"))
        if isinstance(value, Sequence) and len(value) == 2 and None not in value:
            return float(value[0]), float(value[1])
    return None


def _rates(summary: Mapping[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    hours = (summary.get("duration_s") or 0) / 3600.0
    for name, count_key, exposure, rate_key in (
            ("fasc_per_min_rest", "fasciculations", summary.get("rest_minutes"),
             "fasciculations_per_min_rest"),
            ("plm_per_h", "plm", hours, "plm_index_per_h")):
        stated, given = summary.get(rate_key), _given_interval(summary, rate_key)
        if stated is None or given is None:  # what the summary leaves out (scipy not needed else)
            rate, low, high = rate_interval(summary.get(count_key), exposure)
            stated = rate if stated is None else stated
            given = (low, high) if given is None else given
        row[name] = stated
        row[f"{name}_ci_low"], row[f"{name}_ci_high"] = given
    return row


def _quality(summary: Mapping[str, Any]) -> dict[str, Any]:
    """The worst channel's figures (highest noise and fractions lost, lowest usable part)."""
    channels = [q for q in (summary.get("quality") or {}).values() if isinstance(q, Mapping)]

    def values(key: str) -> list[float]:
        out = [float(q[key]) for q in channels if q.get(key) is not None]
        return [v for v in out if math.isfinite(v)]

    row: dict[str, Any] = {f"{k}_max": max(values(k), default=None) for k in _QUALITY_MAX}
    row["usable_fraction_min"] = min(values("usable_fraction"), default=None)
    pops = values("pops")
    row["pops"] = int(sum(pops)) if pops else None
    floors = [c.get("detection_floor_uv") for c in (summary.get("channels") or {}).values()]
    row["detection_floor_uv_max"] = max((float(f) for f in floors if f is not None), default=None)
    return row


def night_of(recording: Mapping[str, Any], cutoff_hour: int | None = None) -> str:
    """The night date (ISO) of a summary's recording facts, as the history dates it: the local
    date of the evening in the wearer's time (``start_local``); empty without a date."""
    from classifier.persistence import recording_night_date, settings_from_config

    if cutoff_hour is None:
        cutoff_hour = settings_from_config().night_date_cutoff_hour
    day = recording_night_date(recording, cutoff_hour)
    return "" if day is None else day.isoformat()


def cohort_row(
    recording: str,
    summary: Mapping[str, Any] | None,
    *,
    output: str = "",
    subject: str = "",
    session: str = "",
    side: str = "",
    version: str = "",
    error: str = "",
    cutoff_hour: int | None = None,
) -> dict[str, Any]:
    """One row of the cohort table (every column of :data:`COLUMNS`; None where unknown).

    ``output`` is the recording's output folder (relative to the table's folder in a batch);
    ``subject`` and ``side`` given here win over the summary's; without a summary (a failed
    recording) only the names, the version and the error are filled.

    Examples
    --------
    >>> row = cohort_row("bad.edf", None, error="bad.edf: truncated header", version="0.1.0")
    >>> row["error"], row["rest_min"]
    ('bad.edf: truncated header', None)
    """
    row: dict[str, Any] = dict.fromkeys(COLUMNS)
    row.update(recording=recording, output=output, session=session, error=error,
               calfwatch_version=version)
    if summary is None:
        row.update(subject=subject, side=side)
        return row
    rec = summary.get("recording") or {}
    counts = summary.get("counts") or {}
    row.update(
        subject=subject or rec.get("subject") or "", side=side or rec.get("side") or "",
        start_utc=rec.get("start_utc") or "",
        night_date=night_of(rec, cutoff_hour),
        duration_min=_div(summary.get("duration_s"), 60.0),
        rest_min=summary.get("rest_minutes"),
        channels=len(rec.get("channels_analysed") or summary.get("channels") or ()),
        unusable_channels=" ".join(summary.get("unusable_channels") or ()),
        unusable_reasons=" ".join(f"{name}:{why}" for name, why
                                  in (summary.get("unusable_reasons") or {}).items()),
        fasciculations_rest=summary.get("fasciculations"), doublets=summary.get("doublets"),
        plm=summary.get("plm"),
        assessment=(summary.get("assessment") or {}).get("level") or "",
        calfwatch_version=(summary.get("versions") or {}).get("calfwatch") or version,
    )
    row.update({f"count_{kind}": counts.get(kind) for kind in EVENT_KINDS})
    row.update(_rates(summary))
    row.update(_quality(summary))
    return row


def _div(value: Any, by: float) -> float | None:
    return None if value is None else float(value) / by


def _cell(value: Any, kind: type) -> str:
    if value is None:
        return ""
    if kind is float:
        value = float(value)
        return format(value, ".6g") if math.isfinite(value) else ""
    if kind is int:
        return str(int(value))
    return " ".join(str(value).split())


def cohort_csv_text(rows: Iterable[Mapping[str, Any]]) -> str:
    """The table as CSV text: a header of :data:`COLUMNS`, empty cells where unknown."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(_cell(row.get(name), kind) for name, kind in COLUMNS.items())
    return buffer.getvalue()


def read_cohort_csv(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Read a cohort.csv back: numbers as int/float, empty cells as None."""
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        for name, kind in COLUMNS.items():
            text = row.get(name, "")
            row[name] = (text if kind is str else None if text == "" else kind(text))
    return rows


def write_cohort(rows: Sequence[Mapping[str, Any]], out_dir: str | os.PathLike) -> dict[str, Path]:
    """Write ``cohort.csv`` into ``out_dir``, and ``cohort.parquet`` when pyarrow is installed.

    Returns
    -------
    dict
        ``{"cohort": Path}`` and ``"cohort_parquet"`` when written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    text = cohort_csv_text(rows).encode("utf-8")
    paths = {"cohort": _write_private(out / CSV_FILE, lambda h: h.write(text))}
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return paths
    paths["cohort_parquet"] = _write_parquet(rows, out / PARQUET_FILE)
    return paths


def _write_parquet(rows: Sequence[Mapping[str, Any]], path: Path) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {str: pa.string(), int: pa.int64(), float: pa.float64()}
    schema = pa.schema([(name, types[kind]) for name, kind in COLUMNS.items()])
    table = pa.table({name: [_typed(r.get(name), kind) for r in rows]
                      for name, kind in COLUMNS.items()}, schema=schema)
    return _write_private(path, lambda handle: pq.write_table(table, handle))


def _write_private(path: Path, write) -> Path:
    """Write through ``write(handle)`` to a new owner-only (0600) temporary file, fsync, rename:
    the table holds health data, and a reader never sees half of it."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)  # a crashed run's leftover (a link is removed, not followed)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def _typed(value: Any, kind: type) -> Any:
    if value is None:
        return "" if kind is str else None
    if kind is float:
        value = float(value)
        return value if math.isfinite(value) else None
    return kind(value) if kind is int else " ".join(str(value).split())
