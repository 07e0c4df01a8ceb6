"""classify_night: from the detection chain's concatenated outputs to a classified night.

:class:`~classifier.night_data.NightData` holds what :class:`dsp.chain.DetectionChain` produced
over a night (or over everything recorded so far). :func:`classify_night` turns it into a :class:`ClassifiedNight`: events with
kinds (:mod:`classifier.events`), rest time per channel (:mod:`classifier.rest`), rates and the PLM
index (:mod:`classifier.rates`) and morphology (:mod:`classifier.morphology`). It is deterministic
(same inputs, same events) and vectorised, so a live recorder can call it again and again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from classifier.cardiac import heartbeat_mask, night_heartbeats
from classifier.config import ClassifierConfig, load_config
from classifier.kinds import FASCICULATION
from classifier.night_data import NightData
from classifier.rest import ChannelRest


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
    noise_uv : dict
        Channel name -> its resting noise RMS (µV, :func:`classifier.noise.resting_noise_uv`),
        the noise behind its detection floor; None when unknown.
    cardiac : dict
        Channel name -> heartbeats found on it and their median rate
        (:func:`classifier.cardiac.beat_summary`).
    """

    events: np.ndarray
    ch_names: list[str]
    duration_s: float
    rest: dict[str, ChannelRest]
    rates: dict[str, Any]
    morphology: dict[str, Any]
    config: ClassifierConfig
    noise_uv: dict[str, float | None] = field(default_factory=dict)
    cardiac: dict[str, dict] = field(default_factory=dict)

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
    from classifier.noise import resting_noise_uv
    from classifier.rates import night_rates

    cfg = config if config is not None else load_config()
    noise = [resting_noise_uv(night, ch, cfg) for ch in range(night.n_channels)]
    heartbeat = heartbeat_mask(night, cfg)
    events, rest = classify_at_rest(night, cfg, noise, heartbeat)
    morphology, units = night_morphology(events, night, cfg)
    events["unit"][events["kind"] == FASCICULATION] = units
    rates = night_rates(events, rest, night, cfg)
    return ClassifiedNight(events, list(night.ch_names), night.duration_s, rest, rates, morphology,
                           cfg, dict(zip(night.ch_names, noise, strict=True)),
                           night_heartbeats(night, heartbeat))


def classify_at_rest(night: NightData, config: ClassifierConfig,
                     noise_uv: list[float | None] | None = None,
                     heartbeat: np.ndarray | None = None,
                     ) -> tuple[np.ndarray, dict[str, ChannelRest]]:
    """Events of every kind and rest per channel, fasciculations outside rest dropped.

    The part of :func:`classify_night` a live view needs (no morphology, no rates). ``noise_uv``
    and ``heartbeat``: each channel's resting noise and the heartbeats among the candidates when
    already found (see :func:`classifier.events.classify_events`).

    Returns
    -------
    events : ndarray of :data:`classifier.events.EVENT_DTYPE`
    rest : dict
        Channel name -> :class:`classifier.rest.ChannelRest`.
    """
    from classifier.events import classify_events
    from classifier.rest import rest_intervals

    events = classify_events(night, config, noise_uv, heartbeat)
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
