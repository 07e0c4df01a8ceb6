"""Ctrl-C during a batch on several processes: the workers ignore it, and the command stops them
from code of its own rather than from inside a Dask call.

Ctrl-C sends SIGINT to every process of the terminal's group. A worker would print its own
``KeyboardInterrupt`` traceback, and a ``KeyboardInterrupt`` raised in the middle of a
``distributed`` call leaves its event loop logging errors of its own; the command says in one line
that the batch was interrupted (:func:`calfwatch.cli.main`).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


def _in_main_thread() -> bool:
    """Signal handlers can only be set in the main thread."""
    return threading.current_thread() is threading.main_thread()


@contextmanager
def sigint_ignored() -> Iterator[None]:
    """SIGINT ignored meanwhile, by this process and the processes it starts meanwhile.

    Examples
    --------
    >>> with sigint_ignored():
    ...     pass
    """
    if not _in_main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class SigintLatch:
    """Holds Ctrl-C until :meth:`wait` or :meth:`check` raises it as ``KeyboardInterrupt``.

    Use it as a context manager, around code that must not be interrupted in the middle of a
    library's call. A second Ctrl-C, while the first is held, interrupts at once.

    Examples
    --------
    >>> with SigintLatch() as latch:
    ...     latch.wait(0.01)  # returns when no Ctrl-C came
    """

    def __init__(self) -> None:
        self._pressed = threading.Event()
        self._previous = None

    def __enter__(self) -> SigintLatch:
        if _in_main_thread():
            self._previous = signal.signal(signal.SIGINT, self._hold)
        return self

    def __exit__(self, *exc) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None

    def _hold(self, signum, frame) -> None:
        if self._pressed.is_set():
            raise KeyboardInterrupt
        self._pressed.set()

    def check(self) -> None:
        """Raise ``KeyboardInterrupt`` if Ctrl-C was pressed."""
        if self._pressed.is_set():
            self.__exit__()
            raise KeyboardInterrupt

    def wait(self, timeout_s: float) -> None:
        """Wait up to ``timeout_s`` seconds for Ctrl-C, and raise it if it came."""
        self._pressed.wait(timeout_s)
        self.check()
