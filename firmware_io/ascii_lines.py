"""ASCII lines as microcontroller sketches print them (e.g. a MyoWare 2.0 on an Arduino).

One line per sample, ``\\n`` terminated (``\\r`` ignored), numbers separated by commas, semicolons,
spaces or tabs; optionally a first column with a counter or a time. There is no checksum: a line is
accepted when it holds only numbers and as many of them as the first good line. Without a counter
column, lost lines cannot be seen at all.
"""

from __future__ import annotations

import numpy as np

from firmware_io._ascii_numba import scan_lines
from firmware_io.codec import StreamDecoder
from firmware_io.errors import ProtocolError
from firmware_io.frames import FrameBatch, concat_batches

BAUDRATE = 115200
SFREQ_HZ = 500.0
FIRST_COLUMNS = ("none", "counter", "time")
#: Counter steps between neighbours that still vouch for the line between them (lines lost).
MAX_LINE_STEP = 8


def encode_lines(counts: np.ndarray, counters: np.ndarray | None = None, sep: str = ",",
                 decimals: int = 0) -> bytes:
    """Print ``counts`` (n_channels, n) as lines, with an optional leading counter column."""
    counts = np.asarray(counts)
    fmt = f"{{:.{decimals}f}}" if decimals else "{:d}"
    cols = [[fmt.format(v) for v in (ch.astype(np.int64) if not decimals else ch)] for ch in counts]
    if counters is not None:
        cols.insert(0, [str(int(c)) for c in counters])
    return "".join(sep.join(vals) + "\r\n" for vals in zip(*cols, strict=True)).encode("ascii")


class AsciiDecoder(StreamDecoder):
    """Incremental decoder of numeric text lines.

    Parameters
    ----------
    n_channels : int, optional
        Number of signal columns; learned from the first good line when omitted.
    first_column : {"none", "counter", "time"}
        What the first column holds, if anything besides the signals.
    counter_modulus : int, optional
        Wrap of the counter column (e.g. 65536 for a uint16 counter); None when it never wraps, so
        that a decrease is a reset.
    uv_per_count, offset_counts : float
        ``µV = (value - offset_counts) * uv_per_count`` (given by the user; default 1 and 0).
    """

    def __init__(self, n_channels: int | None = None, first_column: str = "none",
                 counter_modulus: int | None = None, uv_per_count: float = 1.0,
                 offset_counts: float = 0.0) -> None:
        if first_column not in FIRST_COLUMNS:
            raise ProtocolError(f"first_column must be one of {FIRST_COLUMNS}, not {first_column!r}")
        self.modulus = counter_modulus
        super().__init__(n_channels or 0)
        self.first_column = first_column
        self.uv_per_count = uv_per_count
        self.offset_counts = offset_counts
        self._lead = 0 if first_column == "none" else 1
        self._fields = (n_channels + self._lead) if n_channels else 0
        self._line_start = False
        self._held: np.ndarray | None = None  # the last line, until the next one confirms its counter
        self._prev_counter: int | None = None

    def _confirmed_lines(self, vals: np.ndarray, final: bool) -> np.ndarray:
        """Lines whose counter agrees with a neighbour; the last line waits for the next one.

        Without a checksum a lost or garbled digit in the counter column (``1910`` read as
        ``910``) would pass for a restart or a jump and move every later line. A counter that
        contradicts both neighbours while the next line continues the previous one is the damaged
        line's own: that line is dropped (``counter_errors``), and its neighbours keep their places.
        """
        if self._held is not None:
            vals = np.concatenate([self._held, vals]) if vals.size else self._held
        self._held = None
        if vals.shape[0] == 0:
            return vals
        counters = np.round(vals[:, 0]).astype(np.int64)
        keep = np.ones(vals.shape[0], bool)
        prev = self._prev_counter
        for j in range(vals.shape[0] - (0 if final else 1)):
            c = int(counters[j])
            nxt = int(counters[j + 1]) if j + 1 < vals.shape[0] else None
            if prev is not None and c != prev + 1 and nxt is not None and (
                    0 < nxt - prev <= MAX_LINE_STEP) and not prev < c < nxt:
                keep[j] = False
                self.stats.counter_errors += 1
                continue
            prev = c
        if not final:
            self._held = vals[-1:].copy()
            keep[-1] = False
        self._prev_counter = prev
        return vals[keep]

    def flush(self) -> FrameBatch:
        """Decode what is left, the line held for confirmation included."""
        batch = super().flush()
        if self._held is None:
            return batch
        vals = self._confirmed_lines(self._held[:0], final=True)
        if vals.shape[0] == 0:
            return batch
        last = self._frame_batch(vals[:, self._lead :].T.copy(), vals[:, 0].astype(np.int64), [])
        return concat_batches([batch, last], self.n_channels)

    def new_connection(self) -> None:
        """Start over: the held line and the last counter belong to the old link."""
        super().new_connection()
        self._held = None
        self._prev_counter = None

    def to_uv(self, counts: np.ndarray) -> np.ndarray:
        """Values to µV with the user's scale and offset."""
        return (np.asarray(counts, dtype=np.float64) - self.offset_counts) * self.uv_per_count

    def _scan(self, buf: np.ndarray, final: bool) -> FrameBatch:
        i, start, fields, skipped, bad, k, values = scan_lines(
            buf, self._line_start, self._fields, final, self.first_column == "counter")
        self._consumed = int(i)
        self._line_start = bool(start)
        self._fields = int(fields)
        self.stats.bytes_skipped += int(skipped)
        self.stats.crc_failures += int(bad)
        if self._fields:
            self.n_channels = self._fields - self._lead
        if k == 0:
            return FrameBatch.empty(self.n_channels)
        vals = values[:k, : self._fields]
        if self.first_column == "counter":
            vals = self._confirmed_lines(vals, final)
            if vals.shape[0] == 0:
                return FrameBatch.empty(self.n_channels)
            counts = vals[:, self._lead :].T.copy()
            return self._frame_batch(counts, vals[:, 0].astype(np.int64), [])
        counts = vals[:, self._lead :].T.copy()
        self.stats.frames_ok += k
        self.stats.samples_ok += k
        index = self._tracker.next_index + np.arange(k, dtype=np.int64)
        self._tracker.next_index += k
        counter = np.round(vals[:, 0]).astype(np.int64) if self._lead else np.full(k, -1)
        return FrameBatch(counts, index, counter, np.zeros(k, np.uint8), [])
