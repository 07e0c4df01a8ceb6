"""Filter the next piece of a long input on a worker thread while the chain works on this one.

With one channel there is nothing to split over cores, and the filter is about half of the chain's
time: running it one piece ahead, on its own thread, overlaps it with the rest of the chain (noise,
detection, features, quality) on the piece before. Each stage still sees every sample in order, and
the filter's state is touched by the worker alone while it runs ahead, so the output is that of the
serial chain (tested whole against chunked).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from dsp.filters import StreamingFilter, kernel_input

#: One filtered piece: outputs of every step, the raw input as float64, and how many of the first
#: outputs precede the filter's first valid one (its pipeline latency, at the start of a stream).
Filtered = tuple[np.ndarray, np.ndarray, int]


def _filter_piece(filt: StreamingFilter, raw: np.ndarray) -> Filtered:
    raw = kernel_input(raw)
    skip = max(0, filt.latency_samples - filt.n_in)
    y = np.empty(raw.shape)
    kept = np.empty(raw.shape)
    filt.advance_into(raw, y, kept)
    return y, kept, skip


def filter_ahead(filt: StreamingFilter, pieces: Sequence[np.ndarray]) -> Iterator[Filtered]:
    """Yield each piece filtered, the next one being filtered meanwhile on a worker thread.

    The caller must not use ``filt`` until the iterator is exhausted or closed.
    """
    if not pieces:
        return
    pool = _worker()
    pending = pool.submit(_filter_piece, filt, pieces[0])
    try:
        for piece in pieces[1:]:
            done = pending.result()
            pending = pool.submit(_filter_piece, filt, piece)
            yield done
        yield pending.result()
    finally:  # closed early (an error downstream): the filter is the caller's again afterwards
        pending.result()


_pool: ThreadPoolExecutor | None = None


def _worker() -> ThreadPoolExecutor:
    """One filter thread for the process (started once: a night comes in thousands of chunks)."""
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(1, thread_name_prefix="calfwatch-filter")
    return _pool
