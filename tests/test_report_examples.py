"""The report's example traces (``calfwatch.report.examples``): band-passed for muscle events,
as recorded for artifacts, whose waveform lies mostly below the band."""

from __future__ import annotations

import mne
import numpy as np
from scipy import signal

from calfwatch.report.examples import PAD_S, WINDOW_S, read_traces

SFREQ = 2000.0
MOTION_ONSET_S, MOTION_S = 10.0, 0.8
TWITCH_ONSET_S, TWITCH_S = 20.0, 0.02


def _recording(path):
    """30 s of 5-uV noise on a 40-mV electrode offset, a smooth 6-Hz motion wave of about 1 mV and a twitch."""
    rng = np.random.default_rng(4)
    t = np.arange(int(30 * SFREQ)) / SFREQ
    x = 40_000.0 + 5.0 * rng.standard_normal(t.size)
    inside = (t >= MOTION_ONSET_S) & (t < MOTION_ONSET_S + MOTION_S)
    rel_s = t[inside] - MOTION_ONSET_S
    x[inside] += 600.0 * np.sin(2 * np.pi * 6.0 * rel_s) * np.sin(np.pi * rel_s / MOTION_S) ** 2
    twitch = (t >= TWITCH_ONSET_S) & (t < TWITCH_ONSET_S + TWITCH_S)
    x[twitch] += 80.0 * np.sin(2 * np.pi * 100.0 * (t[twitch] - TWITCH_ONSET_S))
    raw = mne.io.RawArray(x[None] * 1e-6, mne.create_info(["calf"], SFREQ, "emg"),
                          verbose="error")
    raw.save(path, verbose="error")
    # the samples as the file holds them (FIF stores float32)
    return mne.io.read_raw_fif(path, verbose="error").get_data()[0] * 1e6


def _event(kind, onset_s, duration_s):
    return {"kind": kind, "channel": "calf", "onset": onset_s, "duration": duration_s}


def test_artifact_shown_as_recorded_twitch_band_passed(tmp_path):
    path = tmp_path / "night_raw.fif"
    x_uv = _recording(path)
    motion, twitch = read_traces(path, [_event("artifact", MOTION_ONSET_S, MOTION_S),
                                        _event("fasciculation", TWITCH_ONSET_S, TWITCH_S)])
    n = int(WINDOW_S * SFREQ)

    # the artifact: the recorded samples of its window, less their median (the offset)
    assert not motion.band_passed and motion.start_s <= MOTION_ONSET_S
    a = int(round(motion.start_s * SFREQ))
    window = x_uv[a:a + n]
    np.testing.assert_allclose(motion.samples_uv, window - np.median(window), atol=1e-3)
    assert np.ptp(motion.samples_uv) > 900.0  # the 1-mV wave, which 20-450 Hz hides

    # the twitch: 4th-order 20-450 Hz Butterworth, zero phase, with PAD_S either side
    assert twitch.band_passed
    sos = signal.butter(4, [20.0, 450.0], btype="bandpass", fs=SFREQ, output="sos")
    a = int(round((twitch.start_s - PAD_S) * SFREQ))
    padded = x_uv[a:a + n + int(2 * PAD_S * SFREQ)]
    expected = signal.sosfiltfilt(sos, padded - np.median(padded))
    i0 = int(round(PAD_S * SFREQ))
    np.testing.assert_allclose(twitch.samples_uv, expected[i0:i0 + n], atol=1e-3)
    around = x_uv[int(9 * SFREQ):int(12 * SFREQ)]
    filtered_motion = signal.sosfiltfilt(sos, around - np.median(around))
    assert np.ptp(filtered_motion) < 0.2 * np.ptp(motion.samples_uv)
