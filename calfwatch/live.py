"""Live detection while ``calfwatch record`` writes the night.

:class:`FileValues` turns the µV a device sent into the µV its EDF+/BDF+ file gives back (the file
stores integer counts between a physical and a digital range), so the live engine sees exactly the
samples an offline analysis of the file sees: live and offline events are then the same.

:class:`LiveAnalysis` is the per-chunk hook of the recording loop: it feeds the engine, emits
provisional events about once a second, rewrites the output files every few minutes, and at the end
writes the final analysis, adds the night to the history and returns the result.

The live twitch count converges to the night's: it is the number of events the live view currently
counts as twitches (early calls corrected when they settle), and at the end the final analysis
corrects it (twitches it missed are added, ones that are not twitches after all taken away), so
the last count it shows equals the summary's ``fasciculations``.
Before that, it can differ only where the final analysis uses context the 40-s live window does
not have (a PLM series, the resting level over 10 minutes, a movement's margin, a unit's part
that is time-locked to it over the night, the discharges of a unit near the floor that size it).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from acquisition.edf.constants import ANNOTATION_LABELS
from acquisition.edf.header import read_header
from acquisition.edf.scaling import EdfScaling
from acquisition.stream import SampleChunk
from calfwatch.log import logger

#: Seconds before a periodic output rewrite that failed is tried again.
OUTPUTS_RETRY_S = 10.0


class FileValues:
    """µV in, the µV an EDF+/BDF+ file holding them reads back as, out.

    The writer's mapping (physical -> rounded digital count, clipped) then the reader's
    (:class:`acquisition.replay.ReplayStream`: count x cal + offset, header values in µV).

    Parameters
    ----------
    source : EdfScaling, str or os.PathLike
        The ranges the file stores (``EdfPlusWriter.scaling``, as the writer holds them), or an
        EDF/BDF file whose header states them (its data signals, annotation signal left out).
    """

    def __init__(self, source: EdfScaling | str | os.PathLike) -> None:
        if not isinstance(source, EdfScaling):
            fields = read_header(source).fields()
            data = [i for i, label in enumerate(fields["label"]) if label not in ANNOTATION_LABELS]
            source = EdfScaling.from_fields(fields, data)
        self.scaling = source

    def __call__(self, data_uv: np.ndarray) -> np.ndarray:
        """The values read back from the file for ``data_uv`` (NaN stays NaN)."""
        return self.scaling.stored_values(data_uv)


def _is_twitch(row: dict) -> bool:
    """Whether an event row counts as a twitch: a fasciculation, not the second of a doublet."""
    return (row.get("live") != "withdrawn" and row["kind"] == "fasciculation"
            and "doublet" not in row["detail"])


class LiveAnalysis:
    """Detect while recording: the ``on_chunk`` hook of :func:`acquisition.recorder.run_recording`.

    Parameters
    ----------
    recorder : acquisition.recorder.Recorder
        The recording in progress (its writer hands over the ranges the file stores).
    out_dir : str or os.PathLike
        Where events.tsv, summary.json and annotations.txt go (``calfwatch record``: the
        recording's own folder, :func:`calfwatch.outputs.analysis_dir`).
    subject, side : str
        The wearer and the calf; with a subject the night joins the history at the end.
    outputs_every_s : float
        Rewrite the output files at least this often (wall time).
    live_every_s : float
        Classify the recent past when the chain has processed new signal, at most this often
        (wall time).
    on_events : callable, optional
        Called with each batch of live rows: new events and corrections of early ones (see
        :meth:`calfwatch.engine.NightEngine.live_events`, key ``live``).
    mains_hz : float or None
        50 or 60; None decides from the first 10 s of signal (no live event before then).
    """

    def __init__(
        self,
        recorder: Any,
        out_dir: str | os.PathLike,
        *,
        subject: str = "",
        side: str = "",
        outputs_every_s: float = 300.0,
        live_every_s: float = 0.25,
        on_events: Callable[[list[dict]], None] | None = None,
        mains_hz: float | None = None,
    ) -> None:
        from calfwatch.engine import NightEngine

        self.recorder = recorder
        self.out_dir = Path(out_dir)
        self.subject, self.side = subject, side
        self.values = FileValues(recorder.writer.scaling)
        self.engine = NightEngine(recorder.info, mains_hz=mains_hz, label=str(recorder.path))
        self.outputs_every_s = float(outputs_every_s)
        self.live_every_s = float(live_every_s)
        self.on_events = on_events
        self.live_event_count = 0
        #: Twitches counted by the live view before the final analysis corrected it (None before).
        self.twitches_before_final: int | None = None
        #: Corrections the final analysis made to the live view.
        self.final_corrections = 0
        self.error: str | None = None
        now = time.monotonic()
        self._last_outputs = now
        self._last_live = now
        self._live_at_s = 0.0
        self._twitches: set[tuple[int, str]] = set()  # (onset sample, channel) counted now
        self._writer: threading.Thread | None = None  # the periodic outputs being rewritten
        self._outputs_error: str | None = None  # why the last periodic rewrite failed

    def __call__(self, chunk: SampleChunk) -> None:
        """Take one chunk just written to the file (a failure stops live detection, not the
        recording: the night is then analysed from the file at the end)."""
        if self.error is not None:
            return
        try:
            self._take(chunk)
        except Exception as exc:  # noqa: BLE001 - the recording must go on
            self.error = " ".join(str(exc).split()) or type(exc).__name__
            logger.warning("live detection stopped (%s); the recording goes on and is analysed "
                           "from the file at the end", self.error)

    def _take(self, chunk: SampleChunk) -> None:
        if not chunk.gap:  # the values the file gives back (the chain batches them)
            chunk = SampleChunk(chunk.start_sample, self.values(chunk.data_uv))
        self.engine.feed(chunk)
        now = time.monotonic()
        if now - self._last_live >= self.live_every_s:
            horizon_s = self.engine.live_horizon_s
            if horizon_s > self._live_at_s:
                self._last_live, self._live_at_s = now, horizon_s
                self._emit(self.engine.live_events())
        if now - self._last_outputs >= self.outputs_every_s:
            self._last_outputs = now
            self.write_partial()

    def _emit(self, rows: list[dict]) -> None:
        if not rows:
            return
        self.live_event_count += sum(1 for r in rows if r["live"] in ("provisional", "settled"))
        self._count(rows)
        if self.on_events is not None:
            self.on_events(rows)

    def _count(self, rows: list[dict]) -> None:
        for r in rows:  # a correction replaces what its early call counted
            key = (int(r["sample"]), str(r["channel"]))
            if _is_twitch(r):
                self._twitches.add(key)
            else:
                self._twitches.discard(key)

    @property
    def twitches(self) -> int:
        """Twitches the live view counts now (after :meth:`finish`: the night's final count)."""
        return len(self._twitches)

    def reconcile(self, final_rows: list[dict]) -> int:
        """Correct the live view's count by the final analysis's events; return the corrections.

        Final twitches the live view did not count are added, twitches it counted that the final
        analysis does not keep are taken away. They are not sent to ``on_events``: the night is
        over (a listener's stream may be closed) and the output files hold the final events.
        """
        final = {(int(r["sample"]), str(r["channel"])) for r in final_rows if _is_twitch(r)}
        self.twitches_before_final = self.twitches
        self.final_corrections = len(final ^ self._twitches)
        self._twitches = final
        return self.final_corrections

    def write_partial(self) -> None:
        """Analyse everything so far and rewrite the output files, on a thread of its own.

        Classifying a whole night takes seconds by morning, and this hook runs in the recording
        loop: the loop only takes the snapshot and goes back to writing samples (at most a second
        of them at risk). One rewrite at a time; one still running when the next is due is left
        to finish.
        """
        if self._writer is not None and self._writer.is_alive():
            return
        try:
            job = self.engine.snapshot(final=False)
        except ValueError:  # nothing processed yet
            return
        self._writer = threading.Thread(target=self._write_outputs, args=(job, self._meta()),
                                        name="calfwatch-outputs", daemon=True)
        self._writer.start()

    def _write_outputs(self, job: Callable[..., Any], meta: dict[str, Any]) -> None:
        from calfwatch.outputs import write_outputs

        try:
            result = job(meta=meta)
            write_outputs(self.out_dir, result.events, result.summary,
                          self.recorder.info)
        except ValueError:  # too little signal yet: nothing to write
            return
        except Exception as exc:  # noqa: BLE001 - the recording must go on; the end rewrites them
            # retried soon (not a whole period later), reported once until it works again
            retry_s = min(self.outputs_every_s, OUTPUTS_RETRY_S)
            self._last_outputs = time.monotonic() - self.outputs_every_s + retry_s
            if self._outputs_error is None:
                logger.warning("periodic outputs not written (%s); the recording goes on, retried "
                               "every %g s", " ".join(str(exc).split()) or type(exc).__name__,
                               retry_s)
            self._outputs_error = str(exc)
            return
        if self._outputs_error is not None:
            self._outputs_error = None
            logger.warning("periodic outputs written again in %s", self.out_dir)

    def wait_for_outputs(self) -> None:
        """Wait for a periodic rewrite still running."""
        if self._writer is not None:
            self._writer.join()

    def _meta(self) -> dict[str, Any]:
        return {"file": self.recorder.path.name, "subject": self.subject, "side": self.side,
                "device": dict(self.recorder.info.device)}

    def finish(self, history_path: str | None = None):
        """Final analysis: output files, the history (with a subject), and the result."""
        from calfwatch.analysis import analyze_file, finish_night

        self.wait_for_outputs()  # the final files must not be overwritten by an older analysis
        if self.error is not None:
            done = analyze_file(self.recorder.path, self.out_dir, subject=self.subject,
                                side=self.side, history_path=history_path,
                                mains_hz=self.engine.chain.mains_hz)
        else:
            done = finish_night(self.engine, self.out_dir, subject=self.subject, side=self.side,
                                meta=self._meta(), history_path=history_path)
        self.reconcile(done[0].events)
        return done
