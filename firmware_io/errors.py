"""Errors raised by firmware_io: one line naming the port or input and the problem."""

from __future__ import annotations


class ProtocolError(ValueError):
    """Bad input to a protocol function (a malformed command, frame or argument), one line."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))


class FaultSpecError(ProtocolError):
    """A ``--faults`` specification that cannot be parsed; the message names the bad item."""


class PortError(OSError):
    """The emulated port cannot be created or served; the message names the port path."""

    def __init__(self, path: str, problem: str) -> None:
        self.path = str(path)
        self.problem = " ".join(str(problem).split())
        super().__init__(f"{self.path}: {self.problem}")
