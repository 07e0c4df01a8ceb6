"""The client side of a batch: hand the recordings to an engine, finish each night in the batch's
order as results come in, and write the cohort table. It prints nothing itself: the caller's
``show`` callback is given each finished recording.

Finishing a night happens here only, in the batch's order whatever order the workers finish in:
with a subject, the night is assessed with the subject's history (which holds the batch's earlier
nights by then, as when the files are analysed one after another), its summary.json is rewritten
with that assessment, and the night joins the history (SQLite has one writer: this process).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import ExitStack, closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from calfwatch.batch.inputs import Batch, Job, anonymous_name
from calfwatch.batch.progress import FileBar
from calfwatch.batch.task import Options, Outcome, error_line


@dataclass
class BatchResult:
    """Rows of the cohort table (batch order), the recordings that failed, the tables written."""

    rows: list[dict[str, Any]]
    failed: list[str]
    cohort_paths: dict[str, Path] = field(default_factory=dict)


#: What the caller is shown of each finished recording (see :func:`run_batch`).
Show = Callable[[Job, Outcome, "list | None", Callable[..., None]], None]


class _Finisher:
    """Finishes outcomes in batch order: history, summary, what the caller is shown, cohort row."""

    def __init__(self, batch: Batch, options: Options, bar: FileBar, store=None,
                 show: Show | None = None) -> None:
        from classifier.persistence import settings_from_config

        self.jobs, self.options, self.bar, self.show = batch.jobs, options, bar, show
        self.cohort_dir = batch.cohort_dir
        self.store = store
        self.cutoff_hour = settings_from_config(options.config).night_date_cutoff_hour
        self.waiting: dict[int, Outcome] = {}
        self.next = 0
        self.rows: list[dict[str, Any]] = []
        self.failed: list[str] = []

    def add(self, outcome: Outcome) -> None:
        """Take an outcome; finish it and every waiting one that is now next in line."""
        self.bar.update(outcome.failed)
        self.waiting[outcome.index] = outcome
        while self.next in self.waiting:
            self._finish(self.jobs[self.next], self.waiting.pop(self.next))
            self.next += 1

    def _finish(self, job: Job, outcome: Outcome) -> None:
        from calfwatch.cohort import cohort_row

        nights = None
        if not outcome.failed and self.store is not None:
            try:
                nights = self._store_night(outcome)
            except (OSError, ValueError) as exc:
                outcome.error, outcome.summary = error_line(job.path, exc), None
        if outcome.failed:
            self.failed.append(job.path)
        if self.show is not None:
            self.show(job, outcome, nights, self.bar.write)
        output = "" if outcome.failed else os.path.relpath(job.out_dir, self.cohort_dir)
        name, error = job.path, outcome.error
        if self.options.anonymize:
            name = anonymous_name(job.index)
            error = error.replace(job.path, name).replace(Path(job.path).name, name)
        self.rows.append(cohort_row(
            name, outcome.summary, output=output,
            subject=self.options.subject or job.subject, session=job.session,
            side=self.options.side, version=outcome.version, error=error,
            cutoff_hour=self.cutoff_hour))

    def _store_night(self, outcome: Outcome) -> list:
        """Assess with the history, rewrite summary.json, add the night; the nights after it."""
        from calfwatch.outputs import summary_text, write_atomic
        from classifier.assessment import assess

        subject, side = self.options.subject, self.options.side or None
        summary = outcome.summary
        nights = self.store.nights(subject, side)
        summary["assessment"] = assess(nights, self.store.symptoms(subject), self.options.config,
                                       tonight=summary).to_dict()
        write_atomic(outcome.paths["summary"], summary_text(summary))
        self.store.add_night(subject, side, summary)
        outcome.paths["history"] = str(self.store.path)
        return self.store.nights(subject, side)


def run_batch(batch: Batch, options: Options, *, n_jobs: int = 1, scheduler: str | None = None,
              history_path: str | None = None, show: Show | None = None,
              progress: bool = True, write_table: bool = True) -> BatchResult:
    """Analyse every job of ``batch``; a failed recording never stops the others.

    Parameters
    ----------
    batch : Batch
        From :func:`calfwatch.batch.inputs.plan_batch`.
    options : Options
        Shared settings of the tasks.
    n_jobs : int
        Worker processes on this machine (1: in this process, no Dask needed).
    scheduler : str, optional
        Address of an existing ``dask.distributed`` scheduler (``n_jobs`` is then ignored).
    history_path : str, optional
        History file for ``options.subject`` (default: the user's).
    show : callable, optional
        ``show(job, outcome, nights, write)`` for each recording once finished, in batch order:
        ``nights`` is the subject's history after it (None without a subject); ``write(text,
        file=None)`` prints a line above the progress bar (stdout by default).
    progress : bool
        A bar over the files on stderr when it is a terminal.
    write_table : bool
        Write cohort.csv (and Parquet) into ``batch.cohort_dir``.

    Examples
    --------
    >>> from classifier.config import load_config
    >>> from calfwatch.batch import plan_batch
    >>> batch = plan_batch(["nights/"], "results")  # doctest: +SKIP
    >>> result = run_batch(batch, Options(load_config()), n_jobs=2)  # doctest: +SKIP
    >>> result.failed, result.cohort_paths["cohort"]  # doctest: +SKIP
    ([], PosixPath('results/cohort.csv'))
    """
    from calfwatch.batch.engines import dask_client, run_dask, run_serial

    with ExitStack() as stack:
        store = None
        if options.subject:
            from calfwatch.history import open_store

            store = stack.enter_context(open_store(history_path))
        bar = FileBar(len(batch.jobs) if progress else 0)
        stack.callback(bar.close)
        finisher = _Finisher(batch, options, bar, store, show)
        if scheduler or (n_jobs > 1 and len(batch.jobs) > 1):
            client = stack.enter_context(dask_client(min(n_jobs, len(batch.jobs)), scheduler))
            # closed before the client is: its tasks are cancelled on a live connection
            outcomes = stack.enter_context(closing(run_dask(batch.jobs, options, client)))
        else:
            outcomes = run_serial(batch.jobs, options)
        for outcome in outcomes:
            finisher.add(outcome)
    result = BatchResult(finisher.rows, finisher.failed)
    if write_table:
        from calfwatch.cohort import write_cohort

        result.cohort_paths = write_cohort(result.rows, batch.cohort_dir)
    return result
