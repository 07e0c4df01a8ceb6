"""Serial ports: list them, open one with a one-line error for every usual mistake, find one again.

The errors name the port and say what to do: a path that does not exist (with the ``/dev/`` prefix
forgotten, or a typo), a port another program holds (opened with ``exclusive=True``, so two recorders
cannot share a device), a permission problem, a path that is not a serial port.
"""

from __future__ import annotations

import errno
import os
import sys
from dataclasses import asdict, dataclass

import serial
from serial.tools import list_ports

#: The hint every "not found" error ends with.
LIST_HINT = "`calfwatch devices` lists the ports"


class SerialPortError(OSError):
    """A serial port cannot be opened: one line, ``"<port>: <problem>"``."""

    def __init__(self, port: str, problem: str) -> None:
        self.port = str(port)
        self.problem = " ".join(str(problem).split())
        super().__init__(f"{self.port}: {self.problem}")


class PortNotFoundError(SerialPortError):
    """The port does not exist (yet, or any more)."""


class PortBusyError(SerialPortError):
    """Another program holds the port."""


@dataclass(frozen=True)
class PortInfo:
    """One serial port as the operating system describes it."""

    device: str
    description: str
    hwid: str
    serial_number: str | None = None
    manufacturer: str | None = None
    product: str | None = None
    vid: int | None = None
    pid: int | None = None

    def as_dict(self) -> dict:
        """Return the fields as a plain dict."""
        return asdict(self)


def list_serial_ports() -> list[PortInfo]:
    """Return the serial ports of this machine, sorted by device path (symbolic links included)."""
    ports = []
    for port in list_ports.comports(include_links=True):
        ports.append(
            PortInfo(
                device=port.device,
                description=port.description or "",
                hwid=port.hwid or "",
                serial_number=port.serial_number,
                manufacturer=port.manufacturer,
                product=port.product,
                vid=port.vid,
                pid=port.pid,
            )
        )
    return sorted(ports, key=lambda p: p.device)


def normalize_port(port: str) -> str:
    """Return ``port`` with a forgotten ``/dev/`` added when that names an existing device (POSIX)."""
    port = str(port).strip()
    if os.name == "posix" and "/" not in port and not os.path.exists(port):
        candidate = os.path.join("/dev", port)
        if os.path.exists(candidate):
            return candidate
    return port


def usb_serial_number(port: str) -> str | None:
    """Return the USB serial number of ``port`` (or of the device a link points to), or None."""
    try:
        real = os.path.realpath(port)
    except OSError:
        return None
    for info in list_serial_ports():
        if info.serial_number and os.path.realpath(info.device) == real:
            return info.serial_number
    return None


def find_by_serial_number(serial_number: str) -> str | None:
    """Return the device path of a port whose USB serial number is ``serial_number``, or None."""
    for info in list_serial_ports():
        if info.serial_number == serial_number:
            return info.device
    return None


def _not_found(port: str) -> PortNotFoundError:
    hint = LIST_HINT
    if sys.platform == "darwin" and "/tty." in port:
        hint = f"on macOS use the /dev/cu.* name; {LIST_HINT}"
    return PortNotFoundError(port, f"no such serial port; {hint}")


def explain_open_error(port: str, exc: BaseException) -> SerialPortError:
    """Turn an exception from opening ``port`` into a one-line :class:`SerialPortError`."""
    err = getattr(exc, "errno", None)
    text = str(exc)
    if err == errno.ENOENT or "No such file" in text:
        return _not_found(port)
    if err in (errno.EBUSY,) or "exclusively lock" in text or "Resource temporarily" in text:
        return PortBusyError(port, "port is busy: another program has it open; close it and retry")
    if err == errno.EACCES or "Permission denied" in text:
        return SerialPortError(
            port, "permission denied; on Linux add your user to the 'dialout' group and log in again"
        )
    if err == errno.ENOTTY or "Inappropriate ioctl" in text or "Could not configure" in text:
        return SerialPortError(port, "not a serial port")
    return SerialPortError(port, f"cannot open the serial port ({' '.join(text.split())})")


def open_serial(port: str, baudrate: int, *, timeout_s: float = 0.2) -> serial.Serial:
    """Open ``port`` exclusively at ``baudrate`` with a read timeout.

    Parameters
    ----------
    port : str
        Device path (``/dev/ttyUSB0``, ``COM3``); ``ttyUSB0`` without ``/dev/`` is accepted.
    baudrate : int
        Line speed.
    timeout_s : float
        Read timeout: ``read`` returns what it has after this long, so the reader never busy-polls.

    Returns
    -------
    serial.Serial
        The open port.

    Raises
    ------
    SerialPortError
        One line naming the port and the problem (:class:`PortNotFoundError`, :class:`PortBusyError`).
    """
    path = normalize_port(port)
    if os.name == "posix" and not os.path.exists(path):
        raise _not_found(port)
    try:
        return serial.Serial(
            path, baudrate=baudrate, timeout=timeout_s, write_timeout=1.0, exclusive=True
        )
    except (serial.SerialException, OSError, ValueError) as exc:
        raise explain_open_error(port, exc) from exc
