"""Array layouts shared by the dsp stages and their consumers."""

from __future__ import annotations

import numpy as np

#: Hop of the envelope and noise frames (s); frame k covers samples [k*hop, (k+1)*hop) of the timeline.
ENVELOPE_HOP_S = 0.05
#: Length of a signal-quality window (s), on the absolute timeline.
QUALITY_WINDOW_S = 10.0
#: Samples per candidate snippet; the peak sits at index SNIPPET_LEN // 2.
SNIPPET_LEN = 128

#: One row per candidate potential found by :class:`dsp.chain.DetectionChain`.
#: Sample indices are absolute on the stream's timeline, already corrected for filter delay.
CANDIDATE_DTYPE = np.dtype(
    [
        ("channel", np.int32),  # channel index
        ("onset", np.int64),  # first sample of the potential on the waveform
        ("offset", np.int64),  # one past its last sample
        ("peak", np.int64),  # sample of the largest absolute filtered value
        ("peak_uv", np.float64),  # filtered value at ``peak`` (signed, µV)
        ("ptp_uv", np.float64),  # peak-to-peak of the filtered waveform between onset and offset
        ("noise_uv", np.float64),  # robust noise floor (sigma, µV) at the peak
        ("continuous", np.bool_),  # a piece of activity longer than max_duration_s (cut there)
        ("joined", np.bool_),  # no return to baseline since the channel's previous candidate
        ("step_uv", np.float64),  # raw baseline after the candidate less before it, or less its
        # trend before it if smaller (µV; dsp._stage_measure)
        ("energy_uv2_s", np.float64),  # its energy in the band-passed signal, with the filters'
        # predicted response after it (for a large candidate)
    ]
)

#: Features of each candidate, row-aligned with the candidates (see :mod:`dsp.features`).
FEATURE_DTYPE = np.dtype(
    [
        ("ptp_uv", np.float64),
        ("duration_s", np.float64),
        ("phases", np.int32),  # baseline crossings + 1 (of the filtered waveform, with a noise dead band)
        ("turns", np.int32),  # slope reversals larger than a dead band
        ("area_uv_s", np.float64),  # integral of |x| over the potential
        ("rise_time_s", np.float64),  # onset to peak
        ("dominant_hz", np.float64),  # spectral peak of the snippet
    ]
)

#: Columns of a signal-quality table, one row per channel and window (see :class:`dsp.chain.DetectionChain`).
QUALITY_DTYPE = np.dtype(
    [
        ("channel", np.int32),
        ("start", np.int64),
        ("stop", np.int64),
        ("noise_rms_uv", np.float64),
        ("mains_fraction", np.float64),
        ("saturated_fraction", np.float64),
        ("flat_fraction", np.float64),
        ("pops", np.int32),
        ("nan_fraction", np.float64),
        ("floor_ratio", np.float64),  # median over 0.25-s blocks of (mean - min) / (max - mean)
        # of the raw signal: ~1 for raw EMG, ~0.3 when rectified (see :mod:`dsp.quality`)
    ]
)
