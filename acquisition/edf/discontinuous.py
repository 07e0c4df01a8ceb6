"""Where the data records of a discontinuous EDF+/BDF+ file (``EDF+D``) lie on the timeline.

EDF+ lets a recording pause: in an ``EDF+D`` file each data record's first annotation (its
time-keeping TAL) states when the record starts, in seconds from the header's start, and a record
may start later than the one before ends (Kemp & Olivan, "European data format 'plus' (EDF+)",
Clin Neurophysiol 2003;114:1755-61, section 2.2.4). Read as if contiguous, every sample after a
pause would sit earlier than it was recorded, by the pause. :func:`record_starts` places each
record on the sample timeline; the holes between them are lost time (:func:`holes`).

A file typed ``EDF+C`` in the header's reserved field says the opposite: its records follow each
other without a hole (same specification), and their time-keeping annotations must agree. A file
whose header says contiguous while its records say they paused cannot be placed on a timeline
without guessing which of the two is wrong; it is refused (:func:`check_contiguous`) rather than
read as MNE reads it, every sample after the pause early by the pause.
"""

from __future__ import annotations

import numpy as np

from acquisition.edf.stream_checks import BadEdfHeader


def record_starts(onsets_s: np.ndarray, sfreq_hz: float, spr: int,
                  path: str) -> np.ndarray | None:
    """The timeline sample at which each record starts, from the records' time-keeping onsets
    (seconds from the first record's); None when the records follow each other without a hole.

    Onsets are rounded to the nearest sample. A record that starts before the one before it ends
    cannot be placed (:class:`~acquisition.edf.stream_checks.BadEdfHeader` naming ``path``).

    Examples
    --------
    >>> record_starts(np.array([0.0, 1.0, 102.0]), 100.0, 100, "night.edf").tolist()
    [0, 100, 10200]
    >>> record_starts(np.array([0.0, 1.0, 2.0]), 100.0, 100, "night.edf") is None
    True
    """
    starts = np.round(np.asarray(onsets_s, np.float64) * sfreq_hz).astype(np.int64)
    steps = np.diff(starts)
    early = np.flatnonzero(steps < spr)
    if early.size:
        r = int(early[0]) + 1
        raise BadEdfHeader(path, f"EDF+D record {r} starts at {onsets_s[r]:g} s, before "
                                 f"record {r - 1} ends ({onsets_s[r - 1]:g} s + "
                                 f"{spr / sfreq_hz:g} s): records overlap")
    if not (steps > spr).any():
        return None
    return starts


def check_contiguous(onsets_s: np.ndarray, sfreq_hz: float, spr: int, path: str,
                     kind: str = "EDF+C") -> None:
    """Refuse a contiguous file whose records' time-keeping onsets (seconds from the first
    record's; NaN for a record without one) do not follow each other.

    A record may be off by one sample (an onset written to a few decimals); more is a pause or an
    overlap the header does not declare: :class:`~acquisition.edf.stream_checks.BadEdfHeader`
    naming ``path``, the record and both times.

    Examples
    --------
    >>> check_contiguous(np.array([0.0, 1.0, 2.0]), 100.0, 100, "night.edf")
    >>> check_contiguous(np.array([0.0, 1.0, 62.0]), 100.0, 100, "night.edf")
    Traceback (most recent call last):
    ...
    acquisition.edf.stream_checks.BadEdfHeader: night.edf: EDF+C (contiguous) but record 2 \
starts at 62 s by its time-keeping annotation, not at 2 s: the header and the records disagree \
on when it was recorded
    """
    onsets_s = np.asarray(onsets_s, np.float64)
    expected = np.arange(onsets_s.size) * spr
    off = np.abs(onsets_s * sfreq_hz - expected) > 1.0  # NaN compares False: not stated
    if off.any():
        r = int(np.flatnonzero(off)[0])
        raise BadEdfHeader(path, f"{kind} (contiguous) but record {r} starts at "
                                 f"{onsets_s[r]:g} s by its time-keeping annotation, not at "
                                 f"{expected[r] / sfreq_hz:g} s: the header and the records "
                                 "disagree on when it was recorded")


def holes(starts: np.ndarray, spr: int) -> list[tuple[int, int]]:
    """Sample spans ``[start, stop)`` between records placed at ``starts``.

    Examples
    --------
    >>> holes(np.array([0, 100, 10200, 10300]), 100)
    [(200, 10200)]
    """
    ends = starts[:-1] + spr
    gap = np.flatnonzero(starts[1:] > ends)
    return [(int(ends[i]), int(starts[i + 1])) for i in gap]
