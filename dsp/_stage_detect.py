"""The chain's detector: threshold with hysteresis, merging, dead time and walk-back onset against
the noise floor, run by :mod:`dsp._detect_numba` with its state carried between calls."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from dsp import _detect_numba
from dsp._buffer import TimelineBuffer
from dsp._threads import SplitKernel
from dsp.config import ChainConfig
from dsp.filters import slowest_time_constant_s

_DETECT = SplitKernel(_detect_numba, "detect_serial", _detect_numba.PER_CHANNEL["detect_serial"])
#: Samples of raw signal averaged on each side of a candidate before its response is predicted.
RING_EDGE_S = 0.005


def open_event_samples(config: ChainConfig, sfreq_hz: float) -> int:
    """How long after the scan position an event may still close: its longest duration and the
    merge gap (samples)."""
    def s(seconds: float) -> int:
        return max(1, round(seconds * sfreq_hz))

    return s(config.max_duration_s) + s(config.merge_gap_s) + 2


@dataclass(frozen=True)
class DetectorSettings:
    """The detector's settings in the units its kernel takes (multiples of sigma, samples).

    See :class:`dsp.config.ChainConfig` for their meaning; :meth:`kernel_params` is the one place
    they become the kernel's ``params`` array.
    """

    threshold_k: float
    hysteresis_k: float
    onset_k: float
    quiet_samples: int  # at least 2: one sample under the level is a zero crossing, not baseline
    walk_back_samples: int
    merge_gap_samples: int
    min_duration_samples: int
    max_duration_samples: int
    dead_time_samples: int
    noise_lag_blocks: int  # 1: compare with the floor of the blocks before the sample's block
    end_fraction: float
    ring_factor: float
    ring_min_k: float
    ring_window_samples: int
    ring_edge_samples: int
    ring_near_samples: int  # the span over which ring_factor (else ring_far_factor) applies
    ring_far_factor: float
    merge_gap_large_samples: int  # the quiet run that ends an event ended at end_fraction
    ring_tail_k: float  # a prediction is followed on while above this x sigma ...
    ring_window_max_samples: int  # ... up to this long ...
    ring_tau_samples: float  # ... at the cascade's slowest time constant
    ring_extend_samples: int  # raw samples after a candidate's end its prediction may take
    ring_extended_factor: float  # the near margin of a prediction that took them
    ring_line_fit_samples: int  # raw samples before a candidate its mains line is fitted over
    ring_line_fit_k: float  # the fit holds when what it leaves is at most this x sigma RMS

    @classmethod
    def from_config(cls, config: ChainConfig, sfreq_hz: float,
                    sos: np.ndarray | None = None) -> DetectorSettings:
        """The settings of ``config`` at ``sfreq_hz``; ``sos``, the cascade whose ringing is
        predicted (without it a prediction is never followed past ``ring_window_s``)."""
        def s(seconds: float) -> int:
            return max(1, round(seconds * sfreq_hz))

        if s(config.ring_window_s) >= _detect_numba.RING_LEN // 2:
            raise ValueError(f"ring_window_s={config.ring_window_s} is too long at {sfreq_hz} Hz")
        return cls(
            threshold_k=config.threshold_k, hysteresis_k=config.hysteresis_k,
            onset_k=config.onset_k, quiet_samples=max(2, s(config.quiet_s)),
            walk_back_samples=s(config.walk_back_s), merge_gap_samples=s(config.merge_gap_s),
            min_duration_samples=s(config.min_duration_s),
            max_duration_samples=s(config.max_duration_s),
            dead_time_samples=round(config.dead_time_s * sfreq_hz),
            noise_lag_blocks=1 if config.causal_noise else 0, end_fraction=config.end_fraction,
            ring_factor=config.ring_factor, ring_min_k=config.ring_min_k,
            ring_window_samples=s(config.ring_window_s), ring_edge_samples=s(RING_EDGE_S),
            ring_near_samples=s(config.ring_near_s), ring_far_factor=config.ring_far_factor,
            merge_gap_large_samples=s(config.merge_gap_large_s),
            ring_tail_k=config.ring_tail_k,
            ring_window_max_samples=s(max(config.ring_window_max_s, config.ring_window_s)),
            ring_tau_samples=0.0 if sos is None else slowest_time_constant_s(sos, sfreq_hz) * sfreq_hz,
            ring_extend_samples=round(config.ring_extend_s * sfreq_hz),
            ring_extended_factor=config.ring_extended_factor,
            ring_line_fit_samples=s(config.ring_line_fit_s), ring_line_fit_k=config.ring_line_fit_k,
        )

    def kernel_params(self) -> np.ndarray:
        """The ``params`` array of :func:`dsp._detect_numba.detect_channel`, in its order."""
        return np.array([
            self.threshold_k, self.hysteresis_k, self.onset_k, self.quiet_samples,
            self.walk_back_samples, self.merge_gap_samples, self.min_duration_samples,
            self.max_duration_samples, self.dead_time_samples, self.noise_lag_blocks,
            self.end_fraction, self.ring_factor, self.ring_min_k, self.ring_window_samples,
            self.ring_edge_samples, self.ring_near_samples, self.ring_far_factor,
            self.merge_gap_large_samples, self.ring_tail_k, self.ring_window_max_samples,
            self.ring_tau_samples, self.ring_extend_samples, self.ring_extended_factor,
            self.ring_line_fit_samples, self.ring_line_fit_k,
        ])


@dataclass
class Detections:
    """Candidates found by one scan, in (peak, channel) order; samples on the filtered timeline."""

    channel: np.ndarray
    onset: np.ndarray
    offset: np.ndarray  # one past the last sample
    peak: np.ndarray
    continuous: np.ndarray  # a piece of activity cut at max_duration_s
    joined: np.ndarray  # no return to baseline since the channel's previous candidate
    energy_uv2_samples: np.ndarray  # own samples and the filters' predicted response
    noise_uv: np.ndarray  # the floor the candidate was compared with


def scan_margin_samples(settings: DetectorSettings, measure_samples: int) -> int:
    """Samples that must follow a sample before it is scanned: ``measure_samples`` (what the
    measurements after a candidate need), and at least the raw samples a prediction of ringing
    takes after a candidate's end, the baseline's after them and as many again to check it."""
    return max(measure_samples, 2 * settings.ring_extend_samples + 2 * settings.ring_edge_samples)


class Detector:
    """Scans the filtered signal against the noise floor, block by block, as samples arrive.

    Parameters
    ----------
    settings : DetectorSettings
    n_channels : int
    block_samples : int
        Samples per noise block.
    margin_samples : int
        Samples the measurements after a candidate need; the scan keeps at least
        :func:`scan_margin_samples` behind the input.
    origin_sample : int
        Timeline sample where the filtered signal starts.
    sos : ndarray
        The cascade, to predict its ringing after a large candidate.
    threaded : callable(int) -> bool
        Given the samples of a call (all channels), says whether to split channels over threads.
    history : list of (int, ndarray), optional
        The cascades the filter has run, each from an input sample on (counted from
        ``origin_sample``; :attr:`dsp._line_track.TrackingFilter.history`): the ringing is
        predicted with the one in effect, and the list is pruned of those before the scan.
    """

    def __init__(self, settings: DetectorSettings, n_channels: int, block_samples: int,
                 margin_samples: int, origin_sample: int, sos: np.ndarray,
                 threaded: Callable[[int], bool],
                 history: list[tuple[int, np.ndarray]] | None = None) -> None:
        self.settings = settings
        self.block_samples = block_samples
        self.margin_samples = scan_margin_samples(settings, margin_samples)
        self.scanned_until = origin_sample
        self._params = settings.kernel_params()
        self._history = [(0, sos)] if history is None else history
        self._line_sos: np.ndarray | None = None  # the cascade _line_w belongs to
        self._line_w = np.zeros(0)
        self._origin = origin_sample
        self._threaded = threaded
        self._state, self._peak_abs = _detect_numba.new_state(n_channels)
        self._ring = np.zeros((n_channels, _detect_numba.RING_LEN))
        self._rows = np.empty((n_channels, 0, 4), np.int64)  # kernel output, reused
        self._energy = np.empty((n_channels, 0))
        self._counts = np.zeros(n_channels, np.int64)

    @property
    def lookback_samples(self) -> int:
        """Samples before :attr:`scanned_until` where the onset of an event still open may lie,
        or of a short run of pieces whose ringing is predicted when it closes (two pieces), and
        the mains line's fit before it."""
        st = self.settings
        return (2 * st.max_duration_samples + st.walk_back_samples + st.quiet_samples
                + 2 * st.ring_edge_samples + st.ring_line_fit_samples)

    def scan(self, filtered: TimelineBuffer, raw: TimelineBuffer,
             floors: TimelineBuffer) -> Detections | None:
        """Scan the samples whose floor is known and that have their margin; None when nothing
        was found."""
        lag = self.settings.noise_lag_blocks
        end = min((floors.stop + lag) * self.block_samples, filtered.stop - self.margin_samples)
        start = self.scanned_until
        if end <= start:
            return None
        n_channels = self._counts.size
        cap = (end - start) // 2 + 4
        if self._rows.shape[1] < cap:
            self._rows = np.empty((n_channels, cap, 4), np.int64)
            self._energy = np.empty((n_channels, cap))
        y = filtered.view(filtered.start, filtered.stop)
        sig = floors.view(floors.start, floors.stop)
        found = []
        for a, b, sos in self._cascades(start, end):
            _DETECT(self._threaded(n_channels * (b - a)), y=y, y0=filtered.start, s0=a,
                    s1=b, sig=sig, b0=floors.start, block_len=self.block_samples, st=self._state,
                    peak_abs=self._peak_abs, params=self._params, out=self._rows,
                    counts=self._counts, raw=raw.view(raw.start, raw.stop), r0=raw.start,
                    sos=sos, line_w=self._line_frequencies(sos), ring=self._ring,
                    out_e=self._energy)
            if self._counts.any():
                found.append(self._collect(sig, floors.start))
        self.scanned_until = end
        return _merged(found)

    def _line_frequencies(self, sos: np.ndarray) -> np.ndarray:
        """:func:`dsp._detect_numba.line_frequencies` of ``sos``, computed once per cascade (the
        history holds each cascade as one array)."""
        if self._line_sos is not sos:
            self._line_sos, self._line_w = sos, _detect_numba.line_frequencies(sos)
        return self._line_w

    def _cascades(self, start: int, end: int) -> list[tuple[int, int, np.ndarray]]:
        """``start..end`` split where the filter's cascade changed, each part with its cascade;
        the history before ``start`` is forgotten."""
        hist = self._history
        at = [self._origin + n for n, _ in hist]
        first = max(0, np.searchsorted(at, start, side="right") - 1)
        del hist[:first]
        del at[:first]
        cuts = [start] + [a for a in at[1:] if start < a < end] + [end]
        return [(cuts[i], cuts[i + 1], hist[i][1]) for i in range(len(cuts) - 1)]

    def _collect(self, sig: np.ndarray, b0: int) -> Detections:
        """The rows written by the last scan, in (peak, channel) order."""
        counts = self._counts
        chan = np.repeat(np.arange(counts.size), counts)
        rows = np.concatenate([self._rows[c, : counts[c]] for c in range(counts.size)])
        energy = np.concatenate([self._energy[c, : counts[c]] for c in range(counts.size)])
        order = np.lexsort((chan, rows[:, _detect_numba.ROW_PEAK]))
        chan, rows, energy = chan[order], rows[order], energy[order]
        peak = rows[:, _detect_numba.ROW_PEAK]
        flags = rows[:, _detect_numba.ROW_FLAGS]
        block = peak // self.block_samples - self.settings.noise_lag_blocks - b0
        return Detections(
            channel=chan, onset=rows[:, _detect_numba.ROW_ONSET],
            offset=rows[:, _detect_numba.ROW_OFFSET], peak=peak,
            continuous=(flags & _detect_numba.FLAG_CONTINUOUS) == _detect_numba.FLAG_CONTINUOUS,
            joined=(flags & _detect_numba.FLAG_JOINED) == _detect_numba.FLAG_JOINED,
            energy_uv2_samples=energy, noise_uv=sig[chan, block],
        )


def _merged(found: list[Detections]) -> Detections | None:
    """The detections of several scans as one, in (peak, channel) order; None when empty."""
    if not found:
        return None
    if len(found) == 1:
        return found[0]
    cols = {f: np.concatenate([getattr(d, f) for d in found]) for f in Detections.__dataclass_fields__}
    order = np.lexsort((cols["channel"], cols["peak"]))
    return Detections(**{f: v[order] for f, v in cols.items()})
