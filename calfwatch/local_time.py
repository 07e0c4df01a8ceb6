"""The wearer's local time: the zone a night's local start, clock hours and night date are in.

A recording made by ``calfwatch record`` says in its JSON sidecar where it was made:
``start_local`` (the start with the wearer's UTC offset) and, when the recording machine could
tell it, ``timezone`` (its IANA name, e.g. ``Europe/Berlin``). The night is then shown in that
zone wherever it is analysed; with the name, a clock hour after a daylight-saving change gets
the zone's new offset, with only the offset every hour gets the start's. A recording without
such a sidecar is in the zone of the machine analysing it (its name when it can be known,
:func:`acquisition._sidecar.local_zone_name`). No zone is ever guessed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

#: How far the sidecar's ``start_utc`` may lie from the recording's start for the sidecar to be
#: taken as the recording's (the header holds whole seconds).
SIDECAR_START_TOLERANCE_S = 1.0


def named_zone(key: Any, when: datetime, offset: timedelta | None) -> ZoneInfo | None:
    """The zone named ``key`` when the time zone database knows it and its UTC offset at
    ``when`` is ``offset`` (the name and the offset then tell the same); else None.

    Examples
    --------
    >>> when = datetime(2026, 1, 5, 21, tzinfo=UTC)
    >>> named_zone("Europe/Berlin", when, timedelta(hours=1))
    zoneinfo.ZoneInfo(key='Europe/Berlin')
    >>> named_zone("Europe/Berlin", when, timedelta(hours=2)) is None
    True
    """
    if not isinstance(key, str) or not key or offset is None:
        return None
    try:
        zone = ZoneInfo(key)
    except (KeyError, ValueError, OSError):
        return None
    return zone if when.astimezone(zone).utcoffset() == offset else None


def _parse(text: Any) -> datetime | None:
    """An aware datetime from ISO 8601 text, or None."""
    if not isinstance(text, str) or not text:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else None


def stated_zone(start_local: Any, key: Any = None) -> tzinfo | None:
    """The zone a recording states: ``key`` (an IANA name) when it agrees with the offset of
    ``start_local`` (ISO 8601), else that fixed offset; None without a local start.

    Examples
    --------
    >>> stated_zone("2026-03-29T01:57:00+01:00", "Europe/Berlin")
    zoneinfo.ZoneInfo(key='Europe/Berlin')
    >>> stated_zone("2026-03-29T01:57:00+01:00")
    datetime.timezone(datetime.timedelta(seconds=3600))
    """
    start = _parse(start_local)
    if start is None:
        return None
    return named_zone(key, start, start.utcoffset()) or start.tzinfo


def machine_zone(start: datetime) -> tzinfo:
    """This machine's zone at ``start``: by name when it can be known, else its UTC offset then."""
    from acquisition._sidecar import local_zone_name

    local = start.astimezone()
    return named_zone(local_zone_name(start), start, local.utcoffset()) or local.tzinfo


def sidecar_zone(recording: str | os.PathLike, start: datetime) -> tzinfo | None:
    """The zone the JSON sidecar beside ``recording`` states (``start_local``, ``timezone``), or
    None when there is no sidecar of this recording (none, unreadable, or another start)."""
    from acquisition._sidecar import read_sidecar

    sidecar = read_sidecar(recording)
    if sidecar is None:
        return None
    stated = _parse(sidecar.get("start_utc"))
    if stated is None or abs((stated - start).total_seconds()) > SIDECAR_START_TOLERANCE_S:
        return None
    return stated_zone(sidecar.get("start_local"), sidecar.get("timezone"))


def recording_zone(recording: str | os.PathLike | None, start: datetime) -> tzinfo:
    """The wearer's zone for a recording starting at ``start`` (aware): its sidecar's when the
    file at ``recording`` has one, else this machine's (:func:`machine_zone`)."""
    if recording is not None and Path(recording).is_file():
        zone = sidecar_zone(recording, start)
        if zone is not None:
            return zone
    return machine_zone(start)


def local_start(start: datetime | None, recording: str | os.PathLike | None) -> dict[str, Any]:
    """``start_local`` (ISO 8601 with the wearer's offset) and ``timezone`` (the zone's IANA
    name, None when only its offset is known) of a recording starting at ``start``; both None
    for a recording without a date."""
    if start is None:
        return {"start_local": None, "timezone": None}
    start = start.astimezone(UTC)
    zone = recording_zone(recording, start)
    return {"start_local": start.astimezone(zone).isoformat(),
            "timezone": getattr(zone, "key", None)}


def summary_zone(recording: Mapping[str, Any]) -> tzinfo | None:
    """The zone of a summary's recording facts (``start_local``, ``timezone``): the one its
    local start and clock hours are shown in; None when it states no local start.

    Examples
    --------
    >>> summary_zone({"start_local": "2026-03-29T01:57:00+01:00", "timezone": "Europe/Berlin"})
    zoneinfo.ZoneInfo(key='Europe/Berlin')
    >>> summary_zone({"start_local": None}) is None
    True
    """
    return stated_zone(recording.get("start_local"), recording.get("timezone"))
