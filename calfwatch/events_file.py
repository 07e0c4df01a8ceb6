"""Read the events of an analysis folder as :class:`mne.Annotations` for the recording.

``calfwatch analyze`` and ``calfwatch record`` write the events as ``events.edf``, an EDF+
annotation-only file on the recording's timeline. :func:`read_events` turns it into annotations
that ``raw.set_annotations`` accepts next to the recording's own (its gaps, its notes).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


class EventsFileError(ValueError):
    """The folder holds no readable events file (one line naming it)."""


def read_events(folder: str | os.PathLike, raw: Any = None):
    """The events of an analysis folder as :class:`mne.Annotations`.

    Parameters
    ----------
    folder : path-like
        Output folder of ``calfwatch analyze`` or ``calfwatch record`` (holding ``events.edf``).
    raw : mne.io.BaseRaw, optional
        The recording as opened in MNE. Without it the annotations count from the recording's
        start as MNE reads an EDF/BDF file (the header's whole second); with it they count from
        ``raw``'s own ``meas_date`` and first sample, and keep their channel only where ``raw``
        has it.

    Returns
    -------
    mne.Annotations
        One annotation per event, described by its kind, on its channel, with ``orig_time`` equal
        to the recording's ``meas_date`` in MNE: ``raw.set_annotations(raw.annotations + ann)``
        places every event on its sample whatever annotations the recording already has.

    Raises
    ------
    EventsFileError
        ``events.edf`` is missing or unreadable.

    Examples
    --------
    >>> import mne, calfwatch  # doctest: +SKIP
    >>> raw = mne.io.read_raw_edf("night.edf")  # doctest: +SKIP
    >>> raw.set_annotations(raw.annotations + calfwatch.read_events("night_analysis"))  # doctest: +SKIP
    """
    import mne
    import numpy as np

    from acquisition.edf.annotation_file import read_annotation_edf
    from calfwatch.outputs import EVENTS_EDF_FILE

    path = Path(folder) / EVENTS_EDF_FILE
    if not path.is_file():
        raise EventsFileError(f"{path}: no such file (run calfwatch analyze on the recording)")
    try:
        start, items = read_annotation_edf(path)
    except (OSError, ValueError) as exc:
        raise EventsFileError(f"{path}: not a readable events file "
                              f"({' '.join(str(exc).split())})") from None
    orig_time, first_s = start, 0.0
    if raw is not None:
        orig_time = raw.info["meas_date"]
        # without a date MNE counts annotations from the first sample itself
        first_s = 0.0 if orig_time is None else float(raw.first_time)
    return mne.Annotations(
        onset=np.array([a.onset_s + first_s for a in items], float),
        duration=np.array([a.duration_s for a in items], float),
        description=[a.text for a in items],
        ch_names=[_channel_in(a.channel, raw) for a in items],
        orig_time=orig_time,
    )


def _channel_in(channel: str, raw: Any) -> tuple[str, ...]:
    """The event's channel as ``raw`` names it (``EMG <name>`` read without infer_types)."""
    from acquisition.edf.labels import edf_label

    if not channel or raw is None:
        return (channel,) if channel else ()
    for name in (channel, edf_label(channel)):
        if name in raw.ch_names:
            return (name,)
    return ()
