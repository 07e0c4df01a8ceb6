"""The cohort table: the exact Poisson intervals its rates carry checked against the Poisson
distribution itself and published values, rows built from a summary, and CSV/Parquet written and
read back."""

from __future__ import annotations

import math
import os
import stat

import pytest
from scipy.stats import poisson

from calfwatch.cohort import COLUMNS, cohort_row, rate_interval, read_cohort_csv, write_cohort
from classifier.rates import poisson_rate_interval


def poisson_interval(count: int) -> tuple[float, float]:
    """The interval of the mean count (an exposure of 1)."""
    return poisson_rate_interval(count, 1.0)

#: Garwood (1936) exact 95 % limits as tabulated (e.g. Ulm, Am J Epidemiol 1990;131:373).
TABLE = {0: (0.0, 3.689), 1: (0.0253, 5.572), 2: (0.242, 7.225), 10: (4.795, 18.39),
         50: (37.11, 65.92)}


@pytest.mark.parametrize("count", [0, 1, 2, 3, 7, 10, 50, 400])
def test_interval_limits_leave_two_and_a_half_percent_each_side(count):
    low, high = poisson_interval(count)
    # at the upper limit, seeing <= count happens 2.5 % of the time; at the lower, >= count too
    assert poisson.cdf(count, high) == pytest.approx(0.025, abs=1e-9)
    if count:
        assert poisson.sf(count - 1, low) == pytest.approx(0.025, abs=1e-9)
    else:
        assert low == 0.0


@pytest.mark.parametrize("count", sorted(TABLE))
def test_interval_matches_published_table(count):
    low, high = poisson_interval(count)
    assert low == pytest.approx(TABLE[count][0], abs=6e-4 * max(1, count))
    assert high == pytest.approx(TABLE[count][1], rel=2e-4)


def test_rate_interval_scales_by_exposure_and_is_empty_without_rest():
    rate, low, high = rate_interval(10, 120.0)
    lo10, hi10 = poisson_interval(10)
    assert (rate, low, high) == pytest.approx((10 / 120, lo10 / 120, hi10 / 120))
    assert rate_interval(3, 0.0) == (None, None, None)
    assert rate_interval(None, 5.0) == (None, None, None)


def _summary(**over):
    doc = {
        "duration_s": 7200.0, "rest_minutes": 100.0, "fasciculations": 25, "doublets": 2,
        "fasciculations_per_min_rest": 0.25, "plm": 4, "plm_index_per_h": 2.0,
        "counts": {"fasciculation": 27, "myoclonus": 1, "plm": 4, "cramp": 0, "voluntary": 3,
                   "artifact": 5},
        "channels": {"L": {"detection_floor_uv": 40.0}, "R": {"detection_floor_uv": 52.5}},
        "quality": {"L": {"noise_rms_uv": 5.0, "mains_fraction": 0.1, "saturated_fraction": 0.0,
                          "flat_fraction": 0.01, "lost_fraction": 0.0, "pops": 2,
                          "usable_fraction": 0.97},
                    "R": {"noise_rms_uv": 6.5, "mains_fraction": 0.05, "saturated_fraction": 0.0,
                          "flat_fraction": 0.0, "lost_fraction": 0.02, "pops": 1,
                          "usable_fraction": 0.9}},
        "recording": {"start_utc": "2026-03-01T22:30:00+00:00", "subject": "", "side": "",
                      "channels_analysed": ["L", "R"]},
        "assessment": {"level": "monitor"},
        "unusable_channels": [],
        "versions": {"calfwatch": "9.9.9"},
    }
    doc.update(over)
    return doc


def test_row_from_summary_has_counts_rates_intervals_and_worst_quality():
    row = cohort_row("n.edf", _summary(), output="n", subject="p01", side="left")
    assert set(row) == set(COLUMNS)
    assert row["count_voluntary"] == 3 and row["fasciculations_rest"] == 25
    low, high = poisson_interval(25)
    assert (row["fasc_per_min_rest_ci_low"], row["fasc_per_min_rest_ci_high"]) == pytest.approx(
        (low / 100.0, high / 100.0))
    plow, phigh = poisson_interval(4)
    assert (row["plm_per_h_ci_low"], row["plm_per_h_ci_high"]) == pytest.approx(
        (plow / 2.0, phigh / 2.0))
    assert row["noise_rms_uv_max"] == 6.5 and row["usable_fraction_min"] == 0.9
    assert row["lost_fraction_max"] == 0.02 and row["pops"] == 3
    assert row["detection_floor_uv_max"] == 52.5
    assert (row["assessment"], row["calfwatch_version"], row["error"]) == ("monitor", "9.9.9", "")
    assert row["subject"] == "p01" and row["channels"] == 2


def test_channels_left_out_say_why():
    row = cohort_row("n.edf", _summary(unusable_channels=["X", "Y"],
                                       unusable_reasons={"X": "rectified", "Y": "no-signal"}))
    assert row["unusable_channels"] == "X Y"
    assert row["unusable_reasons"] == "X:rectified Y:no-signal"
    assert cohort_row("n.edf", _summary())["unusable_reasons"] == ""


def test_interval_stated_by_the_summary_is_kept():
    row = cohort_row("n.edf", _summary(fasciculations_per_min_rest_ci=[0.11, 0.44]))
    assert (row["fasc_per_min_rest_ci_low"], row["fasc_per_min_rest_ci_high"]) == (0.11, 0.44)


def test_no_rest_gives_no_rate_rather_than_zero():
    row = cohort_row("n.edf", _summary(rest_minutes=0.0, fasciculations=0,
                                       fasciculations_per_min_rest=None))
    assert row["fasc_per_min_rest"] is None and row["fasc_per_min_rest_ci_high"] is None


def test_failed_row_has_the_error_and_nothing_measured(tmp_path):
    row = cohort_row("bad.edf", None, error="bad.edf: truncated header", version="1.0")
    assert row["error"] == "bad.edf: truncated header"
    assert all(row[k] is None for k in ("rest_min", "count_fasciculation", "fasc_per_min_rest"))
    paths = write_cohort([row, cohort_row("n.edf", _summary())], tmp_path)
    back = read_cohort_csv(paths["cohort"])
    assert back[0]["error"] == row["error"] and back[0]["rest_min"] is None
    assert back[1]["count_artifact"] == 5 and math.isclose(back[1]["rest_min"], 100.0)
    assert stat.S_IMODE(os.stat(paths["cohort"]).st_mode) == 0o600


def test_parquet_holds_the_same_rows_typed(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    rows = [cohort_row("bad.edf", None, error="x"), cohort_row("n.edf", _summary())]
    paths = write_cohort(rows, tmp_path)
    table = pq.read_table(paths["cohort_parquet"])
    assert table.column_names == list(COLUMNS)
    assert str(table.schema.field("count_fasciculation").type) == "int64"
    back = table.to_pylist()
    csv_rows = read_cohort_csv(paths["cohort"])
    for got, want in zip(back, csv_rows, strict=True):
        for name, kind in COLUMNS.items():
            if kind is float and got[name] is not None:
                assert got[name] == pytest.approx(want[name], rel=1e-5)
            else:
                assert got[name] == want[name]
