"""Recordings as a BIDS EMG dataset, written with mne-bids, with calfwatch's analysis as a derivative.

For each recording: ``sub-<ID>/ses-<date>/emg/`` holds the recording (EDF/BDF copied as it is,
other formats converted to EDF by mne-bids), ``channels.tsv`` with the filter cut-offs the file
states, and ``events.tsv``: the recording's own annotations (its gaps) and calfwatch's events with
``trial_type`` and their channel, amplitude, phases and detail, described in ``events.json``.
A channel the analysis left out (no signal, a rectified or an envelope output: the summary's
``unusable_reasons``) is ``bad`` in ``channels.tsv``, its reason in ``status_description``, so
that a reader of the dataset does not take it for raw EMG.
``derivatives/calfwatch/`` holds the analysis outputs of each recording under the same names
(``..._desc-calfwatch_events.tsv``, ``_summary.json``...).

mne-bids is the optional extra ``calfwatch[bids]``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from acquisition.errors import RecordingError
from calfwatch.engine.result import NO_BAND, NO_SIGNAL, RECTIFIED

#: BIDS task label of an overnight recording.
TASK = "sleep"
#: Name of the derivative pipeline folder.
PIPELINE = "calfwatch"
_LABEL = re.compile(r"[A-Za-z0-9]+")
#: Extra events.tsv columns from calfwatch's events (the rest comes from mne-bids).
_EXTRA_COLUMNS = ("kind", "channel", "peak_to_peak_uv", "phases", "detail")
#: channels.tsv ``status_description`` of a channel the analysis left out, by its reason.
LEFT_OUT_STATUS = {
    NO_SIGNAL: "calfwatch left it out: no signal (flat or lost throughout)",
    RECTIFIED: "calfwatch left it out: rectified output (RECT), not raw EMG",
    NO_BAND: "calfwatch left it out: nothing in the 20-450 Hz band (an envelope or "
             "low-passed output), not raw EMG",
}


class BidsError(ValueError):
    """A BIDS dataset cannot be written (one line naming the file or the problem)."""


@dataclass(frozen=True)
class BidsRecording:
    """Where one recording went: its BIDS file and its derivative folder."""

    source: Path
    bids_file: Path
    derivative_dir: Path


def _mne_bids():
    try:
        import mne_bids
    except ImportError:
        raise BidsError("writing BIDS needs the optional extra 'bids' "
                        "(pip install 'calfwatch[bids]')") from None
    return mne_bids


def check_label(value: str, what: str) -> str:
    """A BIDS label: letters and digits only."""
    if not _LABEL.fullmatch(value or ""):
        raise BidsError(f"{what} {value!r} is not a BIDS label (letters and digits only)")
    return value


def _open_raw(path: Path):
    """The recording in MNE with EMG channel types (an EDF+ label's other type kept beside EMG);
    (raw, format for mne-bids)."""
    import mne

    from acquisition.reader import forget_placeholder_date, open_recording, type_by_label

    if path.suffix.lower() in (".edf", ".bdf"):
        from acquisition.reader import refuse_pauses

        refuse_pauses(path)  # MNE, and mne-bids's readers, would close the pauses up
        # read as mne-bids will copy it: channel names as the file labels them
        try:
            raw = mne.io.read_raw(path, verbose="error")
        except Exception as exc:  # whatever MNE trips on: one line naming the file
            raise RecordingError(path, f"not readable ({' '.join(str(exc).split())})") from None
        type_by_label(raw)  # EMG, or as an EDF+ label types it beside EMG ("EEG Fpz-Cz")
        forget_placeholder_date(path, raw)  # "Startdate X": undated, not 1985
        return raw, "auto"
    return open_recording(path, preload=True), "EDF"


def _sessions(starts: list[Any]) -> list[tuple[str, int | None]]:
    """(session label, run or None) per recording: the night's date, runs when dates repeat."""
    labels = ["undated" if s is None else s.strftime("%Y%m%d") for s in starts]
    counts, seen = Counter(labels), Counter()
    out = []
    for label in labels:
        seen[label] += 1
        out.append((label, seen[label] if counts[label] > 1 else None))
    return out


def _event_annotations(raw, analysis_dir: Path):
    """The recording's own annotations plus calfwatch's events, with their columns as extras."""
    import mne
    import numpy as np

    from calfwatch.events_file import _channel_in
    from calfwatch.outputs import EVENTS_FILE, read_events_tsv

    rows = read_events_tsv(analysis_dir / EVENTS_FILE)
    own = raw.annotations
    channels = [_channel_in(r["channel"], raw) for r in rows]
    extras = [dict.fromkeys(_EXTRA_COLUMNS, "n/a") for _ in range(len(own))]
    for row, chans in zip(rows, channels, strict=True):
        extra = {k: ("n/a" if row.get(k) is None else row[k]) for k in _EXTRA_COLUMNS}
        extra["channel"] = chans[0] if chans else row["channel"]  # as channels.tsv names it
        extras.append(extra)
    return mne.Annotations(
        onset=np.round(np.concatenate([own.onset, [raw.first_time + r["onset"] for r in rows]]),
                       6),
        duration=np.round(np.concatenate([own.duration, [r["duration"] or 0.0 for r in rows]]),
                          6),
        description=list(own.description) + [r["kind"] for r in rows],
        ch_names=list(own.ch_names) + channels,
        orig_time=own.orig_time,
        extras=extras,
    )


def _describe_events(mne_bids, bids_path) -> None:
    """Give the events.json mne-bids wrote calfwatch's own descriptions of its columns."""
    from calfwatch.outputs import EVENT_COLUMN_DESCRIPTIONS

    sidecar = bids_path.copy().update(suffix="events", extension=".json")
    if not Path(sidecar.fpath).is_file():
        return  # no events: no events.tsv either
    trial_type = json.loads(json.dumps(EVENT_COLUMN_DESCRIPTIONS["trial_type"]))
    trial_type["Levels"]["BAD_ACQ_SKIP"] = "Samples not acquired (a gap in the recording)."
    trial_type["Description"] = ("Kind of the event classified by calfwatch, or the recording's "
                                 "own annotation (gaps: BAD_ACQ_SKIP).")
    entries = {k: EVENT_COLUMN_DESCRIPTIONS[k] for k in _EXTRA_COLUMNS}
    entries["channel"] = {"Description": "Channel the event was found on, as channels.tsv "
                                         "names it (n/a for the recording's own annotations)."}
    entries["trial_type"] = trial_type
    mne_bids.update_sidecar_json(sidecar, entries, verbose="error")


def _mark_left_out(mne_bids, bids_path, raw, analysis_dir: Path) -> None:
    """Mark the channels the analysis left out ``bad`` in channels.tsv, with their reason."""
    from calfwatch.events_file import _channel_in
    from calfwatch.outputs import SUMMARY_FILE

    summary = json.loads((analysis_dir / SUMMARY_FILE).read_text())
    marks = {}
    for name, reason in (summary.get("unusable_reasons") or {}).items():
        for ch_name in _channel_in(name, raw):
            marks[ch_name] = LEFT_OUT_STATUS.get(reason, f"calfwatch left it out: {reason}")
    if marks:
        mne_bids.mark_channels(bids_path, ch_names=list(marks), status="bad",
                               descriptions=list(marks.values()), verbose="error")


def _write_derivative(analysis_dir: Path, target: Path, basename: str) -> None:
    """The analysis outputs under BIDS derivative names: ``<basename>_desc-calfwatch_<file>``."""
    target.mkdir(parents=True, exist_ok=True)
    for item in sorted(analysis_dir.iterdir()):
        stem, _, ext = item.name.partition(".")
        shutil.copy2(item, target / f"{basename}_desc-{PIPELINE}_{stem}.{ext}")


def _derivative_description(root: Path) -> None:
    from calfwatch import __version__

    folder = root / "derivatives" / PIPELINE
    folder.mkdir(parents=True, exist_ok=True)
    doc = {"Name": "calfwatch analysis", "BIDSVersion": "1.10.0", "DatasetType": "derivative",
           "GeneratedBy": [{"Name": "calfwatch", "Version": __version__,
                            "Description": "fasciculation and movement events, night summary"}]}
    (folder / "dataset_description.json").write_text(json.dumps(doc, indent=2) + "\n")


def write_bids(recordings: list[str | os.PathLike], root: str | os.PathLike, subject: str, *,
               mains_hz: float | None = None, on_done=None,
               channels: str | None = None) -> list[BidsRecording]:
    """Write the recordings of one subject as a BIDS EMG dataset with the analysis as derivative.

    Parameters
    ----------
    recordings : list of path-like
        Recordings :func:`acquisition.reader.open_recording` reads; one session per night
        (``ses-<yyyymmdd>``, ``ses-undated`` without a date; runs when a date repeats).
    root : path-like
        The dataset's root folder (created; existing files of the same recordings are replaced).
    subject : str
        BIDS subject label (letters and digits).
    mains_hz : float, optional
        Mains frequency for the analysis (50 or 60).
    on_done : callable, optional
        Called with each :class:`BidsRecording` when written.
    channels : str, optional
        The channels to analyse (``"1,2"`` or names, as ``calfwatch analyze --channels``), e.g.
        the leg EMG of a polysomnograph's file; the recording is written whole.

    Returns
    -------
    list of BidsRecording

    Examples
    --------
    >>> write_bids(["night.edf"], "bids", "01")  # doctest: +SKIP
    """
    mne_bids = _mne_bids()
    from calfwatch.analysis import analyze_file

    check_label(subject, "subject")
    root = Path(root)
    opened = [(Path(p), *_open_raw(Path(p))) for p in recordings]
    sessions = _sessions([raw.info["meas_date"] for _, raw, _ in opened])
    done = []
    for (path, raw, fmt), (session, run) in zip(opened, sessions, strict=True):
        bids_path = mne_bids.BIDSPath(subject=subject, session=session, task=TASK, run=run,
                                      datatype="emg", root=root)
        with tempfile.TemporaryDirectory() as tmp:
            analysis = Path(tmp) / "analysis"
            analyze_file(path, analysis, mains_hz=mains_hz, channels=channels)
            raw.set_annotations(_event_annotations(raw, analysis), emit_warning=False)
            mne_bids.write_raw_bids(raw, bids_path, emg_placement="Other", format=fmt,
                                    allow_preload=fmt != "auto", overwrite=True, verbose="error")
            _describe_events(mne_bids, bids_path)
            _mark_left_out(mne_bids, bids_path, raw, analysis)
            deriv = root / "derivatives" / PIPELINE / f"sub-{subject}" / f"ses-{session}" / "emg"
            _write_derivative(analysis, deriv, bids_path.basename)
        item = BidsRecording(path, Path(bids_path.fpath), deriv)
        done.append(item)
        if on_done is not None:
            on_done(item)
    _derivative_description(root)
    return done
