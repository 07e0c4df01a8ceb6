"""Rates: fasciculations per minute of rest (per channel, pooled, per clock hour) and the PLM index.

Fasciculation counts exclude the second potential of a doublet (its F-wave, not a new
fasciculation) and only count potentials in rest, so counts and rest time cover the same spans.
The PLM index is the number of PLMs in AASM series per hour of recording; each leg is scored once
(on its first channel: channels whose names say ``left``/``right`` are grouped by leg, any other
channel is a leg of its own) and the legs are summed. A calf sensor under-detects PLMs, which are
scored on tibialis anterior in the clinic.

A detector cannot count a potential that starts inside another: it merges into that one's
candidate. Rates are therefore counts per minute of *live* rest, rest less the spans of the
potentials counted and listed in it (``blind_minutes``), the non-paralyzable dead-time
correction of counting statistics (Knoll, Radiation Detection and Measurement, 4th ed., 2010,
ch. 4: true rate = m / (1 - m tau) = count / live time). The spans are measured, not assumed:
each potential's candidate from its onset to its end. At 100 per minute of potentials of
40 ms the correction is +7 %; at 10 per minute +0.7 %.

Every rate carries its exact (Garwood) Poisson interval, :func:`poisson_rate_interval`, under the key of
the rate with ``_ci95`` appended: a count of k events in T minutes says the rate lies in that
interval 95 % of the time, which a rule compares with its threshold (:func:`compare_interval`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from classifier.kinds import FASCICULATION, PLM
from classifier.rest import overlap_s

if TYPE_CHECKING:
    from classifier.config import ClassifierConfig
    from classifier.night_data import NightData


def leg_of(name: str) -> str:
    """``left``/``right`` when the channel name says so, else the name itself."""
    low = name.lower()
    for side in ("left", "right"):
        if side in low:
            return side
    return name


#: Confidence of the rate intervals in the summary (the ``_ci95`` keys).
CONFIDENCE = 0.95


ABOVE, BELOW, INCONCLUSIVE = "above", "below", "inconclusive"


def compare_interval(interval: tuple[float | None, float | None] | None,
                     threshold: float) -> str | None:
    """``above`` when the whole interval lies above ``threshold``, ``below`` when it lies below,
    else ``inconclusive`` (None without an interval).

    Examples
    --------
    >>> compare_interval(poisson_rate_interval(72, 6.0), 10.0)  # 12/min, interval 9.4-15.1
    'inconclusive'
    """
    if interval is None or None in interval:
        return None
    low, high = interval
    return ABOVE if low > threshold else BELOW if high < threshold else INCONCLUSIVE


def _rate(count: int, minutes: float) -> float | None:
    return count / minutes if minutes > 0 else None


def _ci(count: int, exposure: float) -> list[float] | None:
    low, high = poisson_rate_interval(count, exposure, CONFIDENCE)
    return None if low is None else [low, high]


def hour_edges(duration_s: float, meas_date: datetime | None) -> tuple[np.ndarray, list[str]]:
    """Edges (s from the start) of the clock hours the night covers, and each hour's label.

    Without a start date the hours are counted from the start (labels ``+0h``, ``+1h``...).
    """
    if meas_date is None:
        n = max(1, int(np.ceil(duration_s / 3600.0)))
        edges = np.minimum(np.arange(n + 1) * 3600.0, duration_s)
        return edges, [f"+{i}h" for i in range(n)]
    top = meas_date.replace(minute=0, second=0, microsecond=0)
    first = (top - meas_date).total_seconds()
    n = max(1, int(np.ceil((duration_s - first) / 3600.0)))
    edges = np.clip(first + np.arange(n + 1) * 3600.0, 0.0, duration_s)
    labels = [(top + timedelta(hours=i)).isoformat() for i in range(n)]
    return edges, labels


def parse_date(value: Any) -> datetime | None:
    """A datetime from ``meta["meas_date"]`` (datetime or ISO 8601 text), or None."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def night_rates(events: np.ndarray, rest: dict, night: NightData, config: ClassifierConfig) -> dict:
    """Counts, rest minutes and rates per channel, pooled and per clock hour; the PLM index.

    Returns
    -------
    dict
        ``channels``: name -> {rest_minutes, blind_minutes, fasciculations, doublets,
        fasciculations_per_min_rest, plm, plm_index_per_h, hours: [{hour, rest_minutes,
        blind_minutes, fasciculations, fasciculations_per_min_rest, plm}]}; pooled
        ``rest_minutes``, ``blind_minutes``, ``fasciculations``, ``doublets``,
        ``fasciculations_per_min_rest``, ``plm_index_per_h``, ``hours``. Fasciculation rates are
        per minute of live rest (rest less ``blind_minutes``, see the module docstring), None
        when there is no rest. Each rate has its 95 % Poisson interval under the
        same key with ``_ci95`` appended (``[low, high]``, None with the rate).
    """
    hours_total = night.duration_s / 3600.0
    edges, labels = hour_edges(night.duration_s, parse_date(night.meta.get("meas_date")))
    fasc = (events["kind"] == FASCICULATION) & ~events["doublet"]
    dbl = (events["kind"] == FASCICULATION) & events["doublet"]
    plm = events["kind"] == PLM
    channels: dict[str, dict] = {}
    for ch, name in enumerate(night.ch_names):
        mine = events["channel"] == ch
        t_f = events["onset_s"][fasc & mine]
        t_p = events["onset_s"][plm & mine]
        t_b, span_s = events["onset_s"][(fasc | dbl) & mine], events["duration_s"][(fasc | dbl) & mine]
        minutes = rest[name].minutes
        hours = []
        for i, label in enumerate(labels):
            lo, hi = edges[i], edges[i + 1]
            r_min = overlap_s(rest[name].intervals_s, lo, hi) / 60.0
            n_f = int(np.sum((t_f >= lo) & (t_f < hi)))
            live = r_min - float(np.sum(span_s[(t_b >= lo) & (t_b < hi)])) / 60.0
            hours.append({"hour": label, "rest_minutes": r_min, "fasciculations": n_f,
                          "blind_minutes": r_min - live,
                          "fasciculations_per_min_rest": _rate(n_f, live),
                          "fasciculations_per_min_rest_ci95": _ci(n_f, live),
                          "plm": int(np.sum((t_p >= lo) & (t_p < hi)))})
        live = minutes - float(np.sum(span_s)) / 60.0
        channels[name] = {
            "rest_minutes": minutes,
            "blind_minutes": minutes - live,
            "fasciculations": int(len(t_f)),
            "doublets": int(np.sum(dbl & mine)),
            "fasciculations_per_min_rest": _rate(len(t_f), live),
            "fasciculations_per_min_rest_ci95": _ci(len(t_f), live),
            "plm": int(len(t_p)),
            "plm_index_per_h": len(t_p) / hours_total if hours_total > 0 else None,
            "plm_index_per_h_ci95": _ci(len(t_p), hours_total),
            "hours": hours,
        }
    return _pooled(channels, labels, hours_total)


def _pooled(channels: dict[str, dict], labels: list[str], hours_total: float) -> dict:
    rest_min = sum(c["rest_minutes"] for c in channels.values())
    live = rest_min - sum(c["blind_minutes"] for c in channels.values())
    n_f = sum(c["fasciculations"] for c in channels.values())
    legs: dict[str, str] = {}
    for name in channels:
        legs.setdefault(leg_of(name), name)
    n_plm = sum(channels[name]["plm"] for name in legs.values())
    hours = []
    for i, label in enumerate(labels):
        r = sum(c["hours"][i]["rest_minutes"] for c in channels.values())
        b = sum(c["hours"][i]["blind_minutes"] for c in channels.values())
        f = sum(c["hours"][i]["fasciculations"] for c in channels.values())
        p = sum(channels[name]["hours"][i]["plm"] for name in legs.values())
        hours.append({"hour": label, "rest_minutes": r, "fasciculations": f, "blind_minutes": b,
                      "fasciculations_per_min_rest": _rate(f, r - b),
                      "fasciculations_per_min_rest_ci95": _ci(f, r - b), "plm": p})
    return {
        "rest_minutes": rest_min,
        "blind_minutes": rest_min - live,
        "fasciculations": n_f,
        "doublets": sum(c["doublets"] for c in channels.values()),
        "fasciculations_per_min_rest": _rate(n_f, live),
        "fasciculations_per_min_rest_ci95": _ci(n_f, live),
        "plm": n_plm,
        "plm_index_per_h": n_plm / hours_total if hours_total > 0 else None,
        "plm_index_per_h_ci95": _ci(n_plm, hours_total),
        "legs": {leg: name for leg, name in legs.items()},
        "hours": hours,
        "channels": channels,
    }


def poisson_rate_interval(
    count: int, minutes: float, confidence: float = 0.95
) -> tuple[float | None, float | None]:
    """Exact (Garwood) interval of a Poisson rate: ``count`` events in ``minutes``, per minute.

    Parameters
    ----------
    count : int
        Events counted (0 or more).
    minutes : float
        Time they were counted over.
    confidence : float
        Two-sided confidence level.

    Returns
    -------
    (low, high) : tuple of float, or (None, None) when ``minutes`` is not positive.

    Examples
    --------
    >>> low, high = poisson_rate_interval(0, 10.0)
    >>> low, round(high, 4)
    (0.0, 0.3689)
    """
    from scipy.special import gammaincinv  # chi2.ppf(q, 2k) / 2, without importing scipy.stats

    if not minutes > 0:
        return None, None
    alpha = 1.0 - confidence
    low = 0.0 if count <= 0 else gammaincinv(count, alpha / 2)
    high = gammaincinv(count + 1, 1.0 - alpha / 2)
    return float(low) / minutes, float(high) / minutes
