"""The mains line in the filtered signal: a burst that repeats itself every line period.

The chain's notches remove a steady hum, but when the hum's amplitude changes at once (a lamp,
an electric blanket or a heater near the bed switched on or off) each notch answers the step with
a burst at its own frequency that decays with its time constant (Q / (pi f0): 0.38 s at Q 60 and
50 Hz). Its envelope looks like a short movement, and when the switching is periodic (a
thermostat or an electric blanket's controller cycling every 5-90 s) the bursts make an AASM
series of "leg movements". Such a burst is periodic at the line's period: every 20 ms (50 Hz) or
16.7 ms (60 Hz) it repeats itself, whatever harmonics it holds. Muscle activity does not: the
surface EMG of many units is broadband noise that decorrelates within a few ms (its spectrum
spans 20-450 Hz; Merletti & Parker, *Electromyography*, Wiley 2004, ch. 2), and no motor unit
fires at a steady 50-60 Hz through a movement.
"""

from __future__ import annotations

import numpy as np

#: Nominal mains frequencies (Hz): the chain's snippets do not say which grid a night is on.
LINE_HZ = (50.0, 60.0)


def line_periodicity(snippets: np.ndarray, sfreq_hz: float,
                     line_hz: tuple[float, ...] = LINE_HZ,
                     min_overlap_periods: float = 0.0) -> np.ndarray:
    """How alike each snippet is to itself one line period later (the larger over ``line_hz``).

    The correlation coefficient between the snippet and the snippet shifted by one period
    (linearly interpolated between samples): about 1 for a burst at the line frequency or its
    harmonics, near 0 for broadband muscle activity. NaN where a period leaves less than a
    third of the snippet to compare (at 4 kHz a 128-sample snippet spans 32 ms), or less than
    ``min_overlap_periods`` periods: over less than a period, one potential whose phases are
    about a period apart is alike to itself too.

    Parameters
    ----------
    snippets : ndarray, shape (n, n_samples)
        Filtered waveforms (µV), e.g. ``NightData.snippets``.
    sfreq_hz : float
        Sampling rate.
    line_hz : tuple of float
        Line frequencies to try.
    min_overlap_periods : float
        Least length compared, in periods.

    Returns
    -------
    ndarray, shape (n,)

    Examples
    --------
    >>> fs = 2000.0
    >>> t = np.arange(128) / fs
    >>> hum = np.sin(2 * np.pi * 50.0 * t) + 0.5 * np.sin(2 * np.pi * 150.0 * t)
    >>> noise = np.random.default_rng(0).standard_normal(128)
    >>> r = line_periodicity(np.array([hum, noise]), fs)
    >>> bool(r[0] > 0.99), bool(abs(r[1]) < 0.3)
    (True, True)
    """
    x = np.asarray(snippets, dtype=np.float64)
    n = x.shape[1]
    best = np.full(len(x), np.nan)
    for f0 in line_hz:
        lag = sfreq_hz / f0
        k = int(np.floor(lag))
        if n - k - 1 < max(n // 3, min_overlap_periods * lag):
            continue
        frac = lag - k
        a = x[:, : n - k - 1]
        b = (1.0 - frac) * x[:, k:n - 1] + frac * x[:, k + 1:n]
        a = a - a.mean(axis=1, keepdims=True)
        b = b - b.mean(axis=1, keepdims=True)
        den = np.sqrt(np.sum(a * a, axis=1) * np.sum(b * b, axis=1))
        r = np.sum(a * b, axis=1) / np.where(den > 0.0, den, np.inf)
        best = np.fmax(best, r)
    return best
