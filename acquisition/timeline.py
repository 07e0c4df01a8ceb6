"""Place decoded samples on the recording's timeline, across gaps, device resets and reconnections.

The decoder numbers samples from the device counter: consecutive when nothing was lost, jumping over
what the counter says is missing. That is exact for a wide counter (the calfwatch protocol's 32 bits)
but only known modulo the counter width for short ones (Cyton 256, BITalino 16), and a device reset or a
protocol without a counter says nothing about the time the device was away. :class:`Timeline` resolves
these with the host's monotonic clock (wall-clock jumps do not move it):

* at every jump and at the first sample after a reconnection, the host-time estimate of the samples
  that elapsed picks, among the counts the counter allows (``m``, ``m + M``, ``m + 2M``...), the nearest;
* after a device reset (wherever it falls in a batch) or on a counter-less protocol, the host-time
  estimate is the gap (a reset's at least one sample: a restart is never instantaneous, whatever
  the clock resolves);
* a disconnection still going on when the recording stops is one gap from the last sample to the
  stop (:meth:`Timeline.end_disconnected`): no later sample will say what it cost;
* the device clock is read from the lower envelope of the arrival times of recent reads (a sample
  arrives after it was produced, never before), at the nominal rate times ``clock_speed`` (N for
  an emulated device at N times real time).

A gap is never longer than the timeline says was missed, and gaps resolved from host time are counted
(``estimated_gaps``) so the sidecar can say which spans are estimates.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

#: Counters at least this wide are trusted exactly; narrower ones are cross-checked with host time.
EXACT_COUNTER_MODULUS = 2**16 + 1
#: Reads whose arrival times estimate the device clock (the lower envelope of the last ones).
_RECENT_READS = 256


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
    clock_speed : float
        How fast the device's clock runs against real time: 1 for a real device, N for an
        emulated device at N x real time.
    """

    def __init__(
        self, sfreq_hz: float, counter_modulus: int | None, clock_speed: float = 1.0
    ) -> None:
        self.sfreq_hz = float(sfreq_hz)
        self.clock_speed = float(clock_speed)
        self.modulus = counter_modulus
        self.next_sample: int | None = None
        self.estimated_gaps = 0
        self._offset = 0
        self._recent: deque[tuple[int, float]] = deque(maxlen=_RECENT_READS)
        self._last_dec: int | None = None
        self._boundary_reason: str | None = None

    # -- rate ----------------------------------------------------------------------------------
    def rate_hz(self) -> float:
        """Samples per second of host time: the nominal rate times the clock speed."""
        return self.sfreq_hz * self.clock_speed

    def _note_arrival(self, last_dec: int, arrival_s: float) -> None:
        self._recent.append((last_dec, arrival_s))

    # -- sessions ------------------------------------------------------------------------------
    def begin_session(self, reason: str) -> None:
        """Mark that the next sample follows a disconnection (``reason`` names the cause)."""
        if self.next_sample is not None:
            self._boundary_reason = reason

    def end_disconnected(self, stop_s: float) -> Gap | None:
        """Close a disconnection still going on when the recording stops at host time ``stop_s``.

        No sample came after it, so nothing else will ever say what it cost: the samples the
        device clock (the lower envelope of the reads before it) says were due from the last
        placed sample to the stop are one gap, estimated from host time, its reason the
        disconnection's with ``" until the stop"``. None when no disconnection is open.
        """
        reason = self._boundary_reason
        rate = self.rate_hz()
        offset = self._recent_offset_s(rate)
        if reason is None or offset is None or self._last_dec is None or self.next_sample is None:
            return None
        self._boundary_reason = None
        due = int(np.floor((stop_s - (offset + self._last_dec / rate)) * rate))
        if due <= 0:
            return None
        gap = Gap(self.next_sample, due, f"{reason} until the stop", estimated=True)
        self.next_sample += due
        self.estimated_gaps += 1
        return gap

    # -- placement -----------------------------------------------------------------------------
    @property
    def boundary_pending(self) -> bool:
        """True when the next sample follows a disconnection (its gap is not resolved yet)."""
        return self._boundary_reason is not None

    def _recent_offset_s(self, rate: float) -> float | None:
        """Host time of decoder index 0 in this connection: the lower envelope of arrivals."""
        if not self._recent:
            return None
        return min(t - i / rate for i, t in self._recent)

    def place(
        self,
        sample_index: np.ndarray,
        arrival_s: float,
        reset_at: list[int] | None = None,
        first_time_s: float | None = None,
        arrivals: list[tuple[int, float]] | None = None,
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
        first_time_s : float, optional
            Best estimate of the host time at which the first sample was produced (the caller
            may know better than ``arrival_s`` after a reconnection, from several reads).
        arrivals : list of (int, float), optional
            ``(decoder index of the last sample, arrival time)`` of each read merged in this
            batch, for the clock estimate (default: the batch's last sample at ``arrival_s``).

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
        resets = set(int(r) for r in (reset_at or []))
        cols = [int(c) for c in np.flatnonzero(np.diff(dec) != 1) + 1]
        cols += [int(c) for c in np.flatnonzero(np.isin(dec, list(resets)))] if resets else []
        boundaries = sorted(set(cols) | {0})
        if first_time_s is None:
            first_time_s = arrival_s - (dec[-1] - dec[0]) / rate
        out: list[Run | Gap] = []
        for i, col in enumerate(boundaries):
            end = boundaries[i + 1] if i + 1 < len(boundaries) else n
            gap = self._gap_before(dec, col, first_time_s, rate, int(dec[col]) in resets)
            if gap is not None:
                out.append(gap)
            start = int(dec[col]) + self._offset
            out.append(Run(start_sample=start, col0=col, col1=end))
            self.next_sample = start + (end - col)
        if self._boundary_reason is not None or resets:
            # a new connection or a restarted device: the old clock estimate no longer applies
            self._recent.clear()
        self._boundary_reason = None
        for item in arrivals or [(int(dec[-1]), arrival_s)]:
            self._note_arrival(int(item[0]), float(item[1]))
        self._last_dec = int(dec[-1])
        return out

    def _gap_before(
        self, dec: np.ndarray, col: int, first_time_s: float, rate: float, is_reset: bool
    ) -> Gap | None:
        """Resolve the samples missing before column ``col`` and shift the offset to match.

        Inside a connection the decoder's count is used as it is (a link that only paused loses
        nothing, and host time would invent a gap). After a disconnection or a device reset, host
        time decides: the gap is the count the counter allows nearest to the host estimate (the
        host estimate itself after a reset the decoder reported, or without a counter).
        """
        assert self.next_sample is not None
        predicted = int(dec[col]) + self._offset  # where the decoder alone would put it
        m_dec = predicted - self.next_sample
        at_boundary = col == 0 and self._boundary_reason is not None
        if not (at_boundary or is_reset):
            if m_dec <= 0:
                return None
            return Gap(self.next_sample, m_dec, "device reset" if is_reset else "sequence gap")
        m_host = self._host_estimate(dec, col, first_time_s, rate)
        estimated = True
        if m_host is None:
            m, estimated = m_dec, False
        elif is_reset:
            # a restart takes longer than a sample: a downtime below the host clock's resolution
            # (20 ms of device time is 1 ms of wall time at 20 x) is still a gap, annotated
            m = max(1, m_host)
        elif self.modulus is None:
            m = m_host
        elif self.modulus >= EXACT_COUNTER_MODULUS:
            m, estimated = m_dec, False
        else:
            # the count the counter allows nearest to the host estimate: exact whenever the
            # host clock is within half a counter period (a restart the decoder reports goes
            # the reset path above)
            wraps = max(0, int(round((m_host - m_dec) / self.modulus)))
            m = m_dec + wraps * self.modulus
            estimated = wraps > 0
        self._offset += m - m_dec
        if m <= 0:
            return None
        self.estimated_gaps += int(estimated)
        reason = "device reset" if is_reset and not at_boundary else (
            self._boundary_reason or "disconnected"
        )
        return Gap(start_sample=self.next_sample, n_samples=m, reason=reason, estimated=estimated)

    def _host_estimate(
        self, dec: np.ndarray, col: int, first_time_s: float, rate: float
    ) -> int | None:
        """Samples the host clock says elapsed between the last placed sample and column ``col``."""
        offset = self._recent_offset_s(rate)
        last_dec = self._last_dec if col == 0 else int(dec[col - 1])  # a restart inside the batch
        if offset is None or last_dec is None:
            return None
        last_time_s = offset + last_dec / rate
        time_s = first_time_s + (dec[col] - dec[0]) / rate
        return max(0, int(round((time_s - last_time_s) * rate)) - 1)
