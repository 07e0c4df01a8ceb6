"""Night-summary documents and night series for the persistence, assessment and history tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from classifier.persistence import NightPoint

#: First night of every simulated series.
DAY0 = date(2026, 3, 1)
#: Local time zone of the simulated wearer (UTC+1).
TZ = timezone(timedelta(hours=1))


def make_summary(start_local: datetime, rate_per_min: float, rest_minutes: float = 360.0,
                 median_ptp_uv: float | None = 80.0, polyphasic_fraction: float | None = 0.1,
                 plm_index_per_h: float = 3.0) -> dict:
    """A night-summary document with the keys the history and assessment rely on."""
    count = round(rate_per_min * rest_minutes)
    rate = count / rest_minutes if rest_minutes > 0 else None
    start_utc = start_local.astimezone(UTC)
    return {
        "schema": "calfwatch.night-summary",
        "schema_version": 1,
        "recording": {"start_utc": start_utc.isoformat(), "start_local": start_local.isoformat(),
                      "duration_s": 8 * 3600.0},
        "rest_minutes": rest_minutes,
        "fasciculations": count,
        "fasciculations_per_min_rest": rate,
        "channels": {"calf": {"rest_minutes": rest_minutes, "fasciculations": count,
                              "fasciculations_per_min_rest": rate}},
        "plm_index_per_h": plm_index_per_h,
        "morphology": {"median_ptp_uv": median_ptp_uv, "polyphasic_fraction": polyphasic_fraction},
        "quality": {"calf": {"usable_fraction": 1.0, "noise_rms_uv": 4.0}},
    }


def evening(day_offset: int, hour: int = 23, minute: int = 0) -> datetime:
    """Local start time on the evening of DAY0 + day_offset (hour < 12 falls on the next morning)."""
    day = DAY0 + timedelta(days=day_offset + (1 if hour < 12 else 0))
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


def points(rates, side: str | None = "left", days=None, rest_minutes: float = 360.0,
           amplitudes=None, polyphasic=None) -> list[NightPoint]:
    """One NightPoint per rate, on DAY0 + days[i] (default consecutive days)."""
    days = list(range(len(rates))) if days is None else list(days)
    amplitudes = [80.0] * len(rates) if amplitudes is None else list(amplitudes)
    polyphasic = [0.1] * len(rates) if polyphasic is None else list(polyphasic)
    return [
        NightPoint(DAY0 + timedelta(days=d), r, round((r or 0) * rest_minutes), rest_minutes, a, f,
                   side, f"{DAY0 + timedelta(days=d)}T22:00:00+00:00")
        for d, r, a, f in zip(days, rates, amplitudes, polyphasic, strict=True)
    ]


def rising_fortnight(n_nights: int = 14, start: float = 2.0, step: float = 0.5) -> list[float]:
    """Nightly rates of a simulated fortnight with a rising rate (all above the twitching threshold)."""
    return [start + step * i for i in range(n_nights)]
