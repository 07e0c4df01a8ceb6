"""Numba helpers the decoder kernels share to find and keep frame alignment.

The Cyton (header and footer) and BITalino (CRC-4) frame checks pass a misaligned read too often to
realign on their own: an alignment is trusted once :data:`CONFIRM` frames in a row pass the check
with counters rising by 1 to :data:`MAX_STEP` (:func:`make_confirmed`), and a counter jump only when
the next frame continues it (:func:`continues`). The delimited protocols (calfwatch COBS frames,
ASCII lines) look for their next delimiter with :func:`next_byte`.

Each protocol kernel inlines these when numba compiles it; its own module holds what is particular
to its frames (the check, where the counter sits). numba's on-disk cache of a protocol kernel is
checked against that kernel's own file only: after editing this module, touch the ``_*_numba.py``
modules that import it (or remove their ``__pycache__/*.nbi``), or they keep the old code.
"""

from __future__ import annotations

from numba import njit

CONFIRM = 3  # frames checked (integrity and counters) to accept a resynchronisation
MAX_STEP = 4  # counter steps accepted while confirming (up to 3 frames lost in between)


@njit(cache=True)
def continues(last, c, cn, modulus):
    """True when c is a real jump from last: the next counter cn follows c, not last."""
    d_c = (c - last) % modulus
    d_n = (cn - last) % modulus
    return 0 < d_c < d_n <= d_c + MAX_STEP


@njit(cache=True)
def next_byte(buf, i, n, value):
    """Position of the first ``value`` in ``buf[i:n]``; ``n`` when there is none."""
    j = i
    while j < n and buf[j] != value:
        j += 1
    return j


def make_confirmed(frame_ok, counter, modulus):
    """The confirmation kernel of one protocol.

    Parameters
    ----------
    frame_ok, counter : numba functions ``f(buf, i, size)``
        Whether the frame at ``i`` passes the protocol's check; its counter (int64).
    modulus : int
        Counter wrap.

    Returns
    -------
    confirmed : numba function ``confirmed(buf, i, n, size, final, max_step)``
        1 when CONFIRM frames from ``i`` pass the check with counters rising by 1 to ``max_step``,
        0 when not, -1 to wait for more bytes. At the end of a stream (``final``) frames that
        cannot be confirmed are not accepted.
    """

    @njit(cache=True)
    def confirmed(buf, i, n, size, final, max_step):
        if not frame_ok(buf, i, size):
            return 0
        prev = counter(buf, i, size)
        for k in range(1, CONFIRM):
            j = i + k * size
            if j + size > n:
                return 0 if final else -1
            c = counter(buf, j, size)
            if not frame_ok(buf, j, size) or not 1 <= (c - prev) % modulus <= max_step:
                return 0
            prev = c
        return 1

    return confirmed
