"""The emulated device's end of the serial line: the pty, whether a host has it open, what it left unread."""

from __future__ import annotations

import array
import contextlib
import fcntl
import os
import select
import termios
import time

from firmware_io.pty_port import PtyPort

CONNECT_DELAY_S = 0.05
#: an unplug waits up to this long for the host to read what was written (see settled_unread)
SETTLE_MAX_S = 1.0
#: ... or for this long of an unread count that does not change (a host that is not reading)
SETTLE_STILL_S = 0.1


class HostLink:
    """The pseudo-terminal a device serves, and the presence of the host on its other end.

    Parameters
    ----------
    port_path : str
        Where the port appears (a symlink to the pty, replaced atomically).
    """

    def __init__(self, port_path: str) -> None:
        self.port = PtyPort(port_path)
        self._connected_since: float | None = None

    def poll(self, wait_s: float) -> tuple[float, bytes | None, bool, bool]:
        """Wait up to ``wait_s`` for the host.

        Returns (the time after the wait, the bytes the host sent or None, whether a host has the
        port open, whether it may be written to). A closed port (unplugged) sleeps ``wait_s`` and
        reports no host, at the time before the sleep. A port no host has open waits ``wait_s``
        too: its hang-up flag ends the poll at once, and the device would spin a core until a
        host came (one that opens the port is seen within ``wait_s``, and the first write waits
        ``CONNECT_DELAY_S`` after that anyway).
        """
        now = time.monotonic()
        if not self.port.is_open:
            time.sleep(wait_s)
            return now, None, False, False
        readable, connected = self.port.wait(wait_s)
        if not connected and not readable:
            rest = wait_s - (time.monotonic() - now)
            if rest > 0:
                time.sleep(rest)
        now = time.monotonic()
        if not connected:
            self._connected_since = None
        elif self._connected_since is None:
            self._connected_since = now
        # write only once the host's open() has flushed its input (pyserial does)
        ready = connected and now - self._connected_since >= CONNECT_DELAY_S
        return now, (self.port.read() if readable else None), connected, ready

    def unplug(self) -> None:
        """Remove the port: the host loses its connection."""
        self.port.close()
        self._connected_since = None

    def settled_unread(self) -> int:
        """Unread bytes once the pty has moved everything written into the host's read queue.

        What the master writes reaches the slave's read queue through a kernel work item that may
        run milliseconds later on a loaded machine, and FIONREAD does not count it until then. A
        poll of the slave runs that work when the read queue is empty, so "empty after a poll" is
        exact: everything written was read. A host that is reading gets the time to finish (a cable
        pulled just after the host's last read); a host that is not reading leaves a count that
        stays still, and that count is what the unplug loses.
        """
        deadline = time.monotonic() + SETTLE_MAX_S
        last, still_since = -1, time.monotonic()
        while True:
            now_n = self.unread_bytes(flush=True)
            t = time.monotonic()
            if now_n == 0:
                return 0
            if now_n != last:
                last, still_since = now_n, t
            elif t - still_since >= SETTLE_STILL_S or t >= deadline:
                return now_n
            time.sleep(0.002)

    def unread_bytes(self, flush: bool = False) -> int:
        """Bytes written that the host has not read yet (0 when the port is closed)."""
        if not self.port.slave_name or not self.port.is_open:
            return 0
        buf = array.array("i", [0])
        with contextlib.suppress(OSError):
            fd = os.open(self.port.slave_name, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
            try:
                if flush:  # runs the pending master-to-slave work when the read queue is empty
                    poller = select.poll()
                    poller.register(fd, select.POLLIN)
                    poller.poll(0)
                fcntl.ioctl(fd, termios.FIONREAD, buf)
            finally:
                os.close(fd)
        return int(buf[0])
