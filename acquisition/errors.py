"""Errors the acquisition layer raises for bad input: one line naming the file and the problem."""

from __future__ import annotations

import os


class RecordingError(ValueError):
    """A recording cannot be read: the message is one line, ``"<file>: <problem>"``.

    Parameters
    ----------
    path : str or os.PathLike
        The file (or port) the problem is about.
    problem : str
        What is wrong, in words a user can act on.
    """

    def __init__(self, path: str | os.PathLike, problem: str) -> None:
        self.path = os.fspath(path)
        self.problem = " ".join(str(problem).split())
        super().__init__(f"{self.path}: {self.problem}")
