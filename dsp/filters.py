"""Band-pass and mains-notch design, mains detection and the streaming SOS filter.

Designs follow scipy.signal (butter, iirnotch) but are computed in numpy (:mod:`dsp._design`), so the
chain starts without importing scipy. The cascade is a Butterworth band-pass (default 20-450 Hz; a
high-pass alone below 1 kHz sampling, where the upper edge cannot be placed) followed by notches at
the mains frequency and its harmonics up to Nyquist (or ``notch_max_hz``). The numba kernel
(:mod:`dsp._filter_numba`) gives the numbers of :func:`scipy.signal.sosfilt` started at rest at the
level of the first sample (state ``sosfilt_zi`` x that sample), on finite data.

NaN samples mark lost data: the output is NaN there and the filter starts again at rest at the level
of the first valid sample after them, so the signal after a gap is filtered as if it started there,
and an electrode's DC offset (tens to hundreds of mV on a DC-coupled amplifier) rings neither at the
start nor after a gap.
Denormal guard: state magnitudes below 1e-30 are flushed to zero every 64 samples on the absolute
timeline, so zeros after a large impulse cost no more than ordinary data.
"""

from __future__ import annotations

import numpy as np

from dsp import _design, _filter_numba
from dsp._threads import SplitKernel

#: A mains line must exceed its neighbourhood by this power ratio to count as present.
LINE_RATIO = 20.0

#: The band's upper edge is designed only up to this fraction of Nyquist. Above it the sampling
#: rate is too low for the surface-EMG band (450 Hz needs 1 kHz), and a digital low-pass there
#: would cut into the potentials: a Butterworth edge near Nyquist attenuates their fast phases
#: by a third at 500 Hz and rings for tens of ms after them, which stretches one sharp potential
#: into a many-phased compound. The device's anti-alias filter bounds the band instead.
HIGH_EDGE_MAX_NYQUIST = 0.9



def band_top_hz(high_hz: float, sfreq_hz: float) -> float:
    """The upper edge of the band the cascade leaves: ``high_hz`` where it is designed, else
    Nyquist (the device's anti-alias filter, ``HIGH_EDGE_MAX_NYQUIST``).

    Examples
    --------
    >>> band_top_hz(450.0, 2000.0), band_top_hz(450.0, 500.0)
    (450.0, 250.0)
    """
    nyquist_hz = sfreq_hz / 2.0
    return float(high_hz) if high_hz <= HIGH_EDGE_MAX_NYQUIST * nyquist_hz else nyquist_hz


#: Sections are padded with identity sections to a multiple of this (8 float64: one AVX-512 vector).
SECTION_PAD = 8


def design_sos(
    sfreq_hz: float,
    band_hz: tuple[float, float] = (20.0, 450.0),
    mains_hz: float | None = 50.0,
    order: int = 4,
    notch_q: float = 60.0,
    notch_max_hz: float | None = None,
) -> np.ndarray:
    """Design the band-pass + mains-notch cascade as second-order sections.

    Parameters
    ----------
    sfreq_hz : float
        Sampling rate.
    band_hz : (float, float)
        Band-pass edges. When the upper edge lies above ``HIGH_EDGE_MAX_NYQUIST`` x Nyquist
        (0.45 x ``sfreq_hz``: 450 Hz at 1 kHz) the cascade is a high-pass alone.
    mains_hz : float or None
        Mains frequency; None designs no notch.
    order : int
        Butterworth order of each edge (the band-pass has ``2 * order`` poles).
    notch_q : float
        Quality factor of each notch.
    notch_max_hz : float or None
        Highest harmonic notched; None means up to Nyquist.

    Returns
    -------
    sos : ndarray, shape (n_sections, 6)
    """
    nyquist_hz = sfreq_hz / 2.0
    low_hz, high_hz = float(band_hz[0]), float(band_hz[1])
    if not 0.0 < low_hz < min(high_hz, nyquist_hz):
        raise ValueError(f"band-pass {band_hz} Hz is not valid at {sfreq_hz} Hz sampling")
    if high_hz <= HIGH_EDGE_MAX_NYQUIST * nyquist_hz:  # else band_top_hz is Nyquist
        parts = [_design.butter_bandpass_sos(order, low_hz, high_hz, sfreq_hz)]
    else:  # the device's anti-alias filter is the band's upper edge
        parts = [_design.butter_highpass_sos(order, low_hz, sfreq_hz)]
    if mains_hz is not None:
        top_hz = nyquist_hz if notch_max_hz is None else min(notch_max_hz, nyquist_hz)
        for harmonic_hz in np.arange(mains_hz, top_hz, mains_hz):
            if harmonic_hz < 0.98 * nyquist_hz:
                q = notch_q * harmonic_hz / mains_hz  # same bandwidth for every harmonic
                parts.append(_design.notch_sos(harmonic_hz, q, sfreq_hz))
    return np.ascontiguousarray(np.vstack(parts), dtype=np.float64)


#: The cascade has settled once its impulse response stays below this fraction of its peak (-40 dB).
SETTLE_TOL = 0.01


def settling_time_s(sos: np.ndarray, sfreq_hz: float, tol: float = SETTLE_TOL,
                    max_s: float = 10.0) -> float:
    """Time after which the cascade's impulse response stays below ``tol`` x its peak magnitude.

    After a gap every section restarts at rest at the input's new level (:class:`StreamingFilter`):
    the hum and the slopes it had followed start again as steps, so what the filter outputs in
    that time still carries the restart's transient; the chain treats it as lost. Measured on the impulse
    response, not assumed: with the default 20-450 Hz band-pass and Q = 60 notches it is about
    0.64 s at 50 Hz mains and 0.52 s at 60 Hz (1-2 kHz sampling), the notches' ringing being the
    longest part.

    Parameters
    ----------
    sos : ndarray, shape (n_sections, 6)
    sfreq_hz : float
    tol : float
        Fraction of the peak below which the response must stay.
    max_s : float
        Length of impulse response examined.

    Examples
    --------
    >>> sos = design_sos(2000.0, (20.0, 450.0), 50.0)
    >>> round(settling_time_s(sos, 2000.0), 2)
    0.64
    """
    filt = StreamingFilter(sos, 1)
    lat = filt.latency_samples
    x = np.zeros((1, max(2, int(round(max_s * sfreq_hz))) + lat + 1))
    x[0, 1] = 1.0  # after a first sample of 0: the filter's level (StreamingFilter)
    y = np.empty_like(x)
    filt.advance_into(x, y, np.empty_like(x))  # the kernel a one-channel chain runs as well
    h = np.abs(y[0, lat + 1:])
    above = np.flatnonzero(h >= tol * h.max())
    return float(above[-1] + 1) / sfreq_hz


def slowest_time_constant_s(sos: np.ndarray, sfreq_hz: float) -> float:
    """Time constant (s) of the cascade's slowest pole: its ringing decays by e in this time.

    A pole of magnitude ``r`` decays as ``r ** n``: time constant ``-1 / ln(r)`` samples. With Q = 60
    notches the slowest is the notch at the mains frequency, ``Q / (pi f0)``: 0.38 s at 50 Hz.

    Parameters
    ----------
    sos : ndarray, shape (n_sections, 6)
    sfreq_hz : float

    Examples
    --------
    >>> sos = design_sos(2000.0, (20.0, 450.0), 50.0)
    >>> round(slowest_time_constant_s(sos, 2000.0), 2)
    0.38
    """
    r = max(float(np.max(np.abs(np.roots(row[3:])))) for row in np.asarray(sos, dtype=np.float64))
    return 0.0 if r <= 0.0 else float(-1.0 / np.log(r) / sfreq_hz)


def group_delay_samples(sos: np.ndarray, sfreq_hz: float, freq_hz: float | None = None) -> float:
    """Group delay of the cascade (samples) at ``freq_hz`` (default 100 Hz)."""
    freq_hz = 100.0 if freq_hz is None else freq_hz
    return _design.group_delay(np.asarray(sos, dtype=np.float64), freq_hz, sfreq_hz)


def mains_line_scores(x: np.ndarray, sfreq_hz: float) -> dict[float, float]:
    """How far the strongest mains line stands out, at 50 and at 60 Hz.

    For each grid, the strongest line (+-0.5 Hz) at its fundamental or third harmonic relative to
    the median power 5-15 Hz away (Welch spectrum, NaN samples dropped), the largest over channels;
    0 where nothing could be measured (less than a second of data, a harmonic near Nyquist).

    Parameters
    ----------
    x : ndarray, shape (n_samples,) or (n_channels, n_samples)
        Raw signal, µV.
    sfreq_hz : float
        Sampling rate.

    Returns
    -------
    dict
        ``{50.0: ratio, 60.0: ratio}``.

    Examples
    --------
    >>> t = np.arange(20000) / 2000.0
    >>> x = np.random.default_rng(0).normal(0, 5, t.size) + 10 * np.sin(2 * np.pi * 60 * t)
    >>> s = mains_line_scores(x, 2000.0)
    >>> bool(s[60.0] > LINE_RATIO > s[50.0])
    True
    """
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    scores = {50.0: 0.0, 60.0: 0.0}
    for row in x:
        row = row[np.isfinite(row)]
        if row.size < int(sfreq_hz):
            continue
        nper = int(min(row.size, 4 * sfreq_hz))
        freqs, psd = _design.averaged_spectrum(row, sfreq_hz, nper)
        for mains in scores:
            for harmonic in (mains, 3 * mains):
                if harmonic >= sfreq_hz / 2 - 15:
                    continue
                offset = np.abs(freqs - harmonic)
                line = psd[offset <= 0.5].max(initial=0.0)
                ring = psd[(offset >= 5) & (offset <= 15)]
                if ring.size:
                    scores[mains] = max(scores[mains], line / (np.median(ring) + 1e-300))
    return scores


def detect_mains_hz(x: np.ndarray, sfreq_hz: float) -> float:
    """Say whether the mains interference in ``x`` is at 50 or 60 Hz.

    Returns 60.0 only when a 60 Hz line exceeds its neighbourhood by ``LINE_RATIO`` and beats the
    50 Hz lines (:func:`mains_line_scores`), else 50.0: also when no line stands out at all.

    Parameters
    ----------
    x : ndarray, shape (n_samples,) or (n_channels, n_samples)
        Raw signal, µV.
    sfreq_hz : float
        Sampling rate.
    """
    return mains_from_scores(mains_line_scores(x, sfreq_hz))


def mains_from_scores(scores: dict[float, float]) -> float:
    """The grid :func:`detect_mains_hz` decides from :func:`mains_line_scores`."""
    if scores[60.0] > LINE_RATIO and scores[60.0] > scores[50.0]:
        return 60.0
    return 50.0


#: Resolution of the zero-padded spectrum in which the line's frequency is measured (Hz).
LINE_STEP_HZ = 0.005
#: A line measured this close to nominal keeps the nominal notch (a Q 60 notch at 50 Hz still
#: removes 95 % of a line 0.02 Hz off): the same filter as with the mains given.
LINE_SNAP_HZ = 0.02


def measure_line_hz(x: np.ndarray, sfreq_hz: float, mains_hz: float,
                    max_offset_hz: float = 0.5) -> float:
    """The frequency of the mains line in ``x``: where its fundamental (or third harmonic, / 3)
    peaks within ``max_offset_hz`` of ``mains_hz`` (x 3), else ``mains_hz``.

    Grids run up to a few tenths of a hertz off nominal (EN 50160 allows +-1 % at 50 Hz, and
    +-0.1 Hz is common), and a Q 60 notch is 0.83 Hz wide at 50 Hz: 0.1 Hz off it passes a
    quarter of the hum, which then raises the noise floor and hides the potentials (on
    independent scenes with 40 µV of hum at 49.9 Hz, recall at 10 x the noise fell from 0.98 to
    0.79). The notches are centred on the measured line instead. Measured on the Hann-windowed,
    zero-padded spectrum (``LINE_STEP_HZ`` bins) of each channel without lost samples, summed over
    channels, with a parabola through the peak bin and its neighbours (log power). A line that does
    not exceed the median power 5-15 Hz away by ``LINE_RATIO``, or lies within ``LINE_SNAP_HZ`` of
    ``mains_hz``, gives ``mains_hz``.

    Parameters
    ----------
    x : ndarray, shape (n_samples,) or (n_channels, n_samples)
        Raw signal, µV (a few seconds at least: the line's width is about 2 / duration).
    sfreq_hz : float
    mains_hz : float
        Nominal mains frequency (50 or 60).
    max_offset_hz : float
        Largest distance from ``mains_hz`` searched.

    Returns
    -------
    float

    Examples
    --------
    >>> t = np.arange(20000) / 2000.0
    >>> x = 40.0 * np.sin(2 * np.pi * 49.93 * t) + np.random.default_rng(0).normal(0, 5, t.size)
    >>> round(measure_line_hz(x, 2000.0, 50.0), 2)
    49.93
    """
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    rows = [r for r in x if r.size >= int(sfreq_hz) and np.all(np.isfinite(r))]
    if not rows:
        return float(mains_hz)
    n = rows[0].size
    nfft = 1 << int(np.ceil(np.log2(max(n, sfreq_hz / LINE_STEP_HZ))))
    window = np.hanning(n)
    power = sum(np.abs(np.fft.rfft((r - r.mean()) * window, nfft)) ** 2 for r in rows)
    freqs = np.fft.rfftfreq(nfft, 1.0 / sfreq_hz)
    best, best_ratio = float(mains_hz), LINE_RATIO
    for harmonic in (1, 3):
        centre = harmonic * mains_hz
        if centre + harmonic * max_offset_hz >= sfreq_hz / 2 - 15:
            continue
        offset = np.abs(freqs - centre)
        near = np.flatnonzero(offset <= harmonic * max_offset_hz)
        ring = power[(offset >= 5) & (offset <= 15)]
        k = near[np.argmax(power[near])]
        ratio = power[k] / (np.median(ring) + 1e-300)
        if ratio > best_ratio and 0 < k < len(power) - 1:
            lo, mid, hi = np.log(power[k - 1:k + 2] + 1e-300)
            shift = 0.5 * (lo - hi) / (lo - 2 * mid + hi) if lo - 2 * mid + hi < 0 else 0.0
            best, best_ratio = float((freqs[k] + shift * (freqs[1] - freqs[0])) / harmonic), ratio
    return best if abs(best - mains_hz) > LINE_SNAP_HZ else float(mains_hz)


def _coefficients(sos: np.ndarray, min_sections: int = 0) -> np.ndarray:
    """Kernel layout (5, n_padded): b0, b1, b2, a1, a2 of each section, normalised, identity-padded
    (to at least ``min_sections``, rounded up to ``SECTION_PAD``)."""
    sos = np.asarray(sos, dtype=np.float64)
    if sos.ndim != 2 or sos.shape[1] != 6 or np.any(sos[:, 3] == 0):
        raise ValueError("sos must have shape (n_sections, 6) with a0 != 0")
    sos = sos / sos[:, 3:4]
    n_padded = -(-max(sos.shape[0], min_sections) // SECTION_PAD) * SECTION_PAD
    coef = np.zeros((5, n_padded))
    coef[0] = 1.0
    coef[:, : sos.shape[0]] = sos[:, [0, 1, 2, 4, 5]].T
    return coef


_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)

#: Chunks shorter than this many samples run without threads (a threaded call costs ~0.05 ms).
THREADED_MIN_SAMPLES = 4096


def kernel_input(x: np.ndarray) -> np.ndarray:
    """``x`` (channels, samples) as the filter kernel takes it: float32 or float64, rows contiguous
    (copied only when it is not). The common case is decided first, by dtype identity: this runs
    on every chunk of a live night."""
    dtype = x.dtype
    if (dtype is _F32 or dtype is _F64) and x.strides[1] == x.itemsize:
        return x
    if dtype != np.float32 and dtype != np.float64:
        x = x.astype(np.float64)
    if x.strides[1] != x.itemsize:
        x = np.ascontiguousarray(x)
    return x


# one slice per thread: the lanes kernel runs the channels of a slice side by side
_KERNELS = {name: SplitKernel(_filter_numba, name, split, slices_per_thread=1)
            for name, split in _filter_numba.PER_CHANNEL.items()}


class StreamingFilter:
    """SOS cascade over ``(n_channels, n_samples)`` chunks with state carried between calls.

    The kernel is pipelined: ``process`` returns the outputs of every sample that has passed all the
    sections (all but the last :attr:`latency_samples` inputs seen so far) and :meth:`flush` returns
    the rest. The concatenation of all returned arrays equals one call of :func:`sosfilt` on the
    concatenated input, for any chunking.

    Each channel starts at rest at the level of its first finite sample, and starts again so after
    every missing one (NaN or +-inf): the cascade filters the input less that level. For a cascade
    that blocks DC (every band-pass of :func:`design_sos`) that is ``scipy.signal.sosfilt`` with
    its state at ``sosfilt_zi`` x that sample, so an electrode's DC offset does not ring through
    the filter at the start or after a gap (see :mod:`dsp._filter_numba`).

    Parameters
    ----------
    sos : ndarray, shape (n_sections, 6)
        The cascade (e.g. from :func:`design_sos`).
    n_channels : int
        Number of channels of every chunk.
    min_sections : int
        Room for at least this many sections (a cascade that may later be replaced by a longer
        one: the room fixes :attr:`latency_samples`).
    """

    def __init__(self, sos: np.ndarray, n_channels: int, min_sections: int = 0) -> None:
        self.coef = _coefficients(sos, min_sections)
        n_padded = self.coef.shape[1]
        self.n_channels = int(n_channels)
        self.latency_samples = n_padded * _filter_numba.SKEW
        self._state = np.zeros((self.n_channels, 2, n_padded))
        self._z1 = self._state[:, 0]
        self._z2 = self._state[:, 1]
        self._ring = np.zeros((self.n_channels, _filter_numba.RING, n_padded + 1))
        self._level = np.full(self.n_channels, np.nan)  # set by each channel's first finite sample
        self._steps = 0
        self._flushed = False
        one = self.n_channels == 1
        self._run = _filter_numba.run_one_serial if one else _filter_numba.run_lanes
        run, keep = (("run_one_serial", "run_one_keep_serial") if one
                     else ("run_lanes", "run_lanes_keep_serial"))
        self._advance_kernel, self._keep_kernel = _KERNELS[run], _KERNELS[keep]

    @property
    def n_in(self) -> int:
        """Number of input samples seen so far (per channel)."""
        return self._steps

    def advance_into(self, x: np.ndarray, y: np.ndarray, kept: np.ndarray | None = None) -> None:
        """Run the kernel on ``x`` (float32/float64, rows contiguous), writing step outputs to ``y``.

        ``y[:, i]`` is the output of input sample ``n_in + i - latency_samples`` (garbage while that
        is negative). ``kept``, when given, receives a float64 copy of ``x`` (made on the threads
        that filter). For callers that manage their own buffers; no checks.
        """
        if kept is None:
            threaded = self.n_channels > 1 and x.shape[1] >= THREADED_MIN_SAMPLES
            self._advance_kernel(threaded, coef=self.coef, x=x, state=self._state,
                                 ring=self._ring, level=self._level, step0=self._steps, y=y)
            self._steps += x.shape[1]
        else:
            self.advance_pieces_into(x, y, kept, self.coef[None], np.array([0, x.shape[1]]))

    def advance_pieces_into(self, x: np.ndarray, y: np.ndarray, kept: np.ndarray,
                            coefs: np.ndarray, bounds: np.ndarray) -> None:
        """As :meth:`advance_into` with ``kept``, the samples ``bounds[p]`` to ``bounds[p + 1]``
        of ``x`` run with the kernel coefficients ``coefs[p]`` (pieces, 5, n_padded), in one
        kernel call (split over threads by channel)."""
        threaded = self.n_channels > 1 and x.shape[1] >= THREADED_MIN_SAMPLES
        self._keep_kernel(threaded, coefs=coefs, bounds=np.asarray(bounds, np.int64), x=x,
                          state=self._state, ring=self._ring, level=self._level,
                          step0=self._steps, y=y, kept=kept)
        self._steps += x.shape[1]

    def _advance(self, x: np.ndarray) -> np.ndarray:
        y = np.empty(x.shape, dtype=np.float64)
        skip = max(0, self.latency_samples - self._steps)
        self.advance_into(x, y)
        return y[:, skip:] if skip else y

    def process(self, x: np.ndarray) -> np.ndarray:
        """Filter one chunk (float32 or float64, shape (n_channels, n)); returns float64 outputs.

        Lean on purpose: a 50 ms chunk of one channel is about 2 µs of filtering, so every check
        here is a visible share of a live night's filter cost (see ``benchmarks/bench_dsp.py``).
        """
        if self._flushed:
            raise ValueError("StreamingFilter.process called after flush")
        if type(x) is not np.ndarray:
            x = np.asarray(x)
        shape = x.shape
        if len(shape) != 2 or shape[0] != self.n_channels:
            raise ValueError(f"expected shape ({self.n_channels}, n), got {shape}")
        x = kernel_input(x)
        y = np.empty(shape)
        steps = self._steps
        if shape[0] == 1 or shape[1] < THREADED_MIN_SAMPLES:  # the common small-chunk path
            self._run(self.coef, x, self._state, self._ring, self._level, steps, y)
            self._steps = steps + shape[1]
        else:
            self.advance_into(x, y)
        skip = self.latency_samples - steps
        return y[:, skip:] if skip > 0 else y

    def flush(self) -> np.ndarray:
        """Return the outputs still in the pipeline; the filter cannot be used afterwards."""
        self._flushed = True
        n_out = min(self.latency_samples, self._steps)
        tail = self._advance(np.zeros((self.n_channels, self.latency_samples)))
        return tail[:, tail.shape[1] - n_out :] if n_out else tail[:, :0]


def sosfilt(sos: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Filter ``x`` (1-D or (n_channels, n_samples)) in one call; float64 result of the same shape."""
    x = np.asarray(x)
    squeeze = x.ndim == 1
    x2 = np.atleast_2d(x)
    x2 = kernel_input(x2)
    filt = StreamingFilter(sos, x2.shape[0])
    n, lat = x2.shape[1], filt.latency_samples
    out = np.empty((x2.shape[0], n + lat))  # written in place: no copy of a night-long array
    filt.advance_into(x2, out[:, :n])
    filt.advance_into(np.zeros((x2.shape[0], lat)), out[:, n:])
    y = out[:, lat:]
    return y[0] if squeeze else y
