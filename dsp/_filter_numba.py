"""Numba kernel of the SOS cascade: direct form II transposed, float64 state, sections pipelined.

Section ``k`` processes sample ``t - k`` at step ``t``, so every section of a step is independent and
the section loop vectorises. Each section performs exactly the operations of
``scipy.signal.sosfilt`` in the same order, so the output is bit-identical to it on finite data.
"""

from __future__ import annotations

from numba import njit, prange

#: State magnitudes below this are flushed to zero (denormal guard), every FLUSH_EVERY steps.
DENORMAL_FLOOR = 1e-30
FLUSH_EVERY = 64


@njit(cache=True, boundscheck=False, nogil=True)
def _run_channel(coef, x, z1, z2, pipe, step0, y):
    """Advance one channel by ``x.shape[0]`` steps; ``y[i]`` is the last section's output at step i."""
    n_sec = coef.shape[1]
    b0 = coef[0]
    b1 = coef[1]
    b2 = coef[2]
    a1 = coef[3]
    a2 = coef[4]
    xa = pipe[0]
    xb = pipe[1]
    for i in range(x.shape[0]):
        t = step0 + i
        if t % FLUSH_EVERY == 0:
            for k in range(n_sec):
                if abs(z1[k]) < DENORMAL_FLOOR:
                    z1[k] = 0.0
                if abs(z2[k]) < DENORMAL_FLOOR:
                    z2[k] = 0.0
        xa[0] = x[i]
        for k in range(n_sec):
            xv = xa[k]
            yk = b0[k] * xv + z1[k]
            nz1 = b1[k] * xv - a1[k] * yk + z2[k]
            nz2 = b2[k] * xv - a2[k] * yk
            ok = xv == xv
            z1[k] = nz1 if ok else 0.0
            z2[k] = nz2 if ok else 0.0
            xb[k + 1] = yk
        y[i] = xb[n_sec]
        xa, xb = xb, xa
    # keep the in-flight values in pipe[0] for the next call
    if x.shape[0] % 2 == 1:
        for k in range(n_sec + 1):
            pipe[0, k] = pipe[1, k]


@njit(cache=True, boundscheck=False, parallel=True)
def run_cascade(coef, x, z1, z2, pipe, step0, y):
    """Advance every channel of ``x`` (channels, samples) in parallel; state arrays updated in place."""
    for c in prange(x.shape[0]):
        _run_channel(coef, x[c], z1[c], z2[c], pipe[c], step0, y[c])


@njit(cache=True, boundscheck=False, nogil=True)
def run_cascade_serial(coef, x, z1, z2, pipe, step0, y):
    """Same as :func:`run_cascade` without threads (cheaper for small chunks)."""
    for c in range(x.shape[0]):
        _run_channel(coef, x[c], z1[c], z2[c], pipe[c], step0, y[c])
