"""Persistence of twitching over nights and the trend of rate, amplitude and polyphasic fraction.

Pure functions over a list of :class:`NightPoint` (no storage here). Definitions, all configurable in the
``[persistence]`` section of ``thresholds.toml``:

- **night date**: the local calendar date of the evening the recording belongs to. A recording that starts
  before ``night_date_cutoff_hour`` (default 12, noon) local time belongs to the previous date, so a night
  started at 00:30 counts with the evening before.
- **evaluable night**: at least ``min_rest`` minutes of rest; other nights neither count as twitching nor
  as quiet.
- **twitching night**: an evaluable night whose pooled rate reaches ``twitching_rate`` fasciculations per
  minute of rest. A **twitching day** is a night date with at least one twitching night (any side).
- **episode**: twitching days joined while at most ``max_gap`` days without a twitching night lie between
  them (unrecorded or quiet). Its length is the inclusive calendar span, first to last twitching day: a
  fortnight of daily twitching nights is an episode of 14 days.
- **longest run**: the most consecutive calendar days that are all twitching days.
- **trend**: Theil-Sen slope per day (x = days since the first night in the window, so one nightly
  recording gives a slope per night) with its confidence interval (:func:`scipy.stats.theilslopes`).
  ``rising`` only when at least ``trend_min_nights`` nights and the interval's lower bound is above zero;
  ``falling`` when the upper bound is below zero; otherwise ``flat``; ``too-few-nights`` below the minimum.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from classifier.config import ClassifierConfig, load_config

#: The quantities whose trend over nights is measured: attribute of NightPoint -> (label, unit per day).
TREND_QUANTITIES = {
    "rate_per_min_rest": ("fasciculation rate", "/min of rest per day"),
    "median_ptp_uv": ("median fasciculation amplitude", "µV per day"),
    "polyphasic_fraction": ("polyphasic fraction", "per day (fraction)"),
}


@dataclass(frozen=True)
class NightPoint:
    """The key numbers of one night, for persistence and trends.

    Attributes
    ----------
    night_date : datetime.date or None
        The night's date (see the module docstring); None for a recording that states no date
        (assessed alone, never placed among the nights).
    rate_per_min_rest : float or None
        Pooled fasciculations per minute of rest (None when there was no rest).
    fasciculations : int
        Fasciculations counted at rest.
    rest_minutes : float
        Minutes of rest.
    median_ptp_uv : float or None
        Median peak-to-peak amplitude of the night's fasciculations (µV).
    polyphasic_fraction : float or None
        Fraction (0-1) of the night's fasciculations that are polyphasic.
    side : str or None
        ``left``, ``right``, ... when known.
    start_utc : str
        Recording start (ISO 8601), to order nights of the same date.
    blind_minutes : float
        Minutes of rest spent inside the potentials counted, when nothing else can be counted
        (:mod:`classifier.rates`): the rate and its interval are over the rest less these.
    """

    night_date: date | None
    rate_per_min_rest: float | None
    fasciculations: int = 0
    rest_minutes: float = 0.0
    median_ptp_uv: float | None = None
    polyphasic_fraction: float | None = None
    side: str | None = None
    start_utc: str = ""
    blind_minutes: float = 0.0

    @property
    def live_minutes(self) -> float:
        """Minutes of rest a fasciculation could have been counted in (rest less blind)."""
        return max(0.0, self.rest_minutes - self.blind_minutes)

    @classmethod
    def from_summary(cls, summary: Mapping[str, Any], side: str | None = None,
                     cutoff_hour: int = 12) -> NightPoint:
        """Build a point from a night-summary document (``classifier.summary``)."""
        recording = summary.get("recording") or {}
        start = recording.get("start_local") or recording.get("start_utc")
        if not start and not recording.get("date_unknown"):
            raise ValueError("night summary has no recording start (recording.start_local/start_utc)")
        morphology = summary.get("morphology") or {}
        return cls(
            night_date=recording_night_date(recording, cutoff_hour),
            rate_per_min_rest=_number(summary.get("fasciculations_per_min_rest")),
            fasciculations=int(summary.get("fasciculations") or 0),
            rest_minutes=float(summary.get("rest_minutes") or 0.0),
            median_ptp_uv=_number(morphology.get("median_ptp_uv")),
            polyphasic_fraction=_number(morphology.get("polyphasic_fraction")),
            side=side,
            start_utc=str(recording.get("start_utc") or start or ""),
            blind_minutes=float(summary.get("blind_minutes") or 0.0),
        )


def _number(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def night_date(start: str | datetime, cutoff_hour: int = 12) -> date:
    """The date a night belongs to: the local start date, or the day before if it started before the cutoff.

    Parameters
    ----------
    start : str or datetime
        Recording start in local time (ISO 8601; an offset, if present, is kept as given).
    cutoff_hour : int
        Starts before this local hour belong to the previous evening (default 12, noon).
    """
    if isinstance(start, str):
        try:
            start = datetime.fromisoformat(start.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"recording start {start!r} is not an ISO 8601 time") from None
    day = start.date()
    return day - timedelta(days=1) if start.hour < cutoff_hour else day


def recording_night_date(recording: Mapping[str, Any], cutoff_hour: int = 12) -> date | None:
    """The night date of a summary's recording facts (``recording`` of summary.json): of its
    local start (``start_local``, the wearer's), else of ``start_utc``; None without a date.

    The one rule by which the history, the cohort table and BIDS sessions date a night.

    Examples
    --------
    >>> recording_night_date({"start_utc": "2026-01-06T01:30:00+00:00",
    ...                       "start_local": "2026-01-06T02:30:00+01:00"})
    datetime.date(2026, 1, 5)
    >>> recording_night_date({"start_utc": None, "start_local": None}) is None
    True
    """
    start = recording.get("start_local") or recording.get("start_utc")
    return night_date(start, cutoff_hour) if start else None


@dataclass(frozen=True)
class PersistenceSettings:
    """The ``[persistence]`` numbers (see :func:`settings_from_config`)."""

    twitching_rate_per_min: float = 1.0
    min_rest_minutes: float = 60.0
    max_gap_days: int = 2
    trend_min_nights: int = 5
    trend_window_days: int = 28
    trend_confidence: float = 0.95
    night_date_cutoff_hour: int = 12


def settings_from_config(config: ClassifierConfig | None = None) -> PersistenceSettings:
    """Read the ``[persistence]`` section of a configuration (defaults when None)."""
    section = (config if config is not None else load_config()).persistence
    s = PersistenceSettings(
        twitching_rate_per_min=float(section.twitching_rate.value),
        min_rest_minutes=float(section.min_rest.value),
        max_gap_days=int(section.max_gap.value),
        trend_min_nights=int(section.trend_min_nights.value),
        trend_window_days=int(section.trend_window.value),
        trend_confidence=float(section.trend_confidence.value),
        night_date_cutoff_hour=int(section.night_date_cutoff_hour.value),
    )
    if not 0.5 <= s.trend_confidence < 1.0:
        raise ValueError(f"configuration [persistence] trend_confidence: {s.trend_confidence} "
                         "must be in 0.5-1")
    if not 0 <= s.night_date_cutoff_hour <= 23:
        raise ValueError("configuration [persistence] night_date_cutoff_hour: must be 0-23")
    if s.max_gap_days < 0 or s.trend_min_nights < 3 or s.trend_window_days < 2:
        raise ValueError("configuration [persistence]: max_gap >= 0, trend_min_nights >= 3 and "
                         "trend_window >= 2 are required")
    return s


def is_evaluable(point: NightPoint, settings: PersistenceSettings) -> bool:
    """True when the night had enough rest to judge its rate."""
    return point.rate_per_min_rest is not None and point.rest_minutes >= settings.min_rest_minutes


def is_twitching(point: NightPoint, settings: PersistenceSettings) -> bool:
    """True when the night is evaluable and its rate reaches the twitching threshold."""
    return is_evaluable(point, settings) and point.rate_per_min_rest >= settings.twitching_rate_per_min


@dataclass(frozen=True)
class Episode:
    """Twitching days joined by gaps of at most ``max_gap`` days."""

    first: date
    last: date
    twitching_days: int

    @property
    def span_days(self) -> int:
        """Inclusive calendar span, first to last twitching day."""
        return (self.last - self.first).days + 1


@dataclass(frozen=True)
class Persistence:
    """How long and how often twitching was measured."""

    nights: int
    nights_evaluable: int
    nights_twitching: int
    days_recorded: int
    days_twitching: int
    longest_run_days: int
    first_twitching: date | None
    last_twitching: date | None
    days_since_first: int | None
    episodes: tuple[Episode, ...] = field(default=())

    @property
    def longest_episode(self) -> Episode | None:
        """The episode with the longest span (the latest of equals), or None."""
        if not self.episodes:
            return None
        return max(reversed(self.episodes), key=lambda e: e.span_days)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dictionary (dates as ISO strings)."""
        out = asdict(self)
        out["episodes"] = [
            {"first": e.first.isoformat(), "last": e.last.isoformat(),
             "twitching_days": e.twitching_days, "span_days": e.span_days}
            for e in self.episodes
        ]
        for key in ("first_twitching", "last_twitching"):
            out[key] = out[key].isoformat() if out[key] else None
        return out


def _episodes(days: Sequence[date], max_gap_days: int) -> tuple[Episode, ...]:
    episodes: list[Episode] = []
    for day in days:
        if episodes and (day - episodes[-1].last).days <= max_gap_days + 1:
            last = episodes[-1]
            episodes[-1] = Episode(last.first, day, last.twitching_days + 1)
        else:
            episodes.append(Episode(day, day, 1))
    return tuple(episodes)


def _longest_run(days: Sequence[date]) -> int:
    best = run = 0
    for i, day in enumerate(days):
        run = run + 1 if i and (day - days[i - 1]).days == 1 else 1
        best = max(best, run)
    return best


def persistence(points: Iterable[NightPoint],
                settings: PersistenceSettings | None = None) -> Persistence:
    """Count twitching nights and days, the longest run and the episodes.

    Parameters
    ----------
    points : iterable of NightPoint
        Nights of one subject (any sides, any order).
    settings : PersistenceSettings, optional
        Thresholds; the packaged defaults when omitted.
    """
    settings = settings or settings_from_config()
    points = list(points)
    twitching = [p for p in points if is_twitching(p, settings)]
    days = sorted({p.night_date for p in twitching})
    all_days = {p.night_date for p in points}
    first = days[0] if days else None
    return Persistence(
        nights=len(points),
        nights_evaluable=sum(is_evaluable(p, settings) for p in points),
        nights_twitching=len(twitching),
        days_recorded=len(all_days),
        days_twitching=len(days),
        longest_run_days=_longest_run(days),
        first_twitching=first,
        last_twitching=days[-1] if days else None,
        days_since_first=(max(all_days) - first).days if first else None,
        episodes=_episodes(days, settings.max_gap_days),
    )


@dataclass(frozen=True)
class Trend:
    """Theil-Sen slope per day of one quantity, with its interval."""

    quantity: str
    side: str | None
    n_nights: int
    slope_per_day: float | None
    low: float | None
    high: float | None
    confidence: float
    direction: str  # rising, falling, flat, too-few-nights
    first: date | None = None
    last: date | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dictionary."""
        out = asdict(self)
        for key in ("first", "last"):
            out[key] = out[key].isoformat() if out[key] else None
        return out


def trend(points: Iterable[NightPoint], quantity: str, settings: PersistenceSettings | None = None,
          side: str | None = None) -> Trend:
    """Theil-Sen trend of one quantity over the evaluable nights of the last ``trend_window`` days.

    Parameters
    ----------
    points : iterable of NightPoint
        Nights of one subject and, normally, one side.
    quantity : str
        One of :data:`TREND_QUANTITIES`.
    settings : PersistenceSettings, optional
        Minimum nights, window and confidence; defaults when omitted.
    side : str, optional
        Only a label carried into the result.
    """
    if quantity not in TREND_QUANTITIES:
        raise ValueError(f"unknown trend quantity {quantity!r}; use one of {sorted(TREND_QUANTITIES)}")
    settings = settings or settings_from_config()
    usable = [p for p in points if is_evaluable(p, settings) and getattr(p, quantity) is not None]
    if usable:
        newest = max(p.night_date for p in usable)
        start = newest - timedelta(days=settings.trend_window_days - 1)
        usable = sorted((p for p in usable if p.night_date >= start),
                        key=lambda p: (p.night_date, p.start_utc))
    n = len(usable)
    days = {p.night_date for p in usable}
    base = Trend(quantity, side, n, None, None, None, settings.trend_confidence, "too-few-nights",
                 usable[0].night_date if usable else None, usable[-1].night_date if usable else None)
    if n < settings.trend_min_nights or len(days) < 2:
        return base
    x = [(p.night_date - usable[0].night_date).days for p in usable]
    y = [float(getattr(p, quantity)) for p in usable]
    from scipy.stats import theilslopes  # here: importing scipy.stats costs about a second

    res = theilslopes(y, x, alpha=settings.trend_confidence)
    low, high = float(res.low_slope), float(res.high_slope)
    direction = "rising" if low > 0 else "falling" if high < 0 else "flat"
    return Trend(quantity, side, n, float(res.slope), low, high, settings.trend_confidence, direction,
                 base.first, base.last)


def trends_by_side(points: Iterable[NightPoint],
                   settings: PersistenceSettings | None = None) -> list[Trend]:
    """Every trend quantity for each side present (sides never mix in one trend)."""
    settings = settings or settings_from_config()
    points = list(points)
    sides = sorted({p.side for p in points}, key=lambda s: (s is None, s or ""))
    return [
        trend([p for p in points if p.side == side], quantity, settings, side=side)
        for side in sides
        for quantity in TREND_QUANTITIES
    ]
