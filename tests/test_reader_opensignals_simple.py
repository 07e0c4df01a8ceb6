"""OpenSignals "Simple Text Format" files (BITalino, biosignalsplux): only the analog sensor
columns are signal. The sequence number ``nSeq`` and the digital inputs and outputs (``I1``,
``I2``, ``O1``, ``O2``) are not channels; where ``nSeq`` jumps, samples were lost, as in the
JSON-header format."""

from __future__ import annotations

import numpy as np
import pytest

from acquisition._text_formats import SEQ_GAP_TEXT
from acquisition.errors import RecordingError
from acquisition.reader import open_recording

FS = 1000.0


def _write(path, labels: list[str], rows: np.ndarray):
    body = "\n".join("\t".join(str(int(v)) for v in row) for row in rows)
    path.write_text("# Simple Text Format\n# Sampling Rate (Hz):= 1000.00\n# Resolution:= 10\n"
                    f"# Labels:= {chr(9).join(labels)}\n{body}\n")
    return path


def _device_rows(n: int = 3000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Rows nSeq, I1, I2, O1, O2, A1, A2 as a BITalino writes them; and the analog counts."""
    rng = np.random.default_rng(seed)
    analog = rng.integers(300, 724, (n, 2))
    digital = rng.integers(0, 2, (n, 4))
    return np.column_stack([np.arange(n) % 16, digital, analog]), analog


def test_only_the_analog_columns_are_channels(tmp_path):
    rows, analog = _device_rows()
    path = _write(tmp_path / "os.txt", ["nSeq", "I1", "I2", "O1", "O2", "A1", "A2"], rows)
    raw = open_recording(path)
    assert raw.ch_names == ["A1", "A2"]
    assert raw.n_times == len(rows) and raw.info["sfreq"] == FS
    np.testing.assert_allclose(raw.get_data(), (analog.T / 1024 - 0.5) * 3.3 / 1009, rtol=1e-12)
    assert len(raw.annotations) == 0


def test_samples_lost_at_a_sequence_jump_are_lost_time_at_their_place(tmp_path):
    rows, analog = _device_rows()
    kept = np.delete(np.arange(len(rows)), np.arange(1000, 1005))  # 5 samples lost
    path = _write(tmp_path / "os.txt", ["nSeq", "I1", "EMG"], rows[kept][:, [0, 1, 5]])
    raw = open_recording(path)
    assert raw.ch_names == ["EMG"] and raw.n_times == len(rows)
    lost = [(a["onset"], a["duration"]) for a in raw.annotations
            if a["description"] == "BAD_ACQ_SKIP"]
    assert lost == [(1.0, 0.005)]
    assert any(str(a["description"]).startswith(SEQ_GAP_TEXT) for a in raw.annotations)
    data = raw.get_data()[0]
    assert np.isnan(data[1000:1005]).all()
    assert not np.isnan(np.delete(data, range(1000, 1005))).any()
    np.testing.assert_allclose(data[1005:], (analog[1005:, 0] / 1024 - 0.5) * 3.3 / 1009)


def test_a_file_of_digital_columns_only_is_refused_naming_them(tmp_path):
    rows, _ = _device_rows()
    path = _write(tmp_path / "os.txt", ["nSeq", "I1"], rows[:, :2])
    with pytest.raises(RecordingError) as err:
        open_recording(path)
    assert str(err.value) == f"{path}: no analog channel (columns: nSeq, I1)"
