"""Example raw traces for the report: for each event kind, one event on its recording.

A clinician sees what was counted: the stretch of the recording around one event of each kind
(1.5 s, band-passed 20-450 Hz like ``calfwatch review``: 4th-order Butterworth, zero phase, with a
second of signal either side so the filter settles outside the window), the event's span marked.
Artifacts are shown as recorded (less the window's median, the electrode offset): what makes most
of them artifacts lies below the band (a pop's step and recovery, a motion wave of 1-10 Hz, a
drift), and the band-pass would show a motion wave of a millivolt as noise. The event shown is the
one of median peak-to-peak amplitude among its kind (a typical one, not the largest). Nothing here
changes a number: the traces come from the recording file, the events from events.tsv.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

#: Shown around each example (s) and read beyond it on both sides for the filter to settle.
WINDOW_S = 1.5
PAD_S = 1.0
#: The window starts this long before the event's onset (or centres a short event).
LEAD_S = 0.3
#: Kinds shown as recorded rather than band-passed.
UNFILTERED_KINDS = frozenset({"artifact"})


@dataclass(frozen=True)
class Trace:
    """One example: the event, and the samples (µV) of its window, band-passed unless
    ``band_passed`` is False (as recorded, less the median)."""

    kind: str
    channel: str
    onset_s: float
    duration_s: float
    start_s: float
    sfreq_hz: float
    samples_uv: np.ndarray
    band_passed: bool = True


def find_recording(folder: str | os.PathLike | None, summary: Mapping[str, Any],
                   given: str | os.PathLike | None = None) -> Path | None:
    """The recording behind an analysis folder: ``given``, else ``recording.file`` beside the
    folder (where ``calfwatch analyze`` puts ``<recording>_analysis``) or in it; None if absent."""
    if given is not None:
        return Path(given)
    name = str((summary.get("recording") or {}).get("file") or "")
    if not name or folder is None or Path(name).name != name:
        return None
    for place in (Path(folder).parent, Path(folder)):
        if (place / name).is_file():
            return place / name
    return None


def pick_examples(events: Sequence[Mapping[str, Any]], kinds: Sequence[str]) -> list[Mapping]:
    """One event per kind present: the one of median peak-to-peak amplitude (doublets skipped)."""
    out = []
    for kind in kinds:
        mine = [e for e in events if e.get("kind") == kind and e.get("onset") is not None
                and "doublet" not in str(e.get("detail") or "")]
        if not mine:
            continue
        mine.sort(key=lambda e: (e.get("peak_to_peak_uv") or 0.0, e["onset"]))
        out.append(mine[len(mine) // 2])
    return out


def read_traces(path: str | os.PathLike, examples: Sequence[Mapping[str, Any]]) -> list[Trace]:
    """Windows of ``path`` around each example event: band-passed, artifacts as recorded
    (:data:`UNFILTERED_KINDS`), each less its median.

    Raises
    ------
    OSError, ValueError
        The recording cannot be read (the caller words it for the report).
    """
    from scipy import signal

    from acquisition.reader import open_recording
    from calfwatch.review import emg_band_sos

    raw = open_recording(path, preload=False)
    sfreq = float(raw.info["sfreq"])
    high = 450.0 if sfreq > 2 * 450.0 / 0.9 else None
    sos = emg_band_sos(sfreq, high)
    out = []
    for e in examples:
        if e["channel"] not in raw.ch_names:
            continue
        onset, dur = float(e["onset"]), float(e.get("duration") or 0.0)
        start = onset - LEAD_S if dur + LEAD_S < WINDOW_S else onset - LEAD_S / 2
        if dur < WINDOW_S - 2 * LEAD_S:
            start = onset + dur / 2 - WINDOW_S / 2
        start = max(0.0, start)
        a = max(0, int(round((start - PAD_S) * sfreq)))
        b = min(raw.n_times, int(round((start + WINDOW_S + PAD_S) * sfreq)))
        x = raw.get_data(picks=[e["channel"]], start=a, stop=b)[0] * 1e6
        filtered = str(e["kind"]) not in UNFILTERED_KINDS and x.size > 3 * 2 * len(sos) * 2
        x = np.nan_to_num(x - np.nanmedian(x))
        if filtered:
            x = signal.sosfiltfilt(sos, x)
        i0 = int(round(start * sfreq)) - a
        window = x[i0:i0 + int(round(WINDOW_S * sfreq))]
        if not filtered:
            window = window - np.median(window) if window.size else window
        out.append(Trace(str(e["kind"]), str(e["channel"]), onset, dur, start, sfreq, window,
                         filtered))
    return out
