"""The live view's memory: which events it has given, so each is given once and early calls corrected.

:meth:`calfwatch.pipeline.NightEngine.live_events` gives a fasciculation as soon as its potential is
detected, before the signal that could change its kind (a second discharge within 250 ms makes a
jerk) has arrived, and settles every event once that signal is there. The ledger turns each round of
classification into the rows that are new to the listener: first sightings, and corrections of
provisional calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Row = dict[str, Any]


@dataclass
class _Given:
    state: str  # "provisional", "settled" or "withdrawn"
    row: Row


class LiveLedger:
    """Events given by the live view, by (onset sample, channel)."""

    def __init__(self) -> None:
        self._given: dict[tuple[int, str], _Given] = {}

    @staticmethod
    def _key(row: Row) -> tuple[int, str]:
        return int(row["sample"]), str(row["channel"])

    def provisional(self, rows: list[Row]) -> list[Row]:
        """Rows (early fasciculations) not given yet, marked ``live: provisional``."""
        out = []
        for row in rows:
            key = self._key(row)
            if key not in self._given:
                given = {**row, "live": "provisional"}
                self._given[key] = _Given("provisional", given)
                out.append(given)
        return out

    def settle(self, rows: list[Row], settled_until_s: float) -> list[Row]:
        """Rows of the events whose context is complete that the listener must hear of.

        Parameters
        ----------
        rows : list of dict
            Every event ending at or before ``settled_until_s`` in the window classified.
        settled_until_s : float
            Events ending up to here are settled; a provisional one among them that is not in
            ``rows`` any more is withdrawn.

        Returns
        -------
        list of dict
            New events (``live: settled``), provisional ones whose kind or detail changed
            (``revised``, with the new values) and provisional ones gone (``withdrawn``).
        """
        out, seen = [], set()
        for row in rows:
            key = self._key(row)
            seen.add(key)
            prev = self._given.get(key)
            if prev is not None and prev.state == "settled":
                continue
            same = prev is not None and prev.state == "provisional" and (
                (prev.row["kind"], prev.row["detail"]) == (row["kind"], row["detail"]))
            given = {**row, "live": "settled" if prev is None else "revised"}
            if not same:
                out.append(given)
            self._given[key] = _Given("settled", given)
        for key, prev in self._given.items():
            end_s = prev.row["onset_s"] + prev.row["duration_s"]
            if prev.state == "provisional" and end_s <= settled_until_s and key not in seen:
                prev.state = "withdrawn"
                out.append({**prev.row, "live": "withdrawn"})
        return out

    def forget_before(self, sample: int) -> None:
        """Drop events with onsets before ``sample`` (out of the window classified)."""
        self._given = {k: v for k, v in self._given.items() if k[0] >= sample}
