"""The file of a recording being written: created safely, appended whole, fsynced, patched.

The file is created mode 0600 without following a symbolic link; data are fsynced at least once
per second of wall time (and when asked); a write the disk refuses cuts the file back to its
complete records and patches the record count, so the file stays valid.
"""

from __future__ import annotations

import errno
import os
import time

from acquisition.edf.constants import N_RECORDS_OFFSET
from acquisition.edf.header_build import records_field

#: fsync when this much wall time passed since the last one (with unsynced records)...
_SYNC_WALL_S = 1.0
#: ...or when a second of signal is unsynced and at least this much wall time passed.
_SYNC_MIN_WALL_S = 0.5


class RecordingWriteError(OSError):
    """Writing a data record failed (disk full, file size limit...); the file was left valid.

    The message is one line: the file, the problem, and how much of the recording the file keeps.
    """

    def __init__(self, path: str, err: int | None, problem: str) -> None:
        super().__init__(err, problem)
        self.path = path
        self.problem = problem

    def __str__(self) -> str:
        return f"{self.path}: {self.problem}"


class RecordFile:
    """An EDF/BDF file opened for writing: its header, then whole data records.

    Parameters
    ----------
    path : str
        File to create (0600); an existing one is replaced only with ``overwrite``.
    header : bytes
        The header record, written and fsynced at once.
    record_bytes : int
        Bytes of one data record.
    record_s : float
        Duration of one data record (how much signal the unsynced records hold).
    overwrite : bool
        False: refuse an existing path (``FileExistsError``).
    """

    def __init__(self, path: str, header: bytes, record_bytes: int, record_s: float,
                 overwrite: bool) -> None:
        self.path = path
        self._header_bytes = len(header)
        self._record_bytes = record_bytes
        self._record_s = record_s
        self.closed = False
        #: complete data records on disk
        self.n_records = 0
        self._unsynced_records = 0
        replace_flag = os.O_TRUNC if overwrite else os.O_EXCL
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | replace_flag, 0o600)
        try:
            self._write_all(header)
        except OSError as exc:
            os.close(self._fd)
            self.closed = True
            raise RecordingWriteError(
                path, exc.errno, f"cannot write the EDF header ({exc.strerror or exc})"
            ) from exc
        os.fsync(self._fd)
        self._last_sync = time.monotonic()

    def append(self, payload: bytes, n_records: int) -> None:
        """Append ``n_records`` whole records; fsync when due.

        Raises
        ------
        RecordingWriteError
            When the disk refuses them (see :meth:`fail`).
        """
        try:
            self._write_all(payload)
        except OSError as exc:
            raise self.fail(exc) from exc
        self.n_records += n_records
        self._unsynced_records += n_records
        self._maybe_sync()

    def sync(self) -> None:
        """fsync the records not yet durable."""
        if self._unsynced_records:
            os.fsync(self._fd)
            self._unsynced_records = 0
        self._last_sync = time.monotonic()

    def finish(self) -> None:
        """Write the record count into the header and fsync (the file stays open)."""
        os.pwrite(self._fd, records_field(self.n_records), N_RECORDS_OFFSET)
        os.fsync(self._fd)

    def close(self) -> None:
        """Close the file descriptor (once)."""
        if not self.closed:
            self.closed = True
            os.close(self._fd)

    def fail(self, exc: OSError) -> RecordingWriteError:
        """Cut the file back to its complete records, patch the header, close; return the error
        to raise."""
        n_records = self.n_records
        try:
            os.ftruncate(self._fd, self._header_bytes + n_records * self._record_bytes)
            os.pwrite(self._fd, records_field(n_records), N_RECORDS_OFFSET)
            os.fsync(self._fd)
        except OSError:
            pass
        finally:
            self.closed = True
            os.close(self._fd)
        what = "disk full" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
        return RecordingWriteError(
            self.path,
            exc.errno,
            f"cannot write data record {n_records + 1} ({what}); the file keeps the "
            f"{n_records} complete records ({n_records * self._record_s:g} s) written before",
        )

    def _write_all(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]

    def _maybe_sync(self) -> None:
        wall_s = time.monotonic() - self._last_sync
        signal_s = self._unsynced_records * self._record_s
        if wall_s >= _SYNC_WALL_S or (signal_s >= 1.0 and wall_s >= _SYNC_MIN_WALL_S):
            self.sync()
