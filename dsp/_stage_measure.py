"""The chain's measurement of candidates: features and snippets on the filtered waveform
(:mod:`dsp.features`), the raw baseline step across each candidate, and the candidate rows."""

from __future__ import annotations

import numpy as np

from dsp._buffer import TimelineBuffer
from dsp._stage_detect import Detections
from dsp.config import ChainConfig
from dsp.features import measure_candidates
from dsp.types import CANDIDATE_DTYPE, SNIPPET_LEN


def _window_means(raw: TimelineBuffer, chan: np.ndarray, first: np.ndarray,
                  win_samples: int) -> np.ndarray:
    """Mean of the finite raw values in ``first[i] .. first[i] + win_samples`` of channel
    ``chan[i]`` for every i (NaN when a window holds none), all windows at once.

    A window without NaN is summed as one contiguous row, as ``np.sum`` sums it alone; the few that
    hold a NaN (a gap) are averaged over their finite values one by one.
    """
    if not len(chan):
        return np.zeros(0)
    data = raw.view(raw.start, raw.stop)
    cols = (np.asarray(first, np.int64) - raw.start)[:, None] + np.arange(win_samples)
    rows = data[np.asarray(chan, np.int64)[:, None], cols]  # (n, win), C-contiguous
    out = rows.sum(axis=1) / win_samples
    for i in np.flatnonzero(~np.isfinite(out)):
        ok = np.isfinite(rows[i])
        n_ok = int(ok.sum())
        out[i] = float(np.sum(rows[i][ok]) / n_ok) if n_ok else np.nan
    return out


class CandidateMeasurer:
    """Turns detections into candidate rows, features and snippets.

    Parameters
    ----------
    sfreq_hz : float
    config : ChainConfig
        ``onset_k`` and ``phase_fraction`` (the dead band of phases and turns), ``step_gap_s`` and
        ``step_window_s`` (the baseline step).
    threads : bool
        Measure many candidates in threads (:func:`dsp.features.measure_candidates`).
    """

    def __init__(self, sfreq_hz: float, config: ChainConfig, threads: bool) -> None:
        self.sfreq_hz = sfreq_hz
        self.onset_k = config.onset_k
        self.phase_fraction = config.phase_fraction
        self.step_gap_samples = max(1, round(config.step_gap_s * sfreq_hz))
        self.step_window_samples = max(1, round(config.step_window_s * sfreq_hz))
        step_reach = self.step_gap_samples + self.step_window_samples
        #: Samples needed after a candidate's end: half a snippet, and the window of its step.
        self.margin_after_samples = max(SNIPPET_LEN // 2, step_reach) + 2
        #: Samples read before a candidate's onset: a snippet (with slack), and the two windows
        #: of its step (the baseline and its trend).
        self.reach_before_samples = SNIPPET_LEN + 8 + step_reach + self.step_window_samples
        self.threads = threads

    def measure(self, found: Detections, filtered: TimelineBuffer, raw: TimelineBuffer,
                delay_samples: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Candidate rows (CANDIDATE_DTYPE), features (FEATURE_DTYPE) and snippets of ``found``;
        positions are moved back by the filter delay ``delay_samples``."""
        y0 = filtered.start
        y = filtered.view(y0, filtered.stop)
        chan = found.channel
        # dead band of phases and turns: onset_k x the noise, or phase_fraction of the peak when
        # larger (the filters' ripple after a large potential is not a phase of it)
        dead_band = np.maximum(self.onset_k * found.noise_uv,
                               self.phase_fraction * np.abs(y[chan, found.peak - y0]))
        feats, snips, peak_uv, ptp_uv = measure_candidates(
            y, y0, chan, found.onset, found.offset, found.peak, dead_band, self.sfreq_hz,
            threads=self.threads,
        )
        delay = delay_samples
        cand = np.zeros(len(chan), CANDIDATE_DTYPE)
        cand["continuous"] = found.continuous
        cand["joined"] = found.joined
        cand["step_uv"] = self._steps(raw, chan, found.onset - delay, found.offset - delay)
        cand["energy_uv2_s"] = found.energy_uv2_samples / self.sfreq_hz
        cand["channel"] = chan
        cand["onset"] = found.onset - delay
        cand["offset"] = found.offset - delay
        cand["peak"] = found.peak - delay
        cand["peak_uv"] = peak_uv
        cand["ptp_uv"] = ptp_uv
        cand["noise_uv"] = found.noise_uv
        return cand, feats, snips

    def _steps(self, raw: TimelineBuffer, chan, onset, offset) -> np.ndarray:
        """Raw baseline step across each candidate that neither a steady baseline nor a steady
        drift explains (µV).

        Means over ``step_window_s``: ``before`` ending ``step_gap_s`` before the onset,
        ``after`` starting ``step_gap_s`` after the end, and ``earlier`` just before ``before``.
        The step is ``after - before``, and also ``after`` less the trend from ``earlier`` to
        ``before`` carried on: the electrode-skin potential drifts (breathing, sweat, pressure:
        hundreds of µV at 0.1-2 Hz), and a drift is no step, while before a pop the baseline is
        steady. The smaller of the two is returned (0 when they differ in sign): a curved
        baseline (an ECG's T wave) bends the trend, and a steady one needs none.
        """
        gap, win = self.step_gap_samples, self.step_window_samples
        before = np.asarray(onset, np.int64) - gap - win
        after = np.asarray(offset, np.int64) + gap
        held = (before - win >= raw.start) & (after + win <= raw.stop)
        out = np.full(len(chan), np.nan)
        chan = np.asarray(chan)[held]
        base = _window_means(raw, chan, before[held], win)
        trend = (base - _window_means(raw, chan, before[held] - win, win)) / win
        post = _window_means(raw, chan, after[held], win)
        steady = post - base
        drifting = post - (base + trend * (after[held] - before[held]))
        agree = np.sign(steady) == np.sign(drifting)
        out[held] = np.where(agree, np.sign(steady) * np.minimum(np.abs(steady),
                                                                 np.abs(drifting)), 0.0)
        return out
