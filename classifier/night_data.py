"""NightData: the detection chain's outputs over a night, with what is needed to read them.

The classifier's input (:func:`classifier.night.classify_night`): a plain container of what
:class:`dsp.chain.DetectionChain` produced over a night (or over everything recorded so far), plus
the sampling rate, channel names, length, gaps and free-form metadata.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dsp.output import ChainOutput
from dsp.types import CANDIDATE_DTYPE, ENVELOPE_HOP_S, FEATURE_DTYPE, QUALITY_DTYPE, SNIPPET_LEN


@dataclass
class NightData:
    """The detection chain's outputs over a night, concatenated, with what is needed to read them.

    Attributes
    ----------
    candidates, features : ndarray
        ``dsp.types.CANDIDATE_DTYPE`` and ``FEATURE_DTYPE`` rows, row-aligned.
    snippets : ndarray, float32, shape (n_candidates, SNIPPET_LEN)
        Filtered waveform around each candidate's peak (µV).
    envelope_uv, noise_uv : ndarray, float64, shape (n_channels, n_frames)
        RMS and robust noise floor per frame of ``dsp.types.ENVELOPE_HOP_S``.
    envelope_start_frame : int
        Absolute index of the first frame.
    quality : ndarray of QUALITY_DTYPE
        Signal quality per channel and window.
    sfreq_hz : float
        Sampling rate.
    ch_names : list of str
        One name per channel.
    n_samples : int
        Samples per channel covered by the night (the timeline ends there).
    gaps : list of (channel, start_sample, stop_sample)
        Spans known to be lost; channel -1 means every channel.
    meta : dict
        Free-form recording metadata (``meas_date`` as ISO 8601 text or datetime, device, ...).
    """

    candidates: np.ndarray
    features: np.ndarray
    snippets: np.ndarray
    envelope_uv: np.ndarray
    noise_uv: np.ndarray
    envelope_start_frame: int
    quality: np.ndarray
    sfreq_hz: float
    ch_names: list[str]
    n_samples: int
    gaps: list[tuple[int, int, int]] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def n_channels(self) -> int:
        """Number of channels."""
        return len(self.ch_names)

    @property
    def duration_s(self) -> float:
        """Length of the night's timeline in seconds."""
        return self.n_samples / self.sfreq_hz

    @property
    def hop_s(self) -> float:
        """Length of an envelope frame in seconds (a whole number of samples)."""
        return max(1, round(ENVELOPE_HOP_S * self.sfreq_hz)) / self.sfreq_hz

    @classmethod
    def from_chain_output(
        cls,
        output: ChainOutput,
        sfreq_hz: float,
        ch_names: list[str],
        n_samples: int,
        gaps: list[tuple[int, int, int]] | None = None,
        meta: dict[str, Any] | None = None,
    ) -> NightData:
        """Wrap a (concatenated) :class:`dsp.output.ChainOutput`."""
        return cls(
            candidates=output.candidates,
            features=output.features,
            snippets=output.snippets,
            envelope_uv=output.envelope_uv,
            noise_uv=output.noise_uv,
            envelope_start_frame=int(output.envelope_start_frame),
            quality=output.quality,
            sfreq_hz=float(sfreq_hz),
            ch_names=list(ch_names),
            n_samples=int(n_samples),
            gaps=list(gaps or []),
            meta=dict(meta or {}),
        )

    @classmethod
    def empty(cls, sfreq_hz: float, ch_names: list[str], n_samples: int = 0) -> NightData:
        """A night without candidates, frames or quality rows."""
        n_ch = len(ch_names)
        return cls(
            np.zeros(0, CANDIDATE_DTYPE), np.zeros(0, FEATURE_DTYPE),
            np.zeros((0, SNIPPET_LEN), np.float32), np.zeros((n_ch, 0)), np.zeros((n_ch, 0)), 0,
            np.zeros(0, QUALITY_DTYPE), float(sfreq_hz), list(ch_names), int(n_samples),
        )
