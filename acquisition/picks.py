"""Keep some channels of a sample stream (``--channels 1,2`` or ``--channels emg1,emg2``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from acquisition.errors import RecordingError
from acquisition.stream import SampleChunk, StreamInfo


def parse_channels(text: str, ch_names: list[str], where: str) -> list[int]:
    """Row numbers of the channels ``text`` names: 1-based numbers or names, comma-separated.

    Raises
    ------
    RecordingError
        A channel that does not exist, one named twice, or an empty list; the message names
        ``where`` (the port or file) and the channels there are.

    Examples
    --------
    >>> parse_channels("2,emg1", ["emg1", "emg2", "emg3"], "/dev/ttyUSB0")
    [1, 0]
    """
    rows: list[int] = []
    for item in (part.strip() for part in str(text).split(",")):
        if item in ch_names:
            row = ch_names.index(item)
        elif item.isdigit() and 1 <= int(item) <= len(ch_names):
            row = int(item) - 1
        else:
            raise RecordingError(where, f"no channel {item!r} (--channels takes numbers 1-"
                                        f"{len(ch_names)} or names: {', '.join(ch_names)})")
        if row in rows:
            raise RecordingError(where, f"channel {item!r} given twice in --channels")
        rows.append(row)
    if not rows:
        raise RecordingError(where, "--channels names no channel")
    return rows


class PickedStream:
    """A stream showing only some of another stream's channels; everything else is delegated.

    Parameters
    ----------
    stream : SampleStream
        The full stream (a serial source, a replayed file).
    rows : list of int
        The channels kept, in the order given.
    """

    def __init__(self, stream, rows: list[int]) -> None:
        self._stream = stream
        self.rows = list(rows)
        full = stream.info
        self.info: StreamInfo = replace(full, ch_names=[full.ch_names[r] for r in self.rows])

    def chunks(self) -> Iterator[SampleChunk]:
        """The full stream's chunks with only the kept channels."""
        for chunk in self._stream.chunks():
            yield SampleChunk(chunk.start_sample, chunk.data_uv[self.rows], chunk.gap, chunk.reason)

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def pick_channels(stream, text: str | None, where: str = ""):
    """``stream`` itself without ``text``, else a :class:`PickedStream` of the channels named."""
    if not text:
        return stream
    where = where or str(getattr(stream, "port", "") or getattr(stream, "path", "") or "stream")
    return PickedStream(stream, parse_channels(text, list(stream.info.ch_names), where))
