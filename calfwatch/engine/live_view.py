"""The live view: classify the recent past while a night is being recorded.

:class:`LiveView` keeps the last ``window_s`` of chain outputs joined, adds the frames the chain
has filtered but not returned yet, classifies that window
(:func:`classifier.night.classify_at_rest`) and gives each event once, early, then settled
(:class:`calfwatch.engine.live_ledger.LiveLedger`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from acquisition.stream import StreamInfo
from calfwatch.engine.live_ledger import LiveLedger
from calfwatch.engine.result import EventRow, event_rows
from dsp.chain import DetectionChain
from dsp.output import ChainOutput, concat_outputs, output_since
from dsp.types import ENVELOPE_HOP_S

if TYPE_CHECKING:
    from classifier.config import ClassifierConfig

#: Kinds the live view gives as soon as their candidates are out (revised once settled if need be).
EARLY_KINDS = ("fasciculation", "myoclonus")
#: Kinds made of envelope bursts: the live view matches them by overlap (their edges can move).
SPAN_KINDS = ("voluntary", "plm", "cramp", "artifact")
#: Quiet after the end of a movement, cramp or artifact before the live view gives it early.
EARLY_QUIET_S = 0.05
#: Outputs gathered before they are joined to the live window (one join per few seconds).
RECENT_JOIN_EVERY = 32
#: Live classification ignores events this close to the start of its window (no left context).
LIVE_LEFT_CONTEXT_S = 10.0
#: Signal after an event's end before the live view settles it (s): a burst that begins up to the
#: rest margin (0.5 s) after a twitch, or began just before it, is a movement only once it has
#: lasted sustained_min_s (0.5 s), and the twitch within its margin is then not counted. With
#: less (0.3 s), a twitch at the start of a 0.55-s burst was settled, then dropped by the night's
#: analysis.
SETTLE_CONTEXT_S = 1.0


class LiveView:
    """The recent past of a night, classified as it streams.

    Parameters
    ----------
    chain : DetectionChain
        The engine's chain (read only: its horizon and the frames it has not returned yet).
    info : StreamInfo
        The stream's description.
    config : ClassifierConfig
        Classifier configuration.
    window_s : float
        Seconds of recent outputs classified.
    """

    def __init__(self, chain: DetectionChain, info: StreamInfo, config: ClassifierConfig,
                 window_s: float) -> None:
        self.chain, self.info, self.config = chain, info, config
        self.hop_samples = max(1, round(ENVELOPE_HOP_S * info.sfreq_hz))
        self._window_frames = int(round(window_s / ENVELOPE_HOP_S))
        self._recent: ChainOutput | None = None  # the live window, joined
        self._recent_new: list[ChainOutput] = []  # outputs not joined to it yet
        self._ledger = LiveLedger(span_kinds=SPAN_KINDS)

    def add(self, out: ChainOutput) -> None:
        """Take a chain output the engine kept."""
        self._recent_new.append(out)
        if len(self._recent_new) >= RECENT_JOIN_EVERY:
            self._join()

    def clear(self) -> None:
        """Drop the window (the night is over)."""
        self._recent, self._recent_new = None, []

    @property
    def horizon_s(self) -> float:
        """Seconds of the timeline the live view can see: candidates returned and frames filtered."""
        return self._horizon_s(self.chain.peek_until)

    def _horizon_s(self, frames_end: int) -> float:
        return min(self.chain.released_until, frames_end) / self.info.sfreq_hz

    def _join(self) -> ChainOutput | None:
        """Join the new outputs to the window and cut it to its last ``window_s``."""
        if self._recent_new:
            parts = [self._recent, *self._recent_new] if self._recent is not None else self._recent_new
            joined = concat_outputs(parts, self.info.n_channels)
            self._recent_new = []
            end = joined.envelope_start_frame + joined.n_frames
            self._recent = output_since(joined, end - self._window_frames, self.hop_samples)
        return self._recent

    def events(self, gaps: list[tuple[int, int, int]], context_s: float = SETTLE_CONTEXT_S,
               skip_channels: list[int] | None = None) -> list[EventRow]:
        """Live events of the recent past not given yet, and changes to those given early.

        ``gaps`` are the night's lost stretches so far; channels ``skip_channels`` give no event
        (those given early are withdrawn when due); see
        :meth:`calfwatch.engine.NightEngine.live_events` for the rest.
        """
        from classifier.night import classify_at_rest

        night, horizon_s = self._night(gaps)
        if night is None:
            return []
        ev, _ = classify_at_rest(night, self.config)
        if skip_channels:
            ev = ev[~np.isin(ev["channel"], skip_channels)]
        first_s = night.envelope_start_frame * self.hop_samples / self.info.sfreq_hz
        ev = ev[ev["onset_s"] >= (first_s + LIVE_LEFT_CONTEXT_S if first_s > 0 else 0.0)]
        end_s = ev["onset_s"] + ev["duration_s"]
        settled = end_s + context_s <= horizon_s
        quiet_s = np.where(np.isin(ev["kind"], EARLY_KINDS), 0.0, EARLY_QUIET_S)
        early = ~settled & (end_s + quiet_s <= horizon_s)
        out = self._ledger.settle(self._rows(ev[settled]), horizon_s - context_s)
        out += self._ledger.provisional(self._rows(ev[early]))
        self._ledger.forget_before(int((horizon_s - 2 * self._window_frames * ENVELOPE_HOP_S)
                                       * self.info.sfreq_hz))
        return out

    def _rows(self, events: np.ndarray) -> list[EventRow]:
        return event_rows(events, self.info.ch_names, self.info.sfreq_hz)

    def _night(self, gaps: list[tuple[int, int, int]]):
        """The window with the provisional frames after it, and the live horizon (s)."""
        from classifier.night_data import NightData

        out = self._join()
        if out is None or not out.n_frames:
            return None, 0.0
        env, noise, frame0 = self.chain.peek_frames()
        if frame0 == out.envelope_start_frame + out.n_frames and env.shape[1]:
            out = ChainOutput(out.candidates, out.features, out.snippets,
                              np.concatenate([out.envelope_uv, env], axis=1),
                              out.envelope_start_frame,
                              np.concatenate([out.noise_uv, noise], axis=1), out.quality)
        n_samples = (out.envelope_start_frame + out.n_frames) * self.hop_samples
        night = NightData.from_chain_output(
            out, self.info.sfreq_hz, self.info.ch_names, n_samples,
            [g for g in gaps if g[2] > out.envelope_start_frame * self.hop_samples],
        )
        return night, self._horizon_s(n_samples)
