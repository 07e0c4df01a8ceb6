"""Lost time found in the samples themselves: spans of NaN annotated ``BAD_ACQ_SKIP``.

A recording whose samples hold NaN lost them; annotated as the readers annotate the gaps their
formats state, the spans are replayed as gaps (:mod:`acquisition.replay`), listed as lost time
(``gaps_s`` of the summary) and never analysed.
"""

from __future__ import annotations

from collections.abc import Sequence

import mne
import numpy as np

from acquisition.edf.constants import GAP_TEXT
from acquisition.edf.stream import merge_spans

#: Seconds of samples scanned at once for NaN (bounded memory for a night read on demand).
_SCAN_S = 60.0


def nan_runs(lost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Starts and stops (samples, stop exclusive) of the runs of True in ``lost``.

    Examples
    --------
    >>> starts, stops = nan_runs(np.array([False, True, True, False, True]))
    >>> starts.tolist(), stops.tolist()
    ([1, 4], [3, 5])
    """
    edges = np.diff(np.concatenate([[0], np.asarray(lost).astype(np.int8), [0]]))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def annotate_lost(raw: mne.io.BaseRaw, starts: np.ndarray, stops: np.ndarray) -> None:
    """Annotate ``BAD_ACQ_SKIP`` (lost time) the samples ``starts[i]:stops[i]`` of ``raw``,
    counted from its first sample (whatever ``raw.first_samp`` and its date).

    Examples
    --------
    >>> raw = mne.io.RawArray(np.zeros((1, 100)), mne.create_info(1, 10.0), first_samp=50,
    ...                       verbose="error")
    >>> annotate_lost(raw, np.array([20]), np.array([35]))
    >>> [(float(a["onset"] - raw.first_time), float(a["duration"])) for a in raw.annotations]
    [(2.0, 1.5)]
    """
    starts, stops = np.asarray(starts), np.asarray(stops)
    if not starts.size:
        return
    sfreq = raw.info["sfreq"]
    # a Raw keeps its annotations' onsets from the time of sample 0, before its first sample
    raw.annotations.append(raw.first_time + starts / sfreq, (stops - starts) / sfreq,
                           [GAP_TEXT] * starts.size)


def annotate_nan_spans(raw: mne.io.BaseRaw, picks: Sequence[int]) -> None:
    """Annotate lost (:func:`annotate_lost`) the spans where any of the channels ``picks`` holds
    NaN: a sample missing on one channel is lost time on all, as calfwatch takes NaN in the
    arrays it is given.

    The samples are read :data:`_SCAN_S` at a time (from memory when ``raw`` is preloaded).
    """
    if not len(picks):
        return
    step = max(1, int(round(_SCAN_S * raw.info["sfreq"])))
    spans: list[tuple[int, int]] = []
    for start in range(0, raw.n_times, step):
        block = raw.get_data(picks=list(picks), start=start, stop=start + step)
        a, b = nan_runs(np.isnan(block).any(axis=0))
        spans.extend(zip((a + start).tolist(), (b + start).tolist(), strict=True))
    merged = np.array(merge_spans(spans, raw.n_times), dtype=np.int64).reshape(-1, 2)
    annotate_lost(raw, merged[:, 0], merged[:, 1])
