"""Errors the acquisition layer raises for bad input: one line naming the file and the problem."""

from __future__ import annotations

import os


class RecordingError(ValueError):
    """A recording cannot be read or written: the message is one line, ``"<file>: <problem>"``.

    Call it as ``RecordingError(path, problem)`` (preferred) or with the whole message
    ``RecordingError("<file>: <problem>")``. Whitespace and newlines are folded to single spaces.

    Parameters
    ----------
    path_or_message : str or os.PathLike
        The file (or port) the problem is about, or the whole message when ``problem`` is omitted.
    problem : str, optional
        What is wrong, in words a user can act on.

    Attributes
    ----------
    path : str or None
        The file named (None when only a message was given).
    problem : str
        The problem without the file name.
    """

    def __init__(self, path_or_message: str | os.PathLike, problem: str | None = None) -> None:
        if problem is None:
            self.path = None
            self.problem = " ".join(str(path_or_message).split())
            message = self.problem
        else:
            self.path = os.fspath(path_or_message)
            self.problem = " ".join(str(problem).split())
            message = f"{self.path}: {self.problem}"
        super().__init__(message)
