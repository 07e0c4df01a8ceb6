"""Numba kernel of the SOS cascade: direct form II transposed, float64 state, sections pipelined.

At step ``t`` section ``k`` processes sample ``t - (k + 1) * SKEW``: every section of a step is
independent of the others, so the section loop vectorises. Section ``k`` reads what section ``k - 1``
wrote ``SKEW`` steps earlier (a ring of ``RING`` rows), which keeps the pipeline out of the
processor's store-to-load forwarding path (twice as fast as a one-step pipeline). The last
section's output at step ``t`` is that of sample ``t - n_sections * SKEW``.

State per channel: ``state[c, 0]`` and ``state[c, 1]`` (the two delays of every section),
``ring[c]`` (RING, n_sections + 1) of values in flight and ``level[c]``, the input's level at its
last restart; the absolute step number selects the ring row and the denormal flushes, so the result
does not depend on how the input is split.

A missing sample (NaN or +-inf) resets the sections it passes through to zero state. The input
enters relative to its first finite sample after the start and after every missing one
(``level``, NaN until then): for a cascade that blocks DC, as a band-pass does, that is the filter
started at rest at that sample's level (``scipy.signal.sosfilt_zi`` x the sample), so the
electrode's DC offset (tens to hundreds of mV on a DC-coupled amplifier) does not ring through
the cascade at every restart. Each section then performs the operations of
``scipy.signal.sosfilt`` on ``x - level`` in the same order: bit-identical to it on finite data.
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
#: Arguments of the entry points with a leading channel axis; ``coef`` and ``step0`` are shared by
#: every channel (callers split the channels over threads, :class:`dsp._threads.SplitKernel`).
PER_CHANNEL = {
    name: ("x", "state", "ring", "level", "y") + (("kept",) if "keep" in name else ())
    for name in ("run_lanes", "run_one_serial", "run_one_keep_serial", "run_lanes_keep_serial",
                 "run_cascade_serial", "run_cascade_keep_serial")
}


@njit(cache=True, boundscheck=False, nogil=True)
def _flush_denormals(z1, z2):
    for k in range(z1.shape[0]):
        if abs(z1[k]) < DENORMAL_FLOOR:
            z1[k] = 0.0
        if abs(z2[k]) < DENORMAL_FLOOR:
            z2[k] = 0.0


# Compiled inside its caller (numba inlines it): one function less to compile on a cold cache.
@njit(cache=True, boundscheck=False, nogil=True, inline="always")
def run_channel(coef, x, state, ring, level, step0, y):
    """Advance one channel by ``x.shape[0]`` steps; ``y[i]`` is the last section's output at step i.

    ``coef`` (5, n_sec): b0, b1, b2, a1, a2 per section; ``state`` (2, n_sec); ``ring`` (RING, n_sec + 1);
    ``level`` (1,): the input's level since its last restart (NaN: the next finite sample sets it).
    :func:`run_lanes` repeats this step for several channels rather than sharing it through a
    helper: with a shared (inlined) step, one channel ran 25 % slower and several 5 %.
    """
    n_sec = coef.shape[1]
    # local copies: separate allocations let the compiler vectorise without alias checks (copied
    # by loops: numba's slice assignment compiles its broadcasting and error messages, seconds)
    c = np.empty((7, n_sec))
    r = np.empty((RING, n_sec + 1))
    for k in range(n_sec):
        for j in range(5):
            c[j, k] = coef[j, k]
        c[5, k] = state[0, k]
        c[6, k] = state[1, k]
    for j in range(RING):
        for k in range(n_sec + 1):
            r[j, k] = ring[j, k]
    mask = RING - 1
    lv = level[0]
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
        if xi - xi == 0.0:  # +-inf is a missing sample, as NaN is
            if lv != lv:
                lv = xi
            r[dst, 0] = xi - lv
        else:
            lv = np.nan
            r[dst, 0] = np.nan
        y[i] = r[dst, n_sec]
    level[0] = lv
    for k in range(n_sec):
        state[0, k] = c[5, k]
        state[1, k] = c[6, k]
    for j in range(RING):
        for k in range(n_sec + 1):
            ring[j, k] = r[j, k]


@njit(cache=True, boundscheck=False, nogil=True)
def run_lanes(coef, x, state, ring, level, step0, y):
    """Advance several channels at once, their sections side by side as one row of lanes.

    Channel ``ch``'s sections are lanes ``ch * n_sec ..``; the ring column after a channel's last
    section is also the next channel's input, so each step reads the outputs before it writes the
    inputs. Every lane performs the operations of :func:`run_channel`, so the numbers are the same;
    one row of lanes vectorises better than channel after channel (per channel, 15-30 % faster on
    2-8 channels) and enters the kernel once per call. One channel alone runs faster in
    :func:`run_channel`.
    """
    bounds = np.empty(2, np.int64)
    bounds[0], bounds[1] = 0, x.shape[1]
    _lanes_pieces(coef.reshape((1, coef.shape[0], coef.shape[1])), bounds, x, state, ring,
                  level, step0, y)


# Compiled inside its callers (inline): the lanes of run_lanes, with the coefficients of each
# piece of the input (a cascade whose notches move, dsp._line_track) loaded at its first step.
@njit(cache=True, boundscheck=False, nogil=True, inline="always")
def _lanes_pieces(coefs, bounds, x, state, ring, level, step0, y):
    n_ch, n_sec = x.shape[0], coefs.shape[2]
    n_lane = n_ch * n_sec
    c = np.empty((7, n_lane))
    r = np.zeros((RING, n_lane + 1))
    for ch in range(n_ch):  # copied by loops, as in run_channel
        a = ch * n_sec
        for k in range(n_sec):
            c[5, a + k] = state[ch, 0, k]
            c[6, a + k] = state[ch, 1, k]
            for j in range(RING):  # the last column is only read where written
                r[j, a + k] = ring[ch, j, k]
    mask = RING - 1
    for p in range(coefs.shape[0]):
        for ch in range(n_ch):
            a = ch * n_sec
            for k in range(n_sec):
                for j in range(5):
                    c[j, a + k] = coefs[p, j, k]
        for i in range(bounds[p], bounds[p + 1]):
            t = step0 + i
            if t % FLUSH_EVERY == 0:
                _flush_denormals(c[5], c[6])
            src = (t - SKEW) & mask
            dst = t & mask
            for k in range(n_lane):  # as in run_channel
                xv = r[src, k]
                yk = c[0, k] * xv + c[5, k]
                nz1 = c[1, k] * xv - c[3, k] * yk + c[6, k]
                nz2 = c[2, k] * xv - c[4, k] * yk
                ok = xv == xv
                c[5, k] = nz1 if ok else 0.0
                c[6, k] = nz2 if ok else 0.0
                r[dst, k + 1] = yk
            for ch in range(n_ch):
                y[ch, i] = r[dst, (ch + 1) * n_sec]
            for ch in range(n_ch):  # the input relative to its level, as in run_channel
                xi = x[ch, i]
                if xi - xi == 0.0:
                    if level[ch] != level[ch]:
                        level[ch] = xi
                    r[dst, ch * n_sec] = xi - level[ch]
                else:
                    level[ch] = np.nan
                    r[dst, ch * n_sec] = np.nan
    for ch in range(n_ch):
        a = ch * n_sec
        for k in range(n_sec):
            state[ch, 0, k] = c[5, a + k]
            state[ch, 1, k] = c[6, a + k]
            for j in range(RING):
                ring[ch, j, k] = r[j, a + k]


# Compiled inside its callers (inline): a function less to compile on a cold cache. (Inlining
# _flush_denormals as well made one channel's filter 4 % slower.)
@njit(cache=True, boundscheck=False, nogil=True, inline="always")
def _keep(x, kept):
    for c in range(x.shape[0]):
        for i in range(x.shape[1]):
            kept[c, i] = x[c, i]


# The chain calls the kernel its channel count needs (one channel or lanes), with or without a
# copy of the input, so that a run compiles only what it uses (a cold cache costs seconds per kernel).
@njit(cache=True, boundscheck=False, nogil=True)
def run_one_serial(coef, x, state, ring, level, step0, y):
    """:func:`run_channel` on the one channel of ``x`` (1, samples)."""
    run_channel(coef, x[0], state[0], ring[0], level, step0, y[0])


@njit(cache=True, boundscheck=False, nogil=True)
def run_one_keep_serial(coefs, bounds, x, state, ring, level, step0, y, kept):
    """:func:`run_one_serial` that also copies the input to ``kept`` (float64), in pieces:
    samples ``bounds[p]`` to ``bounds[p + 1]`` of ``x`` run with the coefficients ``coefs[p]``
    (pieces, 5, n_sec). A cascade whose notches move changes them between two samples, its state
    kept, in one call (no copy of the pieces, no call per piece)."""
    _keep(x, kept)
    for p in range(coefs.shape[0]):
        a, b = bounds[p], bounds[p + 1]
        run_channel(coefs[p], x[0, a:b], state[0], ring[0], level, step0 + a, y[0, a:b])


@njit(cache=True, boundscheck=False, nogil=True)
def run_lanes_keep_serial(coefs, bounds, x, state, ring, level, step0, y, kept):
    """:func:`run_lanes` that also copies the input to ``kept`` (float64), on the same thread as
    the filter of those channels, in pieces as :func:`run_one_keep_serial`."""
    _keep(x, kept)
    _lanes_pieces(coefs, bounds, x, state, ring, level, step0, y)


@njit(cache=True, boundscheck=False, nogil=True)
def run_cascade_serial(coef, x, state, ring, level, step0, y):
    """Advance every channel of ``x`` (channels, samples); state updated in place (callers split
    channels over threads with :func:`dsp._threads.split_run`)."""
    if x.shape[0] == 1:
        run_channel(coef, x[0], state[0], ring[0], level, step0, y[0])
    else:
        run_lanes(coef, x, state, ring, level, step0, y)


@njit(cache=True, boundscheck=False, nogil=True)
def run_cascade_keep_serial(coef, x, state, ring, level, step0, y, kept):
    """:func:`run_cascade_serial` that also copies the input to ``kept`` (float64), on the same
    thread as the filter of those channels."""
    _keep(x, kept)
    run_cascade_serial(coef, x, state, ring, level, step0, y)
