"""Annotate acquisition gaps in a recording without ever adding records to hold the annotations.

An EDF+ data record has a fixed room for annotations. Each lost span is annotated exactly
(``BAD_ACQ_SKIP`` over its samples) while the annotations fit in the records the signal fills;
when short gaps come faster than that room allows, the following ones are merged into one
annotation over the run they form (``BAD_ACQ_SKIP`` from the first lost sample to the last, with a
second text giving how many gaps and samples the run holds), written as soon as the next record
has room. The file is then as long as the signal, whatever the damage rate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from acquisition.edf.tal import decimal_seconds, tal_bytes
from acquisition.edf.writer import GAP_TEXT, EdfPlusWriter

#: Room kept in every record for one merged run's annotations (both texts, bounded below).
RUN_RESERVE_BYTES = 180
#: Slack on a TAL's size for the sub-second start the writer adds to every onset.
_ONSET_SLACK_BYTES = 8


@dataclass
class _Run:
    """Gaps merged into one annotation: ``start``..``stop`` samples, ``lost`` of them lost."""

    start: int
    stop: int
    lost: int = 0
    count: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    def detail(self) -> str:
        reasons = ", ".join(sorted(self.reasons))[:60]
        return (f"acquisition gaps merged: {self.count} gaps, {self.lost} of "
                f"{self.stop - self.start} samples lost ({reasons})")


class GapAnnotator:
    """Write gaps through ``writer`` and annotate them within the room its records have.

    Parameters
    ----------
    writer : EdfPlusWriter
        The open recording.

    Examples
    --------
    >>> import tempfile, os
    >>> from datetime import datetime, UTC
    >>> path = os.path.join(tempfile.mkdtemp(), "x.edf")
    >>> writer = EdfPlusWriter(path, ["a"], 100.0, datetime(2026, 1, 1, tzinfo=UTC))
    >>> notes = GapAnnotator(writer)
    >>> for _ in range(50):  # fifty 10-ms gaps in one second
    ...     notes.gap(1, "sequence gap"); notes.before_samples(1); writer.write([[0.0]])
    >>> notes.close(); writer.close(); writer.records_written
    1
    """

    def __init__(self, writer: EdfPlusWriter) -> None:
        self.writer = writer
        self.sfreq_hz = writer.sfreq_hz
        self._run: _Run | None = None
        #: gaps annotated one by one, and gaps merged into runs
        self.exact_gaps = 0
        self.merged_gaps = 0

    def gap(self, n_samples: int, reason: str) -> None:
        """Append ``n_samples`` lost samples at the writer's position, annotated."""
        start = self.writer.samples_written
        texts = [GAP_TEXT] + ([f"acquisition gap: {reason}"] if reason else [])
        size = self._tal_size(start, n_samples, texts)
        if self._run is None and size <= self.writer.annotation_room_bytes - RUN_RESERVE_BYTES:
            self.writer.write_gap(n_samples, reason)
            self.exact_gaps += 1
            return
        self.merged_gaps += 1
        run = self._run
        if run is None:
            run = self._run = _Run(start, start)
        run.stop = start + int(n_samples)
        run.lost += int(n_samples)
        run.count += 1
        run.reasons[reason] = run.reasons.get(reason, 0) + 1
        self.before_samples(n_samples)
        self.writer.write_gap(n_samples, reason, annotate=False)

    def before_samples(self, n_samples: int) -> None:
        """Call before appending ``n_samples``: annotates the open run if they complete a record.

        The exact annotations queued leave :data:`RUN_RESERVE_BYTES` free in every record, so the
        run always fits in the record that completes it.
        """
        if self._run is not None and self._fill + int(n_samples) >= self._spr:
            self._annotate_run()

    def close(self) -> None:
        """Annotate the open run (in the last, partial record, which has room for it)."""
        if self._run is not None:
            self._annotate_run()

    @property
    def _spr(self) -> int:
        return self.writer.layout.samples_per_record

    @property
    def _fill(self) -> int:
        return self.writer.samples_written % self._spr

    def _annotate_run(self) -> None:
        run, self._run = self._run, None
        onset_s = run.start / self.sfreq_hz
        duration_s = (run.stop - run.start) / self.sfreq_hz
        self.writer.annotate(onset_s, duration_s, GAP_TEXT)
        self.writer.annotate(onset_s, duration_s, run.detail())

    def _tal_size(self, start: int, n_samples: int, texts: list[str]) -> int:
        onset = decimal_seconds(start / self.sfreq_hz)
        duration = decimal_seconds(n_samples / self.sfreq_hz)
        return len(tal_bytes(onset, duration, texts)) + _ONSET_SLACK_BYTES
