"""The history store: night summaries and reported symptoms per subject, in one SQLite file.

The file holds health data, so it is created with owner-only permissions (0600) before anything is
written, in a directory created 0700; an existing file with wider permissions is tightened on opening.
SQLite's rollback journal is used (no WAL side files); SQLite gives its journal the database's
permissions. The schema is versioned with ``PRAGMA user_version`` so later versions can migrate.

Night date: the local calendar date of the evening a recording belongs to; a recording that starts
before noon local time belongs to the previous date (see :func:`classifier.persistence.night_date`).
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from classifier.assessment import normalise_symptom
from classifier.persistence import NightPoint, recording_night_date, settings_from_config

#: Environment variable naming calfwatch's data directory.
HOME_ENV = "CALFWATCH_HOME"
#: File name of the store inside the data directory.
FILE_NAME = "history.sqlite"
#: Version of the schema this code writes (PRAGMA user_version).
SCHEMA_VERSION = 1
#: Sides a night can be recorded on.
SIDES = ("left", "right", "both", "unknown")

_SCHEMA_V1 = """
CREATE TABLE nights (
    id INTEGER PRIMARY KEY,
    subject TEXT NOT NULL,
    side TEXT NOT NULL,
    night_date TEXT NOT NULL,
    start_utc TEXT NOT NULL,
    duration_s REAL,
    rest_minutes REAL,
    fasciculations INTEGER,
    rate_per_min_rest REAL,
    median_ptp_uv REAL,
    polyphasic_fraction REAL,
    plm_index_per_h REAL,
    summary_json TEXT NOT NULL,
    added_utc TEXT NOT NULL,
    UNIQUE (subject, side, start_utc)
);
CREATE INDEX nights_subject_date ON nights (subject, night_date);
CREATE TABLE symptoms (
    id INTEGER PRIMARY KEY,
    subject TEXT NOT NULL,
    symptom TEXT NOT NULL,
    first_reported_utc TEXT NOT NULL,
    cleared_utc TEXT
);
CREATE INDEX symptoms_subject ON symptoms (subject);
"""

#: Migrations: from version k to k+1 (index k). Version 0 is an empty file.
_MIGRATIONS = (_SCHEMA_V1,)


class HistoryError(ValueError):
    """The history file cannot be used (message: '<file>: <problem>')."""


def default_path() -> Path:
    """``$CALFWATCH_HOME/history.sqlite``, else ``~/.local/share/calfwatch/history.sqlite``."""
    home = os.environ.get(HOME_ENV)
    base = Path(home).expanduser() if home else Path.home() / ".local" / "share" / "calfwatch"
    return base / FILE_NAME


def _now_utc() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class StoredNight:
    """One stored night: its key numbers and the full summary document."""

    id: int
    subject: str
    side: str
    night_date: date
    start_utc: str
    rest_minutes: float | None
    fasciculations: int | None
    rate_per_min_rest: float | None
    median_ptp_uv: float | None
    polyphasic_fraction: float | None
    plm_index_per_h: float | None
    summary: dict[str, Any] = field(repr=False)

    def to_point(self) -> NightPoint:
        """The night as a :class:`~classifier.persistence.NightPoint` for persistence and trends."""
        return NightPoint(self.night_date, self.rate_per_min_rest, int(self.fasciculations or 0),
                          float(self.rest_minutes or 0.0), self.median_ptp_uv,
                          self.polyphasic_fraction, self.side, self.start_utc,
                          float(self.summary.get("blind_minutes") or 0.0))


@dataclass(frozen=True)
class Symptom:
    """A red-flag symptom a subject reported and has not cleared."""

    symptom: str
    first_reported_utc: str


def _check_subject(subject: str) -> str:
    text = str(subject).strip()
    if not text or len(text) > 64 or not text.isprintable():
        raise ValueError(f"subject {subject!r} must be 1-64 printable characters")
    return text


def _check_side(side: str | None) -> str:
    side = (side or "unknown").strip().lower()
    if side not in SIDES:
        raise ValueError(f"side {side!r} must be one of {', '.join(SIDES)}")
    return side


def _make_private_dir(directory: Path) -> None:
    missing = []
    probe = directory
    while not probe.exists():
        missing.append(probe)
        probe = probe.parent
    for path in reversed(missing):
        os.mkdir(path, 0o700)
        os.chmod(path, 0o700)  # the umask may have removed bits; never adds others'


def _open_private_file(path: Path) -> None:
    """Create the file 0600 before any data is written, or tighten an existing one."""
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags, 0o600)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise HistoryError(f"{path}: not a regular file")
        if stat.S_IMODE(info.st_mode) & 0o077:
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _float(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


class HistoryStore:
    """Night summaries and red-flag symptoms per subject, in one owner-only SQLite file.

    Parameters
    ----------
    path : path-like, optional
        The SQLite file; :func:`default_path` when omitted.

    Raises
    ------
    HistoryError
        If the file is not a calfwatch history, was written by a newer version, or cannot be opened.
    """

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        self.path = Path(path).expanduser() if path is not None else default_path()
        try:
            _make_private_dir(self.path.parent)
            _open_private_file(self.path)
            self._db = sqlite3.connect(self.path, timeout=10.0)
        except HistoryError:
            raise
        except OSError as exc:
            raise HistoryError(f"{self.path}: cannot open history ({exc.strerror or exc})") from None
        except sqlite3.Error as exc:
            raise HistoryError(f"{self.path}: cannot open history ({exc})") from None
        self._db.row_factory = sqlite3.Row
        try:
            self._db.execute("PRAGMA journal_mode=DELETE")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise HistoryError(f"{self.path}: not a calfwatch history file ({exc})") from None
        except HistoryError:
            self._db.close()
            raise

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise HistoryError(f"{self.path}: history schema version {version} is newer than this "
                               f"calfwatch understands ({SCHEMA_VERSION}); upgrade calfwatch")
        if version == 0 and self._db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            raise HistoryError(f"{self.path}: an SQLite file that is not a calfwatch history")
        for step in range(version, SCHEMA_VERSION):
            with self._db:
                self._db.executescript(f"BEGIN; {_MIGRATIONS[step]} PRAGMA user_version = {step + 1};"
                                       " COMMIT;")

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        """The schema version of the open file."""
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def add_night(self, subject: str, side: str | None, summary: dict[str, Any],
                  cutoff_hour: int | None = None) -> int:
        """Store one night summary; the same subject, side and recording start replaces it.

        Parameters
        ----------
        subject : str
            Who wore the sensor (1-64 printable characters).
        side : str or None
            ``left``, ``right``, ``both`` or ``unknown`` (None).
        summary : dict
            A night-summary document (``classifier.summary``).
        cutoff_hour : int, optional
            Recordings starting before this local hour belong to the previous night date
            (default: ``[persistence] night_date_cutoff_hour`` of the configuration).

        Returns
        -------
        int
            The row id (unchanged when the same recording is stored again).
        """
        subject, side = _check_subject(subject), _check_side(side)
        if cutoff_hour is None:
            cutoff_hour = settings_from_config().night_date_cutoff_hour
        recording = summary.get("recording") or {}
        start_utc = recording.get("start_utc")
        day = recording_night_date(recording, cutoff_hour)
        if not start_utc or day is None:
            raise ValueError("the recording states no date (date unknown): a night without a "
                             "date cannot join the history; analyse it without --subject")
        morphology = summary.get("morphology") or {}
        try:
            text = json.dumps(summary, sort_keys=True)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"night summary is not JSON-serialisable ({exc})") from None
        row = {
            "subject": subject, "side": side,
            "night_date": day.isoformat(),
            "start_utc": str(start_utc),
            "duration_s": _float(recording.get("duration_s")),
            "rest_minutes": _float(summary.get("rest_minutes")),
            "fasciculations": _int(summary.get("fasciculations")),
            "rate_per_min_rest": _float(summary.get("fasciculations_per_min_rest")),
            "median_ptp_uv": _float(morphology.get("median_ptp_uv")),
            "polyphasic_fraction": _float(morphology.get("polyphasic_fraction")),
            "plm_index_per_h": _float(summary.get("plm_index_per_h")),
            "summary_json": text, "added_utc": _now_utc(),
        }
        columns = ", ".join(row)
        values = ", ".join(f":{k}" for k in row)
        updates = ", ".join(f"{k} = excluded.{k}" for k in row
                            if k not in ("subject", "side", "start_utc"))
        with self._db:
            cur = self._db.execute(
                f"INSERT INTO nights ({columns}) VALUES ({values}) "
                f"ON CONFLICT (subject, side, start_utc) DO UPDATE SET {updates} RETURNING id", row)
            return int(cur.fetchone()[0])

    def nights(self, subject: str, side: str | None = None) -> list[StoredNight]:
        """The subject's nights (one side, or all), oldest first."""
        sql = "SELECT * FROM nights WHERE subject = ?"
        params: list[Any] = [_check_subject(subject)]
        if side is not None:
            sql += " AND side = ?"
            params.append(_check_side(side))
        rows = self._db.execute(sql + " ORDER BY night_date, start_utc, side", params).fetchall()
        return [
            StoredNight(
                r["id"], r["subject"], r["side"], date.fromisoformat(r["night_date"]),
                r["start_utc"], r["rest_minutes"], r["fasciculations"], r["rate_per_min_rest"],
                r["median_ptp_uv"], r["polyphasic_fraction"], r["plm_index_per_h"],
                json.loads(r["summary_json"]),
            )
            for r in rows
        ]

    def subjects(self) -> list[str]:
        """Every subject with a night or a symptom, sorted."""
        rows = self._db.execute(
            "SELECT subject FROM nights UNION SELECT subject FROM symptoms ORDER BY subject")
        return [r[0] for r in rows]

    def add_symptom(self, subject: str, symptom: str, when_utc: str | None = None) -> str:
        """Record a red-flag symptom (a no-op when it is already recorded and not cleared).

        Returns the symptom's normalised name; raises ValueError for a name not in the vocabulary.
        """
        subject, name = _check_subject(subject), normalise_symptom(symptom)
        with self._db:
            active = self._db.execute(
                "SELECT 1 FROM symptoms WHERE subject = ? AND symptom = ? AND cleared_utc IS NULL",
                (subject, name)).fetchone()
            if not active:
                self._db.execute(
                    "INSERT INTO symptoms (subject, symptom, first_reported_utc) VALUES (?, ?, ?)",
                    (subject, name, when_utc or _now_utc()))
        return name

    def clear_symptoms(self, subject: str, symptom: str | None = None,
                       when_utc: str | None = None) -> int:
        """Mark the subject's symptoms (or one of them) cleared; returns how many were cleared."""
        sql = "UPDATE symptoms SET cleared_utc = ? WHERE subject = ? AND cleared_utc IS NULL"
        params: list[Any] = [when_utc or _now_utc(), _check_subject(subject)]
        if symptom is not None:
            sql += " AND symptom = ?"
            params.append(normalise_symptom(symptom))
        with self._db:
            return self._db.execute(sql, params).rowcount

    def symptoms(self, subject: str) -> list[Symptom]:
        """The subject's red-flag symptoms that are not cleared, in the order first reported."""
        rows = self._db.execute(
            "SELECT symptom, first_reported_utc FROM symptoms WHERE subject = ? "
            "AND cleared_utc IS NULL ORDER BY first_reported_utc, id", (_check_subject(subject),))
        return [Symptom(r[0], r[1]) for r in rows]


def open_store(path: str | os.PathLike | None = None, must_exist: bool = False) -> HistoryStore:
    """Open the store at ``path`` (or the default); with ``must_exist``, a missing file is an error."""
    resolved = Path(path).expanduser() if path is not None else default_path()
    if must_exist and not resolved.exists():
        raise HistoryError(f"{resolved}: no history file yet (analysed nights are stored there)")
    return HistoryStore(resolved)
