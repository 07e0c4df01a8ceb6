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


def nan_spans(raw: mne.io.BaseRaw, picks: Sequence[int]) -> list[tuple[int, int]]:
    """Sample spans ``[start, stop)`` (from the first sample) where any of the channels ``picks``
    that holds a valid sample holds NaN, and no ``BAD_ACQ_SKIP`` annotation says so yet (a text
    reader's own gaps).

    A channel NaN throughout (:func:`live_rows`) makes no lost time: it is a lost lead, left to
    the analysis, which reports it unusable (``no-signal``) and analyses the others.
    The samples are read :data:`_SCAN_S` at a time (from memory when ``raw`` is preloaded).
    """
    if not len(picks):
        return []
    picks = list(picks)
    step = max(1, int(round(_SCAN_S * raw.info["sfreq"])))
    runs: list[list[tuple[int, int]]] = [[] for _ in picks]
    valid = np.zeros(len(picks), dtype=bool)
    for start in range(0, raw.n_times, step):
        missing = np.isnan(raw.get_data(picks=picks, start=start, stop=start + step))
        valid |= live_rows(missing)
        for row in np.flatnonzero(missing.any(axis=1)):
            a, b = nan_runs(missing[row])
            runs[row].extend(zip((a + start).tolist(), (b + start).tolist(), strict=True))
    spans = sorted(span for row in np.flatnonzero(valid) for span in runs[row])
    return uncovered(merge_spans(spans, raw.n_times), _annotated_lost(raw))


def live_rows(missing: np.ndarray) -> np.ndarray:
    """Which rows (channels) of the NaN mask ``missing`` hold at least one valid sample.

    Only these make lost time where they hold NaN. A channel is dead when *every* sample is NaN,
    not "all but a few": NaN throughout is how MNE and the readers write a channel the file does
    not have (a lost lead), and the analysis reports such a channel ``no-signal``. A channel with
    any valid sample carries signal, and its NaN must stay lost time: the analysis takes the
    samples it is given outside lost time as signal, and would analyse that channel's NaN as such.

    Examples
    --------
    >>> live_rows(np.array([[True, True], [True, False]])).tolist()
    [False, True]
    """
    return ~np.asarray(missing, dtype=bool).all(axis=-1)


def _annotated_lost(raw: mne.io.BaseRaw) -> list[tuple[int, int]]:
    """The spans ``raw`` annotates ``BAD_ACQ_SKIP``, in samples from its first, merged."""
    sfreq, ann = raw.info["sfreq"], raw.annotations
    spans = sorted((int(round((float(a["onset"]) - raw.first_time) * sfreq)),
                    int(round((float(a["onset"]) - raw.first_time + float(a["duration"]))
                              * sfreq)))
                   for a in ann if str(a["description"]).upper().startswith(GAP_TEXT))
    return merge_spans(spans, raw.n_times)


def uncovered(spans: Sequence[tuple[int, int]],
              covered: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """The parts of ``spans`` outside ``covered`` (both sorted, without overlaps).

    Examples
    --------
    >>> uncovered([(0, 10), (20, 30), (40, 45)], [(2, 4), (8, 25), (40, 45)])
    [(0, 2), (4, 8), (25, 30)]
    """
    out: list[tuple[int, int]] = []
    j = 0
    for a, b in spans:
        while j < len(covered) and covered[j][1] <= a:
            j += 1
        k = j
        while a < b and k < len(covered) and covered[k][0] < b:
            if covered[k][0] > a:
                out.append((a, covered[k][0]))
            a = max(a, covered[k][1])
            k += 1
        if a < b:
            out.append((a, b))
    return out


def annotate_nan_spans(raw: mne.io.BaseRaw, picks: Sequence[int]) -> None:
    """Annotate lost (:func:`annotate_lost`) the spans where any of the channels ``picks`` holds
    NaN (:func:`nan_spans`): a sample missing on one channel is lost time on all, as calfwatch
    takes NaN in the arrays it is given, unless the channel is NaN throughout (a lost lead)."""
    spans = np.array(nan_spans(raw, picks), dtype=np.int64).reshape(-1, 2)
    annotate_lost(raw, spans[:, 0], spans[:, 1])
