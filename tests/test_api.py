"""The Python interface: calfwatch.analyze on a file, a Raw and an array; the Night object; logging;
the README example."""

from __future__ import annotations

import json
import re
from pathlib import Path

import mne
import numpy as np
import pytest

import calfwatch
from calfwatch.cli import main
from calfwatch.outputs import read_events_tsv

README = Path(__file__).resolve().parents[1] / "README.md"
#: Amplitudes of one recording read by two readers differ by float rounding only.
PTP_TOL_UV = 1e-9


@pytest.fixture(scope="module")
def night_file(tmp_path_factory) -> Path:
    """A simulated 2-minute night with fasciculations and a voluntary burst."""
    path = tmp_path_factory.mktemp("api") / "night.edf"
    assert main(["simulate", "--profile", "benign-night", "--duration", "120s", "--seed", "3",
                 "--out", str(path)]) == 0
    return path


@pytest.fixture(scope="module")
def cli_outputs(night_file, tmp_path_factory) -> Path:
    """What ``calfwatch analyze`` writes for the night."""
    out = tmp_path_factory.mktemp("cli")
    # exit 4: two minutes of rest are not evaluable (the outputs are written all the same)
    assert main(["analyze", str(night_file), "--out", str(out), "--mains", "50", "--quiet"]) == 4
    return out


@pytest.fixture(scope="module")
def night(night_file):
    return calfwatch.analyze(night_file, mains_hz=50, verbose="WARNING")


def _same_events(a: np.ndarray, b: np.ndarray, ptp_tol_uv: float, channel: bool = True) -> None:
    assert len(a) == len(b) and len(a) > 0
    for name in ("channel", "kind", "sample", "phases", "detail")[int(not channel):]:
        assert a[name].tolist() == b[name].tolist(), name
    for name in ("onset_s", "duration_s"):
        np.testing.assert_array_equal(a[name], b[name])
    np.testing.assert_allclose(a["peak_to_peak_uv"], b["peak_to_peak_uv"], rtol=0, atol=ptp_tol_uv)


def test_events_are_those_the_command_line_writes(night, cli_outputs):
    rows = read_events_tsv(cli_outputs / "events.tsv")
    assert [r["kind"] for r in rows] == night.events["kind"].tolist()
    assert [r["sample"] for r in rows] == night.events["sample"].tolist()
    np.testing.assert_allclose([r["onset"] for r in rows], night.events["onset_s"], atol=1e-6)
    np.testing.assert_allclose([r["peak_to_peak_uv"] for r in rows],
                               night.events["peak_to_peak_uv"], atol=5e-4)
    cli = json.loads((cli_outputs / "summary.json").read_text())
    assert cli["fasciculations"] == night.summary["fasciculations"]
    assert cli["assessment"]["level"] == night.assessment["level"]


def test_raw_and_array_give_the_events_of_the_file(night, night_file):
    raw = calfwatch.read_recording(night_file, verbose="WARNING")
    from_raw = calfwatch.analyze(raw, mains_hz=50, verbose="WARNING")
    _same_events(from_raw.events, night.events, PTP_TOL_UV)
    data = raw.get_data() * 1e6
    from_array = calfwatch.analyze((data, raw.info["sfreq"]), mains_hz=50, verbose="WARNING")
    assert from_array.ch_names == ["emg1"]
    assert set(from_array.events["channel"]) == {"emg1"}
    _same_events(from_array.events, night.events, PTP_TOL_UV, channel=False)


def test_raw_with_other_channels_analyses_its_emg(night, night_file):
    raw = calfwatch.read_recording(night_file, preload=True, verbose="WARNING")
    extra = mne.io.RawArray(np.zeros((1, raw.n_times)),
                            mne.create_info(["thermistor"], raw.info["sfreq"], "misc"),
                            verbose="error")
    raw.add_channels([extra], force_update_info=True)
    got = calfwatch.analyze(raw, mains_hz=50, verbose="WARNING")
    assert got.ch_names == night.ch_names
    assert raw.ch_names[-1] == "thermistor"  # the caller's Raw is left as it was
    raw.set_channel_types({name: "misc" for name in raw.ch_names}, on_unit_change="ignore")
    with pytest.raises(ValueError, match="no channel of type 'emg'"):
        calfwatch.analyze(raw, verbose="WARNING")


def test_raw_channels_marked_bad_are_left_out(night, night_file):
    raw = calfwatch.read_recording(night_file, preload=True, verbose="WARNING")
    twin = raw.copy().rename_channels({raw.ch_names[0]: "twin"})
    raw.add_channels([twin], force_update_info=True)
    raw.info["bads"] = ["twin"]
    got = calfwatch.analyze(raw, mains_hz=50, verbose="WARNING")
    assert got.ch_names == night.ch_names
    raw.info["bads"] = list(raw.ch_names)
    with pytest.raises(ValueError, match=r"every channel of type 'emg' is in raw.info\['bads'\]"):
        calfwatch.analyze(raw, verbose="WARNING")


def test_channels_named_are_analysed_as_on_the_command_line(night, night_file, tmp_path):
    """``channels=`` picks as ``--channels`` does: a file of several rates is refused without it,
    in a line that says how to name them in Python too, and analysed on the leg channel named;
    of a Raw, the channel named is analysed whatever its type or bad mark."""
    import edfio

    raw = calfwatch.read_recording(night_file, preload=True, verbose="WARNING")
    leg = raw.get_data()[0] * 1e6
    sfreq = raw.info["sfreq"]
    psg = tmp_path / "psg.edf"
    edfio.Edf([edfio.EdfSignal(leg[::8], sfreq / 8, label="C3-A2", physical_dimension="uV",
                               physical_range=(-5000, 5000)),
               edfio.EdfSignal(leg, sfreq, label="Leg L", physical_dimension="uV",
                               physical_range=(-5000, 5000))]).write(psg)
    with pytest.raises(ValueError, match=r"--channels, channels= in Python \(of at least"):
        calfwatch.analyze(psg, mains_hz=50, verbose="WARNING")
    for channels in ("Leg L", ["Leg L"], "2"):
        got = calfwatch.analyze(psg, mains_hz=50, channels=channels, verbose="WARNING")
        assert got.ch_names == ["Leg L"]
        # the 16-bit file's step over +-5 mV is 0.15 uV: sizes agree to a step either way
        _same_events(got.events, night.events, ptp_tol_uv=0.31, channel=False)
    raw.set_channel_types({raw.ch_names[0]: "misc"}, on_unit_change="ignore")
    raw.info["bads"] = [raw.ch_names[0]]
    got = calfwatch.analyze(raw, mains_hz=50, channels=[raw.ch_names[0]], verbose="WARNING")
    _same_events(got.events, night.events, PTP_TOL_UV)
    assert raw.get_channel_types()[0] == "misc"  # the caller's Raw is left as it was
    with pytest.raises(ValueError, match="no channel 'calf'"):
        calfwatch.analyze(raw, channels="calf", verbose="WARNING")
    with pytest.raises(TypeError, match="list of channel names"):
        calfwatch.analyze(raw, channels=[1], verbose="WARNING")


def test_array_nan_span_is_a_gap(night_file):
    raw = calfwatch.read_recording(night_file, preload=True, verbose="WARNING")
    data = raw.get_data() * 1e6
    sfreq = raw.info["sfreq"]
    data[:, 100_000:102_000] = np.nan
    got = calfwatch.analyze((data[0], sfreq), mains_hz=50, verbose="WARNING")
    assert got.summary["recording"]["gaps_s"] == [[100_000 / sfreq, 2000 / sfreq]]


def test_bad_inputs_are_refused():
    with pytest.raises(TypeError, match="path, an mne.io.Raw or a tuple"):
        calfwatch.analyze([1.0, 2.0])
    with pytest.raises(ValueError, match="below 500 Hz"):
        calfwatch.analyze((np.zeros(1000), 250.0), verbose="WARNING")
    with pytest.raises(ValueError, match="unknown setting 'no_such_table'"):
        calfwatch.analyze((np.zeros(1000), 2000.0), config={"no_such_table": {}})


@pytest.mark.parametrize(("array", "sfreq", "message"), [
    (np.zeros((60_000, 2)), 2000.0, r"array has shape \(60000, 2\): more channels than samples"),
    (np.zeros((1, 60_000), complex), 2000.0, "array holds complex numbers"),
    (np.zeros((1, 60_000)), float("nan"), "sfreq_hz must be a positive number of Hz; got nan"),
    (np.zeros((1, 60_000)), float("inf"), "sfreq_hz must be a positive number of Hz; got inf"),
    (np.zeros((1, 60_000)), -2000.0, "sfreq_hz must be a positive number of Hz; got -2000.0"),
])
def test_arrays_that_cannot_be_a_recording_are_refused_in_one_line(array, sfreq, message):
    """A transposed array (samples in rows) once asked for 29 GiB; a complex one lost its
    imaginary part with a warning; a NaN rate gave numpy's own message."""
    with pytest.raises(ValueError, match=message) as info:
        calfwatch.analyze((array, sfreq), verbose="WARNING")
    assert "\n" not in str(info.value)


def test_config_overrides_are_used(night_file, night, tmp_path):
    assert night.summary["fasciculations"] > 0
    strict = {"detection": {"detectable_ptp_k": 1000.0}}
    got = calfwatch.analyze(night_file, mains_hz=50, config=strict, verbose="WARNING")
    assert got.summary["detectable_ptp_k"] == 1000.0
    k0 = night.summary["detectable_ptp_k"]
    name = night.ch_names[0]
    floor0 = night.summary["channels"][name]["detection_floor_uv"]
    assert got.summary["channels"][name]["detection_floor_uv"] == pytest.approx(
        floor0 * 1000.0 / k0, rel=1e-12)
    toml = tmp_path / "strict.toml"
    toml.write_text("[detection]\ndetectable_ptp_k = 1000.0\n")
    from_file = calfwatch.analyze(night_file, mains_hz=50, config=toml, verbose="WARNING")
    assert from_file.summary["detectable_ptp_k"] == 1000.0


def test_rates_carry_exact_poisson_intervals(night):
    from scipy.optimize import brentq
    from scipy.stats import poisson

    rates = night.rates
    assert set(rates) == {"pooled", *night.ch_names}
    r = rates["pooled"]
    k, rest = night.summary["fasciculations"], night.summary["rest_minutes"]
    assert (r["fasciculations"], r["rest_minutes"]) == (k, rest) and k > 0
    minutes = rest - night.summary["blind_minutes"]  # the rate's exposure: live rest
    assert 0 < minutes < rest
    # Garwood's limits by root finding on the Poisson distribution itself
    low = brentq(lambda mu: poisson.sf(k - 1, mu) - 0.025, 1e-9, 100.0) / minutes
    high = brentq(lambda mu: poisson.cdf(k, mu) - 0.025, 1e-9, 100.0) / minutes
    assert r["low"] == pytest.approx(low, rel=1e-6)
    assert r["high"] == pytest.approx(high, rel=1e-6)
    assert r["low"] < r["per_min_rest"] < r["high"]


def test_rate_interval_of_nothing():
    from classifier.rates import poisson_rate_interval

    assert poisson_rate_interval(3, 0.0) == (None, None)
    low, high = poisson_rate_interval(0, 2.0)
    assert low == 0.0
    assert high == pytest.approx(-np.log(0.025) / 2.0, rel=1e-9)  # P(0 | mu) = 0.025


def test_to_data_frame(night):
    pd = pytest.importorskip("pandas")
    df = night.to_data_frame()
    assert isinstance(df, pd.DataFrame)
    assert list(df.columns) == list(night.events.dtype.names)
    assert df["kind"].tolist() == night.events["kind"].tolist()


def test_annotations_go_onto_the_raw(night, night_file, cli_outputs):
    raw = calfwatch.read_recording(night_file, verbose="WARNING")
    ann = night.to_annotations()
    raw.set_annotations(ann)
    assert len(raw.annotations) == len(night.events)
    np.testing.assert_allclose(raw.annotations.onset, night.events["onset_s"], atol=1e-6)
    assert [c[0] for c in raw.annotations.ch_names] == night.events["channel"].tolist()
    from_file = mne.read_annotations(cli_outputs / "annotations.txt")
    assert list(from_file.description) == list(ann.description)
    assert from_file.orig_time == ann.orig_time


def test_save_writes_the_command_line_files(night, cli_outputs, tmp_path):
    paths = night.save(tmp_path / "out")
    assert set(paths) == {"events", "events_json", "summary", "annotations", "events_edf"}
    for key in ("events", "events_json", "annotations"):
        assert paths[key].read_text() == (cli_outputs / paths[key].name).read_text()
    doc = json.loads(paths["summary"].read_text())
    cli = json.loads((cli_outputs / "summary.json").read_text())
    assert doc["fasciculations"] == cli["fasciculations"]
    assert doc["channels"].keys() == cli["channels"].keys()
    with pytest.raises(FileExistsError):
        night.save(tmp_path / "out")
    night.save(tmp_path / "out", overwrite=True)


def test_plots_and_html(night):
    fig = night.plot_events(show=False)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert f"fasciculation ({night.summary['counts']['fasciculation']})" in labels
    fig = night.plot_rates(show=False)
    assert fig.axes[0].get_ylabel() == "fasciculations / min of rest"
    html = night._repr_html_()
    r = night.rates["pooled"]
    assert f"{r['low']:.2f}-{r['high']:.2f}" in html
    assert f"<b>{night.assessment['level']}</b>" in html
    assert night.ch_names[0] in repr(night)


def test_verbose_controls_messages(night_file, capsys):
    old = calfwatch.set_log_level("WARNING", return_old_level=True)
    try:
        calfwatch.analyze(night_file, mains_hz=50)
        assert capsys.readouterr().err == ""
        calfwatch.analyze(night_file, mains_hz=50, verbose=True)
        err = capsys.readouterr().err
        assert f"calfwatch: analysing {night_file}" in err
        assert "fasciculation(s) in" in err
        calfwatch.analyze(night_file, mains_hz=50)  # the call's level does not stay
        assert capsys.readouterr().err == ""
    finally:
        calfwatch.set_log_level(old)
    with pytest.raises(ValueError, match="verbose must be"):
        calfwatch.set_log_level("LOUD")


def test_command_line_logs_with_verbose_only(night_file, tmp_path, capsys):
    assert main(["analyze", str(night_file), "--out", str(tmp_path / "a"), "--quiet"]) == 4
    assert "analysing" not in capsys.readouterr().err
    assert main(["--verbose", "analyze", str(night_file), "--out", str(tmp_path / "b"),
                 "--quiet"]) == 4
    assert f"calfwatch: analysing {night_file}" in capsys.readouterr().err


def readme_example() -> str:
    """The first Python code block of the README's "Python interface" section."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Python interface", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "no python example in the README's Python interface section"
    return match.group(1)


def test_readme_example_runs(night_file, tmp_path, monkeypatch, capsys):
    pytest.importorskip("pandas")
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "night.edf").symlink_to(night_file)
    exec(compile(readme_example(), "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "<Night | calf_left" in out
    written = sorted(p.name for p in (tmp_path / "night_analysis").iterdir())
    assert written == ["annotations.txt", "events.edf", "events.json", "events.tsv",
                       "summary.json"]
    import matplotlib.pyplot as plt

    plt.close("all")
