"""The assessment: benign, monitor or see-doctor, with reasons that name rule, value, threshold and source.

calfwatch measures and compares with named thresholds; it does not diagnose. The rules:

- ``persistence`` (see-doctor): a twitching episode spans 14 days or more (patient guidance on calf
  twitching: "calf twitching that lasts 2 weeks or more").
- ``red_flag`` (see-doctor): each red-flag symptom the wearer reports.
- ``rate_trend``, ``amplitude_trend``, ``polyphasic_trend`` (monitor): the quantity is rising over nights.
- ``rate_high`` (monitor): the latest night's rate is far above the healthy surface reference: its
  whole 95 % Poisson interval lies above the threshold (an interval across it is ``inconclusive``
  and does not fire; the reason says above, below or inconclusive).
- ``polyphasic_high`` (monitor): the latest night's polyphasic fraction is above the needle-EMG figure for
  partly denervated muscle.
- ``evaluable_rest``, ``evaluable_channels``, ``evaluable_quality``, ``evaluable_noise``
  (not-evaluable): the latest night has too little rest, no usable channel, too little usable signal
  or too much noise for its own rules; they are then not applied. When nothing else fires the level
  is ``not-evaluable``; ``benign`` needs an evaluable night where no rule fired.

Every number, level and source comes from the ``[assessment]`` and ``[persistence]`` sections of the
configuration (:func:`classifier.config.load_config`), which a user file can override.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from classifier.config import ClassifierConfig, load_config
from classifier.levels import BENIGN, LEVELS, MONITOR, NOT_EVALUABLE, SEE_DOCTOR  # noqa: F401
from classifier.persistence import (
    NightPoint,
    Persistence,
    Trend,
    persistence,
    settings_from_config,
    trends_by_side,
)
from classifier.rates import ABOVE, BELOW, INCONCLUSIVE, compare_interval, poisson_rate_interval

#: Red-flag symptoms the wearer can report: name -> words used in the reasons.
RED_FLAG_SYMPTOMS = {
    "slurred-speech": "slurred speech",
    "difficulty-swallowing": "difficulty swallowing",
    "seizures": "seizures",
    "loss-of-consciousness": "loss of consciousness",
    "weakness": "muscle weakness",
    "muscle-wasting": "muscle wasting",
}

#: Shown with every assessment, whatever its level.
RED_FLAGS_TEXT = (
    "See a doctor if calf twitching lasts 2 weeks or more, or comes with slurred speech, difficulty "
    "swallowing, seizures, loss of consciousness, weakness or muscle wasting. calfwatch measures and "
    "compares with thresholds; it does not diagnose."
)

#: What a single surface channel cannot tell, with sources.
CAVEATS = (
    "A single bipolar surface channel separates only a few percent of the motor units under it "
    "(Farina 2008: 3.4 % with one channel vs 83.8 % with an 81-channel grid): event counts are reliable, "
    "unit identity and morphology (amplitude, phases) are approximate.",
    "Amplitude and polyphasic figures in the thresholds come from needle EMG (de Carvalho & Swash 2013); "
    "surface amplitudes depend on fat thickness and electrode placement, so only changes within one "
    "wearer and placement are compared.",
    "Periodic limb movements are scored on tibialis anterior; a calf sensor under-detects them.",
    "Gastrocnemius fasciculation rates vary a lot from day to day (Bashford et al., Muscle Nerve "
    "2020;61:745: 44-62 % reliability): single nights say little, trends over many nights say more.",
    "The rate alone does not separate benign fasciculations from motor neuron disease (de Carvalho & "
    "Swash 2016); healthy calves also show fasciculation potentials (EEG Clin Neurophysiol 1994;93:163).",
    "Nights that were not recorded, or had under the minimum rest, cannot count towards persistence.",
)

RULES = ("persistence", "red_flag", "rate_trend", "amplitude_trend", "polyphasic_trend",
         "rate_high", "polyphasic_high", "evaluable_rest", "evaluable_channels",
         "evaluable_quality", "evaluable_noise")
#: The minimums a night must meet for its own rules (``[assessment.evaluable_*]``).
EVALUABLE_RULES = ("evaluable_rest", "evaluable_channels", "evaluable_quality", "evaluable_noise")


@dataclass(frozen=True)
class Reason:
    """One rule checked: what was measured, against what, from where, and whether it fired."""

    rule: str
    level: str
    observed: float | str | None
    threshold: float
    unit: str
    source: str
    text: str
    fired: bool = True
    #: For a rule on a rate: its 95 % Poisson interval and where it lies against the threshold
    #: (``above``, ``below`` or ``inconclusive``).
    interval: tuple[float, float] | None = None
    comparison: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dictionary."""
        return asdict(self)


@dataclass(frozen=True)
class Assessment:
    """The outcome: level, the reasons that fired, every check made, and what cannot be told."""

    level: str
    reasons: list[Reason]
    red_flags_text: str
    caveats: list[str]
    checks: list[Reason] = field(default_factory=list)
    persistence: Persistence | None = None
    trends: list[Trend] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dictionary for reports."""
        return {
            "level": self.level,
            "reasons": [r.to_dict() for r in self.reasons],
            "checks": [r.to_dict() for r in self.checks],
            "red_flags_text": self.red_flags_text,
            "caveats": list(self.caveats),
            "persistence": self.persistence.to_dict() if self.persistence else None,
            "trends": [t.to_dict() for t in self.trends],
        }


@dataclass(frozen=True)
class RuleSpec:
    """One ``[assessment.<rule>]`` table."""

    name: str
    value: float
    unit: str
    level: str
    source: str
    min_fasciculations: int | None = None


def rule_spec(config: ClassifierConfig, name: str) -> RuleSpec:
    """One rule of the configuration, its level checked."""
    rule = getattr(config.assessment, name)
    if rule.level not in LEVELS:
        raise ValueError(f"configuration [assessment.{name}] level {rule.level!r} is not one of "
                         f"{LEVELS}")
    return RuleSpec(name, float(rule.value), rule.unit, rule.level, rule.source,
                    rule.min_fasciculations)


def normalise_symptom(name: str) -> str:
    """``"Slurred speech"`` -> ``"slurred-speech"``; raises ValueError listing the valid names."""
    key = "-".join(str(name).strip().lower().replace("_", " ").replace("-", " ").split())
    if key not in RED_FLAG_SYMPTOMS:
        raise ValueError(f"unknown symptom {name!r}; valid: {', '.join(RED_FLAG_SYMPTOMS)}")
    return key


def _fmt(value: float, digits: int = 2) -> str:
    return f"{value:.{digits}f}".rstrip("0").rstrip(".") if value != int(value) else f"{value:.0f}"


def _reason(spec: RuleSpec, observed, fired: bool, text: str, **rate) -> Reason:
    return Reason(spec.name, spec.level if fired else BENIGN, observed, spec.value, spec.unit,
                  spec.source, text, fired, **rate)


def _check_persistence(pers: Persistence, spec: RuleSpec) -> Reason:
    episode = pers.longest_episode
    span = episode.span_days if episode else 0
    fired = span >= spec.value
    if episode is None:
        text = "no twitching night was measured"
    else:
        text = (f"twitching was measured on {episode.twitching_days} of the {span} days from "
                f"{episode.first.isoformat()} to {episode.last.isoformat()}")
        if fired:
            text += (f"; calf twitching lasting {_fmt(spec.value)} days or more is a reason to see "
                     "a doctor")
        else:
            text += f" (below {_fmt(spec.value)} days)"
    return _reason(spec, span, fired, text)


def _check_red_flags(symptoms: Iterable[str], spec: RuleSpec) -> list[Reason]:
    names = sorted({normalise_symptom(getattr(s, "symptom", s)) for s in symptoms},
                   key=list(RED_FLAG_SYMPTOMS).index)
    if not names:
        return [_reason(spec, "none", False, "no red-flag symptom reported")]
    return [
        _reason(spec, name, True,
                f"you reported {RED_FLAG_SYMPTOMS[name]}: a red flag for seeing a doctor")
        for name in names
    ]


_TREND_RULES = {
    "rate_per_min_rest": ("rate_trend", "your twitch rate", "/min of rest per day", 1.0, 2),
    "median_ptp_uv": ("amplitude_trend", "the median twitch amplitude", " µV per day", 1.0, 1),
    "polyphasic_fraction": ("polyphasic_trend", "the polyphasic fraction",
                            " percentage points per day", 100.0, 2),
}


def _side_words(side: str | None) -> str:
    if side in ("left", "right"):
        return f" ({side} calf)"
    return f" ({side})" if side and side != "unknown" else ""


def _night_words(point: NightPoint) -> str:
    if point.night_date is None:
        return "this night (date unknown)"
    return f"the night of {point.night_date.isoformat()}"


def _when(point: NightPoint) -> str:
    """``the night of <date> (left calf)``, or ``this night (date unknown)``."""
    return f"{_night_words(point)}{_side_words(point.side)}"


def _check_trend(tr: Trend, spec: RuleSpec, min_nights: int) -> Reason:
    _, label, unit, scale, digits = _TREND_RULES[tr.quantity]
    side = _side_words(tr.side)
    if tr.slope_per_day is None:
        text = f"{label}{side}: too few nights for a trend ({tr.n_nights} of {min_nights} needed)"
        return _reason(spec, None, False, text)
    fired = tr.low > spec.value
    pct = round(tr.confidence * 100)
    numbers = (f"{tr.slope_per_day * scale:+.{digits}f}{unit}, {pct} % interval "
               f"{tr.low * scale:+.{digits}f} to {tr.high * scale:+.{digits}f}")
    if fired:
        verb = "has risen" if tr.quantity == "rate_per_min_rest" else "has grown"
        text = (f"{label}{side} {verb} over the last {tr.n_nights} nights "
                f"({tr.first.isoformat()} to {tr.last.isoformat()}): {numbers}")
    else:
        text = f"{label}{side} over {tr.n_nights} nights: no clear rise ({numbers})"
    return _reason(spec, tr.low, fired, text)


def _check_rate_high(point: NightPoint, spec: RuleSpec) -> Reason:
    """Fires when the rate's whole 95 % Poisson interval lies above the threshold."""
    rate = point.rate_per_min_rest
    # the interval of the rate reported: over the rest a potential could have been counted in
    interval = poisson_rate_interval(point.fasciculations, point.live_minutes)
    comparison = compare_interval(interval, spec.value)
    fired = comparison == ABOVE
    words = {ABOVE: "above", BELOW: "below",
             INCONCLUSIVE: "inconclusive: the interval spans"}[comparison]
    blind = (f" less {point.blind_minutes:.2f} inside the potentials"
             if point.blind_minutes >= 0.005 else "")
    text = (f"{_when(point)}: {rate:.1f} fasciculations per minute of rest (95 % interval "
            f"{interval[0]:.1f}-{interval[1]:.1f}, {point.fasciculations} in "
            f"{point.rest_minutes:.1f} min{blind}), {words} {_fmt(spec.value)}/min (healthy "
            "surface reference: tibialis anterior never above 3/min, calf higher and variable)")
    return _reason(spec, rate, fired, text, interval=interval, comparison=comparison)


def _check_polyphasic_high(point: NightPoint, spec: RuleSpec) -> Reason:
    when = _when(point)
    min_n = int(spec.min_fasciculations if spec.min_fasciculations is not None else 20)
    fraction = point.polyphasic_fraction
    if fraction is None or point.fasciculations < min_n:
        return _reason(spec, fraction, False,
                       f"{when}: too few fasciculations for a polyphasic fraction "
                       f"({point.fasciculations} of {min_n} needed)")
    fired = fraction > spec.value
    relation = "above" if fired else "not above"
    text = (f"{when}: {fraction * 100:.1f} % of fasciculations polyphasic, {relation} "
            f"{spec.value * 100:.1f} % (a needle-EMG figure; a surface channel sees phases "
            "only approximately)")
    return _reason(spec, fraction, fired, text)


def _number_or_none(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def channel_figures(doc: Mapping[str, Any]) -> dict[str, tuple[float | None, float | None]]:
    """Per analysed channel of a night summary: (usable fraction, resting noise RMS in µV).

    None where the summary has no figure (no quality section, or nothing measured).
    """
    quality = doc.get("quality") if isinstance(doc.get("quality"), Mapping) else {}
    channels = doc.get("channels") if isinstance(doc.get("channels"), Mapping) else {}
    out = {}
    for name in channels:
        q = quality.get(name) if isinstance(quality.get(name), Mapping) else {}
        out[str(name)] = (_number_or_none(q.get("usable_fraction")),
                          _number_or_none(q.get("noise_rms_uv")))
    return out


def _check_evaluable_signal(when: str, doc: Mapping[str, Any],
                            config: ClassifierConfig) -> list[Reason]:
    """Usable channels, best usable fraction and lowest noise of one night summary."""
    q_spec, n_spec, c_spec = (rule_spec(config, f"evaluable_{k}")
                              for k in ("quality", "noise", "channels"))
    figures = channel_figures(doc)
    fractions = [q for q, _ in figures.values() if q is not None]
    noises = [n for _, n in figures.values() if n is not None]
    best = max(fractions, default=None)
    quietest = min(noises, default=None)
    usable = [name for name, (q, n) in figures.items()
              if q is not None and q >= q_spec.value and (n is None or n <= n_spec.value)]
    out = []
    fired = best is None or best < q_spec.value
    text = (f"{when}: no channel has signal-quality figures" if best is None else
            f"{when}: {best * 100:.0f} % of the night usable on the best channel "
            f"({'below' if fired else 'at least'} {q_spec.value * 100:.0f} %)")
    out.append(_reason(q_spec, best, fired, text))
    fired = quietest is not None and quietest > n_spec.value
    text = (f"{when}: no noise figure" if quietest is None else
            f"{when}: noise floor {quietest:.1f} µV RMS on the quietest channel "
            f"({'above' if fired else 'within'} {_fmt(n_spec.value)} µV; resting surface EMG is "
            "3-8 µV)")
    out.append(_reason(n_spec, quietest, fired, text))
    fired = len(usable) < c_spec.value
    text = (f"{when}: {len(usable)} of {len(figures)} channel(s) usable"
            + (f" ({', '.join(usable)})" if usable else "")
            + (f"; at least {_fmt(c_spec.value)} needed" if fired else ""))
    out.append(_reason(c_spec, len(usable), fired, text))
    return out


def check_evaluable(point: NightPoint | None, doc: Mapping[str, Any] | None,
                    config: ClassifierConfig) -> list[Reason]:
    """The ``evaluable_*`` minimums of one night; a fired check makes the night not evaluable.

    Parameters
    ----------
    point : NightPoint or None
        The night (None: no night at all to assess).
    doc : mapping or None
        Its night summary, for the channel, quality and noise minimums (rest only without it).
    config : ClassifierConfig
        The configuration.
    """
    spec = rule_spec(config, "evaluable_rest")
    if point is None:
        return [_reason(spec, None, True, "no night was recorded to assess")]
    when = _when(point)
    rest = point.rest_minutes if point.rate_per_min_rest is not None else 0.0
    fired = rest < spec.value
    text = (f"{when}: {_minutes_beside(rest, spec.value)} minutes of rest "
            f"({'below' if fired else 'at least'} the {_fmt(spec.value)} minutes needed to judge "
            "a rate)")
    checks = [_reason(spec, rest, fired, text)]
    if doc is not None:
        checks += _check_evaluable_signal(when, doc, config)
    return checks


def _minutes_beside(minutes: float, threshold: float) -> str:
    """``minutes`` to one decimal, or as many more as it takes not to print the threshold's
    figure for a value on the other side of it (4.964 beside 5: "4.96", not "5.0").

    Examples
    --------
    >>> _minutes_beside(4.964, 5.0), _minutes_beside(12.34, 5.0), _minutes_beside(5.0, 5.0)
    ('4.96', '12.3', '5.0')
    """
    for decimals in (1, 2, 3, 4):
        text = f"{minutes:.{decimals}f}"
        if (float(text) < threshold) == (minutes < threshold):
            return text
    return f"{minutes:g}"


def _as_point(item: Any, cutoff_hour: int) -> NightPoint:
    if isinstance(item, NightPoint):
        return item
    if hasattr(item, "to_point"):
        return item.to_point()
    if isinstance(item, Mapping):
        return NightPoint.from_summary(item, cutoff_hour=cutoff_hour)
    raise TypeError(f"cannot read a night from {type(item).__name__}")


def _series(history: Sequence[Any], tonight: Any, cutoff_hour: int) -> tuple[list, list]:
    points = [_as_point(p, cutoff_hour) for p in history]
    if tonight is None:
        if not points:
            return [], []
        newest = max(p.night_date for p in points)
        return points, sorted((p for p in points if p.night_date == newest),
                              key=lambda p: (p.side or "", p.start_utc))
    tonight = _as_point(tonight, cutoff_hour)
    if tonight.night_date is None:  # date unknown: judged alone, not placed among the nights
        return points, [tonight]
    sides = {p.side for p in points}
    if tonight.side is None and len(sides) == 1:
        tonight = NightPoint(**{**asdict(tonight), "side": next(iter(sides))})
    key = (tonight.night_date, tonight.side, tonight.start_utc)
    # the nights up to tonight's: a night re-analysed or reported later is judged as of its date,
    # not with the nights recorded after it
    points = [p for p in points if (p.night_date, p.side, p.start_utc) != key
              and (p.night_date is None or p.night_date <= tonight.night_date)] + [tonight]
    return points, [tonight]


def _night_doc(point: NightPoint, history: Sequence[Any]) -> Mapping | None:
    """The stored night summary behind ``point`` (same recording start), None when unknown."""
    if not point.start_utc:
        return None
    for item in history:
        doc = item if isinstance(item, Mapping) else getattr(item, "summary", None)
        if not isinstance(doc, Mapping):
            continue
        start = (doc.get("recording") or {}).get("start_utc")
        if start and start == point.start_utc:
            return doc
    return None


def level_of(reasons: Iterable[Reason]) -> str:
    """The highest level among the reasons that fired (benign when none fired at all; a fired
    ``evaluable_*`` minimum alone gives not-evaluable)."""
    return max((r.level for r in reasons if r.fired), key=LEVELS.index, default=BENIGN)


def assess(history_nights: Sequence[Any], symptoms: Iterable[str] = (),
           config: ClassifierConfig | None = None, tonight: Any = None) -> Assessment:
    """Assess a subject's nights and reported symptoms against the configured rules.

    Parameters
    ----------
    history_nights : sequence
        The subject's nights: :class:`~classifier.persistence.NightPoint`, objects with ``to_point()``
        (history-store records) or night-summary dictionaries.
    symptoms : iterable of str
        Red-flag symptoms reported (names from :data:`RED_FLAG_SYMPTOMS`, or history-store records
        with a ``symptom`` attribute).
    config : ClassifierConfig, optional
        Configuration from :func:`classifier.config.load_config`; the defaults when omitted.
    tonight : optional
        The night just analysed. It joins the history (replacing a stored copy of the same recording) and
        is the night the single-night rules look at; by default they look at the latest night date.
        Nights dated after it are left out: a night is judged as of its own date.

    Returns
    -------
    Assessment
        Level (the highest level of the rules that fired), the reasons that fired, every check made,
        the red-flag text, the single-channel caveats, the persistence and the trends.

    Raises
    ------
    ValueError
        On an unknown symptom or a malformed configuration (message names the key).
    """
    config = config if config is not None else load_config()
    settings = settings_from_config(config)
    points, latest = _series(history_nights, tonight, settings.night_date_cutoff_hour)
    pers = persistence(points, settings)
    trends = trends_by_side(points, settings)
    checks = [_check_persistence(pers, rule_spec(config, "persistence"))]
    checks += _check_red_flags(symptoms, rule_spec(config, "red_flag"))
    for tr in trends:
        spec = rule_spec(config, _TREND_RULES[tr.quantity][0])
        checks.append(_check_trend(tr, spec, settings.trend_min_nights))
    if not latest:
        checks += check_evaluable(None, None, config)
    for point in latest:
        doc = tonight if isinstance(tonight, Mapping) else _night_doc(point, history_nights)
        minimums = check_evaluable(point, doc, config)
        checks += minimums
        if any(r.fired for r in minimums):
            continue
        checks.append(_check_rate_high(point, rule_spec(config, "rate_high")))
        checks.append(_check_polyphasic_high(point, rule_spec(config, "polyphasic_high")))
    reasons = [r for r in checks if r.fired]
    reasons.sort(key=lambda r: -LEVELS.index(r.level))
    return Assessment(level_of(reasons), reasons, RED_FLAGS_TEXT, list(CAVEATS), checks, pers,
                      trends)
