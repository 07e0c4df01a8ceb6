"""classify_night: from the detection chain's concatenated outputs to a classified night.

:class:`NightData` is a plain container of what :class:`dsp.chain.DetectionChain` produced over a
night (or over everything recorded so far), plus the sampling rate, channel names, length, gaps
and free-form metadata. :func:`classify_night` turns it into a :class:`ClassifiedNight`: events with
kinds (:mod:`classifier.events`), rest time per channel (:mod:`classifier.rest`), rates and the PLM
index (:mod:`classifier.rates`) and morphology (:mod:`classifier.morphology`). It is deterministic
(same inputs, same events) and vectorised, so a live recorder can call it again and again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from classifier.config import ClassifierConfig, load_config
from classifier.kinds import FASCICULATION
from classifier.rest import ChannelRest
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


@dataclass
class ClassifiedNight:
    """Everything :func:`classify_night` found.

    Attributes
    ----------
    events : ndarray of :data:`classifier.events.EVENT_DTYPE`
        Sorted by onset then channel; see :meth:`event_list` for :class:`classifier.events.Event`.
    ch_names : list of str
    duration_s : float
    rest : dict
        Channel name -> :class:`classifier.rest.ChannelRest`.
    rates : dict
        See :func:`classifier.rates.night_rates`.
    morphology : dict
        See :func:`classifier.morphology.night_morphology`.
    config : ClassifierConfig
        The configuration used.
    """

    events: np.ndarray
    ch_names: list[str]
    duration_s: float
    rest: dict[str, ChannelRest]
    rates: dict[str, Any]
    morphology: dict[str, Any]
    config: ClassifierConfig

    def event_list(self) -> list:
        """The events as :class:`classifier.events.Event` objects (channel by name)."""
        from classifier.events import events_to_list

        return events_to_list(self.events, self.ch_names)

    def count(self, kind: str, channel: str | None = None, include_doublets: bool = False) -> int:
        """Number of events of ``kind`` (doublets excluded unless asked), on one channel or all."""
        ev = self.events
        mask = ev["kind"] == kind
        if not include_doublets:
            mask &= ~ev["doublet"]
        if channel is not None:
            mask &= ev["channel"] == self.ch_names.index(channel)
        return int(mask.sum())


def classify_night(night: NightData, config: ClassifierConfig | None = None) -> ClassifiedNight:
    """Classify every candidate and burst of a night, and measure rest, rates and morphology.

    Parameters
    ----------
    night : NightData
        The detection chain's outputs over the night.
    config : ClassifierConfig, optional
        The full configuration (:func:`classifier.config.load_config`); defaults when omitted.

    Returns
    -------
    ClassifiedNight
    """
    from classifier.morphology import night_morphology
    from classifier.rates import night_rates

    cfg = config if config is not None else load_config()
    events, rest = classify_at_rest(night, cfg)
    morphology, units = night_morphology(events, night, cfg)
    events["unit"][events["kind"] == FASCICULATION] = units
    rates = night_rates(events, rest, night, cfg)
    return ClassifiedNight(events, list(night.ch_names), night.duration_s, rest, rates, morphology,
                           cfg)


def classify_at_rest(night: NightData,
                     config: ClassifierConfig) -> tuple[np.ndarray, dict[str, ChannelRest]]:
    """Events of every kind and rest per channel, fasciculations outside rest dropped.

    The part of :func:`classify_night` a live view needs (no morphology, no rates).

    Returns
    -------
    events : ndarray of :data:`classifier.events.EVENT_DTYPE`
    rest : dict
        Channel name -> :class:`classifier.rest.ChannelRest`.
    """
    from classifier.events import classify_events
    from classifier.rest import rest_intervals

    events = classify_events(night, config)
    rest = rest_intervals(night, events, config)
    return _keep_fasciculations_in_rest(events, rest, night.ch_names), rest


def _keep_fasciculations_in_rest(events: np.ndarray, rest: dict, ch_names: list[str]) -> np.ndarray:
    """Drop fasciculations (and doublets) whose onset is outside their channel's rest.

    An isolated discharge within the margin of a movement or an artifact is not counted: rates are
    per minute of rest, so counts and rest time cover the same spans.
    """
    from classifier.rest import inside

    keep = events["kind"] != FASCICULATION
    for ch, name in enumerate(ch_names):
        mask = (events["channel"] == ch) & ~keep
        keep[mask] = inside(events["onset_s"][mask], rest[name].intervals_s)
    return events[keep]
