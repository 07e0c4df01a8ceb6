"""Write health data safely: atomically, privately, and never through a planted symbolic link.

:func:`write_atomic` is the one way calfwatch replaces a whole file (sidecars, events, summaries,
reports): the bytes go to a temporary file created by :func:`tempfile.mkstemp` in the target's own
folder (``O_CREAT | O_EXCL | O_NOFOLLOW``, mode 0600, an unpredictable name), are fsynced, and the
temporary file is renamed over the target. A rename replaces a symbolic link at the target rather
than writing through it, and a reader sees either the old file or the new one, never half of it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

#: Mode of every file calfwatch creates: health data are readable by their owner only.
PRIVATE_MODE = 0o600


def write_atomic(path: str | os.PathLike, data: str | bytes, *, mode: int = PRIVATE_MODE) -> Path:
    """Replace ``path`` with ``data`` (text is written as UTF-8) in one rename; return the path.

    Parameters
    ----------
    path : str or os.PathLike
        The file to create or replace; its folder must exist.
    data : str or bytes
        The whole new content.
    mode : int
        Permission bits of the new file (default 0600).

    Raises
    ------
    OSError
        When the folder refuses the temporary file or the rename; the target is then unchanged and
        no temporary file is left behind.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> write_atomic(folder / "summary.json", "{}\\n").read_text()
    '{}\\n'
    >>> oct((folder / "summary.json").stat().st_mode & 0o777)
    '0o600'
    """
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:  # name the file asked for, not the temporary one
        raise type(exc)(exc.errno, exc.strerror, str(path)) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path
