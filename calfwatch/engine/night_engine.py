"""The night engine: a sample stream, chunk by chunk, on its timeline through the detection chain.

:class:`NightEngine` takes the chunks of any :class:`~acquisition.stream.SampleStream` (a live
serial source, a replayed file at full speed, the simulator) in timeline order, fills the holes a
source left as lost, runs them through :class:`dsp.chain.DetectionChain` and keeps only what the
chain returns (:class:`~calfwatch.engine.store.OutputStore`) and the gaps, never the samples.
The live view (:class:`~calfwatch.engine.live_view.LiveView`) classifies the recent past; a
snapshot (:class:`~calfwatch.engine.result.NightSnapshot`) classifies and summarises the night.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from acquisition.errors import RecordingError
from acquisition.stream import SampleChunk, SampleStream, StreamInfo
from calfwatch.engine.channels import left_out_channels
from calfwatch.engine.live_view import SETTLE_CONTEXT_S, LiveView
from calfwatch.engine.result import EventRow, NightResult, NightSnapshot
from calfwatch.engine.store import OutputStore
from dsp.chain import DetectionChain
from dsp.config import ChainConfig
from dsp.output import ChainOutput
from dsp.types import ENVELOPE_HOP_S, QUALITY_DTYPE

if TYPE_CHECKING:
    from classifier.config import ClassifierConfig

#: Fasciculation potentials last 5-30 ms: sampling below this rate cannot resolve them.
MIN_SFREQ_HZ = 500.0
#: The analysis's one batching layer: the chain gathers chunks to this much signal before it runs
#: (live latency vs. call overhead). Sources hand on chunks of whatever size they read.
ENGINE_BATCH_S = 0.1
#: Told once per process when the chain's kernels are not compiled on disk yet.
COLD_KERNELS_NOTE = "calfwatch: preparing the signal kernels, first run only (up to a minute) ...\n"
_cold_told = False

Gap = tuple[int, int, int]


def tell_if_kernels_cold(n_channels: int) -> None:
    """Say once on stderr that the first run compiles the signal kernels (a silent wait of up to
    a minute looks like a hang), and compile them on the cores (:func:`dsp.warmup.prepare`);
    nothing when they are on disk (:func:`dsp.warmup.kernels_cached`). Waits for the helpers
    :func:`dsp.warmup.start_early` started, if any."""
    global _cold_told
    from dsp.warmup import kernels_cached, prepare, started_early

    if _cold_told and not started_early():
        return
    cold = not kernels_cached(n_channels)
    if cold and not _cold_told:
        _cold_told = True
        sys.stderr.write(COLD_KERNELS_NOTE)
        sys.stderr.flush()
    if cold or started_early():
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


class NightEngine:
    """Stream a night through the detection chain, chunk by chunk, in bounded memory.

    Parameters
    ----------
    info : StreamInfo
        The stream's description.
    mains_hz : float or None
        50 or 60; None lets the chain decide from the first seconds.
    config : ClassifierConfig, optional
        Classifier configuration (:func:`classifier.config.load_config`); loaded when omitted.
    label : str
        Names the source in error messages (file or port).
    live_window_s : float
        Seconds of recent outputs :meth:`live_events` classifies.
    recording : str or os.PathLike, optional
        The recording's file: the JSON sidecar ``record`` wrote beside it gives the wearer's
        time zone (:func:`calfwatch.local_time.local_start`); default ``label`` when it names a
        file. Without a sidecar the night is in this machine's zone.

    Examples
    --------
    >>> from calfwatch.simulator import load_profile, simulate_night
    >>> night = simulate_night(load_profile("benign-night", duration_s=60.0), seed=1)
    >>> engine = NightEngine(night.info, mains_hz=50.0)
    >>> for chunk in night.chunks(chunk_s=1.0):
    ...     engine.feed(chunk)
    >>> result = engine.finish()  # doctest: +SKIP
    """

    def __init__(
        self,
        info: StreamInfo,
        *,
        mains_hz: float | None = None,
        config: ClassifierConfig | None = None,
        label: str = "",
        live_window_s: float = 40.0,
        recording: str | os.PathLike | None = None,
    ) -> None:
        from calfwatch.local_time import local_start
        from classifier.config import load_config

        self.label = label or str(info.device.get("file") or info.device.get("port") or "stream")
        check_info(info, self.label)
        self.info = info
        #: the night's local start and time zone (``start_local``, ``timezone``)
        self.local = local_start(info.meas_date, label if recording is None else recording)
        self.config = config if config is not None else load_config()
        self.chain_config = chain_config()
        self.chain = DetectionChain(info.sfreq_hz, info.n_channels, mains_hz, self.chain_config)
        tell_if_kernels_cold(info.n_channels)
        self.store = OutputStore(info.n_channels, max(1, round(ENVELOPE_HOP_S * info.sfreq_hz)))
        self.live = LiveView(self.chain, info, self.config, live_window_s)
        self.gaps: list[Gap] = []
        self.n_samples = 0
        self._start: int | None = None
        self._finished = False
        self._left_out: tuple[int, list[int]] = (0, [])  # (quality rows seen, channels left out)

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
        if self.store.add(out):
            self.live.add(out)

    @property
    def outputs(self) -> list[ChainOutput]:
        """The chain outputs kept so far, in timeline order."""
        return self.store.blocks

    @property
    def processed_s(self) -> float:
        """Seconds of the timeline the chain has returned frames for."""
        return self.store.processed_samples / self.info.sfreq_hz

    # ------------------------------------------------------------------------------- live view
    @property
    def live_horizon_s(self) -> float:
        """Seconds of the timeline the live view can see: candidates returned and frames filtered."""
        return self.live.horizon_s

    def live_events(self, context_s: float = SETTLE_CONTEXT_S) -> list[EventRow]:
        """Live events of the recent past not given yet, and changes to those given early.

        Every event is given early (row key ``live`` = ``"provisional"``): fasciculations and jerks
        (:data:`~calfwatch.engine.live_view.EARLY_KINDS`, made of candidates alone) as soon as the
        chain has returned their candidates, other kinds once
        :data:`~calfwatch.engine.live_view.EARLY_QUIET_S` of quiet follows them. Every event is
        settled once ``context_s`` of signal follows its end (doublets, jerks and trains look
        40-200 ms ahead; a movement ends only after the AASM 0.5 s of quiet, and a burst near a
        twitch is a movement once it has lasted 0.5 s: see
        :data:`~calfwatch.engine.live_view.SETTLE_CONTEXT_S`): one given early that turned
        out otherwise comes back as ``"revised"`` (new kind, detail or length) or ``"withdrawn"``
        (no longer an event); one not given yet comes as ``"settled"``. Kinds that need a longer
        context (a PLM series, a movement's rest margin) may still change in the final analysis,
        which alone is written to the output files. Call it when :attr:`live_horizon_s` has
        moved on.

        A channel the night so far leaves out (rectified, or nothing in the detection band:
        :func:`~calfwatch.engine.channels.left_out_channels`) gives no live event once that is known
        (after three quality windows); its early ones not settled yet are withdrawn.
        """
        return self.live.events(self.gaps, context_s, skip_channels=self._left_out_so_far())

    def _left_out_so_far(self) -> list[int]:
        """Channels the quality rows so far leave out; worked out again only when a quality
        window has been added (every 10 s of signal, where live calls come every 0.25 s)."""
        quality = [out.quality for out in self.store.blocks]
        n_rows = sum(len(q) for q in quality)
        if n_rows != self._left_out[0]:
            rows = np.concatenate(quality) if quality else np.zeros(0, QUALITY_DTYPE)
            self._left_out = (n_rows, list(left_out_channels(rows, self.info.n_channels)))
        return self._left_out[1]

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

    def snapshot(self, final: bool = False) -> NightSnapshot:
        """Fix what a result will cover; return the snapshot that classifies, summarises and
        assesses it when called (keywords of :meth:`finish`).

        ``final=True`` flushes the chain and covers the whole night. ``final=False`` covers what
        was processed so far, and the snapshot may run on another thread while the engine
        streams on (it reads only what it holds), so a recorder need not wait for it.
        """
        if final and not self._finished:
            self._keep(self.chain.flush())
            self._finished = True
        if self._start is None:
            raise RecordingError(self.label, "no samples in the recording")
        n_samples = self.n_samples if final else self.store.processed_samples
        if final:  # the blocks go into one: keep one copy only
            self.store.join_all()
            self.live.clear()
        moved = self.chain.mains_switch_sample
        settings = {**dataclasses.asdict(self.chain_config), "mains_hz": self.chain.mains_hz,
                    "line_hz": self.chain.line_hz, "mains_assumed": self.chain.mains_assumed,
                    "mains_switched_s": None if moved is None else moved / self.chain.sfreq_hz}
        return NightSnapshot(list(self.store.blocks), n_samples, list(self.gaps), self.info,
                             self.config, settings, self.label, dict(self.local))


def feed_stream(
    stream: SampleStream, engine: NightEngine,
    on_chunk: Callable[[SampleChunk], None] | None = None,
) -> NightEngine:
    """Feed every chunk of ``stream`` to ``engine`` (then close the stream); return the engine.

    This is the loop every analysis shares (``analyze``, the batch runner, the Python API); the
    recorder's hook (:class:`calfwatch.live.LiveAnalysis`) feeds the same engine chunk by chunk
    as they are written.
    """
    try:
        for chunk in stream.chunks():
            engine.feed(chunk)
            if on_chunk is not None:
                on_chunk(chunk)
    finally:
        stream.close()
    return engine
