"""Where each setting of the classifier's configuration may lie, by what its number is.

A number outside the bound of what it is (a negative duration, a fraction above 1, a range whose
low end is above its high end, a count of a group below 2...) is refused when a configuration is
built (:func:`check_bounds`), naming the setting, the value, what is allowed and the file, before
any analysis runs. Bounds follow the settings' names (``_s`` a duration, ``_k`` a multiple of the
noise, ``_correlation`` a correlation threshold...), with the settings whose name does not say
their bound named one by one; a setting with no bound is refused, so a new one needs its bound.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING, Any, get_args, get_type_hints

from classifier.levels import LEVELS

if TYPE_CHECKING:
    from classifier.config import AssessmentRules, ClassifierConfig


#: The layout of the tables this calfwatch reads (``config_version`` in ``thresholds.toml``).
CONFIG_VERSION = 1
#: Tables of plain settings (numbers and ranges of them), checked by what their names say.
FLAT_TABLES = ("events", "detection", "rest", "morphology")


@dataclass(frozen=True)
class Bound:
    """Where a setting's number may lie, and what the number is (both told in the error).

    Examples
    --------
    >>> Bound("a fraction", 0, 1).text(), Bound("a multiple", 0, low_open=True).text()
    ('from 0 to 1', 'above 0')
    >>> Bound("a count", 2, whole=True).text(), Bound("a count", 2, whole=True).admits(2.5)
    ('a whole number, at least 2', False)
    """

    what: str
    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False
    whole: bool = False

    def admits(self, value: float) -> bool:
        """Whether ``value`` lies within the bound."""
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below and (not self.whole or float(value).is_integer())

    def text(self) -> str:
        """The bound in words: ``at least 0``, ``above 0 and at most 1``, ``from 0 to 23``..."""
        low = f"{'above' if self.low_open else 'at least'} {self.low:g}"
        high = f"{'below' if self.high_open else 'at most'} {self.high:g}"
        if self.low == self.high:
            words = f"{self.low:g}"
        elif math.isinf(self.low) or math.isinf(self.high):
            words = high if math.isinf(self.low) else low
        elif self.low_open or self.high_open:
            words = f"{low} and {high}"
        else:
            words = f"from {self.low:g} to {self.high:g}"
        if not self.whole:
            return words
        return f"a whole number {words}" if words.startswith("from") else f"a whole number, {words}"


_ABOVE_0 = {"low": 0, "low_open": True}
#: Bounds of the flat tables' settings by how their names end (the first that fits): what a
#: number is says where it may lie. A correlation threshold below 0 would take shapes of opposite
#: sign for alike; a ratio of the larger to the smaller is at least 1.
_SUFFIX_BOUNDS = (
    (("_correlation", "_periodicity"), Bound("a correlation threshold", 0, 1)),
    (("_quantile",), Bound("a quantile", 0, 1)),
    (("_fraction", "_share"), Bound("a fraction", 0, 1)),
    (("_chance",), Bound("a probability", 0, 1)),
    (("_amplitude_ratio", "_regular_ratio", "_spread"),
     Bound("a ratio of the larger to the smaller", 1)),
    (("_ratio",), Bound("a ratio", **_ABOVE_0)),
    (("_cv",), Bound("a coefficient of variation", 0)),
    (("_k",), Bound("a multiple of the noise level", **_ABOVE_0)),
    (("_hz",), Bound("a frequency in Hz", **_ABOVE_0)),
    (("window_s",), Bound("the length of a window in s", **_ABOVE_0)),
    (("_s",), Bound("a duration in s", 0)),
    (("_uv",), Bound("an amplitude in µV", 0)),
    (("_ms",), Bound("a duration in ms", 0)),
)
#: Settings whose name alone does not say their bound: spans something is measured over and time
#: constants (0 leaves nothing to measure, or divides by zero), divisors, and plain fractions.
_NAMED_BOUNDS = {
    "baseline_block_s": Bound("the length of a block in s", **_ABOVE_0),
    "cardiac_qrs_s": Bound("the span of a QRS complex in s", **_ABOVE_0),
    "potential_max_s": Bound("the span of one potential in s", **_ABOVE_0),
    "myoclonus_max_s": Bound("the span of a jerk in s", **_ABOVE_0),
    "noise_ring_s": Bound("a time constant in s", **_ABOVE_0),
    "local_noise_s": Bound("half the length of a window in s", **_ABOVE_0),
    "min_correlation": Bound("a correlation threshold, a divisor in the comparison", 0, 1,
                             low_open=True),
    "cramp_decline": Bound("a ratio of powers", **_ABOVE_0),
    "cardiac_max_step": Bound("a fraction of the mean interval", 0, 1),
    "explained_tolerance": Bound("a fraction of the potentials' energy", 0, 1),
    "satellite_max_difference": Bound("a fraction of the part's peak-to-peak", 0),
    "unit_size_band": Bound("a multiple of the detection floor", **_ABOVE_0),
}
#: Counts of a group (a series, a train, a run, a rhythm, a cluster): one alone is no group, and
#: would make every single potential or movement one.
_GROUP_COUNTS = frozenset({
    "plm_series_min", "pop_series_min", "train_min_potentials", "slow_train_min_potentials",
    "rhythm_min_bursts", "cardiac_min_beats", "jerk_min_potentials", "jerk_window_potentials",
    "dense_min_potentials",
})
_COUNT = Bound("a count", 1, whole=True)
_GROUP = Bound("the least size of a series or group", 2, whole=True)
#: Settings that must not exceed another of their table: (table, setting, its ceiling). The burst
#: ends below the level it starts at (hysteresis); the baseline's blocks lie within its window.
_NOT_ABOVE = (("events", "active_off_k", "active_on_k"),
              ("events", "baseline_block_s", "baseline_window_s"))
_SLOPE = Bound("the lower bound of a slope per day")
_MIN_FASCICULATIONS = Bound("a count of fasciculations", 1, whole=True)
#: Bounds of the ``[assessment.<rule>]`` values (the red-flag rule fires at each symptom).
_RULE_BOUNDS = {
    "evaluable_rest": Bound("minutes of rest", 0),
    "evaluable_channels": Bound("a count of usable channels", 1, whole=True),
    "evaluable_quality": Bound("a fraction of the night", 0, 1),
    "evaluable_noise": Bound("a noise RMS in µV", **_ABOVE_0),
    "persistence": Bound("days", 1),
    "red_flag": Bound("the rule fires at each reported symptom", 1, 1),
    "rate_trend": _SLOPE,
    "amplitude_trend": _SLOPE,
    "polyphasic_trend": _SLOPE,
    "rate_high": Bound("a rate per minute of rest", 0),
    "polyphasic_high": Bound("a fraction of fasciculations", 0, 1),
}
#: Bounds of the ``[persistence.<name>]`` values (``settings_from_config`` of
#: :mod:`classifier.persistence` needs three nights for a slope's interval and reads days, hours
#: and nights as whole numbers).
_SETTING_BOUNDS = {
    "night_date_cutoff_hour": Bound("an hour of local time", 0, 23, whole=True),
    "twitching_rate": Bound("a rate per minute of rest", **_ABOVE_0),
    "min_rest": Bound("minutes of rest", 0),
    "max_gap": Bound("days", 0, whole=True),
    "trend_min_nights": Bound("nights: a slope's interval needs 3", 3, whole=True),
    "trend_window": Bound("days", 2, whole=True),
    "trend_confidence": Bound("a confidence level", 0.5, 1, high_open=True),
}


def check_bounds(config: ClassifierConfig, source: str) -> None:
    """Refuse a number outside the bound of what it is, naming it, the bound and ``source``."""
    if config.config_version != CONFIG_VERSION:
        raise ValueError(f"{source}: 'config_version' must be {CONFIG_VERSION} (the layout this "
                         f"calfwatch reads), got {config.config_version!r}")
    for table in FLAT_TABLES:
        _check_flat(getattr(config, table), table, source)
    for table, key, ceiling in _NOT_ABOVE:
        value, top = (getattr(getattr(config, table), k) for k in (key, ceiling))
        if value > top:
            raise ValueError(f"{source}: '{table}.{key}' must be at most '{table}.{ceiling}' "
                             f"({top!r}), got {value!r}")
    _check_rules(config.assessment, source)
    for name, bound in _bounds_of(config.persistence, _SETTING_BOUNDS, "persistence"):
        _check_number(getattr(config.persistence, name).value, bound, f"persistence.{name}.value",
                      source)


def _bounds_of(section: Any, bounds: Mapping[str, Bound],
               table: str) -> Iterator[tuple[str, Bound]]:
    """``(name, bound)`` of each field of ``section``; a field without a bound is refused."""
    for field in dataclasses.fields(section):
        if field.name not in bounds:
            raise _no_bound(f"{table}.{field.name}")
        yield field.name, bounds[field.name]


def _no_bound(name: str) -> ValueError:
    """The error of a setting the checks do not know (a layout defect, not the user's)."""
    return ValueError(f"classifier/thresholds.toml: '{name}' has no bound (a new setting needs one in "
                      "classifier.config)")


def _flat_bound(key: str, tp: Any) -> Bound | None:
    """The bound of a flat table's setting ``key`` of type ``tp``."""
    if key in _NAMED_BOUNDS:
        return _NAMED_BOUNDS[key]
    if tp is int:
        return _GROUP if key in _GROUP_COUNTS else _COUNT
    return next((bound for ends, bound in _SUFFIX_BOUNDS if key.endswith(ends)), None)


def _check_flat(section: Any, table: str, source: str) -> None:
    """Each number of a flat table within its bound; its ranges ordered, its bin edges rising."""
    hints = get_type_hints(type(section))
    for field in dataclasses.fields(section):
        key, name = field.name, f"{table}.{field.name}"
        bound, value = _flat_bound(key, hints[key]), getattr(section, key)
        if bound is None:
            raise _no_bound(name)
        for number in value if isinstance(value, tuple) else (value,):
            _check_number(number, bound, name, source, shown=value)
        if isinstance(value, tuple):
            _check_sequence(value, get_args(hints[key])[-1] is Ellipsis, name, source)


def _check_number(value: float, bound: Bound, name: str, source: str, shown: Any = None) -> None:
    """Refuse ``value`` outside ``bound``; the message shows ``shown`` (its list) if given."""
    if not bound.admits(value):
        shown = list(shown) if isinstance(shown, tuple) else value
        raise ValueError(f"{source}: '{name}' must be {bound.text()} ({bound.what}), "
                         f"got {shown!r}")


def _check_sequence(value: tuple, edges: bool, name: str, source: str) -> None:
    """A range ``[low, high]`` is ordered; bin edges increase from each to the next."""
    if edges and (len(value) < 2 or any(b <= a for a, b in pairwise(value))):
        raise ValueError(f"{source}: '{name}' must be bin edges that increase from each to the "
                         f"next (at least two), got {list(value)!r}")
    if not edges and value[0] > value[1]:
        raise ValueError(f"{source}: '{name}' must be a range [low, high] with low <= high, "
                         f"got {list(value)!r}")


def _check_rules(section: AssessmentRules, source: str) -> None:
    """Each ``[assessment.<rule>]``: its value and least count within bounds, a known level."""

    for name, bound in _bounds_of(section, _RULE_BOUNDS, "assessment"):
        rule, where = getattr(section, name), f"assessment.{name}"
        _check_number(rule.value, bound, f"{where}.value", source)
        if rule.min_fasciculations is not None:
            _check_number(rule.min_fasciculations, _MIN_FASCICULATIONS,
                          f"{where}.min_fasciculations", source)
        if rule.level not in LEVELS:
            raise ValueError(f"{source}: '{where}.level' must be one of {', '.join(LEVELS)}, "
                             f"got {rule.level!r}")
