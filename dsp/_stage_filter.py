"""The chain's filter stage: the band-pass + notch cascade, the raw and filtered samples it keeps,
and the settling time blanked after the start and after every gap."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from dsp import _noise_numba
from dsp._buffer import TimelineBuffer
from dsp._line_track import TrackingFilter
from dsp._threads import SplitKernel
from dsp.config import ChainConfig
from dsp.filters import (
    StreamingFilter,
    design_sos,
    group_delay_samples,
    kernel_input,
    settling_time_s,
)

_BLANK = SplitKernel(_noise_numba, "blank_after_restart",
                     _noise_numba.PER_CHANNEL["blank_after_restart"])


def design_cascade(sfreq_hz: float, config: ChainConfig, mains_hz: float | None) -> np.ndarray:
    """The chain's cascade (band-pass and the notches of ``mains_hz``) as second-order sections."""
    return design_sos(sfreq_hz, config.band_hz, mains_hz, config.filter_order, config.notch_q,
                      config.notch_max_hz)


def streaming_filter(sfreq_hz: float, config: ChainConfig, line_hz: float | None,
                     n_channels: int, watch_hz: float | None = None) -> StreamingFilter:
    """The filter that runs the chain's cascade: its notches follow the mains line
    (:class:`dsp._line_track.TrackingFilter`, which moves them to the line of ``watch_hz``, the
    other grid, should it come) unless ``config.line_track_s`` is 0 or there are none."""
    if line_hz is None or config.line_track_s <= 0:
        return StreamingFilter(design_cascade(sfreq_hz, config, line_hz), n_channels)
    return TrackingFilter(lambda hz: design_cascade(sfreq_hz, config, hz), line_hz, sfreq_hz,
                          n_channels, config.line_track_s, config.line_track_window_s,
                          watch_hz=watch_hz)


def delay_samples(sfreq_hz: float, config: ChainConfig) -> int:
    """The band-pass's group delay at ``config.delay_hz``, subtracted from candidate positions."""
    bp = design_sos(sfreq_hz, config.band_hz, None, config.filter_order)
    return int(round(group_delay_samples(bp, sfreq_hz, config.delay_hz)))


def settle_samples(sfreq_hz: float, config: ChainConfig, mains_hz: float | None,
                   sos: np.ndarray | None = None) -> int:
    """Samples blanked after the start and after a gap: ``config.settle_s``, else the measured
    settling time of the cascade (:func:`dsp.filters.settling_time_s`; ``sos`` when it is designed
    already)."""
    if config.settle_s is not None:
        return max(1, round(config.settle_s * sfreq_hz))
    if sos is None:
        sos = design_cascade(sfreq_hz, config, mains_hz)
    return round(settling_time_s(sos, sfreq_hz) * sfreq_hz)


class FilterStage:
    """Filters raw chunks into :attr:`filtered`, keeping a float64 copy of them in :attr:`raw`.

    Both buffers share the absolute timeline: ``filtered`` sample ``i`` is the cascade's output for
    ``raw`` sample ``i`` (the pipeline latency is removed). The ``settle_samples`` after the start
    and after every NaN stretch are set to NaN (the filter's transient).

    Parameters
    ----------
    sos : ndarray, shape (n_sections, 6)
        The cascade.
    n_channels : int
    origin_sample : int
        Timeline sample of the first input.
    settle_samples : int
        Samples blanked after the start and after a gap.
    threaded : callable(int) -> bool
        Given the samples of a call (all channels), says whether to split channels over threads.
    streaming : StreamingFilter, optional
        The filter that runs ``sos`` (default: a plain one; the chain passes one whose notches
        follow the mains line, :class:`dsp._line_track.TrackingFilter`).
    """

    def __init__(self, sos: np.ndarray, n_channels: int, origin_sample: int, settle_samples: int,
                 threaded: Callable[[int], bool],
                 streaming: StreamingFilter | None = None) -> None:
        self.sos = sos
        self.streaming = StreamingFilter(sos, n_channels) if streaming is None else streaming
        self.raw = TimelineBuffer(n_channels, origin_sample)
        self.filtered = TimelineBuffer(n_channels, origin_sample)
        self.settle_samples = settle_samples
        self._countdown = np.full(n_channels, settle_samples, np.int64)
        self._threaded = threaded

    @property
    def latency_samples(self) -> int:
        """Inputs the cascade holds before their outputs come out."""
        return self.streaming.latency_samples

    def feed(self, raw: np.ndarray) -> np.ndarray:
        """Filter ``raw`` into the end of :attr:`filtered` (and copy it to :attr:`raw`); return
        the new filtered samples (a view, blanked)."""
        raw = kernel_input(raw)
        filt = self.streaming
        skip = max(0, filt.latency_samples - filt.n_in)
        kept = self.raw.extend(raw.shape[1])
        if not skip:
            y = self.filtered.extend(raw.shape[1])
            filt.advance_into(raw, y, kept)
            return self._blank(y)
        y = np.empty(raw.shape)
        filt.advance_into(raw, y, kept)
        return self._append(y, skip)

    def feed_prefiltered(self, y: np.ndarray, kept: np.ndarray, skip: int) -> np.ndarray:
        """Append a piece filtered by :func:`dsp._filter_ahead.filter_ahead`; return the new
        filtered samples (as :meth:`feed`)."""
        self.raw.append(kept)
        return self._append(y, skip)

    def _append(self, y: np.ndarray, skip: int) -> np.ndarray:
        self.filtered.append(y[:, skip:])
        stop = self.filtered.stop
        return self._blank(self.filtered.view(stop - (y.shape[1] - skip), stop))

    def _blank(self, y: np.ndarray) -> np.ndarray:
        _BLANK(self._threaded(y.size), y=y, countdown=self._countdown, settle=self.settle_samples)
        return y

    def discard_before(self, filtered_sample: int, raw_sample: int) -> None:
        """Forget filtered samples before ``filtered_sample`` and raw ones before ``raw_sample``."""
        self.filtered.discard_before(filtered_sample)
        self.raw.discard_before(raw_sample)
