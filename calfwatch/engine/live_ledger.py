"""The live view's memory: which events it has given, so each is given once and early calls corrected.

:meth:`calfwatch.engine.NightEngine.live_events` gives an event as soon as it has ended, before the
signal that could change it has arrived (the same shape 5-40 ms later makes a doublet, a third
potential within 50 ms makes a jerk, regular repeats make a train; activity resuming within 0.5 s
extends a movement), and settles every event once that
signal is there. The ledger turns each round of classification into the rows that are new to the
listener: first sightings, and corrections of early calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Row = dict[str, Any]


@dataclass
class _Given:
    state: str  # "provisional", "settled" or "withdrawn"
    row: Row


#: Change of length (s) that makes a settled event a revision of the early call.
LENGTH_CHANGE_S = 0.05


def _same_call(early: Row, settled: Row) -> bool:
    """Whether a settled event says what its early call said: kind, detail and length."""
    return ((early["kind"], early["detail"]) == (settled["kind"], settled["detail"])
            and abs(early["duration_s"] - settled["duration_s"]) < LENGTH_CHANGE_S)


class LiveLedger:
    """Events given by the live view, by (onset sample, channel).

    Parameters
    ----------
    span_kinds : tuple of str
        Kinds matched by overlap rather than by onset (see :meth:`_key`).
    """

    def __init__(self, span_kinds: tuple[str, ...] = ()) -> None:
        self._given: dict[tuple[int, str], _Given] = {}
        self.span_kinds = span_kinds

    def _key(self, row: Row) -> tuple[int, str]:
        """The key of the given event ``row`` is, else its own (onset sample, channel).

        Events of :attr:`span_kinds` (movements, artifacts: envelope bursts, whose edges can move
        by a frame as the window's resting level moves) are the same event when they overlap one
        given on the channel; events made of candidates only when their onset is the same.
        """
        key = (int(row["sample"]), str(row["channel"]))
        if key in self._given or row["kind"] not in self.span_kinds:
            return key
        a, b = row["onset_s"], row["onset_s"] + row["duration_s"]
        for other, given in self._given.items():
            g = given.row
            if (other[1] == key[1] and g["kind"] in self.span_kinds
                    and g["onset_s"] <= b and a <= g["onset_s"] + g["duration_s"]):
                return other
        return key

    def provisional(self, rows: list[Row]) -> list[Row]:
        """Rows of early calls not given yet, marked ``live: provisional``."""
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
            New events (``live: settled``), provisional ones whose kind, detail or length
            changed (``revised``, with the new values) and provisional ones gone
            (``withdrawn``).
        """
        out, seen = [], set()
        for row in rows:
            key = self._key(row)
            seen.add(key)
            prev = self._given.get(key)
            if prev is not None and prev.state == "settled":
                continue
            same = prev is not None and prev.state == "provisional" and _same_call(prev.row, row)
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
