"""WFDB records written by PhysioNet's own ``wfdb`` package open in calfwatch's reader."""

from __future__ import annotations

import tracemalloc
from datetime import UTC, date, datetime, time

import numpy as np
import pytest

from acquisition import _wfdb
from acquisition.errors import RecordingError
from acquisition.reader import open_recording

wfdb = pytest.importorskip("wfdb")


def _write(folder, fmt: str, n: int = 3000, n_channels: int = 2, seed: int = 0, **kwargs):
    """A record written by wfdb.wrsamp; returns (header path, counts as written)."""
    bits = {"16": 16, "212": 12, "24": 24, "508": 8, "516": 16, "524": 24}[fmt]
    hi = 2 ** (bits - 1) - 1
    counts = np.random.default_rng(seed).integers(-hi, hi, (n, n_channels))
    wfdb.wrsamp("rec", fs=2000, units=["uV"] * n_channels,
                sig_name=[f"calf{i}" for i in range(n_channels)], d_signal=counts.astype(np.int32),
                fmt=[fmt] * n_channels, adc_gain=[4.0] * n_channels, baseline=[-7] * n_channels,
                write_dir=str(folder), **kwargs)
    return folder / "rec.hea", counts.T


@pytest.mark.parametrize("fmt", ["16", "212", "24", "508", "516", "524"])
def test_formats_written_by_wfdb_are_read(tmp_path, fmt):
    if fmt in ("508", "516", "524"):
        pytest.importorskip("soundfile")
    hea, counts = _write(tmp_path, fmt)
    raw = open_recording(hea)
    expected_v = (counts + 7) / 4.0 * 1e-6
    np.testing.assert_allclose(raw.get_data(), expected_v, rtol=0, atol=1e-15)
    np.testing.assert_allclose(raw.get_data(start=1111, stop=2222), expected_v[:, 1111:2222],
                               rtol=0, atol=1e-15)
    assert raw.ch_names == ["calf0", "calf1"]
    assert raw.info["meas_date"] is None  # no base date: date unknown, nothing invented


def test_base_date_and_time_become_meas_date(tmp_path):
    hea, _ = _write(tmp_path, "16", base_date=date(2026, 3, 1), base_time=time(22, 15, 30))
    raw = open_recording(hea)
    assert raw.info["meas_date"] == datetime(2026, 3, 1, 22, 15, 30, tzinfo=UTC)


@pytest.mark.parametrize("fmt", ["16", "212", "24", "32"])
def test_samples_stored_invalid_are_lost_not_voltages(tmp_path, fmt):
    """A dropout written as NaN is stored as the format's invalid value, which PhysioNet's own
    reader gives back as NaN: lost samples, and lost time where any signal lost them (as NaN
    in any format), not a rail-to-rail step that reads as saturation and an electrode pop."""
    x_uv = np.random.default_rng(3).normal(0, 5, (2, 30000))
    x_uv[:, 10000:11000] = np.nan  # both signals: lost time
    x_uv[1, 20000:20500] = np.nan  # one signal only: lost time too
    wfdb.wrsamp("rec", fs=1000, units=["mV", "mV"], sig_name=["GM", "SOL"],
                p_signal=x_uv.T * 1e-3, fmt=[fmt] * 2, adc_gain=[400.0 if fmt == "212" else 1e4] * 2,
                baseline=[0, 0], write_dir=str(tmp_path))
    physical = wfdb.rdrecord(str(tmp_path / "rec")).p_signal.T
    raw = open_recording(tmp_path / "rec.hea")
    np.testing.assert_array_equal(np.isnan(raw.get_data()), np.isnan(physical))
    assert np.isnan(raw.get_data()).sum(axis=1).tolist() == [1000, 1500]
    assert [(a["onset"], a["duration"], a["description"]) for a in raw.annotations] == [
        (10.0, 1.0, "BAD_ACQ_SKIP"), (10.0, 1.0, "acquisition gap: invalid samples"),
        (20.0, 0.5, "BAD_ACQ_SKIP"), (20.0, 0.5, "acquisition gap: invalid samples")]
    import calfwatch

    night = calfwatch.analyze(tmp_path / "rec.hea", mains_hz=50, verbose="WARNING")
    assert night.summary["recording"]["gaps_s"] == [[10.0, 1.0], [20.0, 0.5]]
    array = calfwatch.analyze((physical * 1e3, 1000.0), mains_hz=50, verbose="WARNING")
    assert night.summary["recording"]["gaps_s"] == array.summary["recording"]["gaps_s"]
    assert not np.any(night.events["kind"] == "artifact")


def test_checksum_of_a_damaged_wfdb_record_is_refused(tmp_path):
    hea, counts = _write(tmp_path, "16", n_channels=1)
    dat = tmp_path / "rec.dat"
    blob = bytearray(dat.read_bytes())
    blob[100] ^= 0x01
    dat.write_bytes(bytes(blob))
    with pytest.raises(RecordingError, match=r"rec\.dat: checksum mismatch on signal 0"):
        open_recording(hea)


def test_a_slice_costs_memory_for_the_slice_only(tmp_path):
    """rdrecord(sampfrom, sampto): 10 000 samples of a 4 000 000-sample record."""
    hea, _ = _write(tmp_path, "16", n=4_000_000, n_channels=1)
    raw = open_recording(hea)
    tracemalloc.start()
    try:
        part = raw.get_data(start=3_000_000, stop=3_010_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert part.shape == (1, 10_000)
    whole_bytes = 4_000_000 * 8
    assert peak < whole_bytes / 20, peak


def test_without_the_wfdb_extra_the_error_names_it(tmp_path, monkeypatch):
    hea, _ = _write(tmp_path, "16")
    monkeypatch.setattr(_wfdb, "_wfdb", lambda: None)
    with pytest.raises(RecordingError) as err:
        open_recording(hea)
    message = str(err.value)
    assert message.startswith(str(hea)) and "calfwatch[wfdb]" in message and "\n" not in message


@pytest.mark.parametrize("fmt", ["16", "212", "24"])
def test_a_negative_data_sum_matches_wfdbs_unsigned_checksum(tmp_path, fmt):
    """wfdb stores the checksum unsigned (51135 for a data sum of -14401): equal modulo 2**16."""
    counts = np.zeros((100, 1), np.int32)
    counts[:9, 0] = -1600
    counts[9, 0] = -1
    wfdb.wrsamp("rec", fs=2000, units=["uV"], sig_name=["calf"], d_signal=counts, fmt=[fmt],
                adc_gain=[4.0], baseline=[0], write_dir=str(tmp_path))
    assert wfdb.rdheader(str(tmp_path / "rec")).checksum == [51135]
    raw = open_recording(tmp_path / "rec.hea")
    np.testing.assert_allclose(raw.get_data()[0] * 4e6, counts[:, 0], atol=1e-9)


def _hand_written(folder, record_line: str, gain: str) -> tuple:
    """A one-signal format-16 record whose header is written by hand: (header, counts)."""
    counts = np.random.default_rng(8).integers(-3000, 3000, 4000).astype("<i2")
    counts.tofile(folder / "rec.dat")
    total = int(counts.astype(np.int64).sum()) % 65536
    (folder / "rec.hea").write_text(f"{record_line}\nrec.dat 16 {gain} 16 0 {counts[0]} "
                                    f"{total} 0 calf\n")
    return folder / "rec.hea", counts


@pytest.mark.parametrize("gain", ["0/mV", "0(5)/uV", "0.0", "0"])
def test_an_adc_gain_of_0_is_uncalibrated_and_refused(tmp_path, gain):
    """header(5): a gain of zero means uncalibrated, as a missing one does; wfdb reads both as
    200, which would give wrong microvolts."""
    hea, _ = _hand_written(tmp_path, "rec 1 2000 4000", gain)
    with pytest.raises(RecordingError) as err:
        open_recording(hea)
    assert str(err.value) == f"{hea}: signal 0: ADC gain 0 (uncalibrated signal)"


def test_a_counter_frequency_leaves_the_sampling_rate_as_stated(tmp_path):
    hea, counts = _hand_written(tmp_path, "rec 1 2000.5/1000(7) 4000", "2000(0)/mV")
    raw = open_recording(hea)
    assert raw.info["sfreq"] == 2000.5
    np.testing.assert_allclose(raw.get_data()[0], counts / 2000 * 1e-3, rtol=1e-12)


@pytest.mark.parametrize("record_line", ["rec 1 2000.5/1000", "rec 1 2000"])
def test_a_record_line_without_its_number_of_samples_is_refused_in_words(tmp_path, record_line):
    hea, _ = _hand_written(tmp_path, record_line, "2000/mV")
    with pytest.raises(RecordingError) as err:
        open_recording(hea)
    assert str(err.value) == (f"{hea}: number of samples missing from the record line (needed "
                              "to read the record in parts)")
