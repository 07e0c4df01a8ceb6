"""The JSON sidecar beside a recording: its document and its atomic, retried rewriting."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

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
