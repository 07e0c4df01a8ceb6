"""Let a batch worker reuse the memory of its last recording instead of asking the system anew.

Dask's nanny starts every worker with ``MALLOC_TRIM_THRESHOLD_=65536`` (its setting
``distributed.nanny.pre-spawn-environ``), so that freed memory goes back to the system at once.
With that variable set, glibc also keeps its mmap threshold at 128 KiB instead of raising it to
the size of the arrays a program frees: each array above 128 KiB is then mapped afresh and each
of its pages faulted in on first touch, again for every chunk of every recording. A 20-minute
recording then cost a worker about 35 000 page faults and 0.07 s of system time, nearly half of
its 0.15 s of analysis; with the thresholds below, a few hundred and under 0.01 s.

:func:`keep_freed_memory` raises both thresholds in a process started that way (what it frees
stays in the process for the next recording, as in a process started without the variable), and
does nothing elsewhere: another C library, or a process glibc already tunes by itself.
"""

from __future__ import annotations

import ctypes
import functools
import os

#: ``mallopt`` parameters (glibc's malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
#: Arrays below this many bytes come from the heap, not from a mapping of their own (glibc's
#: largest dynamic mmap threshold on 64-bit systems: a 120-s chunk of 8 channels at 2 kHz is
#: 15 MB).
MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024
#: Free memory at the top of the heap kept for reuse (glibc's dynamic rule: twice the above).
TRIM_THRESHOLD_BYTES = 2 * MMAP_THRESHOLD_BYTES


def _asked_to_trim() -> bool:
    """Whether this process was started with glibc told to trim below our threshold."""
    value = os.environ.get("MALLOC_TRIM_THRESHOLD_")
    if value is None:
        return False
    try:
        return int(value) < TRIM_THRESHOLD_BYTES
    except ValueError:
        return False


def _glibc() -> bool:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc")
    except (AttributeError, ValueError, OSError):
        return False


@functools.cache
def keep_freed_memory() -> bool:
    """Raise glibc's trim and mmap thresholds once if the environment lowered them.

    Returns
    -------
    bool
        True when the thresholds were raised (a glibc process started with
        ``MALLOC_TRIM_THRESHOLD_`` below :data:`TRIM_THRESHOLD_BYTES`, as Dask starts workers).

    Examples
    --------
    >>> keep_freed_memory() in (True, False)
    True
    """
    if not _asked_to_trim() or not _glibc():
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
                and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES))
