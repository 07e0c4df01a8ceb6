"""Numba kernel of candidate detection: threshold with hysteresis, merging, dead time, walk-back onset.

An event ends where ``|y|`` stays below the larger of ``k_lo`` sigma and ``end_frac`` x its own
peak for ``merge_gap`` samples: the tail of a large potential (and the filters' response to it) is
far above a few sigma for tens of ms, but falls below a fixed fraction of the peak as fast as the
tail of a small one. Activity longer than ``max_len`` (superimposed potentials, interference) is
cut into pieces of ``max_len`` samples flagged ``continuous`` (column 3 of the output), so that
nothing is lost for being long and the classifier can see sustained activity.

The band-pass rings after a large potential (the high-pass for tens of ms, the mains notches for
hundreds, a few % of its size). When an event of at least ``ring_min_k`` sigma closes, the filters'
response to it alone is predicted (its raw samples, less a baseline line, filtered by ``sos`` and
followed by zeros; for the last piece of activity cut into pieces, the raw samples of the whole run
when it is no longer than two pieces, since the filters ring after all of it) and subtracted from the signal over the next ``ring_len`` samples (echo
cancellation: the filters are linear, so what remains is the noise and any potential arriving in
the ringing, which is then found at its own size, not merged with the ringing nor hidden under a
raised threshold). The raw segment goes on up to ``ring_ext`` samples past the event's end, over
the potential's raw tail, when nothing arrives in them (:func:`_segment_end`), and the mains line
fitted before it is taken out of it (:func:`_line_fit`: the notches took the line out of the
signal, not out of a segment filtered alone). The prediction misses what the raw segment leaves
out (a tail beyond it, the baseline's error): ``ring_factor`` x the predicted response's envelope
is added to the threshold for that, ``ring_ext_factor`` x from the end of a segment that took its
tail. Predictions are kept in a ring buffer indexed by
absolute sample (three parts of ``RING_PART``: the margin, the signed prediction, the sample each
entry belongs to), so they carry over calls like the rest of the state; overlapping predictions
add. All comparisons, onsets, ends and energies use the signal less the predictions. ``out_e``
gets each row's energy in the band-passed signal: its own samples' and its predicted response's.

Per-channel state (int64 vector, see ``ST_*``) is carried between calls, so the result does not depend
on how the samples are split. ``y[i]`` is sample ``y0 + i``; ``sig[j]`` is the noise sigma of block
``b0 + j`` (``block_len`` samples each). A sample of block ``b`` is compared with the sigma of block
``b - lag`` (``lag`` = 1: the floor as known before the block began, so a candidate is found as soon
as its samples are in; lag = 0 waits for the end of its block).
"""

from __future__ import annotations

import numpy as np
from numba import njit

(ST_IN_EVENT, ST_FIRST, ST_LAST, ST_PEAK, ST_DEAD_UNTIL, ST_TOO_LONG, ST_LAST_BAD, ST_PREV_OFF,
 ST_RING_FROM, ST_RING_UNTIL, ST_RUN_START) = range(11)
N_STATE = 11
#: Samples of each part of the ring buffer of predicted responses (a power of two above twice the
#: longest window; longer windows are cut to half of it: 4 s at 4 kHz).
RING_PART = 1 << 15
#: Length of the ring buffer: margin, signed prediction and sample stamp, ``RING_PART`` each.
RING_LEN = 3 * RING_PART
#: Arguments of :func:`detect_serial` with a leading channel axis; the others are shared by every
#: channel (callers split the channels over threads, :class:`dsp._threads.SplitKernel`).
PER_CHANNEL = {"detect_serial": ("y", "sig", "st", "peak_abs", "out", "counts", "raw", "ring", "out_e")}
#: Columns of the rows written to ``out``, and the bits of its ``ROW_FLAGS`` column.
ROW_ONSET, ROW_OFFSET, ROW_PEAK, ROW_FLAGS = range(4)
FLAG_CONTINUOUS, FLAG_JOINED = 1, 2
#: A fitted mains sinusoid is taken out of a segment when its amplitude is this many standard
#: errors of the fit or more (calfwatch choice: noise alone passes 3 standard errors about once in
#: 90 fits of one sinusoid).
LINE_MIN_SE = 3.0
#: The mains line is fitted at its first harmonics (those of most of a hum's power, and those a
#: short window can tell apart from the noise: two sinusoids and an offset and slope per 40 ms).
LINE_HARMONICS = 3


@njit(cache=True, boundscheck=False, nogil=True)
def _onset(y, y0, first, limit, level, quiet, walk_max):
    """Walk back from ``first`` to the end of the first run of ``quiet`` samples below ``level``."""
    run = 0
    stop = max(limit, first - walk_max)
    for j in range(first - 1, stop - 1, -1):
        if abs(y[j - y0]) <= level:
            run += 1
            if run >= quiet:
                return j + quiet
        else:
            run = 0
    return stop


def line_frequencies(sos: np.ndarray) -> np.ndarray:
    """The frequencies (rad/sample) :func:`_line_fit` fits: those of the cascade's notches (second-
    order sections whose numerator is ``g (1, -2 cos w0, 1)``, 0 < w0 < pi) at the first
    ``LINE_HARMONICS`` harmonics of the lowest, ascending; empty without a notch. Computed once per
    cascade, not in the kernel: a cold cache compiles less.

    Examples
    --------
    >>> from dsp.filters import design_sos
    >>> w = line_frequencies(design_sos(1000.0, mains_hz=50.0))
    >>> [round(float(f) * 1000.0 / (2 * np.pi), 6) for f in w]
    [50.0, 100.0, 150.0]
    """
    b0, b1, b2 = (np.asarray(sos, np.float64)[:, k] for k in range(3))
    notch = (b0 != 0.0) & (np.abs(b2 - b0) <= 1e-12 * np.abs(b0)) & (
        np.abs(b1) < 2.0 * np.abs(b0) * (1 - 1e-9))
    w = np.sort(np.arccos(-b1[notch] / (2.0 * b0[notch])))
    return w[w <= LINE_HARMONICS * w[0] * (1.0 + 1e-6)] if w.size else w


@njit(cache=True, boundscheck=False, nogil=True)
def _line_fit(raw, r0, a, n_fit, w, max_rms):
    """The mains line in ``raw[a - n_fit : a]``: rows (w, cos amplitude, sin amplitude) of the
    least-squares fit of sinusoids at the frequencies ``w`` (:func:`line_frequencies`, ascending;
    phase origin at ``a``), with an offset and a slope fitted beside them; a sinusoid under
    ``LINE_MIN_SE`` standard errors has zero amplitude. No rows when ``w`` is empty, the window
    is shorter than a period of its first frequency, a sample is missing, or what the fit leaves
    has an RMS above ``max_rms`` (something else is in the window: a QRS's slow waves, a
    potential)."""
    if w.size == 0 or n_fit < 2 or a - n_fit < r0 or n_fit * w[0] < 2.0 * np.pi:
        return np.zeros((0, 3))
    m = 2 * w.size + 2
    gram = np.zeros((m, m))
    rhs = np.zeros(m)
    row = np.empty(m)
    for i in range(n_fit):
        t = float(i - n_fit)
        v = raw[a - n_fit + i - r0]
        row[0], row[1] = 1.0, t / n_fit
        for k in range(w.size):
            row[2 + 2 * k] = np.cos(w[k] * t)
            row[3 + 2 * k] = np.sin(w[k] * t)
        for p in range(m):
            rhs[p] += row[p] * v
            for q in range(m):
                gram[p, q] += row[p] * row[q]
    # Gaussian elimination with partial pivoting (no LAPACK call to compile)
    for col in range(m):
        piv = col
        for r in range(col + 1, m):
            if abs(gram[r, col]) > abs(gram[piv, col]):
                piv = r
        if not abs(gram[piv, col]) > 1e-12 * n_fit:  # singular (too short a window)
            return np.zeros((0, 3))
        for c in range(m):
            gram[col, c], gram[piv, c] = gram[piv, c], gram[col, c]
        rhs[col], rhs[piv] = rhs[piv], rhs[col]
        for r in range(col + 1, m):
            f = gram[r, col] / gram[col, col]
            for c in range(col, m):
                gram[r, c] -= f * gram[col, c]
            rhs[r] -= f * rhs[col]
    coef = np.empty(m)
    for r in range(m - 1, -1, -1):
        v = rhs[r]
        for c in range(r + 1, m):
            v -= gram[r, c] * coef[c]
        coef[r] = v / gram[r, r]
    if not np.isfinite(rhs[0]):  # a missing sample (NaN) reaches every right-hand side
        return np.zeros((0, 3))
    rss = 0.0
    for i in range(n_fit):
        t = float(i - n_fit)
        v = raw[a - n_fit + i - r0] - coef[0] - coef[1] * t / n_fit
        for k in range(w.size):
            v -= coef[2 + 2 * k] * np.cos(w[k] * t) + coef[3 + 2 * k] * np.sin(w[k] * t)
        rss += v * v
    if not rss <= max_rms * max_rms * n_fit:
        return np.zeros((0, 3))
    # a sinusoid whose amplitude is within LINE_MIN_SE standard errors of the noise's is left out:
    # taking a fit of the noise out of the segment would add to the prediction's error
    se2 = 2.0 * rss / (n_fit - m) / n_fit if n_fit > m else np.inf
    out = np.zeros((w.size, 3))
    for k in range(w.size):
        out[k, 0] = w[k]
        if coef[2 + 2 * k] ** 2 + coef[3 + 2 * k] ** 2 > LINE_MIN_SE ** 2 * se2:
            out[k, 1], out[k, 2] = coef[2 + 2 * k], coef[3 + 2 * k]
    return out


@njit(cache=True, boundscheck=False, nogil=True, inline="always")
def _line_at(line, t):
    """The fitted line (:func:`_line_fit`) ``t`` samples after its phase origin."""
    v = 0.0
    for k in range(line.shape[0]):
        v += line[k, 1] * np.cos(line[k, 0] * t) + line[k, 2] * np.sin(line[k, 0] * t)
    return v


@njit(cache=True, boundscheck=False, nogil=True)
def _response(raw, r0, a, b, edge, sos, n_after, line):
    """The cascade's response to ``raw[a:b]`` (absolute indices) less the mains ``line`` fitted
    before it (:func:`_line_fit`, phase origin at ``a``; the notches took the line out of the
    signal, but not out of a segment filtered alone, after which they would ring with it) and less
    the line joining the means of the ``edge`` samples before and after it, followed by
    ``n_after`` zeros. Empty when a raw sample is missing."""
    n_seg = b - a
    pre = 0.0
    post = 0.0
    for k in range(edge):
        pre += raw[a - edge + k - r0] - _line_at(line, k - edge)
        post += raw[b + k - r0] - _line_at(line, n_seg + k)
    pre /= edge
    post /= edge
    x = np.zeros(n_seg + n_after)
    total = 0.0  # summed here, in order: array.sum() compiles numpy's axis handling (cold cache)
    for k in range(n_seg):
        x[k] = raw[a + k - r0] - _line_at(line, k) - (pre + (post - pre) * k / max(1, n_seg - 1))
        total += x[k]
    if not np.isfinite(pre + post + total):
        return np.zeros(0)
    _cascade_in_place(x, sos)
    return x


@njit(cache=True, boundscheck=False, nogil=True, inline="always")
def _cascade_in_place(x, sos):
    """Filter ``x`` in place through the cascade from zero state (direct form II transposed,
    float64 state, denormals guarded), with the numbers of one section after the other.

    Computed as a wavefront: at step ``t`` section ``s`` takes sample ``t - s``, so that the
    sections' chains of dependent operations run side by side (one vectorised loop over the
    sections) instead of one after the other. Before its first sample a section takes zeros, which
    leave its zero state and output exactly zero.
    """
    n_sec, n = sos.shape[0], x.size
    state = np.zeros((3, n_sec))  # per section: z1, z2 and the input it takes at this step
    for t in range(n + n_sec - 1):
        state[2, 0] = x[t] if t < n else 0.0
        yi = 0.0
        for sec in range(n_sec):
            xi = state[2, sec]
            yi = sos[sec, 0] * xi + state[0, sec]
            u = sos[sec, 1] * xi - sos[sec, 4] * yi + state[1, sec]
            v = sos[sec, 2] * xi - sos[sec, 5] * yi
            state[0, sec] = 0.0 if abs(u) < 1e-200 else u
            state[1, sec] = 0.0 if abs(v) < 1e-200 else v
            state[2, sec] = yi
        if t >= n_sec - 1:
            x[t - n_sec + 1] = yi
        for sec in range(n_sec - 1, 0, -1):  # each output moves on to the next section
            state[2, sec] = state[2, sec - 1]


@njit(cache=True, boundscheck=False, nogil=True, inline="always")
def _window_max_abs(x, half):
    """``out[j]`` = max of ``|x|`` over ``x[j - half : j + half + 1]`` (within ``x``), in O(n).

    The van Herk / Gil-Werman scheme: with ``x`` padded by ``half`` zeros on each side (which
    change no max of magnitudes), every window is ``w = 2 half + 1`` long and spans at most two
    blocks of ``w``: its max is the larger of the max from its start to its first block's end and
    the max from its last block's start to its end.
    """
    n, w = x.size, 2 * half + 1
    n_pad = n + 2 * half
    from_start = np.empty(n_pad)  # max from the start of the sample's block
    to_end = np.empty(n_pad)  # max to the end of the sample's block
    for i in range(n_pad):
        v = abs(x[i - half]) if half <= i < n + half else 0.0
        from_start[i] = v if i % w == 0 else max(from_start[i - 1], v)
    for i in range(n_pad - 1, -1, -1):
        v = abs(x[i - half]) if half <= i < n + half else 0.0
        to_end[i] = v if i == n_pad - 1 or (i + 1) % w == 0 else max(to_end[i + 1], v)
    out = np.empty(n)
    for j in range(n):
        out[j] = max(to_end[j], from_start[j + w - 1])
    return out


@njit(cache=True, boundscheck=False, nogil=True)
def _tail_samples(resp, w, level, n_max, tau):
    """Samples to add to a predicted response whose last ``w`` samples still exceed ``level``:
    ``tau ln(tail / level)``, the time its slowest pole (time constant ``tau`` samples) takes to
    bring the tail below the level, at most ``n_max``; 0 when the tail is below it already."""
    if n_max <= 0 or tau <= 0.0 or level <= 0.0:
        return 0
    last = 0.0
    for t in range(max(0, resp.size - w), resp.size):
        last = max(last, abs(resp[t]))
    if last <= level:
        return 0
    return min(n_max, int(tau * np.log(last / level)) + 1)


@njit(cache=True, boundscheck=False, nogil=True)
def _predict_ring(raw, r0, onset, offset, seg_end, edge, sos, n_after, factors, near, ring, st,
                  y, yr, y0, tail, line):
    """Store the response to ``raw[onset - edge : seg_end]`` from ``offset`` on in the ring buffer
    (signed, to subtract, and a margin: ``factors`` = (near, far, extended) x its envelope: near
    over the first ``near`` samples after ``offset``, far after; extended instead of near from
    ``seg_end`` on when the segment goes past ``offset``), set ``yr`` to ``y`` less the stored
    predictions where it holds those samples (in the same order of sums as :func:`_residual`, so
    that chunks give the same result), and return its energy (sum of squares, µV^2 samples).
    ``tail`` = (level, longest window, time constant in samples): a response still above
    ``level`` at the end of ``n_after`` samples is followed on until it decays below it
    (:func:`_tail_samples`)."""
    a = onset - edge
    if a - edge < r0 or seg_end + edge - r0 > raw.size:
        return 0.0
    n_after = min(n_after, RING_PART // 2)
    resp = _response(raw, r0, a, seg_end, edge, sos, n_after, line)
    if resp.size == 0:
        return 0.0
    n_more = _tail_samples(resp, 2 * edge, tail[0], min(int(tail[1]), RING_PART // 2) - n_after,
                           tail[2])
    if n_more > 0:
        n_after += n_more
        resp = _response(raw, r0, a, seg_end, edge, sos, n_after, line)
    mask = RING_PART - 1
    until = st[ST_RING_UNTIL]
    if offset > until:
        st[ST_RING_FROM] = offset
    energy = 0.0
    # the response oscillates: its envelope is the max of |resp| over +-2 edges (20 ms)
    envelope = _window_max_abs(resp, 2 * edge)
    for t in range(offset, seg_end + n_after):
        p = resp[t - a]
        energy += p * p
        if t >= offset + near:
            v = factors[1] * envelope[t - a]
        elif t >= seg_end > offset:
            v = factors[2] * envelope[t - a]
        else:
            v = factors[0] * envelope[t - a]
        m = t & mask
        if t >= until:
            ring[m] = v
        elif v > ring[m]:
            ring[m] = v
        if ring[2 * RING_PART + m] == t:  # overlapping predictions add (the filters are linear)
            ring[RING_PART + m] += p
        else:
            ring[RING_PART + m] = p
            ring[2 * RING_PART + m] = t
        if y0 <= t < y0 + yr.size:
            yr[t - y0] = y[t - y0] - ring[RING_PART + m]
    st[ST_RING_UNTIL] = max(until, seg_end + n_after)
    return energy


@njit(cache=True, boundscheck=False, nogil=True)
def _segment_end(raw, r0, onset, offset, s, ext, edge, sos, factors, hi_t, ring, st, y, y0, line):
    """Where the raw segment whose response is predicted ends: ``offset + ext`` when it checks
    out (below), ``offset`` else.

    A potential's raw tail goes on past the end of its candidate (where the band-passed signal
    fell below a fraction of its peak), and the filters' response to that tail is what the
    prediction from the candidate's samples alone misses. Those samples are in already (the
    scan runs behind the input by the measurements' margin). They join the segment when nothing
    in them (and the ``edge`` samples after them, the baseline's) crosses the threshold with the
    response to ``raw[onset - edge : offset]`` taken away and its margin (``factors[0]``) added,
    and when nothing in the ``ext`` samples after those crosses it with the response to the
    longer segment taken away and its smaller margin (``factors[2]``): a tail longer than
    ``ext`` (the slow waves after a QRS) keeps the candidate's segment and its margin."""
    b = offset + ext
    a = onset - edge
    if (ext <= 0 or a - edge < r0 or b + edge - r0 > raw.size
            or b + edge + ext - y0 > y.size):
        return offset
    mask = RING_PART - 1
    r_from, r_until = st[ST_RING_FROM], st[ST_RING_UNTIL]
    for second in range(2):
        seg_end, factor = (b, factors[2]) if second else (offset, factors[0])
        t0, t1 = (b + edge, b + edge + ext) if second else (s, b + edge)
        resp = _response(raw, r0, a, seg_end, edge, sos, t1 - seg_end, line)
        if resp.size == 0:
            return offset
        envelope = _window_max_abs(resp, 2 * edge)
        for t in range(t0, t1):
            margin = factor * envelope[t - a]
            if r_from <= t < r_until:
                margin = max(margin, ring[t & mask])
            if abs(y[t - y0] - resp[t - a]) > hi_t + margin:
                return offset
    return b


@njit(cache=True, boundscheck=False, nogil=True)
def _residual(y, y0, ring, until):
    """``y`` less the predicted responses stored for its samples: a copy, or ``y`` itself when no
    prediction reaches it (none is ever stored for a sample at or after ``until``, the end of the
    latest one). The caller copies ``y`` before it stores a new prediction in it."""
    if until <= y0:
        return y
    yr = y.copy()
    mask = RING_PART - 1
    for i in range(min(y.size, until - y0)):
        t = y0 + i
        if ring[2 * RING_PART + (t & mask)] == t:
            yr[i] -= ring[RING_PART + (t & mask)]
    return yr


@njit(cache=True, boundscheck=False, nogil=True)
def _joined(y, y0, prev_off, a, b, level, run, ring, st):
    """1 when the signal from ``a`` (the previous event's end ``prev_off``, or the reach before
    the onset) to this onset ``b`` never returns to baseline: ``run`` samples within ``level``
    plus the predicted ringing. Such potentials are superimposed, not separate; 0 otherwise."""
    if prev_off <= 0 or a != prev_off or b - a <= 0:
        return 0
    quiet_run = 0
    mask = RING_PART - 1
    r_from, r_until = st[ST_RING_FROM], st[ST_RING_UNTIL]
    for j in range(a, b):
        lv = level + (ring[j & mask] if r_from <= j < r_until else 0.0)
        if abs(y[j - y0]) <= lv:
            quiet_run += 1
            if quiet_run >= run:
                return 0
        else:
            quiet_run = 0
    return 1


@njit(cache=True, boundscheck=False, nogil=True)
def _energy(y, y0, a, b):
    """Sum of squares of ``y`` over absolute samples ``a .. b``."""
    total = 0.0
    for j in range(a, b):
        total += y[j - y0] * y[j - y0]
    return total


@njit(cache=True, boundscheck=False, nogil=True)
def _rise(y, y0, first, peak, level):
    """First sample from ``first`` to ``peak`` whose magnitude reaches ``level``."""
    for j in range(first, peak + 1):
        if abs(y[j - y0]) >= level:
            return j
    return peak


@njit(cache=True, boundscheck=False, nogil=True)
def _offset(y, y0, last, now, level, quiet):
    """Walk forward from ``last`` to the start of the first run of ``quiet`` samples below ``level``."""
    run = 0
    for j in range(last + 1, now + 1):
        if abs(y[j - y0]) <= level:
            run += 1
            if run >= quiet:
                return j - quiet + 1
        else:
            run = 0
    return last + 1


# Longer than a screen on purpose (a numba kernel): the event state machine keeps its state in
# locals across the sample loop, the chain's hot path; the steps taken outside that loop (onset,
# offset, joined, ringing, energy) are the helpers above.
# Compiled inside its caller (numba inlines it): one function less to compile on a cold cache.
@njit(cache=True, boundscheck=False, nogil=True, inline="always")
def detect_channel(y, y0, s0, s1, sig, b0, block_len, st, peak_abs, params, out, raw, r0, sos,
                   line_w, ring, out_e):
    """Scan samples ``s0..s1`` of one channel; write (onset, offset, peak, continuous) rows to
    ``out``; return count.

    ``params`` = (k_hi, k_lo, k_onset, quiet, walk_max, merge_gap, min_len, max_len, dead, lag,
    end_frac, ring_factor, ring_min_k, ring_len, edge, ring_near, ring_far, merge_gap_large,
    ring_tail_k, ring_len_max, ring_tau, ring_ext, ring_ext_factor, line_fit, line_fit_k): the
    prediction runs ``ring_len`` samples, and on until it is below ``ring_tail_k`` sigma (at most
    ``ring_len_max``; ``ring_tau``, the cascade's slowest time constant in samples); its raw
    segment takes up to ``ring_ext`` samples after the event's end (:func:`_segment_end`), and then
    its margin is ``ring_ext_factor`` x its envelope in place of ``ring_factor`` x; the mains line
    fitted over the ``line_fit`` samples before the segment is taken out of it (:func:`_line_fit`,
    when what the fit leaves is at most ``line_fit_k`` sigma RMS; ``line_w``, the frequencies it
    fits, :func:`line_frequencies` of ``sos``).
    An event whose end level is ``end_frac`` x its peak (not ``k_lo`` sigma) ends after
    ``merge_gap_large`` quiet samples, and its dead time is no longer than that. ``raw`` holds the unfiltered samples from
    absolute index ``r0``; ``out_e`` gets each row's energy (own samples and predicted response). ``continuous`` is 1 for a piece of activity cut at ``max_len`` and for the piece
    that ends it.
    The scan goes block by block (one sigma each); outside events, runs of samples at or below
    the threshold are skipped in a tight loop. State lives in locals and is written back at the end.
    """
    k_hi, k_lo, k_on = params[0], params[1], params[2]
    quiet, walk_max, merge_gap = int(params[3]), int(params[4]), int(params[5])
    min_len, max_len, dead = int(params[6]), int(params[7]), int(params[8])
    lag = int(params[9])
    end_frac = params[10]
    ring_factor, ring_min_k, ring_len, edge = params[11], params[12], int(params[13]), int(params[14])
    ring_near, ring_far = int(params[15]), params[16]
    gap_large = int(params[17])
    tail_k, tail = params[18], np.empty(3)
    tail[1], tail[2] = params[19], params[20]
    ring_ext = int(params[21])
    factors = np.array([ring_factor, ring_far, params[22]])
    n_fit, fit_k = int(params[23]), params[24]
    mask = RING_PART - 1
    y_in = y
    # the signal less the predicted responses (see the module doc); y_in itself while none reaches it
    y = _residual(y_in, y0, ring, st[ST_RING_UNTIL])
    own = st[ST_RING_UNTIL] > y0  # y is a copy the predictions may be written to
    in_event, first, last, peak = st[ST_IN_EVENT], st[ST_FIRST], st[ST_LAST], st[ST_PEAK]
    dead_until, too_long, last_bad, prev_off = (
        st[ST_DEAD_UNTIL], st[ST_TOO_LONG], st[ST_LAST_BAD], st[ST_PREV_OFF])
    run_start = st[ST_RUN_START]
    best = peak_abs[0]
    n_out = 0
    s = s0
    while s < s1:
        blk = s // block_len
        e = min(s1, (blk + 1) * block_len)
        j = blk - lag - b0
        sg = sig[j] if j >= 0 else np.nan
        if not (sg > 0.0):
            in_event = 0
            last_bad = e - 1
            s = e
            continue
        hi_t = k_hi * sg
        lo_t = k_lo * sg
        while s < e:
            thr = hi_t
            if in_event == 0 and s >= dead_until:
                r_from, r_until = st[ST_RING_FROM], st[ST_RING_UNTIL]
                if r_from <= s < r_until:  # in a predicted response: its own threshold
                    while s < e and s < r_until and abs(y[s - y0]) <= hi_t + ring[s & mask]:
                        s += 1
                    if s < e and s >= r_until:
                        continue
                else:
                    stop = e if s >= r_until or r_from >= e else r_from
                    while s < stop and abs(y[s - y0]) <= hi_t:  # quiet samples: nothing to do
                        s += 1
                    if s == stop and s < e:
                        continue
                if s == e:
                    break
                if r_from <= s < r_until:
                    thr = hi_t + ring[s & mask]
            v = y[s - y0]
            if not (v == v):
                in_event = 0
                last_bad = s
                s += 1
                continue
            a = abs(v)
            if in_event == 1:
                if a > lo_t and a > end_frac * best:
                    last = s
                    if a > best:
                        best = a
                        peak = s
                    if s - first >= max_len:  # cut sustained activity into pieces
                        onset = first
                        if too_long == 0:
                            jf = first // block_len - lag - b0
                            sg0 = sig[jf] if jf >= 0 else sg
                            limit = max(last_bad + 1, prev_off)
                            onset = _onset(y, y0, first, limit, k_on * sg0, quiet, walk_max)
                            run_start = onset
                        if onset > last_bad:
                            out[n_out, 0] = onset
                            out[n_out, 1] = s
                            out[n_out, 2] = peak
                            out[n_out, 3] = 1
                            out_e[n_out] = _energy(y, y0, onset, s)
                            n_out += 1
                            prev_off = s
                        too_long = 1
                        first = s
                        peak = s
                        best = a
                elif s - last > (gap_large if end_frac * best > lo_t else merge_gap):
                    in_event = 0
                    jf = first // block_len - lag - b0
                    sg0 = sig[jf] if jf >= 0 else sg
                    level = k_on * sg0
                    limit = max(last_bad + 1, prev_off)
                    if too_long == 1:  # the end of sustained activity: it starts at the cut
                        onset = first
                    else:  # it starts where it rises above end_frac x its peak (what came
                        # before is ripple under it: e.g. the filters' tail of a potential before)
                        first = _rise(y, y0, first, peak, end_frac * best)
                        onset = _onset(y, y0, first, max(limit, first - walk_max),
                                       max(level, 0.5 * end_frac * best), quiet, walk_max)
                    offset = _offset(y, y0, last, s, max(level, end_frac * best), quiet)
                    length = offset - onset
                    ok = length >= min_len or too_long == 1
                    if ok and onset <= last_bad:
                        ok = False
                    if ok and too_long == 0 and onset == last_bad + 1 and first - walk_max < onset:
                        ok = False  # walked back into a gap: the potential straddles it
                    if ok:
                        out[n_out, 0] = onset
                        out[n_out, 1] = offset
                        out[n_out, 2] = peak
                        out[n_out, 3] = too_long + 2 * _joined(
                            y, y0, prev_off, max(prev_off, last_bad + 1, onset - 2 * walk_max),
                            onset, lo_t, merge_gap, ring, st)
                        out_e[n_out] = _energy(y, y0, onset, offset)
                        if best >= ring_min_k * sg0:
                            if not own:
                                y = y_in.copy()
                                own = True
                            # the filters ring after all of a short run of pieces, not its last
                            start = run_start if (too_long == 1 and run_start > last_bad and
                                                  offset - run_start <= 2 * max_len) else onset
                            tail[0] = tail_k * sg0
                            # the mains line before it, where no candidate was (else none, and
                            # where there are notches no samples past the end: they hold the line)
                            line = (_line_fit(raw, r0, start - edge, n_fit, line_w, fit_k * sg0)
                                    if prev_off <= start - edge - n_fit else np.zeros((0, 3)))
                            ext = ring_ext if line.shape[0] > 0 or line_w.size == 0 else 0
                            seg_end = _segment_end(raw, r0, start, offset, s + 1, ext, edge, sos,
                                                   factors, hi_t, ring, st, y, y0, line)
                            out_e[n_out] += _predict_ring(raw, r0, start, offset, seg_end, edge,
                                                          sos, ring_len, factors, ring_near, ring,
                                                          st, y_in, y, y0, tail, line)
                        n_out += 1
                        prev_off = offset
                    dead_until = max(offset, last + 1) + (
                        min(dead, gap_large) if end_frac * best > lo_t else dead)
            elif s >= dead_until and a > thr:
                in_event = 1
                first = s
                last = s
                peak = s
                too_long = 0
                best = a
            s += 1
    st[ST_IN_EVENT], st[ST_FIRST], st[ST_LAST], st[ST_PEAK] = in_event, first, last, peak
    st[ST_DEAD_UNTIL], st[ST_TOO_LONG], st[ST_LAST_BAD], st[ST_PREV_OFF] = (
        dead_until, too_long, last_bad, prev_off)
    st[ST_RUN_START] = run_start
    peak_abs[0] = best
    return n_out


@njit(cache=True, boundscheck=False, nogil=True)
def detect_serial(y, y0, s0, s1, sig, b0, block_len, st, peak_abs, params, out, counts, raw, r0,
                  sos, line_w, ring, out_e):
    """:func:`detect_channel` over every channel (``y``, ``sig``, ``st``, ``out``, ``raw``,
    ``ring``, ``out_e`` have a channel axis; callers split channels over threads with
    :func:`dsp._threads.split_run`)."""
    for c in range(y.shape[0]):
        counts[c] = detect_channel(
            y[c], y0, s0, s1, sig[c], b0, block_len, st[c], peak_abs[c], params, out[c], raw[c],
            r0, sos, line_w, ring[c], out_e[c]
        )


def new_state(n_channels: int) -> tuple[np.ndarray, np.ndarray]:
    """Fresh detector state: (int64 (n_channels, N_STATE), float64 (n_channels, 1))."""
    st = np.zeros((n_channels, N_STATE), dtype=np.int64)
    st[:, ST_LAST_BAD] = -1
    st[:, ST_RING_FROM] = -1
    st[:, ST_RING_UNTIL] = -1
    return st, np.zeros((n_channels, 1))
