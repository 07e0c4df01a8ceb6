"""One recording of a batch, analysed where a worker runs it (this process, a local worker process
or a cluster node): read, detect, classify, write its outputs, and return what the client needs.

The task never touches the history (the client is its only writer) and never raises for a bad
recording: the error comes back as one line in :class:`Outcome`, so a failed file never stops a
batch.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from calfwatch.batch.allocator import keep_freed_memory
from calfwatch.batch.inputs import Job

if TYPE_CHECKING:
    from classifier.config import ClassifierConfig

#: Errors that mean "this recording cannot be analysed" (anything else is a bug, still reported).
BAD_INPUT = (OSError, ValueError, RuntimeError, LookupError)


@dataclass(frozen=True)
class Options:
    """Settings shared by every task of a batch (sent to the workers).

    Attributes
    ----------
    config : ClassifierConfig
        The classifier configuration, loaded once by the client.
    units, mains_hz, subject, side, anonymize, channels
        As the command's options (``channels``: ``"1,2"`` or names, None for every channel).
    numba_threads : int or dict or None
        Threads each file's kernels may use: an int, a mapping of worker address to threads
        (workers missing from it use 1), or None for numba's default.
    """

    config: ClassifierConfig
    units: str | None = None
    mains_hz: float | None = None
    subject: str = ""
    side: str = ""
    anonymize: bool = False
    channels: str | None = None
    numba_threads: int | dict[str, int] | None = None


@dataclass
class Outcome:
    """What a task sends back: the summary (None when it failed), the paths written, notes for the
    user, the error line, and the calfwatch version that ran it."""

    index: int
    path: str
    summary: dict[str, Any] | None = None
    paths: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    error: str = ""
    version: str = ""

    @property
    def failed(self) -> bool:
        return bool(self.error)


def error_line(path: str, exc: BaseException) -> str:
    """One line naming the recording and the problem (the command line's wording)."""
    from calfwatch.cli import _one_line

    text = _one_line(exc)
    if not isinstance(exc, BAD_INPUT):
        text = f"internal error: {type(exc).__name__}: {text}"
    return text if os.fspath(path) in text else f"{path}: {text}"


def _set_threads(numba_threads: int | dict[str, int] | None) -> None:
    if numba_threads is None:
        return
    if isinstance(numba_threads, dict):
        try:
            from distributed import get_worker

            numba_threads = numba_threads.get(get_worker().address, 1)
        except (ImportError, ValueError):
            numba_threads = 1
    import numba

    numba.set_num_threads(max(1, min(int(numba_threads), numba.config.NUMBA_NUM_THREADS)))


def analyze_recording(job: Job, options: Options, raise_errors: bool = False) -> Outcome:
    """Analyse ``job.path`` into ``job.out_dir``; the error as a line unless ``raise_errors``.

    Examples
    --------
    >>> from classifier.config import load_config
    >>> outcome = analyze_recording(Job(0, "missing.edf", "out"), Options(load_config()))
    >>> outcome.failed
    True
    """
    from calfwatch import __version__

    outcome = Outcome(job.index, job.path, version=__version__)
    try:
        _set_threads(options.numba_threads)
        keep_freed_memory()  # a Dask worker would map and fault in every array afresh
        _run(job, options, outcome)
    except Exception as exc:
        if raise_errors:
            raise
        outcome.summary, outcome.paths = None, {}
        outcome.error = error_line(job.path, exc).replace(job.source, job.path)
    return outcome


def _run(job: Job, options: Options, outcome: Outcome) -> None:
    from calfwatch.analysis import open_stream, reader_notes
    from calfwatch.engine import NightEngine, feed_stream
    from calfwatch.outputs import write_outputs

    stream = open_stream(job.source, options.units, channels=options.channels)
    try:
        outcome.notes.extend(reader_notes(stream, job.path))
        engine = NightEngine(stream.info, mains_hz=options.mains_hz, config=options.config,
                             label=os.fspath(job.path), recording=job.source)
    except BaseException:
        stream.close()
        raise
    feed_stream(stream, engine)
    meta = {"subject": options.subject, "side": options.side, "file": Path(job.path).name}
    result = engine.finish(meta=meta)
    summary = result.summary
    if options.anonymize:
        from calfwatch.anonymize import anonymize_summary

        summary = anonymize_summary(summary, options.subject)
    paths = write_outputs(job.target, result.events, summary, engine.info)
    outcome.summary = summary
    outcome.paths = {k: os.path.join(job.out_dir, Path(v).name) for k, v in paths.items()}
