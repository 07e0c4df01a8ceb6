"""Real negative controls: voluntary activity in public recordings must not become fasciculations.

Skipped without the sample data (CALFWATCH_SAMPLE_DATA). Needle EMG (PhysioNet emgdb, 4 kHz, mV)
is sharper and larger than surface EMG: it is resampled to 2 kHz (anti-aliased) before the chain,
which band-limits it to 20-450 Hz like surface data; thresholds are relative to the noise floor.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import resample_poly

from acquisition.reader import open_recording
from classifier.night import NightData, classify_night
from dsp.chain import DetectionChain


def classify(data_uv: np.ndarray, sfreq_hz: float):
    chain = DetectionChain(sfreq_hz, 1, mains_hz=50.0)
    out = chain.process(data_uv[None, :], 0)
    from dsp.chain import concat_outputs

    out = concat_outputs([out, chain.flush()])
    night = NightData.from_chain_output(out, sfreq_hz, ["emg"], data_uv.size)
    return classify_night(night)


def fasciculations_between(cn, lo_s, hi_s) -> int:
    ev = cn.events
    f = ev[(ev["kind"] == "fasciculation") & ~ev["doublet"]]
    return int(np.sum((f["onset_s"] >= lo_s) & (f["onset_s"] < hi_s)))


def voluntary_seconds(cn, lo_s, hi_s) -> float:
    ev = cn.events[cn.events["kind"] == "voluntary"]
    a = np.clip(ev["onset_s"], lo_s, hi_s)
    b = np.clip(ev["onset_s"] + ev["duration_s"], lo_s, hi_s)
    return float(np.sum(b - a))


def test_neuropathy_motor_unit_train_is_voluntary(sample_data):
    path = sample_data / "physionet_emgdb" / "emg_neuropathy.hea"
    if not path.exists():
        pytest.skip("emg_neuropathy not in the sample data")
    raw = open_recording(path, preload=True)
    x = raw.get_data()[0] * 1e6
    x = resample_poly(x[: int(18.45 * raw.info["sfreq"])], 1, int(raw.info["sfreq"] // 2000))
    cn = classify(x, 2000.0)
    assert fasciculations_between(cn, 0.5, 11.0) <= 1
    assert voluntary_seconds(cn, 0.5, 11.0) >= 5.0


def test_biosppy_contractions_are_voluntary(sample_data):
    path = sample_data / "biosppy" / "emg_1.txt"
    if not path.exists():
        pytest.skip("BioSPPy emg_1 not in the sample data")
    raw = open_recording(path, preload=True)
    x = raw.get_data()[0] * 1e6
    cn = classify(x, float(raw.info["sfreq"]))
    duration_s = x.size / raw.info["sfreq"]
    assert voluntary_seconds(cn, 0.0, duration_s) >= 5.0
    assert cn.count("fasciculation") <= 2
