"""The result of a night: the final classification of what the chain returned, and its summary.

:class:`NightSnapshot` holds what a result will cover (the chain outputs, the timeline length, the
gaps, the settings); calling it leaves out the channels without signal, classifies the night
(:func:`classifier.night.classify_night`), and builds the summary with the assessment
(:func:`calfwatch.summary_doc.build_summary`). It reads only what it holds, so it may run on
another thread while the engine streams on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC
from typing import TYPE_CHECKING, Any

import numpy as np

from acquisition.errors import RecordingError
from acquisition.stream import StreamInfo
from calfwatch.engine.channels import (
    NO_BAND,
    NO_CHANNEL_LEFT,
    NO_SIGNAL,
    RECTIFIED,
    select_channels,
    usable_channels,
)
from dsp.output import ChainOutput, concat_outputs

if TYPE_CHECKING:
    from classifier.config import ClassifierConfig
    from classifier.night import ClassifiedNight



class NoRawEmgError(RecordingError):
    """No channel of a recording carries raw EMG (each is flat, missing, rectified or without the
    detection band, :data:`NO_CHANNEL_LEFT`): analysing the file again would say the same."""


#: One output row (see :mod:`calfwatch.outputs`).
EventRow = dict[str, Any]


@dataclass
class NightResult:
    """What the engine found over a night.

    Attributes
    ----------
    info : StreamInfo
        The stream analysed.
    events : list of dict
        Output rows (see :mod:`calfwatch.outputs`), sorted by onset then channel.
    summary : dict
        The summary document written to summary.json.
    classified : classifier.night.ClassifiedNight
        The night's classified events, rest, rates and persistence.
    n_samples : int
        Samples per channel on the timeline.
    unusable_channels : list of str
        Channels left out (see ``unusable_reasons``).
    unusable_reasons : dict of str to str
        Why each was left out: ``NO_SIGNAL``, ``RECTIFIED`` or ``NO_BAND``.
    """

    info: StreamInfo
    events: list[EventRow]
    summary: dict[str, Any]
    classified: ClassifiedNight
    n_samples: int
    unusable_channels: list[str] = field(default_factory=list)
    unusable_reasons: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class NightSnapshot:
    """What a night result covers; call it to classify, summarise and assess.

    Attributes
    ----------
    outputs : list of ChainOutput
        The chain outputs, in timeline order.
    n_samples : int
        Samples per channel on the timeline covered.
    gaps : list of (int, int, int)
        Lost stretches ``(-1, start, stop)`` (samples).
    info : StreamInfo
        The stream analysed.
    config : ClassifierConfig
        Classifier configuration.
    chain_settings : dict
        The detection chain's settings and its mains frequency, for the summary.
    label : str
        Names the source in error messages.
    local : dict, optional
        The night's ``start_local`` and ``timezone`` (:func:`calfwatch.local_time.local_start`);
        default: in this machine's zone.
    """

    outputs: list[ChainOutput]
    n_samples: int
    gaps: list[tuple[int, int, int]]
    info: StreamInfo
    config: ClassifierConfig
    chain_settings: dict[str, Any]
    label: str
    local: dict[str, Any] | None = None

    def __call__(
        self,
        *,
        history_nights: Iterable[Any] = (),
        symptoms: Iterable[str] = (),
        meta: dict[str, Any] | None = None,
    ) -> NightResult:
        """Classify the night, summarise it and assess it with the wearer's history.

        Raises
        ------
        NoRawEmgError
            No channel carries raw EMG (each is flat, missing, rectified or without the band).
        """
        from calfwatch.summary_doc import build_summary
        from classifier.night import classify_night
        from classifier.night_data import NightData

        whole, names, unusable = self._usable_output()
        start = self.info.meas_date
        meta = {"meas_date": None if start is None else start.astimezone(UTC).isoformat(),
                **(meta or {})}
        sfreq_hz = self.info.sfreq_hz
        night = NightData.from_chain_output(whole, sfreq_hz, names, self.n_samples, self.gaps,
                                            meta)
        classified = classify_night(night, self.config)
        summary = build_summary(
            classified, night, info=self.info, config=self.config,
            chain_settings=self.chain_settings, unusable=unusable,
            history_nights=history_nights, symptoms=symptoms, local=self.local)
        events = event_rows(classified.events, names, sfreq_hz)
        return NightResult(self.info, events, summary, classified, self.n_samples,
                           list(unusable), unusable)

    def _usable_output(self) -> tuple[ChainOutput, list[str], dict[str, str]]:
        """The outputs joined and cut to the channels with raw EMG, their names, and why each
        of the others was left out."""
        outs, ch_names = self.outputs, self.info.ch_names
        whole = outs[0] if len(outs) == 1 else concat_outputs(outs, self.info.n_channels)
        keep, unusable = usable_channels(whole, ch_names)
        if not keep:
            reasons = set(unusable.values())
            reason = next((r for r in (RECTIFIED, NO_BAND) if r in reasons), NO_SIGNAL)
            raise NoRawEmgError(self.label,
                                NO_CHANNEL_LEFT[reason].format(channels=", ".join(ch_names)))
        return select_channels(whole, keep), [ch_names[i] for i in keep], unusable


def event_rows(events: np.ndarray, ch_names: list[str], sfreq_hz: float) -> list[EventRow]:
    """Classifier events (``EVENT_DTYPE``) as output rows for :mod:`calfwatch.outputs`.

    Examples
    --------
    >>> from classifier.events import EVENT_DTYPE
    >>> event_rows(np.zeros(0, EVENT_DTYPE), ["EMG L"], 2000.0)
    []
    """
    rows = []
    for e in events:
        detail = str(e["detail"])
        if e["doublet"] and "doublet" not in detail:
            detail = f"doublet {detail}".strip()
        rows.append({
            "onset_s": float(e["onset_s"]),
            "duration_s": float(e["duration_s"]),
            "kind": str(e["kind"]),
            "channel": ch_names[int(e["channel"])],
            "peak_to_peak_uv": float(e["peak_to_peak_uv"]),
            "phases": int(e["phases"]),
            "sample": int(round(float(e["onset_s"]) * sfreq_hz)),
            "detail": detail,
        })
    return rows
