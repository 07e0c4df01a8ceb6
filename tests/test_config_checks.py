"""A thresholds file with values no setting can take is refused at once, in one line naming the
file, the setting, the value and what is allowed; the packaged ``thresholds.toml`` passes."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from classifier.config import ClassifierConfig, config_with, default_config

#: Tables whose settings are plain numbers (and ranges of them), one level deep.
FLAT_TABLES = ("events", "detection", "rest", "morphology")
#: The assessment rules whose value is the lower bound of a slope: any finite number.
SLOPE_RULES = ("rate_trend", "amplitude_trend", "polyphasic_trend")


def _calfwatch() -> list[str]:
    """The installed ``calfwatch`` script beside this interpreter, else ``python -m calfwatch``."""
    script = Path(sys.executable).with_name("calfwatch")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "calfwatch"]


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k != "CALFWATCH_CONFIG"}
    return subprocess.run([*_calfwatch(), *args], capture_output=True, text=True, timeout=120,
                          env={**base, **(env or {})})


def _numbers(config: ClassifierConfig):
    """``(table, key, value)`` of every number in the flat tables."""
    for table in FLAT_TABLES:
        section = getattr(config, table)
        for field in dataclasses.fields(section):
            yield table, field.name, getattr(section, field.name)


def test_the_packaged_thresholds_pass_the_checks():
    default_config.cache_clear()
    config = default_config()
    assert ClassifierConfig.from_dict(config.to_dict()) == config
    assert config_with({}) == config


@pytest.mark.parametrize(("table", "key"), [(t, k) for t, k, _ in _numbers(default_config())])
def test_no_setting_of_the_flat_tables_takes_a_negative_number(table, key):
    """Durations, frequencies, multiples, fractions, correlations, ratios and counts: none is
    negative, so -1 is refused for each (a new setting needs a bound)."""
    value = getattr(getattr(default_config(), table), key)
    bad = [-1.0] * len(value) if isinstance(value, tuple) else -1
    with pytest.raises(ValueError, match=rf"'{table}\.{key}' must be .*got"):
        config_with({table: {key: bad}}, "mine.toml")


@pytest.mark.parametrize("rule", [f.name for f in dataclasses.fields(default_config().assessment)
                                  if f.name not in SLOPE_RULES])
def test_no_assessment_rule_but_a_slope_takes_a_negative_value(rule):
    with pytest.raises(ValueError, match=rf"'assessment\.{rule}\.value' must be .*got -1"):
        config_with({"assessment": {rule: {"value": -1}}}, "mine.toml")


@pytest.mark.parametrize("rule", SLOPE_RULES)
def test_a_slope_rule_takes_any_finite_number(rule):
    config = config_with({"assessment": {rule: {"value": -0.5}}})
    assert getattr(config.assessment, rule).value == -0.5


@pytest.mark.parametrize("name", [f.name for f in dataclasses.fields(default_config().persistence)])
def test_no_persistence_setting_takes_a_negative_value(name):
    with pytest.raises(ValueError, match=rf"'persistence\.{name}\.value' must be .*got -1"):
        config_with({"persistence": {name: {"value": -1}}}, "mine.toml")


@pytest.mark.parametrize(("overrides", "words"), [
    ({"assessment": {"rate_high": {"value": -5}}},
     "'assessment.rate_high.value' must be at least 0"),
    ({"rest": {"margin_s": -0.5}}, "'rest.margin_s' must be at least 0 (a duration"),
    ({"events": {"baseline_quantile": 1.5}}, "'events.baseline_quantile' must be from 0 to 1"),
    ({"events": {"satellite_min_fraction": -0.1}},
     "'events.satellite_min_fraction' must be from 0 to 1"),
    ({"events": {"doublet_min_correlation": 1.2}},
     "'events.doublet_min_correlation' must be from 0 to 1"),
    ({"morphology": {"min_correlation": 0}}, "'morphology.min_correlation' must be above 0"),
    ({"detection": {"detectable_ptp_k": 0}}, "'detection.detectable_ptp_k' must be above 0"),
    ({"events": {"motion_max_hz": 0}}, "'events.motion_max_hz' must be above 0"),
    ({"events": {"jerk_window_s": 0}}, "'events.jerk_window_s' must be above 0"),
    ({"detection": {"noise_ring_s": 0}}, "'detection.noise_ring_s' must be above 0"),
    ({"events": {"train_max_amplitude_ratio": 0.5}},
     "'events.train_max_amplitude_ratio' must be at least 1"),
    ({"events": {"satellite_max_ratio": 0}}, "'events.satellite_max_ratio' must be above 0"),
    ({"events": {"jerk_min_potentials": 1}}, "'events.jerk_min_potentials' must be a whole "
                                             "number, at least 2"),
    ({"events": {"pop_series_min": 0}}, "'events.pop_series_min' must be a whole number"),
    ({"morphology": {"max_rounds": 0}}, "'morphology.max_rounds' must be a whole number, at "
                                        "least 1"),
    ({"events": {"plm_duration_s": [10.0, 0.5]}},
     "'events.plm_duration_s' must be a range [low, high] with low <= high, got [10.0, 0.5]"),
    ({"events": {"doublet_s": [-0.005, 0.04]}}, "'events.doublet_s' must be at least 0"),
    ({"morphology": {"amplitude_bins_uv": [0, 50, 25]}},
     "'morphology.amplitude_bins_uv' must be bin edges that increase"),
    ({"events": {"active_off_k": 3.0}},
     "'events.active_off_k' must be at most 'events.active_on_k' (2.5), got 3.0"),
    ({"events": {"baseline_block_s": 900.0}},
     "'events.baseline_block_s' must be at most 'events.baseline_window_s' (600"),
    ({"assessment": {"evaluable_quality": {"value": 1.5}}},
     "'assessment.evaluable_quality.value' must be from 0 to 1"),
    ({"assessment": {"evaluable_channels": {"value": 0}}},
     "'assessment.evaluable_channels.value' must be a whole number, at least 1"),
    ({"assessment": {"polyphasic_high": {"value": 22.6}}},
     "'assessment.polyphasic_high.value' must be from 0 to 1"),
    ({"assessment": {"polyphasic_high": {"min_fasciculations": 0}}},
     "'assessment.polyphasic_high.min_fasciculations' must be a whole number, at least 1"),
    ({"assessment": {"persistence": {"level": "panic"}}},
     "'assessment.persistence.level' must be one of not-evaluable, benign, monitor, see-doctor"),
    ({"persistence": {"trend_confidence": {"value": 1.0}}},
     "'persistence.trend_confidence.value' must be at least 0.5 and below 1"),
    ({"persistence": {"max_gap": {"value": 2.5}}},
     "'persistence.max_gap.value' must be a whole number, at least 0"),
    ({"persistence": {"night_date_cutoff_hour": {"value": 24}}},
     "'persistence.night_date_cutoff_hour.value' must be a whole number from 0 to 23"),
    ({"persistence": {"trend_min_nights": {"value": 2}}},
     "'persistence.trend_min_nights.value' must be a whole number, at least 3"),
    ({"config_version": 2}, "'config_version' must be 1"),
    ({"events": {"baseline_quantile": float("nan")}}, "'events.baseline_quantile' must be a "
                                                      "finite number"),
    ({"events": {"baseline_quantile": float("inf")}}, "'events.baseline_quantile' must be a "
                                                      "finite number"),
    ({"events": {"baseline_quantile": "low"}}, "'events.baseline_quantile' must be a finite"),
])
def test_values_no_setting_can_take_are_refused_naming_file_setting_and_bound(overrides, words):
    with pytest.raises(ValueError) as info:
        config_with(overrides, "mine.toml")
    message = str(info.value)
    assert message.startswith("mine.toml: ") and words in message, message
    assert "\n" not in message


def test_a_whole_number_written_with_a_point_is_a_count():
    """``rhythm_min_bursts = 10.0`` had ended the analysis in numpy's "`pad_width` must be of
    integral type"."""
    config = config_with({"events": {"rhythm_min_bursts": 10.0, "cardiac_max_lag": 16.0},
                          "morphology": {"seed_batch": 300.0}})
    assert type(config.events.rhythm_min_bursts) is int and config.events.rhythm_min_bursts == 10
    assert type(config.events.cardiac_max_lag) is int and type(config.morphology.seed_batch) is int


def test_values_at_their_bounds_are_taken():
    config = config_with({"rest": {"margin_s": 0}, "events": {"baseline_quantile": 1.0,
                                                              "plm_duration_s": [2.0, 2.0]},
                          "assessment": {"rate_high": {"value": 0}},
                          "persistence": {"night_date_cutoff_hour": {"value": 0}}})
    assert config.rest.margin_s == 0 and config.events.plm_duration_s == (2.0, 2.0)


@pytest.mark.parametrize(("text", "words"), [
    ("[assessment.rate_high]\nvalue = -5\n",
     "'assessment.rate_high.value' must be at least 0 (a rate per minute of rest), got -5"),
    ("[rest]\nmargin_s = -1.0\n", "'rest.margin_s' must be at least 0 (a duration in s), got -1.0"),
    ("[events]\nbaseline_quantile = 1.5\n", "'events.baseline_quantile' must be from 0 to 1"),
    ("[events]\nplm_interval_s = [90.0, 5.0]\n", "'events.plm_interval_s' must be a range"),
    ("[persistence.trend_confidence]\nvalue = 2\n",
     "'persistence.trend_confidence.value' must be at least 0.5 and below 1"),
])
def test_the_command_line_refuses_such_a_file_in_one_line(tmp_path, text, words):
    user = tmp_path / "mine.toml"
    user.write_text(text, encoding="utf-8")
    out = _run("--config", str(user), "history", "--history", str(tmp_path / "h.sqlite"))
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.count("\n") == 1, out.stderr
    assert out.stderr.startswith(f"calfwatch: error: {user}: ") and words in out.stderr
    assert not (tmp_path / "h.sqlite").exists()


def test_the_environment_variable_is_checked_the_same_way(tmp_path):
    user = tmp_path / "env.toml"
    user.write_text("[events]\nmotion_max_hz = -40\n", encoding="utf-8")
    out = _run("history", "--history", str(tmp_path / "h.sqlite"),
               env={"CALFWATCH_CONFIG": str(user)})
    assert out.returncode == 2 and out.stderr.count("\n") == 1
    assert "'events.motion_max_hz' must be above 0" in out.stderr and str(user) in out.stderr


def test_a_file_within_the_bounds_is_taken_by_the_command_line(tmp_path):
    user = tmp_path / "mine.toml"
    user.write_text("[assessment.rate_high]\nvalue = 5\n[rest]\nmargin_s = 0\n"
                    "[events]\nplm_series_min = 4.0\n", encoding="utf-8")
    out = _run("--config", str(user), "symptoms", "--subject", "p1", "--history",
               str(tmp_path / "h.sqlite"))
    assert out.returncode == 0, out.stderr
