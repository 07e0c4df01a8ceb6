"""Place decoded samples on the recording's timeline, across gaps, device resets and reconnections.

The decoder numbers samples from the device counter: consecutive when nothing was lost, jumping over
what the counter says is missing. That is exact for a wide counter (the calfwatch protocol's 32 bits)
but only known modulo the counter width for short ones (Cyton 256, BITalino 16), and a device reset or a
protocol without a counter says nothing about the time the device was away. :class:`Timeline` resolves
these with the host's monotonic clock (wall-clock jumps do not move it):

* at every jump and at the first sample after a reconnection, the host-time estimate of the samples
  that elapsed picks, among the counts the counter allows (``m``, ``m + M``, ``m + 2M``...), the nearest;
* after a device reset or on a counter-less protocol, the host-time estimate is the gap;
* the host time of a sample is the arrival time of the read that brought it, minus the time the samples
  after it in that read took, at the device's rate (nominal, or measured when the device clearly runs
  at another rate, as an emulated device at N times real time does).

A gap is never longer than the timeline says was missed, and gaps resolved from host time are counted
(``estimated_gaps``) so the sidecar can say which spans are estimates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Counters at least this wide are trusted exactly; narrower ones are cross-checked with host time.
EXACT_COUNTER_MODULUS = 2**16 + 1
#: Host time needed before the measured rate may replace the nominal one.
_RATE_MIN_SPAN_S = 2.0
#: A measured rate this far from the nominal one means the device runs at another speed.
_RATE_TOLERANCE = 0.05


@dataclass(frozen=True)
class Run:
    """Decoded columns ``col0:col1`` of a batch, placed at ``start_sample``."""

    start_sample: int
    col0: int
    col1: int

    @property
    def n_samples(self) -> int:
        """Number of samples in the run."""
        return self.col1 - self.col0


@dataclass(frozen=True)
class Gap:
    """``n_samples`` lost samples starting at ``start_sample``, and why."""

    start_sample: int
    n_samples: int
    reason: str
    estimated: bool = False


class Timeline:
    """Turn decoder sample indices into absolute sample indices (sample 0 = first sample received).

    Parameters
    ----------
    sfreq_hz : float
        Nominal sampling rate of the device.
    counter_modulus : int or None
        Width of the device counter (256 for Cyton, 16 for BITalino, 2**32 for calfwatch), or None when
        the protocol has no counter: then only host time can measure a gap.
    """

    def __init__(self, sfreq_hz: float, counter_modulus: int | None) -> None:
        self.sfreq_hz = float(sfreq_hz)
        self.modulus = counter_modulus
        self.next_sample: int | None = None
        self.estimated_gaps = 0
        self._offset = 0
        self._last_time_s: float | None = None
        self._first: tuple[int, float] | None = None
        self._boundary_reason: str | None = None

    # -- rate ----------------------------------------------------------------------------------
    def rate_hz(self) -> float:
        """Samples per second of host time: nominal, or measured when clearly different."""
        if self._first is None or self._last_time_s is None or self.next_sample is None:
            return self.sfreq_hz
        first_sample, first_time = self._first
        span_s = self._last_time_s - first_time
        if span_s < _RATE_MIN_SPAN_S:
            return self.sfreq_hz
        measured = (self.next_sample - 1 - first_sample) / span_s
        if measured > 0 and abs(measured / self.sfreq_hz - 1.0) > _RATE_TOLERANCE:
            return measured
        return self.sfreq_hz

    # -- sessions ------------------------------------------------------------------------------
    def begin_session(self, reason: str) -> None:
        """Mark that the next sample follows a disconnection (``reason`` names the cause)."""
        if self.next_sample is not None:
            self._boundary_reason = reason

    # -- placement -----------------------------------------------------------------------------
    def place(
        self, sample_index: np.ndarray, arrival_s: float, reset_at: list[int] | None = None
    ) -> list[Run | Gap]:
        """Place one decoded batch and return its runs and the gaps before them, in order.

        Parameters
        ----------
        sample_index : ndarray of int64
            The decoder's timeline position of each sample (strictly increasing).
        arrival_s : float
            Monotonic host time at which the read that completed the batch returned.
        reset_at : list of int, optional
            Decoder positions at which the device restarted its counter.

        Returns
        -------
        list of Run and Gap
        """
        dec = np.asarray(sample_index, dtype=np.int64)
        n = dec.shape[0]
        if n == 0:
            return []
        rate = self.rate_hz()
        if self.next_sample is None:
            self._offset = -int(dec[0])
            self.next_sample = 0
            # anchored at an arrival time, not a back-estimate made with the nominal rate
            self._first = (int(dec[-1] - dec[0]), arrival_s)
        resets = set(int(r) for r in (reset_at or []))
        cols = [int(c) for c in np.flatnonzero(np.diff(dec) != 1) + 1]
        cols += [int(c) for c in np.flatnonzero(np.isin(dec, list(resets)))] if resets else []
        boundaries = sorted(set(cols) | {0})
        out: list[Run | Gap] = []
        prev_time = self._last_time_s
        for i, col in enumerate(boundaries):
            end = boundaries[i + 1] if i + 1 < len(boundaries) else n
            time_s = arrival_s - (dec[-1] - dec[col]) / rate
            gap = self._gap_before(dec, col, time_s, prev_time, rate, int(dec[col]) in resets)
            if gap is not None:
                out.append(gap)
            start = int(dec[col]) + self._offset
            out.append(Run(start_sample=start, col0=col, col1=end))
            self.next_sample = start + (end - col)
            prev_time = arrival_s - (dec[-1] - dec[end - 1]) / rate
        self._last_time_s = arrival_s
        self._boundary_reason = None
        return out

    def _gap_before(
        self,
        dec: np.ndarray,
        col: int,
        time_s: float,
        prev_time_s: float | None,
        rate: float,
        is_reset: bool,
    ) -> Gap | None:
        """Resolve the samples missing before column ``col`` and shift the offset to match."""
        assert self.next_sample is not None
        predicted = int(dec[col]) + self._offset  # where the decoder alone would put it
        m_dec = predicted - self.next_sample
        at_boundary = col == 0 and self._boundary_reason is not None
        if m_dec == 0 and not (at_boundary or is_reset):
            return None
        if prev_time_s is None:
            m_host = m_dec
        else:
            m_host = max(0, int(round((time_s - prev_time_s) * rate)) - 1)
        estimated = False
        if is_reset or self.modulus is None:
            m = m_host if (is_reset or at_boundary) else m_dec
            estimated = is_reset or at_boundary
        elif self.modulus >= EXACT_COUNTER_MODULUS:
            m = m_dec
        else:
            wraps = max(0, int(round((m_host - m_dec) / self.modulus)))
            m = m_dec + wraps * self.modulus
            estimated = wraps > 0
        self._offset += m - m_dec
        if m <= 0:
            return None
        self.estimated_gaps += int(estimated)
        if is_reset:
            reason = "device reset"
        elif at_boundary:
            reason = self._boundary_reason or "disconnected"
        else:
            reason = "sequence gap"
        return Gap(start_sample=self.next_sample, n_samples=m, reason=reason, estimated=estimated)
