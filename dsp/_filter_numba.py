"""Numba kernel of the SOS cascade: direct form II transposed, float64 state, sections pipelined.

At step ``t`` section ``k`` processes sample ``t - (k + 1) * SKEW``: every section of a step is
independent of the others, so the section loop vectorises. Section ``k`` reads what section ``k - 1``
wrote ``SKEW`` steps earlier (a ring of ``RING`` rows), which keeps the pipeline out of the
processor's store-to-load forwarding path (twice as fast as a one-step pipeline). Each section
performs exactly the operations of ``scipy.signal.sosfilt`` in the same order, so the output is
bit-identical to it on finite data. The last section's output at step ``t`` is that of sample
``t - n_sections * SKEW``.

State per channel: ``state[c, 0]`` and ``state[c, 1]`` (the two delays of every section) and
``ring[c]`` (RING, n_sections + 1) of values in flight; the absolute step number selects the ring row
and the denormal flushes, so the result does not depend on how the input is split.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: State magnitudes below this are flushed to zero (denormal guard), every FLUSH_EVERY steps.
DENORMAL_FLOOR = 1e-30
FLUSH_EVERY = 64
#: Steps between a section's output and the next section's use of it.
SKEW = 2
#: Rows of the ring of values in flight (a power of two above SKEW).
RING = 4


@njit(cache=True, boundscheck=False, nogil=True)
def _flush_denormals(z1, z2):
    for k in range(z1.shape[0]):
        if abs(z1[k]) < DENORMAL_FLOOR:
            z1[k] = 0.0
        if abs(z2[k]) < DENORMAL_FLOOR:
            z2[k] = 0.0


@njit(cache=True, boundscheck=False, nogil=True)
def run_channel(coef, x, state, ring, step0, y):
    """Advance one channel by ``x.shape[0]`` steps; ``y[i]`` is the last section's output at step i.

    ``coef`` (5, n_sec): b0, b1, b2, a1, a2 per section; ``state`` (2, n_sec); ``ring`` (RING, n_sec + 1).
    """
    n_sec = coef.shape[1]
    # local copies: separate allocations let the compiler vectorise without alias checks
    c = np.empty((7, n_sec))
    c[:5] = coef
    c[5:] = state
    r = ring.copy()
    mask = RING - 1
    for i in range(x.shape[0]):
        t = step0 + i
        if t % FLUSH_EVERY == 0:
            _flush_denormals(c[5], c[6])
        src = (t - SKEW) & mask
        dst = t & mask
        for k in range(n_sec):
            xv = r[src, k]
            yk = c[0, k] * xv + c[5, k]
            nz1 = c[1, k] * xv - c[3, k] * yk + c[6, k]
            nz2 = c[2, k] * xv - c[4, k] * yk
            ok = xv == xv
            c[5, k] = nz1 if ok else 0.0
            c[6, k] = nz2 if ok else 0.0
            r[dst, k + 1] = yk
        xi = x[i]
        r[dst, 0] = xi if xi - xi == 0.0 else np.nan  # +-inf is a missing sample, as NaN is
        y[i] = r[dst, n_sec]
    state[:] = c[5:]
    ring[:] = r


@njit(cache=True, boundscheck=False, nogil=True)
def run_cascade_serial(coef, x, state, ring, step0, y):
    """Advance every channel of ``x`` (channels, samples); state updated in place (callers split
    channels over threads with :func:`dsp._threads.split_run`)."""
    for c in range(x.shape[0]):
        run_channel(coef, x[c], state[c], ring[c], step0, y[c])


@njit(cache=True, boundscheck=False, nogil=True)
def run_cascade_keep_serial(coef, x, state, ring, step0, y, kept):
    """:func:`run_cascade_serial` that also copies the input to ``kept`` (float64), channel by
    channel (so that the copy runs on the same thread as the channel's filter)."""
    for c in range(x.shape[0]):
        for i in range(x.shape[1]):
            kept[c, i] = x[c, i]
        run_channel(coef, x[c], state[c], ring[c], step0, y[c])
