"""Settings of the detection chain, with their defaults and reasons."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ChainConfig:
    """Parameters of :class:`dsp.chain.DetectionChain` (seconds, Hz, multiples of the noise sigma).

    Defaults: 20-450 Hz surface-EMG band (SENIAM/ISEK); threshold 4 sigma_n with sigma_n =
    median(|x|)/0.6745 (Quiroga 2004 uses 4-5; the classifier counts only potentials of at least
    8 sigma peak-to-peak, so noise crossings of 4 sigma are not counted, while potentials near that
    floor are found: recall at 9 sigma p-p 0.96 against 0.74 with 5 sigma); pops above 50 sigma_n
    (wave_clus artifact ceiling); discrete candidates 3-80 ms long (fasciculation potentials last
    5-30 ms, plus the band-pass's tail).
    """

    band_hz: tuple[float, float] = (20.0, 450.0)
    filter_order: int = 4
    notch_q: float = 60.0
    notch_max_hz: float | None = None
    # The notches follow the mains line (dsp._line_track): re-centred every line_track_s on the
    # line measured over the line_track_window_s before; 0 keeps them where the start put them.
    line_track_s: float = 5.0
    line_track_window_s: float = 10.0
    mains_detect_s: float = 10.0  # look-ahead used to decide 50/60 Hz when mains_hz is None
    settle_s: float | None = None  # after the start and after a gap, ignored (filter transient);
    # None: measured from the cascade's impulse response (dsp.filters.settling_time_s)
    noise_block_s: float = 0.5
    noise_window_s: float = 30.0
    noise_quantile: float = 0.25  # of the block statistics in the window (see dsp._stage_noise)
    threshold_k: float = 4.0
    hysteresis_k: float = 2.5
    onset_k: float = 2.0
    quiet_s: float = 0.002  # a run under onset_k sigma that ends a potential (>= 2 samples)
    walk_back_s: float = 0.02
    merge_gap_s: float = 0.005
    # An event whose end level is end_fraction x its peak (a large one) ends after this quiet run:
    # inside a potential |y| stays below 10 % of the peak only around a zero crossing, for
    # asin(0.1) / (pi f) = 1.1 ms at f = 30 Hz, the lowest spectral peak of surface potentials;
    # a longer dip is the end of the potential, and a neighbour 5-20 ms after it is a potential
    # of its own. Smaller events keep merge_gap_s (their end level is hysteresis_k sigma, which
    # noise crosses).
    merge_gap_large_s: float = 0.003
    dead_time_s: float = 0.005
    min_duration_s: float = 0.003
    # Activity longer than this is cut into pieces flagged ``continuous``: a potential (5-30 ms)
    # with the band-pass's response to it (a 10 % tail lasts up to about 40 ms more, measured on
    # potentials with spectral peaks of 30-150 Hz) fits, and so do two close potentials whose
    # tails merge; sustained superimposed activity does not.
    max_duration_s: float = 0.1
    # An event ends below this fraction of its own peak (or hysteresis_k sigma if higher): the
    # filter's tail after a large potential stays above a few sigma for tens of ms.
    end_fraction: float = 0.1
    # Ringing: the band-pass's predicted response to a large candidate (its raw waveform filtered
    # alone) is subtracted from the signal after it (echo cancellation: the filters are linear),
    # so a potential in the ringing is found at its own size. The 50/60 Hz notch rings for about
    # ring_window_s (Q 60: time constant Q / (pi f0) = 0.38 s at 50 Hz). The prediction misses the
    # raw tail beyond the candidate's end (slow tails of surface potentials), whose response
    # through the 20-Hz high-pass lasts about two of its periods (ring_near_s): over that span
    # ring_factor x the response's envelope is added to the threshold, after it ring_far_factor x
    # (measured on six scenes of independent random potentials of 170-2000 µV at 4.5 µV noise:
    # beyond 100 ms no false candidate reached the counting floor even without a margin, and with
    # 0.25 the sub-floor ones were those of 1.5 but one).
    ring_factor: float = 1.5
    ring_window_s: float = 0.8
    # A prediction still above ring_tail_k sigma at the end of ring_window_s is followed on until it
    # decays below it, at the cascade's slowest time constant (the notch's), up to
    # ring_window_max_s: the notch rings at about 5 % of a potential's size, so after a 2-mV
    # potential it stays above the noise of a clean sensor (1.5 uV) for about 2 s.
    ring_tail_k: float = 0.5
    ring_window_max_s: float = 3.0
    ring_near_s: float = 0.1
    ring_far_factor: float = 0.25
    ring_min_k: float = 10.0  # only candidates above this x sigma can ring above the threshold
    # Phases and turns count excursions beyond onset_k sigma or this fraction of the peak, if
    # larger (calfwatch choice: a ripple of a few % after a large potential is not a phase of it).
    phase_fraction: float = 0.05
    # Baseline step (raw signal, µV) measured over step_window_s just before the candidate and
    # step_gap_s after its end: an electrode pop leaves the baseline displaced (exponential recovery
    # over hundreds of ms); a motor-unit potential returns to it. The baseline's trend over the
    # step_window_s before that is carried on, and the smaller step is kept: the electrode
    # potential drifts by hundreds of µV at 0.1-2 Hz (a 1.1-Hz, 100-µV drift moved the means by
    # about 60 µV across a potential, and made pops of 16 of 20 twitches of 150-400 µV).
    step_window_s: float = 0.04
    step_gap_s: float = 0.01
    delay_hz: float = 60.0  # group delay taken here: centres onset errors on 5-20 ms potentials
    pop_k: float = 50.0
    flat_run_s: float = 0.02
    rail_run: int = 3
    batch_s: float = 0.2  # chunks are gathered to this length before they are processed: output
    # comes at most batch_s + DetectionChain.lookahead_s (~0.12 s) after a candidate's peak
    causal_noise: bool = True  # threshold from the noise floor of the blocks before the sample's
    # block (a candidate need not wait for the end of its block: bounded live latency)
