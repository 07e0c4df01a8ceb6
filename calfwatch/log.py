"""Logging as MNE-Python does it: one ``calfwatch`` logger, a ``verbose`` parameter, no prints.

Library code logs through :data:`logger`; what reaches the screen is set by
:func:`set_log_level` (for the whole session) or by the ``verbose`` parameter of a public function
(for that call only, :func:`use_log_level`). The default level is ``$CALFWATCH_LOGGING_LEVEL``, else
``"INFO"``. The command line sets ``"WARNING"`` (``--verbose``: ``"INFO"``).

Examples
--------
>>> import calfwatch
>>> calfwatch.set_log_level("WARNING")
>>> with calfwatch.use_log_level("ERROR"):
...     pass
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

#: Environment variable giving the default level.
LEVEL_ENV = "CALFWATCH_LOGGING_LEVEL"
_LEVELS = {"DEBUG": logging.DEBUG, "INFO": logging.INFO, "WARNING": logging.WARNING,
           "ERROR": logging.ERROR, "CRITICAL": logging.CRITICAL}


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time of the record (tests, notebooks)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:  # the base class assigns it once; stderr is looked up
        pass


logger = logging.getLogger("calfwatch")
logger.propagate = False
if not logger.handlers:
    _handler = _StderrHandler()
    _handler.setFormatter(logging.Formatter("calfwatch: %(message)s"))
    logger.addHandler(_handler)


def _level(verbose: bool | str | int | None) -> int:
    """The logging level a ``verbose`` value means."""
    if verbose is None:
        verbose = os.environ.get(LEVEL_ENV, "INFO")
    if isinstance(verbose, bool):
        return logging.INFO if verbose else logging.WARNING
    if isinstance(verbose, int):
        return verbose
    level = _LEVELS.get(str(verbose).upper())
    if level is None:
        raise ValueError(f"verbose must be a bool, an int or one of {', '.join(_LEVELS)}; "
                         f"got {verbose!r}")
    return level


def set_log_level(verbose: bool | str | int | None = None, return_old_level: bool = False):
    """Set the level of calfwatch's messages.

    Parameters
    ----------
    verbose : bool, str, int or None
        ``True`` is ``"INFO"``, ``False`` is ``"WARNING"``; a level name (``"DEBUG"``, ``"INFO"``,
        ``"WARNING"``, ``"ERROR"``, ``"CRITICAL"``) or number; None reads
        ``$CALFWATCH_LOGGING_LEVEL`` (default ``"INFO"``).
    return_old_level : bool
        Return the level in force before.

    Returns
    -------
    int or None
        The previous level when ``return_old_level``.

    Examples
    --------
    >>> import calfwatch
    >>> old = calfwatch.set_log_level("ERROR", return_old_level=True)
    >>> _ = calfwatch.set_log_level(old)
    """
    old = logger.level
    logger.setLevel(_level(verbose))
    return old if return_old_level else None


@contextmanager
def use_log_level(verbose: bool | str | int | None = None) -> Iterator[None]:
    """Use a level for the calls inside the ``with`` block (None keeps the level in force)."""
    if verbose is None:
        yield
        return
    old = set_log_level(verbose, return_old_level=True)
    try:
        yield
    finally:
        logger.setLevel(old)


if logger.level == logging.NOTSET:
    set_log_level(None)
