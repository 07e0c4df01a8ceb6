"""``--anonymize``: no name, birth date or free text from a recording's header reaches any output.

A recording header can hold the wearer's name, birth date, hospital code and free text (EDF+
patient and recording fields, FIF subject info, a file named after the wearer). Anonymised outputs
keep only what the analysis needs, by allow-list: the recording's start, length, sampling rate,
channel labels and gaps, and the device's kind. The subject becomes the id given on the command
line (``--subject``) or ``anonymous``; the file name becomes ``anonymised``.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

#: What stands in for a subject without an id, and for the file name.
ANONYMOUS = "anonymous"
ANONYMISED_FILE = "anonymised"
#: Recording facts kept as they are (times, numbers and channel labels; no free text).
RECORDING_KEEP = ("start_utc", "start_local", "meas_date", "duration_s", "sfreq_hz", "ch_names",
                  "channels_analysed", "gaps_s", "side")
#: Device fields kept: its kind and protocol names, and plain numbers.
DEVICE_KEEP = ("kind", "protocol", "model")
#: Keys that name a person or hold header free text, removed wherever they appear in a summary.
PERSONAL_KEYS = frozenset({
    "patient", "patient_id", "patientname", "patient_name", "subject_info", "his_id", "name",
    "first_name", "last_name", "middle_name", "birthday", "birth_date", "birthdate", "dob", "sex",
    "hand", "recording_id", "recording_field", "technician", "experimenter", "equipment",
    "admin_code", "description", "comment", "comments", "header", "proj_name",
})


def _device(device: Any) -> dict[str, Any]:
    if not isinstance(device, Mapping):
        return {}
    return {k: v for k, v in device.items()
            if k in DEVICE_KEEP or (isinstance(v, int | float) and not isinstance(v, bool))}


def _drop_personal(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _drop_personal(v) for k, v in value.items()
                if str(k).lower() not in PERSONAL_KEYS}
    if isinstance(value, list):
        return [_drop_personal(v) for v in value]
    return value


def anonymize_summary(summary: Mapping[str, Any], subject: str | None = None) -> dict[str, Any]:
    """A copy of a night summary without personal or free-text header fields.

    Parameters
    ----------
    summary : mapping
        A night-summary document.
    subject : str, optional
        The id to show as the subject (``anonymous`` when empty or None).

    Returns
    -------
    dict
        The summary with ``recording`` reduced to :data:`RECORDING_KEEP` and the device's kind,
        ``subject`` and ``file`` replaced, and every :data:`PERSONAL_KEYS` key removed throughout.
    """
    doc = _drop_personal(copy.deepcopy(dict(summary)))
    recording = summary.get("recording") or {}
    doc["recording"] = {k: copy.deepcopy(recording[k]) for k in RECORDING_KEEP if k in recording}
    doc["recording"]["device"] = _device(recording.get("device"))
    doc["recording"]["subject"] = (subject or "").strip() or ANONYMOUS
    doc["recording"]["file"] = ANONYMISED_FILE
    doc["anonymised"] = True
    return doc


def anonymize_report_input(inp: Any, subject: str | None = None) -> Any:
    """A :class:`calfwatch.report.ReportInput` whose summaries are anonymised."""
    nights = [replace(n, summary=anonymize_summary(n.summary, subject)) for n in inp.nights]
    return replace(inp, summary=anonymize_summary(inp.summary, subject), nights=nights,
                   source=ANONYMISED_FILE)


def anonymize_outputs(paths: Mapping[str, os.PathLike | str], subject: str = "",
                      side: str | None = None) -> None:
    """Anonymise what ``calfwatch analyze`` wrote: summary.json, and the history's copy of it.

    The history's row is replaced and the file rebuilt (``VACUUM``), so the replaced text is not
    left behind in free pages.

    events.tsv, events.json, annotations.txt and events.edf hold event kinds, channel labels,
    numbers and the start time only, so they are left as they are.

    Parameters
    ----------
    paths : mapping
        The paths written (keys ``summary`` and, when the night was stored, ``history``).
    subject, side : str
        The subject id and side the night was stored under.
    """
    from calfwatch.outputs import summary_text, write_atomic

    if "summary" not in paths:
        return
    path = Path(paths["summary"])
    doc = anonymize_summary(json.loads(path.read_text(encoding="utf-8")), subject)
    write_atomic(path, summary_text(doc))
    if "history" in paths and subject:
        from calfwatch.history import open_store

        with open_store(paths["history"]) as store:
            store.add_night(subject, side or None, doc)
        _vacuum(Path(paths["history"]))


def _vacuum(path: Path) -> None:
    """Rebuild the SQLite file so no page keeps the replaced, non-anonymised summary."""
    import sqlite3

    db = sqlite3.connect(path, timeout=10.0)
    try:
        db.execute("VACUUM")
    finally:
        db.close()
