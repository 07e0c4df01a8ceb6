"""A pseudo-terminal behind a stable symlink: the emulated device's end of a virtual serial port."""

from __future__ import annotations

import contextlib
import os
import select
import tty

from firmware_io.errors import PortError


class PtyPort:
    """One plug-in of an emulated device: a pty whose slave is reachable at ``path`` (a symlink).

    The slave is put in raw mode once and closed, so that ``client_connected`` can tell (from the
    master's hang-up flag) whether a host has the port open.
    """

    def __init__(self, path: str) -> None:
        self.path = os.path.abspath(os.fspath(path))
        self.master: int | None = None
        self.slave_name = ""
        self._poll = select.poll()

    def open(self) -> None:
        """Create the pty and point the symlink at it (replacing an old link atomically)."""
        folder = os.path.dirname(self.path)
        if not os.path.isdir(folder):
            raise PortError(self.path, f"folder {folder} does not exist")
        if os.path.exists(self.path) and not os.path.islink(self.path):
            raise PortError(self.path, "exists and is not a symlink; refusing to replace it")
        master, slave = os.openpty()
        tty.setraw(slave)
        self.slave_name = os.ttyname(slave)
        os.close(slave)
        os.set_blocking(master, False)
        tmp = f"{self.path}.{os.getpid()}.tmp"
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        try:
            os.symlink(self.slave_name, tmp)
            os.replace(tmp, self.path)
        except OSError as exc:
            os.close(master)
            raise PortError(self.path, f"cannot create the port link: {exc.strerror}") from None
        self.master = master
        self._poll = select.poll()
        self._poll.register(master, select.POLLIN | select.POLLHUP)

    def close(self) -> None:
        """Close the master (a host reading the slave gets an I/O error) and remove the symlink."""
        if self.master is not None:
            with contextlib.suppress(OSError):
                self._poll.unregister(self.master)
            os.close(self.master)
            self.master = None
        with contextlib.suppress(FileNotFoundError):
            if os.path.islink(self.path) and os.readlink(self.path) == self.slave_name:
                os.unlink(self.path)

    @property
    def is_open(self) -> bool:
        """True while plugged in."""
        return self.master is not None

    def wait(self, timeout_s: float) -> tuple[bool, bool]:
        """Wait up to ``timeout_s`` for host bytes; return (readable, client_connected)."""
        if self.master is None:
            return False, False
        events = self._poll.poll(max(0.0, timeout_s) * 1000.0)
        flags = 0
        for _, ev in events:
            flags |= ev
        return bool(flags & select.POLLIN), not flags & select.POLLHUP

    def client_connected(self) -> bool:
        """True when a host has the slave open."""
        return self.wait(0.0)[1]

    def read(self) -> bytes:
        """Bytes the host wrote (empty when none)."""
        if self.master is None:
            return b""
        try:
            return os.read(self.master, 4096)
        except (BlockingIOError, OSError):
            return b""

    def write(self, data: bytes) -> int:
        """Write without blocking; return the number of bytes taken."""
        if self.master is None or not data:
            return 0
        try:
            return os.write(self.master, data)
        except BlockingIOError:
            return 0
