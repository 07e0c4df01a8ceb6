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
    # A potential's raw tail goes on past the candidate's end (where the band-passed signal fell
    # below end_fraction of its peak), and the filters' response to it is what the prediction from
    # the candidate's samples misses (the near margin's reason). Those samples are in already (the
    # scan runs behind the input by the measurements' margin): the prediction takes the raw
    # samples of up to ring_extend_s after the end too, when nothing in them (and the baseline's
    # samples after them) crosses the threshold with its margin. Measured on surface units of
    # 0.8-1.6 mV on a 2-uV sensor (max of the error per 20 ms): from the candidate's samples alone
    # 46-50 sigma just after the end and 5-11 sigma 40-80 ms on; with 10 ms more 10 sigma and then
    # the noise's (2-3.5 sigma); with 20 ms the noise's. A prediction that took them has the far
    # margin (ring_extended_factor, the error left is that of the far span) from their end on,
    # where a near margin of 1.5 x the envelope hid a potential of 24 x the noise 50 ms after a
    # 1.6-mV one. On the benchmarks (accuracy and robustness, 3 seeds a row) the dense rows
    # (80-120/min) kept about 0.01 more of their potentials, and false twitches moved by at most
    # 0.08 a minute on a row, either way; with 0 in place of 0.25 more rows counted false ones
    # (clean sensor 0.17 -> 0.25, QRS 0.08 -> 0.17). With 30 ms in place of 20 the dense rows
    # counted 0.1-0.7 a minute fewer (more potentials arrive in a longer window and keep the near
    # margin), pops and motion 0.27 -> 0.18 false a minute.
    ring_extend_s: float = 0.02
    ring_extended_factor: float = 0.25
    # The segment filtered alone holds the mains line, which the notches take out of the signal
    # but not out of a segment (they would ring with it after its end: at Q 60 and 50 Hz, at 15 %
    # of the line after a 60-ms segment). The line is fitted over ring_line_fit_s of raw signal before the
    # segment (two periods at 50 Hz: offset, slope and the first three harmonics) and taken out
    # of it. Where the fit leaves more than ring_line_fit_k sigma RMS something else is in its
    # window (a QRS's slow waves, a potential), and where a candidate is, the fit is not made; the
    # segment then holds its line and takes no samples after the candidate (on an independent
    # scene with 100 uV of hum, 0.45 of the candidates counted were potentials without the fit,
    # all with it; with a 200-uV QRS 50 ms before a twitch, 3 of 22 twitches were timed by the
    # QRS without the RMS check).
    ring_line_fit_s: float = 0.04
    ring_line_fit_k: float = 3.0
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
