"""Recordings as a BIDS EMG dataset, written with mne-bids, with calfwatch's analysis as a derivative.

For each recording: ``sub-<ID>/ses-<night date>/emg/`` holds the recording (EDF/BDF copied as it is,
whatever its name: an EDF named ``.rec``, as PhysioNet's Sleep-EDF names them, is one too; other
formats converted to EDF by mne-bids), ``channels.tsv`` with the filter cut-offs the file
states, and ``events.tsv``: the recording's own annotations (its gaps) and calfwatch's events with
``trial_type`` and their channel, amplitude, phases and detail, described in ``events.json``.
The recording's own annotations named like an event kind (a simulated night's ground truth) are
``recording:<kind>`` there, as ``calfwatch review`` shows them, so that the rows of a kind are
calfwatch's events only.
A channel the analysis left out (no signal, a rectified or an envelope output: the summary's
``unusable_reasons``) is ``bad`` in ``channels.tsv``, its reason in ``status_description``, so
that a reader of the dataset does not take it for raw EMG.
``derivatives/calfwatch/`` holds the analysis outputs of each recording under the same names
(``..._desc-calfwatch_events.tsv``, ``_summary.json``...).

Every file the command writes under the root is its owner's only (0600, its folders 0700), as all
calfwatch's health data; a recording named twice (by any path) is written once, as ``analyze``
analyses it once.

mne-bids is the optional extra ``calfwatch[bids]``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from acquisition.errors import RecordingError
from acquisition.safe_files import PRIVATE_MODE, write_atomic
from calfwatch.engine.channels import NO_BAND, NO_SIGNAL, RECTIFIED

#: BIDS task label of an overnight recording.
TASK = "sleep"
#: Name of the derivative pipeline folder.
PIPELINE = "calfwatch"
_LABEL = re.compile(r"[A-Za-z0-9]+")
#: Mode of the folders holding the dataset's files: their owner's only, as the history's folder.
PRIVATE_DIR_MODE = 0o700
#: Umask bits set while the dataset is written: mne-bids creates files with the process umask.
_PRIVATE_UMASK = 0o077
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


def _named_as(path: Path, kind: str, links: Path) -> Path:
    """``path`` under a name ending in ``.edf``/``.bdf`` as its content ``kind`` says: itself when
    it is so named, else a link in ``links`` (a copy where links cannot be made). MNE and
    mne-bids go by the suffix, and mne-bids copies only a file so named."""
    if path.suffix.lower() == f".{kind}":
        return path
    folder = Path(tempfile.mkdtemp(dir=links))  # one per recording: names may repeat
    named = folder / f"{path.stem}.{kind}"
    try:
        os.symlink(os.path.abspath(path), named)
    except OSError:  # e.g. Windows without the right to make links
        shutil.copyfile(path, named)
    return named


def _open_raw(path: Path, links: Path):
    """The recording in MNE with EMG channel types (an EDF+ label's other type kept beside EMG);
    (raw, format for mne-bids). An EDF/BDF file is told by its content
    (:func:`acquisition.edf.header.edf_kind`), whatever its name; when that is not ``.edf`` or
    ``.bdf`` it is read through a link so named in ``links``, which must outlive the writing."""
    import mne

    from acquisition.edf.header import edf_kind
    from acquisition.reader import forget_placeholder_date, open_recording, type_by_label

    kind = edf_kind(path)
    if kind is not None:
        from acquisition.reader import refuse_pauses

        refuse_pauses(path)  # MNE, and mne-bids's readers, would close the pauses up
        # read as mne-bids will copy it: channel names as the file labels them
        try:
            raw = mne.io.read_raw(_named_as(path, kind, links), verbose="error")
        except Exception as exc:  # whatever MNE trips on: one line naming the file
            raise RecordingError(path, f"not readable ({' '.join(str(exc).split())})") from None
        type_by_label(raw)  # EMG, or as an EDF+ label types it beside EMG ("EEG Fpz-Cz")
        forget_placeholder_date(path, raw)  # "Startdate X": undated, not 1985
        return raw, "auto"
    return open_recording(path, preload=True), "EDF"


def _unique(recordings: list[str | os.PathLike]) -> list[Path]:
    """The recordings named, each file once (first mention kept), whatever path names it.

    The same key as ``calfwatch analyze``'s batch (:func:`calfwatch.batch.inputs.find_recordings`):
    the real path, so ``a.edf``, ``./x/../a.edf`` and a link to it are one recording, not runs.
    """
    seen: set[str] = set()
    unique = []
    for path in map(Path, recordings):
        key = os.path.realpath(path)
        if key not in seen:
            seen.add(key)
            unique.append(path)
    return unique


def _file_stamps(root: Path) -> dict[str, tuple[int, int]]:
    """(inode, modification time in ns) of each regular file under ``root``, by path."""
    stamps = {}
    for folder, _, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            info = os.lstat(path)
            if stat.S_ISREG(info.st_mode):  # a link is not written through, nor tightened
                stamps[path] = (info.st_ino, info.st_mtime_ns)
    return stamps


def _tighten_written(root: Path, before: dict[str, tuple[int, int]], root_existed: bool) -> None:
    """Make the files new or changed since ``before`` 0600 and their folders, up to the root,
    0700; a root that existed before keeps its mode (it may hold others' files)."""
    folders = set() if root_existed else {root}
    for path, stamp in _file_stamps(root).items():
        if before.get(path) == stamp:
            continue  # not written by this run: left as it was
        os.chmod(path, PRIVATE_MODE)
        folder = Path(path).parent
        while folder != root and root in folder.parents:
            folders.add(folder)
            folder = folder.parent
    for folder in folders:
        os.chmod(folder, PRIVATE_DIR_MODE)


@contextmanager
def _owner_only(root: Path) -> Iterator[None]:
    """Make what the block writes under ``root`` its owner's only: files 0600, folders 0700.

    mne-bids creates its files and folders with the process umask (0644, 0755 under the usual
    0022), so the umask is narrowed for the block: nothing it creates is readable by others even
    for a moment. A file it rewrites in place (``participants.tsv``, ``dataset_description.json``
    of an existing root) keeps its earlier mode, so afterwards every file new or changed is set
    0600 and its folders 0700; the root's other files are left as they are. The umask is the
    process's: the block is meant for the command, not for threads writing other files.
    """
    root_existed = root.is_dir()
    before = _file_stamps(root) if root_existed else {}
    old = os.umask(_PRIVATE_UMASK)
    os.umask(old | _PRIVATE_UMASK)  # narrowed only: a stricter umask stays
    try:
        yield
    finally:
        os.umask(old)
        if root.is_dir():  # also after a failure: what was written is health data all the same
            _tighten_written(root, before, root_existed)


def _night_label(path: Path, start: Any) -> str:
    """A recording's session label: its night's date (``20260105``) as the history dates it
    (the wearer's local evening), ``undated`` without a date."""
    from calfwatch.local_time import local_start
    from classifier.persistence import recording_night_date, settings_from_config

    day = None if start is None else recording_night_date(
        local_start(start, path), settings_from_config().night_date_cutoff_hour)
    return "undated" if day is None else day.strftime("%Y%m%d")


def _sessions(recordings: list[tuple[Path, Any]]) -> list[tuple[str, int | None]]:
    """(session label, run or None) per (path, start) of a recording: the night's date, runs
    when dates repeat."""
    labels = [_night_label(path, start) for path, start in recordings]
    counts, seen = Counter(labels), Counter()
    out = []
    for label in labels:
        seen[label] += 1
        out.append((label, seen[label] if counts[label] > 1 else None))
    return out


def _own_descriptions(own) -> list[str]:
    """The recording's own annotation texts, ``recording:<kind>`` for those named like an event
    kind (a simulated night's ground truth), as ``calfwatch review`` shows them: a reader
    counting a kind's rows then counts calfwatch's events only. Gaps (``BAD_ACQ_SKIP``) and
    other texts stay as they are."""
    from calfwatch.review import RECORDING_PREFIX
    from classifier.kinds import EVENT_KINDS

    return [f"{RECORDING_PREFIX}{d}" if d in EVENT_KINDS else str(d) for d in own.description]


def _event_annotations(raw, analysis_dir: Path):
    """The recording's own annotations (see :func:`_own_descriptions`) plus calfwatch's events,
    with their columns as extras."""
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
        description=_own_descriptions(own) + [r["kind"] for r in rows],
        ch_names=list(own.ch_names) + channels,
        orig_time=own.orig_time,
        extras=extras,
    )


def _describe_events(mne_bids, bids_path, descriptions: list[str]) -> None:
    """Give the events.json mne-bids wrote calfwatch's own descriptions of its columns (and a
    level for each of the recording's own annotations renamed ``recording:<kind>``)."""
    from calfwatch.outputs import EVENT_COLUMN_DESCRIPTIONS
    from calfwatch.review import RECORDING_PREFIX

    sidecar = bids_path.copy().update(suffix="events", extension=".json")
    if not Path(sidecar.fpath).is_file():
        return  # no events: no events.tsv either
    trial_type = json.loads(json.dumps(EVENT_COLUMN_DESCRIPTIONS["trial_type"]))
    trial_type["Levels"]["BAD_ACQ_SKIP"] = "Samples not acquired (a gap in the recording)."
    for level in sorted({d for d in descriptions if d.startswith(RECORDING_PREFIX)}):
        trial_type["Levels"][level] = (f"The recording's own annotation "
                                       f"'{level[len(RECORDING_PREFIX):]}' (such as a simulated "
                                       "night's ground truth), not an event of calfwatch.")
    trial_type["Description"] = ("Kind of the event classified by calfwatch, or the recording's "
                                 "own annotation (gaps: BAD_ACQ_SKIP; one named like a kind: "
                                 f"{RECORDING_PREFIX}<kind>).")
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
    write_atomic(folder / "dataset_description.json", json.dumps(doc, indent=2) + "\n")


def _write_one(mne_bids, path: Path, raw, fmt: str, bids_path, *, mains_hz: float | None,
               channels: str | None) -> Path:
    """Analyse one recording and write it (recording, sidecars, events) with its analysis as
    derivative; return the derivative folder."""
    from calfwatch.analysis import analyze_file

    root = Path(bids_path.root)
    with tempfile.TemporaryDirectory() as tmp:
        analysis = Path(tmp) / "analysis"
        analyze_file(path, analysis, mains_hz=mains_hz, channels=channels)
        raw.set_annotations(_event_annotations(raw, analysis), emit_warning=False)
        mne_bids.write_raw_bids(raw, bids_path, emg_placement="Other", format=fmt,
                                allow_preload=fmt != "auto", overwrite=True, verbose="error")
        _describe_events(mne_bids, bids_path, list(raw.annotations.description))
        _mark_left_out(mne_bids, bids_path, raw, analysis)
        deriv = (root / "derivatives" / PIPELINE / f"sub-{bids_path.subject}"
                 / f"ses-{bids_path.session}" / "emg")
        _write_derivative(analysis, deriv, bids_path.basename)
    _derivative_description(root)
    return deriv


def write_bids(recordings: list[str | os.PathLike], root: str | os.PathLike, subject: str, *,
               mains_hz: float | None = None, on_done=None,
               channels: str | None = None) -> list[BidsRecording]:
    """Write the recordings of one subject as a BIDS EMG dataset with the analysis as derivative.

    Parameters
    ----------
    recordings : list of path-like
        Recordings :func:`acquisition.reader.open_recording` reads; one session per night
        (``ses-<yyyymmdd>``, the night date the history gives it: the date of the wearer's
        local evening, :func:`classifier.persistence.recording_night_date`; ``ses-undated``
        without a date; runs when a date repeats). A file named again, by any path, is written
        once.
    root : path-like
        The dataset's root folder (created; existing files of the same recordings are replaced).
        What is written there is its owner's only (files 0600, folders 0700).
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
    check_label(subject, "subject")
    root = Path(root)
    with tempfile.TemporaryDirectory() as links:  # EDF/BDF files named otherwise, as .edf/.bdf
        opened = [(path, *_open_raw(path, Path(links))) for path in _unique(recordings)]
        sessions = _sessions([(path, raw.info["meas_date"]) for path, raw, _ in opened])
        done = []
        for (path, raw, fmt), (session, run) in zip(opened, sessions, strict=True):
            bids_path = mne_bids.BIDSPath(subject=subject, session=session, task=TASK, run=run,
                                          datatype="emg", root=root)
            # per recording, so that what on_done announces is already its owner's only
            with _owner_only(root):
                deriv = _write_one(mne_bids, path, raw, fmt, bids_path, mains_hz=mains_hz,
                                   channels=channels)
            item = BidsRecording(path, Path(bids_path.fpath), deriv)
            done.append(item)
            if on_done is not None:
                on_done(item)
    return done
