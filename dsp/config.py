"""Settings of the detection chain, with their defaults and reasons."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ChainConfig:
    """Parameters of :class:`dsp.chain.DetectionChain` (seconds, Hz, multiples of the noise sigma).

    Defaults: 20-450 Hz surface-EMG band (SENIAM/ISEK); threshold 5 sigma_n with sigma_n =
    median(|x|)/0.6745 (Quiroga 2004, wave_clus); pops above 50 sigma_n (wave_clus artifact ceiling);
    candidates 3-50 ms long (fasciculation potentials last 5-30 ms).
    """

    band_hz: tuple[float, float] = (20.0, 450.0)
    filter_order: int = 4
    notch_q: float = 60.0
    notch_max_hz: float | None = None
    mains_detect_s: float = 10.0  # look-ahead used to decide 50/60 Hz when mains_hz is None
    settle_s: float | None = None  # after the start and after a gap, ignored (filter transient);
    # None: measured from the cascade's impulse response (dsp.filters.settling_time_s)
    noise_block_s: float = 0.5
    noise_window_s: float = 30.0
    noise_quantile: float = 0.25  # of the block statistics in the window (see dsp.noise)
    threshold_k: float = 5.0
    hysteresis_k: float = 2.5
    onset_k: float = 2.0
    quiet_s: float = 0.002
    walk_back_s: float = 0.02
    merge_gap_s: float = 0.005
    dead_time_s: float = 0.005
    min_duration_s: float = 0.003
    max_duration_s: float = 0.05
    echo_ratio: float = 0.15  # drop candidates under this x a kept one within echo_window_s before
    echo_window_s: float = 0.5  # (notch echoes, see DetectionChain._not_echoes); 0 disables
    delay_hz: float = 60.0  # group delay taken here: centres onset errors on 5-20 ms potentials
    pop_k: float = 50.0
    flat_run_s: float = 0.02
    rail_run: int = 3
    batch_s: float = 0.2  # chunks are gathered to this length before they are processed: output
    # comes at most batch_s + DetectionChain.lookahead_s (~0.12 s) after a candidate's peak
    causal_noise: bool = True  # threshold from the noise floor of the blocks before the sample's
    # block (a candidate need not wait for the end of its block: bounded live latency)
