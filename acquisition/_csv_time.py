"""The time column of a CSV recording: its sampling rate, the samples it says are missing, and
the date of a column stamped by the clock (Unix time, ISO 8601).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

import numpy as np

from acquisition.errors import RecordingError

#: Columns of clock time: Unix time (its unit told by its size) or ISO 8601 stamps.
CLOCK_NAMES = {"timestamp", "unix_time", "unix time", "unix", "epoch", "datetime", "date_time",
               "date time"}
#: A stamp this many seconds or more after 1970 (2001-09-09) is Unix time: no recording starts
#: 31 years after its own zero, and a microcontroller's millis() wraps after 49.7 days.
UNIX_TIME_FROM_S = 1e9
#: Seconds per unit of Unix time printed in s, ms or µs (in ns, 19 digits, a stamp is beyond
#: the 16 of a float64, which numbers are read as: its steps would not be regular).
_UNIX_UNITS_S = (1.0, 1e-3, 1e-6)
_ISO_STAMP = re.compile(r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?"
                        r"(?P<zone>Z|[+-]\d\d:?\d\d)?$")
#: Most samples (in seconds) a CSV's time column may say are missing: a text recording is read
#: whole, and a column that jumps by more than a day is a wrong stamp, not a pause to fill.
MAX_CSV_LOST_S = 24 * 3600.0


def decimals_printed(printed: list[str]) -> int:
    """The most decimals any of the printed time stamps has (at most 9)."""
    return min(max(len(t.split(".", 1)[1]) if "." in t else 0 for t in printed), 9)


def sampling_rate(path: Path, time_s: np.ndarray, decimals: int, unit_s: float,
                   lines_of: np.ndarray) -> tuple[float, int, np.ndarray]:
    """Sampling rate from a regular time column, the first sample's index on that grid, and the
    samples missing after each row.

    Stamps are compared in "ticks", units of the column's last printed decimal. When every
    difference between consecutive stamps is a whole multiple of the commonest one (exact
    printing, e.g. 1000 Hz with 3 decimals), that is the step, and a double step is a missing
    sample, whose time the stamps state (at most ``MAX_CSV_LOST_S`` in all). Otherwise (rounded
    printing such as 1024 Hz with 3 decimals, or a jittery clock) the step is the slope of a
    least-squares line through the whole column and the stamps must lie on a regular grid to
    within rounding and 1 % of a step (:func:`_off_the_grid`): there a missing sample cannot be
    placed, and is refused, as is a repeated stamp.
    ``decimals`` is the most the column prints, in its unit of ``unit_s`` seconds;
    ``lines_of`` the line of the file each stamp is on, which messages name.
    """
    if time_s.size < 2 or not np.isfinite(time_s).all():
        raise RecordingError(path, "the time column needs at least two finite values")
    tick_s = 10.0 ** -decimals * unit_s
    ticks = np.round(time_s / tick_s).astype(np.int64)
    diffs = np.diff(ticks)
    if ticks[-1] <= ticks[0] or (diffs < 0).any():
        raise RecordingError(path, "the time column does not increase")
    values, counts = np.unique(diffs, return_counts=True)
    mode = int(values[np.argmax(counts)])
    lost = np.zeros(diffs.size, np.int64)
    if mode > 0 and (diffs > 0).all() and not (diffs % mode).any():
        step, bad = float(mode), np.zeros(diffs.size, bool)
        lost = diffs // mode - 1  # exact stamps: a longer step is samples missing, placed
    else:
        step = _slope(ticks)
        _refuse_repeated_stamps(path, time_s, diffs, step, lines_of)
        bad = _off_the_grid(ticks, diffs, step)
    if bad.any():
        i = int(np.argmax(bad))
        raise RecordingError(path, f"time column is not regular to within 1 % (step "
                             f"{step * tick_s:g} s; rows {lines_of[i]}-{lines_of[i + 1]}: "
                             f"{time_s[i]:g} -> {time_s[i + 1]:g} s); samples missing or "
                             "irregular clock")
    sfreq_hz = 1.0 / (step * tick_s)
    if abs(sfreq_hz - round(sfreq_hz)) <= sfreq_hz / (ticks[-1] - ticks[0]):
        sfreq_hz = float(round(sfreq_hz))
    first = time_s[0] * sfreq_hz
    first_samp = int(round(first)) if first >= 0 and abs(first - round(first)) < 0.01 else 0
    if lost.sum() > MAX_CSV_LOST_S * sfreq_hz:
        i = int(np.argmax(lost))
        raise RecordingError(path, f"the time column jumps by {time_s[i + 1] - time_s[i]:g} s "
                             f"(rows {lines_of[i]}-{lines_of[i + 1]}); more than "
                             f"{MAX_CSV_LOST_S / 3600:g} hours missing")
    return sfreq_hz, first_samp, lost


def _slope(ticks: np.ndarray) -> float:
    """Least-squares slope of ``ticks`` over their row numbers (closed form, no design matrix:
    a night's column has tens of millions of rows)."""
    n = ticks.size
    rows = np.arange(n, dtype=np.float64) - (n - 1) / 2
    centred = (ticks - ticks[0]).astype(np.float64)
    centred -= centred.mean()
    return float(np.dot(rows, centred) / (n * (n * n - 1) / 12.0))


def _refuse_repeated_stamps(path: Path, time_s: np.ndarray, diffs: np.ndarray,
                            step: float, lines_of: np.ndarray) -> None:
    """Refuse a stamp repeated where the step is a tick or more: there rounding cannot repeat
    one, and a row written twice would be a sample invented (and every later one late)."""
    if step >= 0.99 and (diffs == 0).any():
        i = int(np.argmax(diffs == 0))
        raise RecordingError(path, f"the time column repeats {time_s[i]:g} s (rows "
                             f"{lines_of[i]}-{lines_of[i + 1]}): a row written twice?")


def _off_the_grid(ticks: np.ndarray, diffs: np.ndarray, step: float) -> np.ndarray:
    """Which steps of rounded or jittery stamps leave a regular grid of ``step`` ticks: rounding
    moves a stamp by up to half a tick, so consecutive ones differ from the step by up to one
    tick and all of them lie within one tick of each other about the grid, with 1 % of a step
    for a clock's jitter either way. A missing sample moves the later stamps by a step: beyond
    that where the step is over a tick, and where it is less (2 kHz stamped to the millisecond)
    by half a tick more than rounding can, so it is found though it cannot be placed."""
    slack = 0.01 * step
    residual = ticks - step * np.arange(ticks.size)
    middle = (residual.max() + residual.min()) / 2
    bad = np.abs(diffs - step) > 1.0 + slack
    bad |= np.abs(residual - middle)[1:] > 0.5 + slack
    return bad


def unix_start(path: Path, stamps: np.ndarray, unit_s: float,
                clock: bool) -> tuple[datetime | None, float]:
    """The start (UTC) and seconds per unit of a time column of Unix time; (None, ``unit_s``)
    for time from the recording's own zero. Of a ``timestamp`` column the unit is the one that
    puts the first stamp after :data:`UNIX_TIME_FROM_S` and before 2100 (units 1000 x apart)."""
    first = float(stamps[0]) if stamps.size and np.isfinite(stamps[0]) else 0.0
    units = _UNIX_UNITS_S if clock else (unit_s,)
    unix = [u for u in units if UNIX_TIME_FROM_S <= first * u < _UNIX_TIME_TO_S]
    if not unix:
        if clock:
            raise RecordingError(path, f"the timestamp column's first value {first:g} is not "
                                 "Unix time (s, ms or us since 1970) nor an ISO 8601 "
                                 "stamp (name time from the start time, time_ms or time_us)")
        return None, unit_s
    start = datetime.fromtimestamp(round(first * unix[0], 6), UTC)
    return start, unix[0]


#: Unix time of 2100-01-01: a later stamp is not a date of a night recorded now.
_UNIX_TIME_TO_S = 4102444800.0


class IsoClock(NamedTuple):
    """ISO 8601 stamps of a time column: the first (UTC), every stamp in seconds from it, and
    the most decimals of a second printed."""

    start: datetime
    seconds: np.ndarray
    decimals: int


def iso_clock(path: Path, rows: list[str], delimiter: str) -> tuple[list[str], IsoClock | None]:
    """``rows`` whose first column holds ISO 8601 stamps (``2026-12-07T22:00:00.125``, with or
    without a zone) with a 0 there instead, and the stamps (a stamp without a zone is taken as
    UTC, as MNE takes an EDF's start); rows of numbers as they are, and None."""
    first = next((row for row in rows if row.strip() and not row.lstrip().startswith("#")), "")
    if not _ISO_STAMP.match(first.split(delimiter, 1)[0].strip().strip('"')):
        return rows, None
    data = [i for i, row in enumerate(rows) if row.strip() and not row.lstrip().startswith("#")]
    stamps = [rows[i].split(delimiter, 1)[0].strip().strip('"') for i in data]
    try:
        when = [datetime.fromisoformat(stamp) for stamp in stamps]
    except ValueError as exc:
        raise RecordingError(path, f"bad ISO 8601 time stamp ({exc})") from None
    if len({w.tzinfo is None for w in when}) > 1:
        raise RecordingError(path, "ISO 8601 time stamps with and without a time zone")
    seconds = np.array([(w - when[0]).total_seconds() for w in when])
    decimals = max(len(m.group(2) or ".") - 1 for m in map(_ISO_STAMP.match, stamps) if m)
    out = list(rows)
    for i in data:
        out[i] = "0" + rows[i][rows[i].index(delimiter):] if delimiter in rows[i] else "0"
    start = when[0].replace(tzinfo=UTC) if when[0].tzinfo is None else when[0].astimezone(UTC)
    return out, IsoClock(start, seconds, min(decimals, 6))
