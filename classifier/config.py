"""One configuration for every classifier and assessment threshold, as typed frozen dataclasses.

The packaged ``thresholds.toml`` holds the values with their sources: it is the only place a value
is written. The dataclasses here say which settings exist and their types; building them from the
file refuses an unknown or a missing setting, a value of the wrong type and a number outside the
bound of what it is (a negative duration, a fraction above 1, a range whose low end is above its
high end...), naming the setting, the value, what is allowed and the file. A user TOML file (or,
from Python, a mapping) overrides any setting (deep merge).

Examples
--------
>>> config = default_config()
>>> config.rest.margin_s
0.5
>>> config_with({"rest": {"margin_s": 1.0}}).rest.margin_s
1.0
"""

from __future__ import annotations

import copy
import dataclasses
import math
import os
import tomllib
import types
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints

from classifier.config_bounds import check_bounds

#: Environment variable naming a user TOML file that overrides the defaults.
CONFIG_ENV = "CALFWATCH_CONFIG"
#: Where the defaults come from (named in errors about them).
DEFAULTS_NAME = "classifier/thresholds.toml"

Span = tuple[float, float]


@dataclass(frozen=True)
class EventRules:
    """``[events]``: the event-kind rules (:mod:`classifier.events`, :mod:`classifier.potentials`).

    Each setting is explained, with its source, in ``thresholds.toml``.
    """

    baseline_block_s: float
    baseline_window_s: float
    baseline_quantile: float
    active_on_k: float
    active_off_k: float
    end_quiet_s: float
    sustained_min_s: float
    movement_min_s: float
    flat_k: float
    flat_min_s: float
    flat_edge_s: float
    motion_max_hz: float
    motion_min_candidates: int
    mains_min_periodicity: float
    mains_min_candidates: int
    mains_link_s: float
    mains_edge_periodicity: float
    cramp_min_s: float
    cramp_min_k: float
    cramp_decline: float
    noise_change_min_s: float
    noise_change_max_spread: float
    plm_duration_s: Span
    plm_interval_s: Span
    plm_series_min: int
    plm_regular_ratio: float
    plm_median_interval_s: Span
    shape_window_s: float
    doublet_s: Span
    doublet_min_correlation: float
    doublet_max_amplitude_ratio: float
    train_interval_s: Span
    train_min_potentials: int
    train_max_cv: float
    train_min_correlation: float
    train_max_amplitude_ratio: float
    train_min_floor_fraction: float
    train_reach_s: float
    slow_train_interval_s: Span
    slow_train_min_potentials: int
    slow_train_max_cv: float
    rhythm_cluster_s: float
    rhythm_min_bursts: int
    rhythm_max_cv: float
    cardiac_interval_s: Span
    cardiac_max_step: float
    cardiac_min_beats: int
    cardiac_min_correlation: float
    cardiac_max_amplitude_ratio: float
    cardiac_max_lag: int
    cardiac_qrs_s: float
    explained_tolerance: float
    compound_energy_share: float
    dense_window_s: float
    dense_min_potentials: int
    myoclonus_max_s: float
    myoclonus_min_phases: int
    unit_min_repeats: int
    potential_max_s: float
    slow_wave_gap_s: float
    slow_wave_max_ratio: float
    satellite_max_ratio: float
    satellite_max_lag_s: float
    satellite_lag_tolerance_s: float
    satellite_min_discharges: int
    satellite_min_fraction: float
    satellite_min_share: float
    satellite_max_difference: float
    split_max_floor_ratio: float
    unit_size_band: Span
    unit_size_neighbours: int
    unit_size_min_correlation: float
    jerk_link_s: float
    jerk_min_potentials: int
    jerk_window_s: float
    jerk_window_potentials: int
    link_min_k: float
    jerk_rate_window_s: float
    jerk_max_chance: float
    pop_step_fraction: float
    pop_step_k: float
    pop_clear_s: float
    pop_env_k: float
    pop_series_min: int
    pop_series_gap_s: float


@dataclass(frozen=True)
class DetectionRules:
    """``[detection]``: the detection floor, the one definition of a detectable potential, and
    the resting noise it is a multiple of (:mod:`classifier.noise`)."""

    detectable_ptp_k: float
    cardiac_floor_k: float
    noise_guard_s: float
    noise_tail_s: float
    noise_ring_s: float
    noise_ring_fraction: float
    noise_ring_level_k: float
    noise_min_quiet_s: float
    local_noise_s: float
    local_noise_min_s: float


@dataclass(frozen=True)
class RestRules:
    """``[rest]``: what takes a channel out of rest (:mod:`classifier.rest`)."""

    margin_s: float
    unmeasured_k: float


@dataclass(frozen=True)
class MorphologyRules:
    """``[morphology]``: fasciculation shapes and units (:mod:`classifier.morphology`)."""

    polyphasic_min_phases: int
    max_phases: int
    amplitude_bins_uv: tuple[float, ...]
    duration_bins_ms: tuple[float, ...]
    window_s: float
    min_correlation: float
    max_amplitude_ratio: float
    merge_lag_s: float
    min_members: int
    seed_batch: int
    max_rounds: int


@dataclass(frozen=True)
class Rule:
    """One ``[assessment.<rule>]`` table: the value, its unit, the level it leads to, its source."""

    value: float
    unit: str
    level: str
    min_fasciculations: int | None  # polyphasic_high only: the least count the fraction needs
    source: str


@dataclass(frozen=True)
class AssessmentRules:
    """``[assessment]``: the rules of :mod:`classifier.assessment`."""

    evaluable_rest: Rule
    evaluable_channels: Rule
    evaluable_quality: Rule
    evaluable_noise: Rule
    persistence: Rule
    red_flag: Rule
    rate_trend: Rule
    amplitude_trend: Rule
    polyphasic_trend: Rule
    rate_high: Rule
    polyphasic_high: Rule


@dataclass(frozen=True)
class Setting:
    """One ``[persistence.<name>]`` table: the value, its unit and its source."""

    value: float
    unit: str
    source: str


@dataclass(frozen=True)
class PersistenceRules:
    """``[persistence]``: twitching nights, episodes and trends (:mod:`classifier.persistence`)."""

    night_date_cutoff_hour: Setting
    twitching_rate: Setting
    min_rest: Setting
    max_gap: Setting
    trend_min_nights: Setting
    trend_window: Setting
    trend_confidence: Setting


@dataclass(frozen=True)
class ClassifierConfig:
    """Every classifier and assessment threshold (see ``thresholds.toml`` for each one's source)."""

    config_version: int
    events: EventRules
    detection: DetectionRules
    rest: RestRules
    morphology: MorphologyRules
    assessment: AssessmentRules
    persistence: PersistenceRules

    @classmethod
    def from_dict(cls, tables: Mapping[str, Any], source: str = DEFAULTS_NAME) -> ClassifierConfig:
        """Build the configuration from nested tables, as ``thresholds.toml`` holds them.

        Raises
        ------
        ValueError
            A setting is unknown, missing, of the wrong type or outside its bound (the message
            names it, the value, what is allowed and ``source``).
        """
        config = _build(cls, tables, "", source)
        check_bounds(config, source)
        return config

    def to_dict(self) -> dict[str, Any]:
        """The nested tables, as ``thresholds.toml`` holds them (summary.json's ``thresholds``)."""
        return _tables(self)


def _build(cls: type, table: Mapping[str, Any], where: str, source: str) -> Any:
    """An instance of the dataclass ``cls`` from ``table`` (``where`` names it in errors)."""
    if not isinstance(table, Mapping):
        raise ValueError(f"{source}: '{where}' must be a table of settings")
    hints = get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    for key in table:
        if key not in hints:
            hint = f" (a new setting needs a field in classifier.config.{cls.__name__})" if (
                source == DEFAULTS_NAME) else ""
            raise ValueError(f"{source}: unknown setting '{_name(where, key)}'{hint}")
    values = {}
    for key in names:
        tp = hints[key]
        if key not in table and not _optional(tp):
            raise ValueError(f"{source}: missing setting '{_name(where, key)}'")
        values[key] = _value(tp, table.get(key), _name(where, key), source)
    return cls(**values)


def _name(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _optional(tp: Any) -> bool:
    return get_origin(tp) in (Union, types.UnionType) and type(None) in get_args(tp)


def _value(tp: Any, value: Any, name: str, source: str) -> Any:
    """``value`` checked against the type ``tp``; lists become tuples (the config is frozen)."""
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, name, source)
    if _optional(tp):
        if value is None:
            return None
        (tp,) = [a for a in get_args(tp) if a is not type(None)]
    if get_origin(tp) is tuple:
        args = get_args(tp)
        n = None if args[-1] is Ellipsis else len(args)
        if not isinstance(value, list | tuple) or (n is not None and len(value) != n):
            what = "a list of numbers" if n is None else f"a list of {n} numbers"
            raise ValueError(f"{source}: '{name}' must be {what}, got {value!r}")
        return tuple(_value(args[0], v, name, source) for v in value)
    if tp is str and isinstance(value, str):
        return value
    number = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if tp is float and number:
        return value  # an int stays an int: summary.json repeats the file's values as written
    if tp is int and number and float(value).is_integer():
        return int(value)  # a count written 10.0 is used as an index or a length
    kind = {str: "text", int: "a whole number", float: "a finite number"}[tp]
    raise ValueError(f"{source}: '{name}' must be {kind}, got {value!r}")


def _tables(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return {f.name: _tables(getattr(value, f.name)) for f in dataclasses.fields(value)
                if getattr(value, f.name) is not None}
    if isinstance(value, tuple):
        return [_tables(v) for v in value]
    return value


@cache
def _default_tables() -> dict[str, Any]:
    text = resources.files("classifier").joinpath("thresholds.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


@cache
def default_config() -> ClassifierConfig:
    """The packaged defaults (``thresholds.toml``)."""
    return ClassifierConfig.from_dict(_default_tables())


def config_with(overrides: Mapping[str, Any], source: str = "config",
                base: ClassifierConfig | None = None) -> ClassifierConfig:
    """``base`` (the defaults when omitted) with the settings of ``overrides`` (nested tables)
    in their place.

    Raises
    ------
    ValueError
        An unknown setting, a value of another kind than the default's or a number outside its
        bound (names ``source``).
    """
    tables = _default_tables() if base is None else base.to_dict()
    _check_override(tables, overrides, "", source)
    return ClassifierConfig.from_dict(_merge(tables, overrides), source)


def load_config(user_path: str | os.PathLike | None = None) -> ClassifierConfig:
    """Load the defaults, overridden by a user TOML file.

    Parameters
    ----------
    user_path : path-like, optional
        A TOML file whose keys override the defaults. When omitted, ``$CALFWATCH_CONFIG`` is
        used if set.

    Returns
    -------
    ClassifierConfig
        The merged configuration.

    Raises
    ------
    ValueError
        If the user file does not exist, is not valid TOML or holds an unknown setting, a
        value of the wrong kind or a number outside its bound (message names the file).
    """
    path = user_path if user_path is not None else os.environ.get(CONFIG_ENV)
    if not path:
        return default_config()
    path = Path(path)
    try:
        override = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{path}: configuration file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML ({exc})") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a TOML configuration file (not UTF-8 text)") from None
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the configuration ({exc.strerror or exc})"
                         ) from None
    return config_with(override, str(path))


def _merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _check_override(default: Mapping[str, Any], override: Mapping[str, Any], where: str,
                    source: str) -> None:
    """Refuse keys the defaults do not have and values of another kind, before any analysis runs.

    A misspelt key would otherwise be ignored silently, and a wrong type fail hours later.
    """
    for key, value in override.items():
        name = _name(where, key)
        if key not in default:
            raise ValueError(f"{source}: unknown setting '{name}'")
        ref = default[key]
        if isinstance(ref, dict):
            if not isinstance(value, Mapping):
                raise ValueError(f"{source}: '{name}' must be a table of settings")
            _check_override(ref, value, name, source)
        elif not _same_kind(ref, value):
            raise ValueError(f"{source}: '{name}' must be {_kind(ref)} like the default "
                             f"{ref!r}, got {value!r}")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _same_kind(ref: Any, value: Any) -> bool:
    if isinstance(ref, bool) or isinstance(ref, str):
        return type(value) is type(ref)
    if _is_number(ref):
        return _is_number(value)
    if isinstance(ref, list):
        return isinstance(value, list) and (not ref or all(_same_kind(ref[0], v) for v in value))
    return True


def _kind(ref: Any) -> str:
    if isinstance(ref, bool):
        return "true or false"
    if isinstance(ref, str):
        return "text"
    if isinstance(ref, list):
        return "a list"
    return "a finite number"
