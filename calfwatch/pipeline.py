"""The pipeline engine: one code path from a sample stream to classified events and a night summary.

:class:`NightEngine` takes the chunks of any :class:`~acquisition.stream.SampleStream` (a live serial
source, a replayed file at full speed, the simulator) in timeline order, runs them through
:class:`dsp.chain.DetectionChain`, and keeps only what the chain returns (candidates, features,
snippets, 50-ms envelope and noise frames, quality rows) and the gaps, never the samples: memory grows
by a few MB per channel-hour. :meth:`NightEngine.finish` classifies the whole night
(:func:`classifier.night.classify_night`), summarises it and assesses it with the wearer's history.
:meth:`NightEngine.live_events` classifies the recent past while a night is being recorded.

:func:`analyze_stream` is the loop ``record`` and ``analyze`` share, so a recorded night analysed from
its file gives the events the live night gave (the live path feeds the values the file stores:
see :mod:`calfwatch.live`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC
from functools import partial
from typing import Any

import numpy as np

from acquisition.errors import RecordingError
from acquisition.stream import SampleChunk, StreamInfo
from calfwatch.live_ledger import LiveLedger
from dsp.chain import DetectionChain
from dsp.config import ChainConfig
from dsp.output import ChainOutput, concat_outputs, output_since
from dsp.types import ENVELOPE_HOP_S

#: Fasciculation potentials last 5-30 ms: sampling below this rate cannot resolve them.
MIN_SFREQ_HZ = 500.0
#: Chunks are gathered to this length before the chain runs (live latency vs. call overhead).
ENGINE_BATCH_S = 0.1
#: Chain outputs are joined into one block every this many, so a night is a few dozen large arrays
#: (returned to the system when freed) rather than tens of thousands of small ones.
CONSOLIDATE_OUTPUTS = 256
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
#: A channel whose windows are all at least this flat or lost carries no signal.
UNUSABLE_FRACTION = 0.99
#: Told once per process when the chain's kernels are not compiled on disk yet.
COLD_KERNELS_NOTE = "calfwatch: preparing the signal kernels, first run only (up to a minute) ...\n"
_cold_told = False


def tell_if_kernels_cold(n_channels: int) -> None:
    """Say once on stderr that the first run compiles the signal kernels (a silent wait of up to
    a minute looks like a hang), and compile them on the cores (:func:`dsp.warmup.prepare`);
    nothing when they are on disk (:func:`dsp.warmup.kernels_cached`)."""
    global _cold_told
    if _cold_told:
        return
    from dsp.warmup import kernels_cached, prepare

    if not kernels_cached(n_channels):
        _cold_told = True
        sys.stderr.write(COLD_KERNELS_NOTE)
        sys.stderr.flush()
        prepare(n_channels)


def chain_config() -> ChainConfig:
    """The detection chain settings the engine uses (the defaults, small batches for live use)."""
    return ChainConfig(batch_s=ENGINE_BATCH_S)


def check_info(info: StreamInfo, label: str) -> None:
    """Refuse streams the analysis cannot handle, with a one-line reason naming ``label``.

    Raises
    ------
    RecordingError
        No channel, or a sampling rate below :data:`MIN_SFREQ_HZ`.
    """
    if info.n_channels < 1:
        raise RecordingError(label, "no EMG-like channel to analyse")
    if not info.sfreq_hz >= MIN_SFREQ_HZ:
        raise RecordingError(
            label,
            f"sampling rate {info.sfreq_hz:g} Hz is below {MIN_SFREQ_HZ:g} Hz; fasciculation "
            "potentials (5-30 ms) need at least 500 Hz",
        )


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
    classified : object
        The :class:`classifier.night.ClassifiedNight` (None when nothing could be classified).
    n_samples : int
        Samples per channel on the timeline.
    unusable_channels : list of str
        Channels left out because they carried no signal (flat or lost throughout).
    """

    info: StreamInfo
    events: list[dict[str, Any]]
    summary: dict[str, Any]
    classified: Any
    n_samples: int
    unusable_channels: list[str] = field(default_factory=list)


class NightEngine:
    """Stream a night through dsp and the classifier, chunk by chunk, in bounded memory.

    Parameters
    ----------
    info : StreamInfo
        The stream's description.
    mains_hz : float or None
        50 or 60; None lets the chain decide from the first seconds.
    config : dict, optional
        Classifier configuration (:func:`classifier.config.load_config`); loaded when omitted.
    label : str
        Names the source in error messages (file or port).
    live_window_s : float
        Seconds of recent outputs :meth:`live_events` classifies.
    """

    def __init__(
        self,
        info: StreamInfo,
        *,
        mains_hz: float | None = None,
        config: dict[str, Any] | None = None,
        label: str = "",
        live_window_s: float = 40.0,
    ) -> None:
        from classifier.config import load_config

        self.label = label or str(info.device.get("file") or info.device.get("port") or "stream")
        check_info(info, self.label)
        self.info = info
        self.config = config if config is not None else load_config()
        self.chain_config = chain_config()
        self.chain = DetectionChain(info.sfreq_hz, info.n_channels, mains_hz, self.chain_config)
        tell_if_kernels_cold(info.n_channels)
        self.hop = max(1, round(ENVELOPE_HOP_S * info.sfreq_hz))
        self.outputs: list[ChainOutput] = []
        self._since_block = 0
        self.gaps: list[tuple[int, int, int]] = []
        self.n_samples = 0
        self._start: int | None = None
        self._recent: ChainOutput | None = None  # the live window, joined
        self._recent_new: list[ChainOutput] = []  # outputs not joined to it yet
        self._window_frames = int(round(live_window_s / ENVELOPE_HOP_S))
        self._live = LiveLedger(span_kinds=SPAN_KINDS)
        self._finished = False

    # ------------------------------------------------------------------------------- streaming
    def feed(self, chunk: SampleChunk) -> None:
        """Process one chunk (data or gap) at its place on the timeline."""
        if self._finished:
            raise RuntimeError("NightEngine.feed called after finish")
        if self._start is None:
            self._start = self.n_samples = int(chunk.start_sample)
        if chunk.start_sample > self.n_samples:  # a hole the source did not fill: lost
            n = chunk.start_sample - self.n_samples
            self._push(self.n_samples, np.full((self.info.n_channels, n), np.nan), gap=True)
        elif chunk.start_sample < self.n_samples:
            raise RecordingError(
                self.label, f"chunk at sample {chunk.start_sample} overlaps the timeline "
                f"(next sample is {self.n_samples})")
        if chunk.n_samples:
            self._push(chunk.start_sample, chunk.data_uv, chunk.gap)

    def _push(self, start: int, data_uv: np.ndarray, gap: bool) -> None:
        stop = start + data_uv.shape[1]
        if gap:
            if self.gaps and self.gaps[-1][2] == start:
                self.gaps[-1] = (-1, self.gaps[-1][1], stop)
            else:
                self.gaps.append((-1, start, stop))
        self._keep(self.chain.process(data_uv, start))
        self.n_samples = stop

    def _keep(self, out: ChainOutput) -> None:
        if not (out.n_frames or len(out.candidates) or len(out.quality)):
            return
        self.outputs.append(out)
        self._since_block += 1
        if self._since_block >= CONSOLIDATE_OUTPUTS:
            tail = self.outputs[-self._since_block:]
            del self.outputs[-self._since_block:]
            self.outputs.append(concat_outputs(tail, self.info.n_channels))
            self._since_block = 0
        self._recent_new.append(out)
        if len(self._recent_new) >= RECENT_JOIN_EVERY:
            self._join_recent()

    def _join_recent(self) -> ChainOutput | None:
        """Join the new outputs to the live window and cut it to its last ``live_window_s``."""
        if self._recent_new:
            parts = [self._recent, *self._recent_new] if self._recent is not None else self._recent_new
            joined = concat_outputs(parts, self.info.n_channels)
            self._recent_new = []
            end = joined.envelope_start_frame + joined.n_frames
            self._recent = output_since(joined, end - self._window_frames, self.hop)
        return self._recent

    @property
    def processed_s(self) -> float:
        """Seconds of the timeline the chain has returned frames for."""
        if not self.outputs:
            return 0.0
        last = next((o for o in reversed(self.outputs) if o.n_frames), None)
        if last is None:
            return 0.0
        return (last.envelope_start_frame + last.n_frames) * self.hop / self.info.sfreq_hz

    # ------------------------------------------------------------------------------- live view
    @property
    def live_horizon_s(self) -> float:
        """Seconds of the timeline the live view can see: candidates returned and frames filtered."""
        return self._horizon_s(self.chain.peek_until)

    def _horizon_s(self, frames_end: int) -> float:
        return min(self.chain.released_until, frames_end) / self.info.sfreq_hz

    def live_events(self, context_s: float = 0.3) -> list[dict[str, Any]]:
        """Live events of the recent past not given yet, and changes to those given early.

        Every event is given early (row key ``live`` = ``"provisional"``): fasciculations and jerks
        (:data:`EARLY_KINDS`, made of candidates alone) as soon as the chain has returned their
        candidates, other kinds once :data:`EARLY_QUIET_S` of quiet follows them. Every event is
        settled once ``context_s`` of signal follows its end (doublets, jerks and trains look
        40-200 ms ahead; a movement ends only after the AASM 0.5 s of quiet): one given early that turned
        out otherwise comes back as ``"revised"`` (new kind, detail or length) or ``"withdrawn"``
        (no longer an event); one not given yet comes as ``"settled"``. Kinds that need a longer
        context (a PLM series, a movement's rest margin) may still change in the final analysis,
        which alone is written to the output files. Call it when :attr:`live_horizon_s` has
        moved on.
        """
        from classifier.night import classify_at_rest

        night, horizon_s = self._live_night()
        if night is None:
            return []
        ev, _ = classify_at_rest(night, self.config)
        first_s = night.envelope_start_frame * self.hop / self.info.sfreq_hz
        ev = ev[ev["onset_s"] >= (first_s + LIVE_LEFT_CONTEXT_S if first_s > 0 else 0.0)]
        end_s = ev["onset_s"] + ev["duration_s"]
        settled = end_s + context_s <= horizon_s
        quiet_s = np.where(np.isin(ev["kind"], EARLY_KINDS), 0.0, EARLY_QUIET_S)
        early = ~settled & (end_s + quiet_s <= horizon_s)
        out = self._live.settle(self._rows(ev[settled]), horizon_s - context_s)
        out += self._live.provisional(self._rows(ev[early]))
        self._live.forget_before(int((horizon_s - 2 * self._window_frames * ENVELOPE_HOP_S)
                                     * self.info.sfreq_hz))
        return out

    def _rows(self, events: np.ndarray) -> list[dict[str, Any]]:
        return event_rows(events, self.info.ch_names, self.info.sfreq_hz)

    def _live_night(self):
        """The recent outputs with the provisional frames after them, and the live horizon (s)."""
        from classifier.night import NightData

        out = self._join_recent()
        if out is None or not out.n_frames:
            return None, 0.0
        env, noise, frame0 = self.chain.peek_frames()
        if frame0 == out.envelope_start_frame + out.n_frames and env.shape[1]:
            out = ChainOutput(out.candidates, out.features, out.snippets,
                              np.concatenate([out.envelope_uv, env], axis=1),
                              out.envelope_start_frame,
                              np.concatenate([out.noise_uv, noise], axis=1), out.quality)
        n_samples = (out.envelope_start_frame + out.n_frames) * self.hop
        night = NightData.from_chain_output(
            out, self.info.sfreq_hz, self.info.ch_names, n_samples,
            [g for g in self.gaps if g[2] > out.envelope_start_frame * self.hop],
        )
        return night, self._horizon_s(n_samples)

    # ------------------------------------------------------------------------------- the end
    def finish(
        self,
        *,
        history_nights: Iterable[Any] = (),
        symptoms: Iterable[str] = (),
        meta: dict[str, Any] | None = None,
        final: bool = True,
    ) -> NightResult:
        """Classify the whole night, summarise and assess it.

        With ``final=False`` the chain is not flushed and the engine keeps streaming: the result
        covers what was processed so far (record's periodic outputs).
        """
        return self.snapshot(final=final)(history_nights=history_nights, symptoms=symptoms,
                                          meta=meta)

    def snapshot(self, final: bool = False) -> Callable[..., NightResult]:
        """Fix what a result will cover; return the function that classifies, summarises and
        assesses it (keywords of :meth:`finish`).

        ``final=True`` flushes the chain and covers the whole night. ``final=False`` covers what
        was processed so far, and the function may run on another thread while the engine
        streams on (it reads only what the snapshot holds), so a recorder need not wait for it.
        """
        if final and not self._finished:
            self._keep(self.chain.flush())
            self._finished = True
        if self._start is None:
            raise RecordingError(self.label, "no samples in the recording")
        n_samples = self.n_samples if final else int(round(self.processed_s * self.info.sfreq_hz))
        if final:  # the blocks go into one: keep one copy only
            self.outputs = [concat_outputs(self.outputs, self.info.n_channels)]
            self._recent, self._recent_new = None, []
        return partial(self._result, list(self.outputs), n_samples, list(self.gaps))

    def _result(
        self,
        outs: list[ChainOutput],
        n_samples: int,
        gaps: list[tuple[int, int, int]],
        *,
        history_nights: Iterable[Any] = (),
        symptoms: Iterable[str] = (),
        meta: dict[str, Any] | None = None,
    ) -> NightResult:
        from calfwatch.summary_doc import build_summary
        from classifier.night import NightData, classify_night

        whole = outs[0] if len(outs) == 1 else concat_outputs(outs, self.info.n_channels)
        keep, unusable = usable_channels(whole, self.info.ch_names)
        if not keep:
            raise RecordingError(
                self.label, "no usable signal: every channel is flat or missing "
                f"({', '.join(self.info.ch_names)})")
        whole = select_channels(whole, keep)
        names = [self.info.ch_names[i] for i in keep]
        start = self.info.meas_date
        meta = {"meas_date": None if start is None else start.astimezone(UTC).isoformat(),
                **(meta or {})}
        night = NightData.from_chain_output(whole, self.info.sfreq_hz, names, n_samples, gaps, meta)
        classified = classify_night(night, self.config)
        events = event_rows(classified.events, names, self.info.sfreq_hz)
        summary = build_summary(
            classified, night, self, unusable=unusable, history_nights=history_nights,
            symptoms=symptoms)
        return NightResult(self.info, events, summary, classified, n_samples, unusable)


def event_rows(events: np.ndarray, ch_names: list[str], sfreq_hz: float) -> list[dict[str, Any]]:
    """Classifier events (``EVENT_DTYPE``) as output rows for :mod:`calfwatch.outputs`."""
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


def usable_channels(out: ChainOutput, ch_names: list[str]) -> tuple[list[int], list[str]]:
    """Channels with signal somewhere, and the names of those flat or lost throughout."""
    q = out.quality
    keep, dead = [], []
    for ch, name in enumerate(ch_names):
        rows = q[q["channel"] == ch]
        bad = np.maximum(np.nan_to_num(rows["flat_fraction"], nan=1.0),
                         np.nan_to_num(rows["nan_fraction"], nan=1.0))
        if len(rows) and np.all(bad >= UNUSABLE_FRACTION):
            dead.append(name)
        else:
            keep.append(ch)
    return keep, dead


def select_channels(out: ChainOutput, keep: list[int]) -> ChainOutput:
    """The chain output restricted to channels ``keep``, renumbered 0..len(keep)-1."""
    n_all = out.envelope_uv.shape[0]
    if keep == list(range(n_all)):
        return out
    new_index = np.full(n_all, -1, np.int32)
    new_index[keep] = np.arange(len(keep), dtype=np.int32)
    rows = np.isin(out.candidates["channel"], keep)
    cand = out.candidates[rows].copy()
    cand["channel"] = new_index[cand["channel"]]
    qrows = np.isin(out.quality["channel"], keep)
    quality = out.quality[qrows].copy()
    quality["channel"] = new_index[quality["channel"]]
    return ChainOutput(
        cand, out.features[rows], out.snippets[rows], out.envelope_uv[keep],
        out.envelope_start_frame, out.noise_uv[keep], quality,
    )


def analyze_stream(
    stream,
    engine: NightEngine | None = None,
    *,
    on_chunk: Callable[[SampleChunk], None] | None = None,
    **finish_kw: Any,
) -> NightResult:
    """Run every chunk of ``stream`` through a :class:`NightEngine` and finish the night.

    Parameters
    ----------
    stream : SampleStream
        Serial source, :class:`acquisition.replay.ReplayStream`, simulated night...
    engine : NightEngine, optional
        A ready engine (default: one built from ``stream.info``).
    on_chunk : callable, optional
        Called with each chunk after the engine took it (progress bars).
    **finish_kw
        Passed to :meth:`NightEngine.finish`.
    """
    engine = engine or NightEngine(stream.info)
    feed_stream(stream, engine, on_chunk)
    return engine.finish(**finish_kw)


def feed_stream(
    stream, engine: NightEngine, on_chunk: Callable[[SampleChunk], None] | None = None
) -> NightEngine:
    """Feed every chunk of ``stream`` to ``engine`` (then close the stream); return the engine."""
    try:
        for chunk in stream.chunks():
            engine.feed(chunk)
            if on_chunk is not None:
                on_chunk(chunk)
    finally:
        stream.close()
    return engine
