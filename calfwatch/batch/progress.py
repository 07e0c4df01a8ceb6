"""The files bar of a batch: done, failed and remaining files and the throughput, on stderr when
it is a terminal (nothing when piped)."""

from __future__ import annotations

import sys
from typing import TextIO


class FileBar:
    """A tqdm bar over the batch's files; :meth:`write` prints lines above it.

    Parameters
    ----------
    total : int
        Files in the batch.
    stream : file, optional
        Where the bar goes (default ``sys.stderr``); no bar unless it is a terminal.
    """

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.total = total
        self.done = self.failed = 0
        self.bar = None
        if total > 1 and self.stream.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="file", desc="analyse", file=self.stream,
                            dynamic_ncols=True, smoothing=0.1)
            self._postfix()

    def _postfix(self) -> None:
        left = self.total - self.done - self.failed
        self.bar.set_postfix_str(f"done {self.done}, failed {self.failed}, left {left}",
                                 refresh=False)

    def update(self, failed: bool) -> None:
        """One more file finished (or failed)."""
        if failed:
            self.failed += 1
        else:
            self.done += 1
        if self.bar is not None:
            self._postfix()
            self.bar.update(1)

    def write(self, text: str, file: TextIO | None = None) -> None:
        """Print ``text`` (a line) without breaking the bar."""
        file = file or sys.stdout
        if self.bar is None:
            file.write(text + "\n")
            file.flush()
        else:
            self.bar.write(text, file=file)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
