"""Real negative controls: voluntary activity in public recordings must not become fasciculations.

Skipped without the sample data (CALFWATCH_SAMPLE_DATA). Needle EMG (PhysioNet emgdb, 4 kHz, mV)
is sharper and larger than surface EMG: it is resampled to 2 kHz (anti-aliased) before the chain,
which band-limits it to 20-450 Hz like surface data; thresholds are relative to the noise floor.
Surface controls: the calf stance bursts of a walking recording (musclesyneRgies, Santuz et al.,
iScience 2020; 1 kHz) and the contractions of BioSPPy's emg_1 (1 kHz).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import resample_poly

from acquisition.reader import open_recording
from classifier.night import NightData, classify_night
from dsp.chain import DetectionChain, concat_outputs


def classify(data_uv: np.ndarray, sfreq_hz: float, first_sample: int = 0):
    """Chain and classifier over one channel whose first sample is ``first_sample``."""
    chain = DetectionChain(sfreq_hz, 1, mains_hz=50.0)
    out = concat_outputs([chain.process(data_uv[None, :], first_sample), chain.flush()])
    night = NightData.from_chain_output(out, sfreq_hz, ["emg"], first_sample + data_uv.size)
    return classify_night(night)


def fasciculations_between(cn, lo_s, hi_s) -> int:
    ev = cn.events
    f = ev[(ev["kind"] == "fasciculation") & ~ev["doublet"]]
    return int(np.sum((f["onset_s"] >= lo_s) & (f["onset_s"] < hi_s)))


def voluntary_seconds(cn, lo_s, hi_s) -> float:
    """Seconds of [lo_s, hi_s) covered by voluntary events."""
    ev = cn.events[cn.events["kind"] == "voluntary"]
    a = np.clip(ev["onset_s"], lo_s, hi_s)
    b = np.clip(ev["onset_s"] + ev["duration_s"], lo_s, hi_s)
    return float(np.sum(b - a))


def kinds_between(cn, lo_s, hi_s) -> set[str]:
    """Kinds of the events overlapping [lo_s, hi_s)."""
    ev = cn.events
    hit = (ev["onset_s"] < hi_s) & (ev["onset_s"] + np.maximum(ev["duration_s"], 1e-3) > lo_s)
    return {str(k) for k in ev["kind"][hit]}


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


# The three contractions of emg_1, read off a plot of the signal (s).
BIOSPPY_CONTRACTIONS_S = [(1.5, 1.8), (15.5, 16.9), (25.6, 26.6)]


def test_biosppy_contractions_are_voluntary(sample_data):
    path = sample_data / "biosppy" / "emg_1.txt"
    if not path.exists():
        pytest.skip("BioSPPy emg_1 not in the sample data")
    raw = open_recording(path, preload=True)
    x = raw.get_data()[0] * 1e6
    cn = classify(x, float(raw.info["sfreq"]), raw.first_samp)
    for lo, hi in BIOSPPY_CONTRACTIONS_S:
        # Each contraction is covered by voluntary activity, and nothing in it is a twitch.
        assert voluntary_seconds(cn, lo, hi) >= 0.95 * (hi - lo), (lo, hi)
        assert kinds_between(cn, lo, hi) == {"voluntary"}, (lo, hi)
        assert fasciculations_between(cn, lo - 0.5, hi + 0.5) == 0
    # The rest of the minute is mostly quiet: a few seconds of weak activity at most, and a few
    # isolated potentials (discrete potentials apart from the weak firing are each counted, as
    # independent units are: two of them 60 ms apart at 45 s are two).
    duration_s = x.size / raw.info["sfreq"]
    assert cn.rest["emg"].minutes * 60 >= 0.6 * duration_s
    assert cn.count("fasciculation") <= 4


def test_gait_stance_bursts_of_the_calf_are_voluntary(sample_data):
    """Gastrocnemius medialis/lateralis and soleus fire in every stance phase of walking."""
    folder = sample_data / "musclesynergies"
    path = folder / "ID0012_TW_01_raw_emg.csv"
    if not path.exists():
        pytest.skip("musclesyneRgies gait recording not in the sample data")
    raw = open_recording(path, units="uV", preload=True)
    assert raw.info["sfreq"] >= 500
    stance = np.loadtxt(folder / "ID0012_TW_01_cycles.csv", delimiter=",", skiprows=1, ndmin=2)
    assert len(stance) >= 5
    for name in ("GM", "GL", "SO"):
        x = raw.get_data(picks=[name])[0] * 1e6
        cn = classify(x, float(raw.info["sfreq"]), raw.first_samp)
        for touchdown_s, liftoff_s in stance:
            assert fasciculations_between(cn, touchdown_s, liftoff_s) == 0, (name, touchdown_s)
            # The burst fills most of stance; none of it is taken for twitches or jerks.
            assert voluntary_seconds(cn, touchdown_s, liftoff_s) >= 0.4 * (liftoff_s
                                                                          - touchdown_s), name
            assert kinds_between(cn, touchdown_s, liftoff_s) <= {"voluntary"}, name
        assert cn.count("fasciculation") == 0, name
