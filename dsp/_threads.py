"""Run a nogil numba kernel on groups of channels (or candidates) in a few Python threads.

Used instead of ``prange`` for the chain's kernels: idle workers block instead of spinning, so on a
machine shared with other work the calling thread and the other processes are not slowed by
workers waiting for the next parallel region. The number of threads follows
``numba.get_num_threads()`` (``NUMBA_NUM_THREADS``, ``numba.set_num_threads``).
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numba

#: Slices per thread: a thread slowed by other work on its core leaves more slices to the others.
SLICES_PER_THREAD = 4

_pool: ThreadPoolExecutor | None = None
_pool_size = 0


def n_threads() -> int:
    """Threads a split call uses (numba's thread count)."""
    return max(1, int(numba.get_num_threads()))


def _executor(n_workers: int) -> ThreadPoolExecutor:
    global _pool, _pool_size
    if _pool is None or _pool_size < n_workers:
        if _pool is not None:
            _pool.shutdown(wait=False)
        _pool = ThreadPoolExecutor(max_workers=n_workers, thread_name_prefix="dsp")
        _pool_size = n_workers
    return _pool


def split_run(
    kernel: Callable[..., Any],
    args: Sequence[Any],
    split: Sequence[int],
    n_items: int,
    slices_per_thread: int = SLICES_PER_THREAD,
) -> None:
    """Call ``kernel(*args)`` on contiguous slices of the leading axis of ``args[i]``, i in ``split``.

    The calling thread works too; the slices go to whichever thread is free first.

    Parameters
    ----------
    kernel : callable
        A ``nogil`` numba kernel writing its results into its array arguments.
    args : sequence
        Its arguments.
    split : sequence of int
        Positions of the arguments whose leading axis runs over the items (channels, candidates).
    n_items : int
        Length of that axis.
    slices_per_thread : int
        Slices per thread (fewer, larger slices for kernels that gain from several items at once).
    """
    k = min(n_threads(), n_items)
    if k <= 1:
        kernel(*args)
        return
    m = min(n_items, max(1, slices_per_thread) * k)  # slices pulled by whichever thread is free
    bounds = [n_items * i // m for i in range(m + 1)]
    order = itertools.count()  # its next() is atomic

    def work() -> None:
        while (i := next(order)) < m:
            part = list(args)
            for j in split:
                part[j] = args[j][bounds[i] : bounds[i + 1]]
            kernel(*part)

    pool = _executor(k - 1)
    futures = [pool.submit(work) for _ in range(k - 1)]
    work()
    for future in futures:
        future.result()


@dataclass(frozen=True)
class ThreadPolicy:
    """Whether a kernel call is worth threads (about 0.05 ms a call): with several items
    (channels), from ``min_work`` samples of work (all items together).

    Examples
    --------
    >>> policy = ThreadPolicy(n_items=4, min_work=16_000)
    >>> policy(1_000), policy(64_000), ThreadPolicy(1, 16_000)(64_000)
    (False, True, False)
    """

    n_items: int
    min_work: int

    def __call__(self, work: int) -> bool:
        return self.n_items > 1 and work >= self.min_work


class SplitKernel:
    """A nogil kernel called by argument name, its item arguments split over threads on request.

    Parameters
    ----------
    module : module
        The kernel's module; the kernel is looked up there at every call (so that a benchmark can
        time it by replacing it).
    name : str
        The kernel's name in ``module``.
    split : sequence of str
        Its arguments with a leading axis over the items (channels, candidates), as the kernel's
        module states them; the others are shared by every item.
    slices_per_thread : int
        As in :func:`split_run`.

    Examples
    --------
    >>> import numpy as np
    >>> from dsp import _noise_numba
    >>> blank = SplitKernel(_noise_numba, "blank_after_restart", ("y", "countdown"))
    >>> y = np.ones((2, 5)); countdown = np.full(2, 3)
    >>> blank(False, y=y, countdown=countdown, settle=3)
    >>> int(np.isnan(y).sum())
    6
    """

    def __init__(self, module: ModuleType, name: str, split: Sequence[str],
                 slices_per_thread: int = SLICES_PER_THREAD) -> None:
        self.module = module
        self.name = name
        self.slices_per_thread = slices_per_thread
        kernel = getattr(module, name)
        code = getattr(kernel, "py_func", kernel).__code__
        self.arg_names = code.co_varnames[: code.co_argcount]
        unknown = set(split) - set(self.arg_names)
        if unknown or not split:
            raise ValueError(f"{name} has no argument(s) {sorted(unknown)} to split")
        self.split = tuple(self.arg_names.index(a) for a in split)
        self._in_order = operator.itemgetter(*self.arg_names)

    def __call__(self, threaded: bool, **args: Any) -> None:
        """Run the kernel on ``args`` (every argument, by name), on threads when ``threaded``."""
        kernel = getattr(self.module, self.name)
        if not threaded:
            kernel(**args)  # numba matches the names to its arguments (about 0.1 µs)
            return
        if len(args) != len(self.arg_names):
            wrong = sorted(set(self.arg_names) ^ set(args))
            raise TypeError(f"{self.name}: arguments {wrong} missing or unknown")
        ordered = self._in_order(args)
        split_run(kernel, ordered, self.split, len(ordered[self.split[0]]),
                  self.slices_per_thread)
