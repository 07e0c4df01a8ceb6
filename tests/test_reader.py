"""open_recording: real sample recordings, round trips on files written here, and bad input."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import edfio
import mne
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acquisition.errors import RecordingError
from acquisition.reader import open_recording
from acquisition.replay import gap_spans

# --- helpers that write real files ---------------------------------------------------------------


def _checksum(counts: np.ndarray) -> int:
    """WFDB checksum computed independently: Python ints, then wrapped to signed 16 bits."""
    total = sum(int(v) for v in counts)
    total &= 0xFFFF
    return total - 0x10000 if total >= 0x8000 else total


def _write_wfdb(folder: Path, counts: np.ndarray, *, fs: int = 2000, gain: str = "200/mV",
                checksums: list[int] | None = None, n_samples: int | None = None,
                extra: str = "") -> Path:
    """A format-16 record of ``counts`` (channels x samples), interleaved in one .dat."""
    counts = np.asarray(counts, np.int16)
    counts.T.astype("<i2").tofile(folder / "rec.dat")
    sums = checksums or [_checksum(c) for c in counts]
    n = counts.shape[1] if n_samples is None else n_samples
    lines = [f"rec {counts.shape[0]} {fs} {n}{extra}"]
    for i, (chan, cs) in enumerate(zip(counts, sums, strict=True)):
        lines.append(f"rec.dat 16 {gain} 16 0 {int(chan[0])} {cs} 0 calf{i}")
    (folder / "rec.hea").write_text("\r\n".join(lines) + "\r\n# a comment\r\n")
    return folder / "rec.hea"


def _rng_counts(n_channels: int = 2, n: int = 5000, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(-30000, 30000, (n_channels, n)).astype(np.int16)


def _emg_raw(n: int = 2560, fs: float = 256.0, seed: int = 1) -> mne.io.RawArray:
    data_v = np.random.default_rng(seed).normal(0, 50e-6, (2, n))
    info = mne.create_info(["calf_left", "calf_right"], fs, "emg")
    raw = mne.io.RawArray(data_v, info, verbose="error")
    raw.set_meas_date(datetime(2026, 3, 1, 22, 30, 5, tzinfo=UTC))
    return raw


# --- real recordings (skip without CALFWATCH_SAMPLE_DATA) ----------------------------------------

EMGDB = {"healthy": 50860, "myopathy": 110337, "neuropathy": 147858}


@pytest.mark.parametrize("record", sorted(EMGDB))
def test_emgdb_matches_independent_decoding(sample_data, record):
    folder = sample_data / "physionet_emgdb"
    header = (folder / f"emg_{record}.hea").read_text().split("\n")[1].split()
    gain_per_mv, baseline, checksum = float(header[2].split("/")[0]), int(header[4]), int(header[6])
    counts = np.fromfile(folder / f"emg_{record}.dat", "<i2")
    raw = open_recording(folder / f"emg_{record}")
    assert raw.preload is False
    assert raw.info["sfreq"] == 4000
    assert raw.n_times == EMGDB[record] == counts.size
    assert raw.get_channel_types() == ["emg"]
    assert raw.info["meas_date"] is None  # the headers state no date
    expected_v = (counts - baseline) / gain_per_mv * 1e-3
    np.testing.assert_allclose(raw.get_data()[0], expected_v, rtol=0, atol=1e-12)
    assert _checksum(counts) == checksum


def test_emgdb_neuropathy_unit_is_millivolts_in_volts(sample_data):
    raw = open_recording(sample_data / "physionet_emgdb" / "emg_neuropathy.hea")
    first_11_s = raw.get_data(stop=int(11 * 4000))[0]
    # one large motor unit of a few mV peak to peak: volts, not mV or counts
    assert 1e-3 < np.percentile(first_11_s, 99.9) - np.percentile(first_11_s, 0.1) < 10e-3


@pytest.mark.parametrize("name", ["emg.txt", "emg_1.txt"])
def test_biosppy_text(sample_data, name):
    path = sample_data / "biosppy" / name
    lines = path.read_text().splitlines()
    rows = [int(float(ln)) for ln in lines if ln.strip() and not ln.startswith("#")]
    raw = open_recording(path)
    assert raw.info["sfreq"] == 1000
    assert raw.n_times == len(rows)
    assert raw.ch_names == ["EMG"]
    expected_v = (np.array(rows) / 4096 - 0.5) * 3.3 / 1009
    np.testing.assert_allclose(raw.get_data()[0], expected_v, rtol=1e-12)
    assert Path(raw.filenames[0]) == path


def test_musclesynergies_csv(sample_data):
    path = sample_data / "musclesynergies" / "ID0012_TW_01_raw_emg.csv"
    table = np.loadtxt(path, delimiter=",", skiprows=1)
    raw = open_recording(path, units="uV")
    assert raw.info["sfreq"] == 1000
    assert len(raw.ch_names) == 13 and "GM" in raw.ch_names and "SO" in raw.ch_names
    assert raw.n_times == table.shape[0]
    assert 7.5 < raw.n_times / 1000 < 7.7
    assert raw.first_time == pytest.approx(table[0, 0])
    np.testing.assert_allclose(raw.get_data(), table[:, 1:].T * 1e-6, rtol=1e-12)
    with pytest.raises(RecordingError, match="units of the channels are unknown"):
        open_recording(path)


# --- WFDB written here ---------------------------------------------------------------------------


def test_wfdb_round_trip_lazy_and_sliced(tmp_path):
    counts = _rng_counts()
    hea = _write_wfdb(tmp_path, counts, extra=" 22:15:30 01/03/2026")
    for name in (hea, tmp_path / "rec.dat", tmp_path / "rec"):
        raw = open_recording(name)
        assert raw.preload is False
        assert raw.ch_names == ["calf0", "calf1"]
        assert raw.info["meas_date"] == datetime(2026, 3, 1, 22, 15, 30, tzinfo=UTC)
    whole = raw.get_data()
    np.testing.assert_allclose(whole, counts / 200 * 1e-3, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(raw.get_data(start=1234, stop=3001), whole[:, 1234:3001])
    assert raw.preload is False
    loaded = open_recording(hea, preload=True)
    assert loaded.preload is True
    np.testing.assert_array_equal(loaded.get_data(), whole)


def test_wfdb_baseline_and_units(tmp_path):
    counts = _rng_counts(1, 300)
    hea = _write_wfdb(tmp_path, counts, gain="1000(-50)/uV")
    raw = open_recording(hea)
    np.testing.assert_allclose(raw.get_data()[0], (counts[0] + 50) / 1000 * 1e-6, atol=1e-18)


def test_wfdb_wrong_checksum(tmp_path):
    counts = _rng_counts()
    good = _checksum(counts[1])
    wrong = (good + 1 + 32768) % 65536 - 32768
    _write_wfdb(tmp_path, counts, checksums=[_checksum(counts[0]), wrong])
    with pytest.raises(RecordingError, match=r"rec\.dat: checksum mismatch on signal 1"):
        open_recording(tmp_path / "rec.hea")


def test_wfdb_truncated(tmp_path):
    counts = _rng_counts(2, 100)
    _write_wfdb(tmp_path, counts, n_samples=150)
    with pytest.raises(RecordingError, match=r"rec\.dat: truncated: 100 samples .* says 150"):
        open_recording(tmp_path / "rec.hea")


def _pack_212(counts: np.ndarray) -> bytes:
    """Format 212 written by hand: pairs of 12-bit samples in three bytes (frames interleaved)."""
    flat = (counts.T.reshape(-1) & 0xFFF).tolist()
    packed = bytearray()
    for k in range(0, len(flat), 2):
        a, b = flat[k], flat[k + 1] if k + 1 < len(flat) else 0
        packed += bytes([a & 0xFF, ((a >> 8) & 0x0F) | ((b >> 8) & 0x0F) << 4, b & 0xFF])
    return bytes(packed[:-1]) if len(flat) % 2 else bytes(packed)


def test_wfdb_format_212_and_80(tmp_path):
    rng = np.random.default_rng(3)
    c212 = rng.integers(-2048, 2048, (3, 7))  # 21 samples: the last pair is half filled
    (tmp_path / "a.dat").write_bytes(_pack_212(c212))
    c80 = rng.integers(-128, 128, (1, 7))
    (tmp_path / "b.dat").write_bytes((c80[0] + 128).astype(np.uint8).tobytes())
    lines = ["r 4 500 7"] + [f"a.dat 212 100/mV 12 0 0 {_checksum(c)} 0 s{i}"
                             for i, c in enumerate(c212)]
    lines.append(f"b.dat 80 10/mV 8 0 0 {_checksum(c80[0])} 0 s3")
    (tmp_path / "r.hea").write_text("\n".join(lines) + "\n")
    raw = open_recording(tmp_path / "r.hea")
    expected = np.vstack([c212 / 100, c80 / 10]) * 1e-3
    np.testing.assert_allclose(raw.get_data(), expected, atol=1e-15)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n_channels=st.integers(1, 3), n=st.integers(1, 60), fmt=st.sampled_from(["16", "212"]),
       data=st.data())
def test_wfdb_any_slice_equals_the_whole(tmp_path_factory, n_channels, n, fmt, data):
    folder = tmp_path_factory.mktemp("wfdb")
    lo, hi = (-2048, 2047) if fmt == "212" else (-32768, 32767)
    counts = np.array(data.draw(st.lists(st.lists(st.integers(lo, hi), min_size=n, max_size=n),
                                         min_size=n_channels, max_size=n_channels)))
    blob = _pack_212(counts) if fmt == "212" else counts.T.astype("<i2").tobytes()
    (folder / "p.dat").write_bytes(blob)
    lines = [f"p {n_channels} 1000 {n}"] + [f"p.dat {fmt} 1000/uV 12 0 0 {_checksum(c)} 0 c{i}"
                                           for i, c in enumerate(counts)]
    (folder / "p.hea").write_text("\n".join(lines) + "\n")
    raw = open_recording(folder / "p")
    start = data.draw(st.integers(0, n - 1))
    stop = data.draw(st.integers(start + 1, n))
    expected_v = counts[:, start:stop] / 1000 * 1e-6
    expected_v[counts[:, start:stop] == lo] = np.nan  # the format's invalid value: not taken
    np.testing.assert_allclose(raw.get_data(start=start, stop=stop), expected_v, atol=1e-18)


# --- EDF / BDF / FIF -----------------------------------------------------------------------------


def test_edf_round_trip_lazy(tmp_path):
    src = _emg_raw()
    path = tmp_path / "night.edf"
    mne.export.export_raw(path, src, fmt="edf", verbose="error")
    raw = open_recording(path)
    independent = edfio.read_edf(path)  # a second reader: physical values in the file's units
    sig = independent.signals[0]
    assert sig.physical_dimension == "uV"
    quantum_v = (sig.physical_max - sig.physical_min) / (sig.digital_max - sig.digital_min) * 1e-6
    assert raw.preload is False
    assert raw.get_channel_types() == ["emg", "emg"]
    assert raw.info["meas_date"] == src.info["meas_date"]
    assert Path(raw.filenames[0]) == path
    np.testing.assert_allclose(raw.get_data(), src.get_data(), rtol=0, atol=quantum_v / 2 + 1e-15)
    np.testing.assert_array_equal(raw.get_data(start=100, stop=900), raw.get_data()[:, 100:900])
    np.testing.assert_allclose(raw.get_data()[0], sig.data * 1e-6, rtol=0, atol=1e-12)


def test_edf_record_count_minus_one_is_accepted(tmp_path):
    path = tmp_path / "live.edf"
    mne.export.export_raw(path, _emg_raw(), fmt="edf", verbose="error")
    blob = bytearray(path.read_bytes())
    blob[236:244] = b"-1      "
    path.write_bytes(bytes(blob))
    raw = open_recording(path)
    assert raw.n_times == 2560


def test_edf_truncated(tmp_path):
    path = tmp_path / "cut.edf"
    mne.export.export_raw(path, _emg_raw(), fmt="edf", verbose="error")
    blob = path.read_bytes()
    path.write_bytes(blob[:-1000])
    with pytest.raises(RecordingError, match=r"cut\.edf: truncated"):
        open_recording(path)
    path.write_bytes(blob[:100])
    with pytest.raises(RecordingError, match=r"cut\.edf: truncated header"):
        open_recording(path)


def _write_bdf(path: Path, counts: np.ndarray, fs: int, range_uv: float) -> None:
    """A minimal one-record-per-second BDF (24-bit) written field by field from the spec."""
    n_sig, n = counts.shape
    n_rec = n // fs

    def field(values: list, width: int) -> bytes:
        return b"".join(str(v).ljust(width).encode("ascii")[:width] for v in values)

    head = b"\xffBIOSEMI" + field(["X X X X", "Startdate 01-MAR-2026 X X X"], 80)
    head += field(["01.03.26", "22.30.05", 256 * (1 + n_sig), "24BIT", n_rec, 1, n_sig], 8)[:8 * 4]
    head = head[:184] + field([256 * (1 + n_sig)], 8) + field(["24BIT"], 44)
    head += field([n_rec, 1], 8) + field([n_sig], 4)
    head += field([f"calf{i}" for i in range(n_sig)], 16) + field([""] * n_sig, 80)
    head += field(["uV"] * n_sig, 8) + field([-range_uv] * n_sig, 8) + field([range_uv] * n_sig, 8)
    head += field([-(2**23)] * n_sig, 8) + field([2**23 - 1] * n_sig, 8)
    head += field([""] * n_sig, 80) + field([fs] * n_sig, 8) + field([""] * n_sig, 32)
    assert len(head) == 256 * (1 + n_sig)
    body = counts[:, : n_rec * fs].reshape(n_sig, n_rec, fs).transpose(1, 0, 2).astype("<i4")
    as_bytes = body.reshape(-1, 1).view(np.uint8)[:, :3]
    path.write_bytes(head + as_bytes.tobytes())


def test_bdf_round_trip(tmp_path):
    counts = np.random.default_rng(4).integers(-(2**23), 2**23, (2, 512))
    path = tmp_path / "night.bdf"
    _write_bdf(path, counts, 256, 500.0)
    raw = open_recording(path)
    assert raw.preload is False
    assert raw.get_channel_types() == ["emg", "emg"]
    assert raw.info["meas_date"] == datetime(2026, 3, 1, 22, 30, 5, tzinfo=UTC)
    gain_uv = 1000.0 / (2**24 - 1)
    expected_v = ((counts + 2**23) * gain_uv - 500.0) * 1e-6
    np.testing.assert_allclose(raw.get_data(), expected_v, rtol=0, atol=1e-12)
    blob = path.read_bytes()
    path.write_bytes(blob[:-3])
    with pytest.raises(RecordingError, match=r"night\.bdf: truncated"):
        open_recording(path)


def test_fif_round_trip_and_types(tmp_path):
    src = _emg_raw()
    src.set_channel_types({"calf_right": "eeg"})
    path = tmp_path / "night_raw.fif"
    src.save(path, verbose="error")
    raw = open_recording(path)
    assert raw.preload is False
    # the file types one channel EMG: it says which are, and the other keeps its type
    assert raw.get_channel_types() == ["emg", "eeg"]
    assert raw.info["meas_date"] == src.info["meas_date"]
    np.testing.assert_allclose(raw.get_data(), src.get_data(), rtol=1e-6)
    src.set_channel_types({"calf_left": "eeg"})  # every channel EEG, as converters type them
    src.save(path, overwrite=True, verbose="error")
    assert open_recording(path).get_channel_types() == ["emg", "emg"]


def test_stim_channel_is_left_alone(tmp_path):
    info = mne.create_info(["calf", "STI"], 100.0, ["emg", "stim"])
    src = mne.io.RawArray(np.zeros((2, 100)), info, verbose="error")
    path = tmp_path / "s_raw.fif"
    src.save(path, verbose="error")
    assert open_recording(path).get_channel_types() == ["emg", "stim"]


def test_sniffing_files_without_extension(tmp_path):
    src = _emg_raw()
    mne.export.export_raw(tmp_path / "a.edf", src, fmt="edf", verbose="error")
    (tmp_path / "a.edf").rename(tmp_path / "edf_noext")
    src.save(tmp_path / "b_raw.fif", verbose="error")
    (tmp_path / "b_raw.fif").rename(tmp_path / "fif.bin")
    (tmp_path / "t.log").write_text("# Sampling Rate (Hz):= 100\n# Resolution:= 10\n1\n2\n3\n")
    (tmp_path / "c.dat1").write_text("time_s,GM_mV\n0,1\n0.01,2\n0.02,3\n")
    assert open_recording(tmp_path / "edf_noext").n_times == src.n_times
    assert open_recording(tmp_path / "fif.bin").n_times == src.n_times
    assert open_recording(tmp_path / "t.log").n_times == 3
    assert open_recording(tmp_path / "c.dat1").info["sfreq"] == 100


# --- text formats written here -------------------------------------------------------------------


def test_opensignals_two_columns(tmp_path):
    counts = np.random.default_rng(5).integers(0, 1024, (50, 2))
    body = "\n".join(f"{a}\t{b}" for a, b in counts)
    path = tmp_path / "os.txt"
    path.write_text("# Simple Text Format\n# Sampling Rate (Hz):= 500.00\n# Resolution:= 10\n"
                    f"# Labels:= left\tright\n{body}\n")
    raw = open_recording(path)
    assert raw.ch_names == ["left", "right"] and raw.info["sfreq"] == 500
    np.testing.assert_allclose(raw.get_data(), (counts.T / 1024 - 0.5) * 3.3 / 1009, rtol=1e-12)
    assert raw.info["meas_date"] is None


def _opensignals_json(path: Path, rows: list[list[int]], **changes) -> None:
    device = {"sensor": ["EMG", "ECG"], "column": ["nSeq", "I1", "I2", "O1", "O2", "A1", "A2"],
              "label": ["A1", "A2"], "resolution": [4, 1, 1, 1, 1, 10, 10],
              "sampling rate": 1000, "date": "2026-3-1", "time": "23:05:09.250", **changes}
    header = json.dumps({"00:07:80:00:00:01": device})
    body = "\n".join("\t".join(str(v) for v in row) for row in rows)
    path.write_text(f"# OpenSignals Text File Format\n# {header}\n# EndOfHeader\n{body}\n")


def test_opensignals_json_header(tmp_path):
    rng = np.random.default_rng(8)
    emg = rng.integers(0, 1024, 40)
    rows = [[i % 16, 0, 0, 0, 0, int(emg[i]), 600] for i in range(40)]
    path = tmp_path / "opensignals_000780000001.txt"
    _opensignals_json(path, rows)
    raw = open_recording(path)
    assert raw.ch_names == ["A1"]  # the ECG channel is not EMG and is not read as such
    assert raw.info["sfreq"] == 1000
    assert raw.info["meas_date"] == datetime(2026, 3, 1, 23, 5, 9, tzinfo=UTC)
    np.testing.assert_allclose(raw.get_data()[0], (emg / 1024 - 0.5) * 3.3 / 1009, rtol=1e-12)



def test_opensignals_samples_lost_at_a_sequence_jump_are_lost_time_at_their_place(tmp_path):
    """Bluetooth drops packets: the samples after a drop are at their time, the drop is lost
    time (NaN, BAD_ACQ_SKIP), not closed up (nor the whole file refused, as it had been)."""
    emg = np.random.default_rng(8).integers(0, 1024, 40)
    rows = [[i % 16, 0, 0, 0, 0, int(emg[i]), 600] for i in range(40)]
    kept = [r for i, r in enumerate(rows) if i != 17 and not 30 <= i < 33]
    path = tmp_path / "dropped.txt"
    _opensignals_json(path, kept)
    raw = open_recording(path)
    expected = (emg / 1024 - 0.5) * 3.3 / 1009
    expected[[17, 30, 31, 32]] = np.nan
    np.testing.assert_allclose(raw.get_data()[0], expected, rtol=1e-12)
    gaps = [(a["onset"], a["duration"]) for a in raw.annotations
            if a["description"] == "BAD_ACQ_SKIP"]
    assert gaps == [pytest.approx((0.017, 0.001)), pytest.approx((0.030, 0.003))]
    notes = [a["description"] for a in raw.annotations if a["description"] != "BAD_ACQ_SKIP"]
    jump = "acquisition gap: sequence number jump before line"
    assert notes == [f"{jump} 21: 1 or 1 + 16 x k samples", f"{jump} 33: 3 or 3 + 16 x k samples"]


@pytest.mark.parametrize(("change", "message"), [
    ({"sampling rate": 0}, "bad sampling rate '0'"),
    ({"sampling rate": -1000}, "bad sampling rate '-1000'"),
    ({"sampling rate": "inf"}, "bad sampling rate 'inf'"),
    ({"resolution": [4, 1, 1, 1, 1, "ten", 10]}, "bad ADC resolution 'ten'"),
    ({"resolution": [4, 1, 1, 1, 1, 0, 10]}, "bad ADC resolution '0'"),
    ({"resolution": [4, 1, 1, 1, 1]}, "bad ADC resolution 'missing'"),
    ({"column": ["nSeq", "I1", "I2", "O1", "A1", "A1", "A2"]}, "header names column 'A1' more than once"),
    ({"label": ["A2", "A2"]}, "header names column 'A2' more than once"),
])
def test_opensignals_json_header_with_bad_values_is_refused_naming_the_file(tmp_path, change,
                                                                           message):
    path = tmp_path / "opensignals_bad.txt"
    _opensignals_json(path, [[i % 16, 0, 0, 0, 0, 500, 600] for i in range(40)], **change)
    with pytest.raises(RecordingError, match=rf"opensignals_bad\.txt: {message}"):
        open_recording(path)


@pytest.mark.parametrize(("header", "units", "scale"), [
    ("time,GM_uV,SO_uV", None, 1e-6),
    ("t,GM (mV),SO (mV)", None, 1e-3),
    ("time_s;GM;SO", "mV", 1e-3),
    ("time,GM,SO", "V", 1.0),
])
def test_csv_units(tmp_path, header, units, scale):
    values = np.random.default_rng(2).normal(size=(400, 2))
    sep = ";" if ";" in header else ","
    rows = [sep.join([f"{i / 1024:.6f}", f"{a:.6f}", f"{b:.6f}"])
            for i, (a, b) in enumerate(values)]
    path = tmp_path / "x.csv"
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    raw = open_recording(path, units=units)
    assert raw.ch_names == ["GM", "SO"]
    assert raw.info["sfreq"] == 1024
    np.testing.assert_allclose(raw.get_data(), np.round(values.T, 6) * scale, rtol=1e-12)


def test_csv_with_a_byte_order_mark_is_read(tmp_path):
    """A spreadsheet's "CSV UTF-8" starts with a byte-order mark before "time"."""
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufefftime,GM_uV\n".encode() + b"".join(
        f"{i / 1000:.3f},{i % 5}\n".encode() for i in range(2000)))
    raw = open_recording(path)
    assert raw.ch_names == ["GM"] and raw.info["sfreq"] == 1000
    np.testing.assert_allclose(raw.get_data()[0], (np.arange(2000) % 5) * 1e-6, rtol=1e-12)


@pytest.mark.parametrize("sep", [";", "\t"])
def test_csv_with_decimal_commas_is_read(tmp_path, sep):
    """A spreadsheet in a German, French, Italian or Spanish locale writes ``0,001;12,5``."""
    values = np.random.default_rng(3).normal(0, 40, size=(3000, 2))
    rows = [sep.join([f"{i / 1000:.3f}", f"{a:.3f}", f"{b:.3f}"]).replace(".", ",")
            for i, (a, b) in enumerate(values)]
    path = tmp_path / "de.csv"
    path.write_text(sep.join(["time", "GM_uV", "SO_uV"]) + "\n" + "\n".join(rows) + "\n")
    raw = open_recording(path)
    assert raw.ch_names == ["GM", "SO"] and raw.info["sfreq"] == 1000
    np.testing.assert_allclose(raw.get_data(), np.round(values.T, 3) * 1e-6, rtol=1e-12)
    path.write_text("time;GM_uV\n0,000;1.234,5\n0,001;2,0\n0,002;3,0\n")
    with pytest.raises(RecordingError, match=r"de\.csv: numbers with both commas and points"):
        open_recording(path)


@pytest.mark.parametrize(("name", "per_s", "sfreq_hz"), [
    ("time_ms", 1e3, 1000), ("Time (ms)", 1e3, 500), ("micros", 1e6, 2000)])
def test_csv_time_in_milli_or_microseconds(tmp_path, name, per_s, sfreq_hz):
    """A microcontroller logs ``millis()`` or ``micros()``: the same night as in seconds, and a
    row lost is lost time at its place."""
    values = np.random.default_rng(4).normal(0, 40, 4000)
    stamps = [f"{round(i * per_s / sfreq_hz)}" for i in range(values.size)]
    rows = [f"{t},{v:.3f}" for t, v in zip(stamps, values, strict=True)]
    path = tmp_path / "millis.csv"
    path.write_text(f"{name},GM_uV\n" + "\n".join(rows) + "\n")
    raw = open_recording(path)
    assert raw.info["sfreq"] == sfreq_hz
    np.testing.assert_allclose(raw.get_data()[0], np.round(values, 3) * 1e-6, rtol=1e-12)
    del rows[1000]
    path.write_text(f"{name},GM_uV\n" + "\n".join(rows) + "\n")
    raw = open_recording(path, preload=True)
    assert raw.n_times == values.size and np.isnan(raw.get_data()[0, 1000])
    assert [round(a["onset"] * sfreq_hz) for a in raw.annotations
            if a["description"] == "BAD_ACQ_SKIP"] == [1000]


#: 2026-12-07 22:00:00 UTC as Unix time (seconds since 1970-01-01 UTC).
NIGHT_UNIX_S = 1796680800


@pytest.mark.parametrize(("name", "stamp"), [
    ("timestamp", lambda i: f"{NIGHT_UNIX_S + i / 1000:.3f}"),      # Python's time.time()
    ("timestamp", lambda i: f"{NIGHT_UNIX_S * 1000 + i}"),          # JavaScript's Date.now()
    ("timestamp", lambda i: f"{NIGHT_UNIX_S * 10**6 + i * 10**3}"),  # microseconds
    ("time", lambda i: f"{NIGHT_UNIX_S + i / 1000:.3f}"),
    ("time_ms", lambda i: f"{NIGHT_UNIX_S * 1000 + i}"),
])
def test_csv_stamped_in_unix_time_has_its_date(tmp_path, name, stamp):
    """A logger that stamps its rows with the clock (Unix time, in whatever unit its language
    gives) states the night's date: the recording starts at its first stamp, a missing row is
    lost time at its place, as with time from zero."""
    values = np.random.default_rng(5).normal(0, 40, 3000)
    rows = [f"{stamp(i)},{v:.3f}" for i, v in enumerate(values)]
    del rows[1500]
    path = tmp_path / "clock.csv"
    path.write_text(f"{name},GM_uV\n" + "\n".join(rows) + "\n")
    raw = open_recording(path)
    assert raw.info["meas_date"] == datetime(2026, 12, 7, 22, 0, tzinfo=UTC)
    assert (raw.info["sfreq"], raw.n_times, raw.first_samp) == (1000, 3000, 0)
    expected = np.round(values, 3) * 1e-6
    expected[1500] = np.nan
    np.testing.assert_allclose(raw.get_data()[0], expected, rtol=1e-12)
    assert gap_spans(raw, raw.n_times) == [(1500, 1501)]


@pytest.mark.parametrize(("stamp", "start"), [
    (lambda t: t.isoformat(timespec="milliseconds"), datetime(2026, 12, 7, 22, 0, tzinfo=UTC)),
    (lambda t: t.isoformat(timespec="milliseconds") + "Z",
     datetime(2026, 12, 7, 22, 0, tzinfo=UTC)),
    (lambda t: t.isoformat(sep=" ", timespec="milliseconds") + "+01:00",
     datetime(2026, 12, 7, 21, 0, tzinfo=UTC)),
])
def test_csv_stamped_in_iso_8601_has_its_date(tmp_path, stamp, start):
    """A phone app or spreadsheet stamps rows ``2026-12-07T22:00:00.125``: the date is the
    first stamp's (in UTC; without a zone taken as UTC, as MNE takes an EDF's start)."""
    values = np.random.default_rng(6).normal(0, 40, 2000)
    t0 = datetime(2026, 12, 7, 22, 0)
    rows = [f"{stamp(t0 + timedelta(milliseconds=2 * i))},{v:.3f}" for i, v in enumerate(values)]
    path = tmp_path / "iso.csv"
    path.write_text("timestamp,GM_uV\n" + "\n".join(rows) + "\n")
    raw = open_recording(path)
    assert raw.info["meas_date"] == start
    assert (raw.info["sfreq"], raw.n_times) == (500, 2000)
    np.testing.assert_allclose(raw.get_data()[0], np.round(values, 3) * 1e-6, rtol=1e-12)


def test_csv_clock_stamps_that_say_no_date_are_refused(tmp_path):
    for name, text, problem in [
            ("small.csv", "timestamp,GM_uV\n0.000,1\n0.001,2\n", "is not Unix time"),
            ("zones.csv", "time,GM_uV\n2026-12-07T22:00:00.000Z,1\n2026-12-07T22:00:00.001,2\n",
             "with and without a time zone"),
            ("month.csv", "time,GM_uV\n2026-13-07T22:00:00.000,1\n2026-13-07T22:00:00.001,2\n",
             "bad ISO 8601 time stamp")]:
        with pytest.raises(RecordingError, match=rf"{name}: .*{problem}"):
            open_recording(_write(tmp_path, name, text))


def test_csv_time_printed_coarser_than_the_step(tmp_path):
    path = tmp_path / "coarse.csv"
    path.write_text("time,GM_uV\n" + "".join(f"{i / 1024:.3f},{i % 7}\n" for i in range(5000)))
    raw = open_recording(path)
    assert raw.info["sfreq"] == 1024
    np.testing.assert_allclose(raw.get_data()[0], (np.arange(5000) % 7) * 1e-6, rtol=1e-12)
    text = path.read_text().splitlines()
    del text[2500]  # one missing sample
    path.write_text("\n".join(text) + "\n")
    with pytest.raises(RecordingError, match="not regular"):
        open_recording(path)


@pytest.mark.parametrize("sfreq_hz", [2000, 4000])
def test_csv_stamped_coarser_than_the_step_refuses_a_missing_sample(tmp_path, sfreq_hz):
    """2 or 4 kHz stamped to the millisecond: a missing sample cannot be placed, so the file is
    refused; it had been read at 1999.93 Hz with the gap closed up and no loss."""
    path = tmp_path / "ms.csv"
    rows = [f"{i / sfreq_hz:.3f},{i % 7}" for i in range(60000)]
    path.write_text("time,GM_uV\n" + "\n".join(rows) + "\n")
    raw = open_recording(path)
    assert (raw.info["sfreq"], raw.n_times) == (sfreq_hz, 60000)
    del rows[30001]
    path.write_text("time,GM_uV\n" + "\n".join(rows) + "\n")
    with pytest.raises(RecordingError, match=r"ms\.csv: time column is not regular"):
        open_recording(path)


@pytest.mark.parametrize(("sfreq_hz", "decimals", "problem"), [
    (1000, 3, "repeats 5 s"), (1000, 4, "repeats 5 s"), (2000, 3, "not regular")])
def test_csv_row_written_twice_is_refused(tmp_path, sfreq_hz, decimals, problem):
    """A row exported twice would be a sample invented and every later one a step late."""
    rows = [f"{i / sfreq_hz:.{decimals}f},{i % 7}" for i in range(20000)]
    rows.insert(5 * sfreq_hz, rows[5 * sfreq_hz])
    path = tmp_path / "twice.csv"
    path.write_text("time,GM_uV\n" + "\n".join(rows) + "\n")
    with pytest.raises(RecordingError, match=rf"twice\.csv: .*{problem}"):
        open_recording(path)


def test_csv_samples_missing_from_exact_stamps_are_lost_time_at_their_place(tmp_path):
    """A logger that lost a few rows: the stamps say when the others were taken, so they keep
    their time and the missing ones are lost time (it had refused the whole file)."""
    missing = [90, *range(120, 125)]
    path = tmp_path / "gap.csv"
    path.write_text("time,GM_uV\n" + "".join(f"{5 + i / 1000:.3f},{i}\n" for i in range(200)
                                             if i not in missing))
    raw = open_recording(path)
    assert (raw.n_times, raw.first_time) == (200, 5.0)
    expected = np.arange(200.0) * 1e-6
    expected[missing] = np.nan
    np.testing.assert_allclose(raw.get_data()[0], expected, rtol=1e-12)
    assert gap_spans(raw, raw.n_times) == [(90, 91), (120, 125)]
    assert [a["description"] for a in raw.annotations if a["description"] != "BAD_ACQ_SKIP"] == [
        "acquisition gap: time column jump before row 92: 1 sample",
        "acquisition gap: time column jump before row 121: 5 samples"]


# --- bad input: one RecordingError naming the file -----------------------------------------------


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


BAD_INPUTS = [
    ("missing.edf", None, "no such file"),
    ("missing.hea", None, "no such file"),
    ("empty.edf", "", "empty file"),
    ("odd.xyz", b"\x89PNG\r\n\x1a\nrest", "unknown format"),
    ("nan.txt", "# Sampling Rate (Hz):= 100\n# Resolution:= 12\nnan\nnan\n", "NaN"),
    ("words.txt", "# Sampling Rate (Hz):= 100\n# Resolution:= 12\n12\nabc\n", "not numeric"),
    ("nofs.txt", "# Resolution:= 12\n1\n2\n", "sampling rate missing"),
    ("bare.txt", "1\n2\n3\n", "sampling rate missing"),
    ("words.csv", "time,GM_uV\n0,1\n0.001,x\n", "not numeric"),
    ("pause.csv", "time,GM_uV\n0,1\n0.001,2\n0.002,3\n100000.003,4\n",
     "the time column jumps by 100000 s (rows 4-5); more than 24 hours missing"),
    ("jitter.csv", "time,GM_uV\n0,1\n0.0010,2\n0.0023,3\n0.0030,4\n0.0040,5\n", "not regular"),
    ("noext", b"\x00\x00\x00\x64" + b"\x00" * 40, "rename it to end in .fif"),
    ("notime.csv", "GM_uV,SO_uV\n1,2\n", "first column must be time"),
    ("units.csv", "time,GM\n0,1\n0.001,2\n", "units of the channels are unknown"),
    ("twice.csv", "time,GM_uV,GM_uV\n0,1,2\n0.001,2,3\n", "column 'GM' more than once"),
    ("lonely.dat", b"\x00\x01", "header"),
    ("junk.edf", b"0       " + b"x" * 300, "not a valid EDF/BDF header"),
    ("junk.fif", b"\x00\x00\x00\x64" + b"\x00" * 40, "not a readable FIF file"),
    ("bad.hea", "rec 1\nrec.dat 16 200/mV\n", "sampling frequency missing"),
    ("lines.hea", "rec 2 1000 10\nrec.dat 16 200/mV 16 0 0 0 0 calf\n",
     "states 2 signals but 1 signal lines follow"),
]


@pytest.mark.parametrize(("name", "content", "problem"), BAD_INPUTS)
def test_bad_input_names_the_file(tmp_path, name, content, problem):
    path = tmp_path / name if content is None else _write(tmp_path, name, content)
    with pytest.raises(RecordingError) as info:
        open_recording(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    assert problem in message
    assert "\n" not in message


def test_units_argument_only_for_csv(tmp_path):
    hea = _write_wfdb(tmp_path, _rng_counts(1, 10))
    with pytest.raises(RecordingError, match="units= applies to CSV files only"):
        open_recording(hea, units="uV")


def test_an_edf_labels_other_types_beside_emg(tmp_path):
    """EDF+ labels begin with the signal's type (the EDF+ standard texts): MNE reads every
    signal as EEG; the reader types EMG the signals labelled ``EMG ...`` or with no type, and
    the others as their labels say, so ``calfwatch.analyze`` of the Raw analyses the EMG only.
    A file whose every label states another type has said nothing of EMG: all typed EMG."""
    import calfwatch

    rng = np.random.default_rng(6)
    labels = ["EEG Fpz-Cz", "EMG Leg R", "Leg L", "ECG", "Resp oro-nasal", "EOG(L)"]
    edfio.Edf([edfio.EdfSignal(rng.normal(0, 5, 1000 * 30), 1000, label=label,
                               physical_dimension="uV", physical_range=(-5000, 5000))
               for label in labels]).write(tmp_path / "psg.edf")
    raw = open_recording(tmp_path / "psg.edf")
    assert raw.ch_names == ["EEG Fpz-Cz", "Leg R", "Leg L", "ECG", "Resp oro-nasal", "EOG(L)"]
    assert raw.get_channel_types() == ["eeg", "emg", "emg", "ecg", "resp", "eog"]
    assert list(calfwatch.analyze(raw).summary["channels"]) == ["Leg R", "Leg L"]
    edfio.Edf([edfio.EdfSignal(rng.normal(0, 5, 1000 * 30), 1000, label=label,
                               physical_dimension="uV", physical_range=(-5000, 5000))
               for label in ("EEG 1", "EEG 2")]).write(tmp_path / "board.edf")
    assert open_recording(tmp_path / "board.edf").get_channel_types() == ["emg", "emg"]


def test_signals_upsampled_from_a_slower_rate_are_marked_bad(tmp_path):
    """An EDF of a 2-kHz leg EMG and a 250-Hz EEG: MNE reads both at 2 kHz, the EEG interpolated.
    The reader marks it bad, so ``calfwatch.analyze`` of the Raw leaves it out as MNE's own
    functions leave bad channels out; the leg channel is read as stored."""
    import calfwatch

    rng = np.random.default_rng(4)
    leg, eeg = rng.normal(0, 5, 2000 * 60), rng.normal(0, 20, 250 * 60)
    edfio.Edf([edfio.EdfSignal(eeg, 250, label="EEG C3", physical_dimension="uV",
                               physical_range=(-5000, 5000)),
               edfio.EdfSignal(leg, 2000, label="Leg L", physical_dimension="uV",
                               physical_range=(-5000, 5000))]).write(tmp_path / "psg.edf")
    raw = open_recording(tmp_path / "psg.edf")
    assert raw.info["sfreq"] == 2000 and raw.info["bads"] == ["EEG C3"]
    np.testing.assert_allclose(raw.get_data(picks=["Leg L"])[0] * 1e6, leg, atol=0.2)
    assert list(calfwatch.analyze(raw).summary["channels"]) == ["Leg L"]
