"""Parameters of a simulated night and the named profiles.

Every number has its source next to it (see the project's domain notes). Needle-EMG figures give shape and
ordering only: surface amplitudes are smaller and smoother, so defaults that lean on needle data say so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime

#: Sampling rates and channel counts the simulator supports.
SFREQ_RANGE_HZ = (500.0, 4000.0)
CHANNEL_RANGE = (1, 8)
#: Resolutions of the simulated converter: real EMG front ends have 10 (BITalino) to 24 bits
#: (ADS1299), and EDF+/BDF+ store at most 24 (the recorder refuses a device reporting more).
RESOLUTION_BITS_RANGE = (8, 24)
#: Largest rail accepted: +-5 V, above the widest input range of a biopotential converter (the
#: ADS1299's at gain 1, +-4.5 V); its text still fits the EDF+ header's 8-character fields.
MAX_RAIL_UV = 5e6
#: Largest fasciculating pool and motor pool of a channel: more units than a whole calf muscle
#: has (the medial gastrocnemius about 580: Feinstein et al., Acta Anat 1955;23:127).
MAX_UNITS = 1000

#: Largest fasciculation rate per channel accepted (per minute of rest). The model is meant for
#: 0-120/min (the SPiQE ALS cohort's upper quartile is 79.4/min, Bashford 2020); beyond 240/min
#: (4 per second on one channel) twitching is no longer a train of separate potentials.
MAX_FASC_RATE_PER_MIN = 240.0

#: Shape families of the fasciculating units (see :mod:`calfwatch.simulator.muap`).
FASC_SHAPES = ("simple", "polyphasic", "slow", "mixed")

#: Limits of the multiplet interval (second and third potential of one unit after the first): short
#: repetitive discharges of one motor neurone (doublets of 2.5-20 ms, Bawa & Calancie, J Physiol
#: 1983;339:123) up to the F-wave-like reflex doublet at 30-35 ms (Kleine et al., Clin Neurophysiol
#: 2012;123:399).
MULTIPLET_INTERVAL_LIMITS_MS = (2.0, 60.0)


class SimulationError(ValueError):
    """A simulation parameter is out of range: the message is one line naming it."""


@dataclass(frozen=True)
class SimulationParams:
    """Everything that defines a simulated night (with the seed).

    Rates of scheduled events are per hour of recording, per leg (voluntary, PLM series, cramps,
    myoclonus, motion) or per channel (pops, of which a share ``pop_shared_prob`` comes from an
    electrode the leg's channels share; lead-off, saturation). ``fasc_rate_per_min`` is per minute
    of rest per channel. Ranges are ``(low, high)`` and are
    drawn uniformly unless said otherwise.
    """

    profile: str = "custom"
    duration_s: float = 600.0
    sfreq_hz: float = 2000.0
    n_channels: int = 1
    meas_date: str = "2026-01-05T22:00:00+00:00"  # ISO 8601, UTC
    # Device: EDF-friendly range of +-6.5 mV; 16-bit counts over it (0.198 uV per count).
    rail_uv: float = 6500.0
    resolution_bits: int = 16
    # Rest is the recording minus non-rest spans expanded by this margin on both sides.
    rest_margin_s: float = 0.5
    # Background. Noise RMS is measured in the surface-EMG band 20-450 Hz (SENIAM/ISEK), capped at
    # 0.45 x sfreq; baseline noise of 3-8 uV RMS is what the project brief describes for calf sEMG.
    noise_rms_uv: float = 5.0
    noise_band_hz: tuple[float, float] = (20.0, 450.0)
    mains_hz: float = 50.0
    mains_uv: float = 3.0  # amplitude (peak) of the fundamental
    mains_harmonics: tuple[float, ...] = (0.1, 0.3, 0.05, 0.1)  # relative amplitudes of 2nd, 3rd, ...
    wander_uv: float = 15.0  # amplitude of the < 1 Hz baseline wander
    # Fasciculations (per channel, only at rest). Healthy gastrocnemius: a few per minute, with large
    # fluctuations (EEG Clin Neurophysiol 1994;93:163); ALS cohort median 40.5/min (Bashford 2020).
    # The rate is the sum over the units of the channel, each firing as its own irregular process
    # (see :mod:`calfwatch.simulator.fasciculations`).
    fasc_rate_per_min: float = 3.0
    fasc_units: int = 5  # size of the fasciculating pool per channel
    # Share of the rate per unit: Dirichlet(alpha) weights (alpha 2: some units busier than others).
    fasc_unit_alpha: float = 2.0
    # Refractory period of one unit: a motor neurone cannot discharge again within a few ms (the
    # shortest doublet intervals are 2.5-5 ms, Bawa & Calancie 1983).
    fasc_refractory_ms: float = 5.0
    # Shape family of the units: "simple", "polyphasic", "slow" or "mixed" (see muap.py).
    fasc_shape: str = "mixed"
    # Surface p-p, log-normal across units, clipped to 15-2000 uV: tens of uV to 1-2 mV on a calf
    # (De Luca 1997; FPs counted from >= 50 uV p-p on the surface, EEG Clin Neurophysiol 1994;
    # needle 561 +- 367 uV, de Carvalho & Swash 2013). Units of the "slow" family are larger.
    fasc_ptp_median_uv: float = 120.0
    fasc_ptp_sigma: float = 0.8  # sigma of log(p-p)
    fasc_ptp_range_uv: tuple[float, float] = (15.0, 2000.0)
    # Duration (2 % support) 15 +- 5 ms, clipped to 5-30 ms: needle FPs last 12.6 +- 4.4 ms (de
    # Carvalho & Swash, JNNP 2013) and the tissue low-pass lengthens them on the surface, 8-30 ms
    # (De Luca 1997; Merletti & Parker 2004). Polyphasic and slow units are longer (units.py).
    fasc_duration_ms: tuple[float, float] = (15.0, 5.0)  # mean, sd
    fasc_duration_range_ms: tuple[float, float] = (5.0, 30.0)
    # In "mixed": 10.5 % polyphasic in normal muscle, 22.6 % in partly denervated muscle (de Carvalho
    # & Swash 2013); of the other units, a share is slow (large, deep units seen through more tissue).
    fasc_complex_fraction: float = 0.1
    fasc_slow_fraction: float = 0.25
    fasc_unstable_fraction: float = 0.0  # fraction of complex units that are unstable (jitter, blocking)
    # Multiplets: chance that a discharge is a doublet / a triplet of the same unit, the later
    # potentials 5-40 ms after the one before (Bawa & Calancie 1983; Kleine et al. 2012).
    fasc_doublet_prob: float = 0.0
    fasc_triplet_prob: float = 0.0
    fasc_multiplet_interval_ms: tuple[float, float] = (5.0, 40.0)
    amp_jitter: float = 0.03  # sd of log gain per discharge (a few percent)
    time_jitter_ms: float = 0.05  # sd of component timing per discharge (stable units, sub-ms)
    unstable_jitter_ms: float = 0.4  # component timing sd of unstable units
    unstable_block_prob: float = 0.1  # chance that a secondary component is blocked in one discharge
    # Motor pool recruited by voluntary activity, PLMs, cramps and jerks (per channel).
    pool_units: int = 40
    pool_ptp_median_uv: float = 60.0
    pool_ptp_sigma: float = 0.6
    # Firing 8-30 Hz (minimum 8 Hz, Fuglevand 1993; the brief caps voluntary at 30 Hz), ISI CV 0.1.
    firing_hz: tuple[float, float] = (8.0, 30.0)
    firing_cv: float = 0.1
    voluntary_per_h: float = 0.0
    voluntary_s: tuple[float, float] = (1.0, 15.0)
    voluntary_ramp_s: tuple[float, float] = (0.3, 1.5)
    # PLM (AASM): bursts 0.5-10 s, >= 4 movements 5-90 s apart onset to onset.
    plm_series_per_h: float = 0.0
    plm_per_series: tuple[int, int] = (4, 30)
    plm_interval_s: tuple[float, float] = (15.0, 40.0)
    plm_s: tuple[float, float] = (0.8, 4.0)
    # Cramps: seconds to minutes, sudden, dense, self-extinguishing (Minetto et al. 2013).
    cramp_per_h: float = 0.0
    cramp_s: tuple[float, float] = (10.0, 90.0)
    # Myoclonus: 25-150 ms multi-unit bursts (van der Veen 2024; fragmentary myoclonus < 150 ms).
    myoclonus_per_h: float = 0.0
    myoclonus_ms: tuple[float, float] = (25.0, 150.0)
    myoclonus_units: tuple[int, int] = (6, 20)
    # Artifacts (see artifacts.py). Pops: a step of the electrode's half-cell potential recovering
    # exponentially over 100s of ms; per channel per hour.
    pop_per_h: float = 0.0
    pop_uv: tuple[float, float] = (300.0, 2500.0)
    pop_tau_s: tuple[float, float] = (0.1, 0.5)
    # Chance that a pop comes from an electrode shared by every channel of the leg (the reference):
    # the same step then appears on all of them, each with its own gain (see artifacts.py).
    pop_shared_prob: float = 0.5
    motion_per_h: float = 0.0
    motion_s: tuple[float, float] = (1.0, 8.0)
    motion_hz: tuple[float, float] = (1.0, 10.0)
    motion_uv: tuple[float, float] = (300.0, 3000.0)  # peak-to-peak
    leadoff_per_h: float = 0.0
    leadoff_s: tuple[float, float] = (2.0, 60.0)
    saturation_per_h: float = 0.0
    saturation_s: tuple[float, float] = (1.0, 20.0)

    def __post_init__(self) -> None:
        _validate(self)

    @property
    def n_samples(self) -> int:
        """Number of samples of the night."""
        return int(round(self.duration_s * self.sfreq_hz))

    @property
    def meas_datetime(self) -> datetime:
        """``meas_date`` as a timezone-aware UTC datetime."""
        value = datetime.fromisoformat(self.meas_date)
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def to_dict(self) -> dict:
        """Plain-JSON form of the parameters (tuples become lists)."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}


def _plain(value):
    return list(value) if isinstance(value, tuple) else value


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise SimulationError(message)


def _validate(p: SimulationParams) -> None:
    """Refuse parameters no device, muscle or night has (:class:`SimulationError`, one line)."""
    _check_recording(p)
    _check_fields(p)
    _check_events(p)


def _check_recording(p: SimulationParams) -> None:
    """The converter, its rate, channels, rail and date; the units' pools."""
    lo, hi = SFREQ_RANGE_HZ
    _check(lo <= p.sfreq_hz <= hi, f"sfreq_hz={p.sfreq_hz:g} is outside {lo:g}-{hi:g} Hz")
    _check(float(p.sfreq_hz).is_integer(), f"sfreq_hz={p.sfreq_hz:g} must be a whole number of Hz")
    lo_c, hi_c = CHANNEL_RANGE
    _check(lo_c <= p.n_channels <= hi_c, f"n_channels={p.n_channels} is outside {lo_c}-{hi_c}")
    _check(p.duration_s >= 1.0, f"duration_s={p.duration_s:g} must be at least 1 s")
    _check(p.duration_s <= 48 * 3600, f"duration_s={p.duration_s:g} is longer than 48 h")
    _check(
        0 <= p.fasc_rate_per_min < MAX_FASC_RATE_PER_MIN,
        f"fasc_rate_per_min={p.fasc_rate_per_min:g} must be in 0-{MAX_FASC_RATE_PER_MIN:g}",
    )
    _check(p.mains_hz in (50.0, 60.0), f"mains_hz={p.mains_hz:g} must be 50 or 60")
    lo_b, hi_b = RESOLUTION_BITS_RANGE
    _check(lo_b <= p.resolution_bits <= hi_b,
           f"resolution_bits={p.resolution_bits} is outside {lo_b}-{hi_b} bits (real EMG "
           "converters have 10-24; EDF+/BDF+ hold at most 24)")
    _check(float(p.resolution_bits).is_integer(),
           f"resolution_bits={p.resolution_bits} must be a whole number of bits")
    _check(p.rail_uv > 100, f"rail_uv={p.rail_uv:g} is too small")
    _check(p.rail_uv <= MAX_RAIL_UV, f"rail_uv={p.rail_uv:g} is above {MAX_RAIL_UV:.0f} uV "
           "(+-5 V, beyond any biopotential converter's input range)")
    _check(p.rest_margin_s >= 0, "rest_margin_s must be >= 0")
    try:
        _ = p.meas_datetime
    except ValueError as exc:
        raise SimulationError(f"meas_date={p.meas_date!r} is not an ISO 8601 date-time") from exc
    _check(1 <= p.fasc_units <= MAX_UNITS, f"fasc_units={p.fasc_units} is outside 1-{MAX_UNITS}")
    _check(p.fasc_shape in FASC_SHAPES,
           f"fasc_shape={p.fasc_shape!r} must be one of {', '.join(FASC_SHAPES)}")
    _check(p.fasc_unit_alpha > 0, "fasc_unit_alpha must be > 0")
    _check(2 <= p.pool_units <= MAX_UNITS, f"pool_units={p.pool_units} is outside 2-{MAX_UNITS}")
    _check(p.myoclonus_units[0] >= 2, "myoclonus_units must start at >= 2")


def _check_fields(p: SimulationParams) -> None:
    """Every number finite and not negative, probabilities in 0-1, ranges (low, high)."""
    for f in fields(p):
        value = getattr(p, f.name)
        if isinstance(value, tuple):
            _check_tuple(f.name, value)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            _check(math.isfinite(value), f"{f.name}={value} must be a finite number")
            _check(value >= 0, f"{f.name}={value:g} must not be negative")
            if f.name.endswith(("_fraction", "_prob")):
                _check(value <= 1, f"{f.name}={value:g} is a probability: it must be in 0-1")
    for name in ("plm_per_series", "plm_interval_s", "plm_s", "myoclonus_ms", "voluntary_s",
                 "cramp_s", "fasc_ptp_range_uv", "fasc_duration_range_ms", "firing_hz",
                 "fasc_multiplet_interval_ms",
                 "noise_band_hz", "pop_uv", "pop_tau_s", "motion_s", "motion_hz", "motion_uv",
                 "leadoff_s", "saturation_s", "myoclonus_units", "voluntary_ramp_s"):
        value = getattr(p, name)
        _check(len(value) == 2 and value[0] <= value[1], f"{name}={value} must be (low, high)")


def _check_events(p: SimulationParams) -> None:
    """The events' figures within what the literature gives them."""
    _check(p.plm_per_series[0] >= 4, "plm_per_series must start at >= 4 (AASM series)")
    _check(5.0 <= p.plm_interval_s[0] and p.plm_interval_s[1] <= 90.0,
           "plm_interval_s must lie within 5-90 s (AASM)")
    _check(0.5 <= p.plm_s[0] and p.plm_s[1] <= 10.0, "plm_s must lie within 0.5-10 s (AASM)")
    _check(25.0 <= p.myoclonus_ms[0] and p.myoclonus_ms[1] <= 150.0,
           "myoclonus_ms must lie within 25-150 ms")
    _check(5.0 <= p.fasc_duration_range_ms[0] and p.fasc_duration_range_ms[1] <= 30.0,
           "fasc_duration_range_ms must lie within 5-30 ms")
    _check(10.0 <= p.fasc_ptp_range_uv[0] and p.fasc_ptp_range_uv[1] <= 2000.0,
           "fasc_ptp_range_uv must lie within 10-2000 uV")
    lo_i, hi_i = MULTIPLET_INTERVAL_LIMITS_MS
    _check(lo_i <= p.fasc_multiplet_interval_ms[0] and p.fasc_multiplet_interval_ms[1] <= hi_i,
           f"fasc_multiplet_interval_ms must lie within {lo_i:g}-{hi_i:g} ms")
    _check(p.fasc_refractory_ms <= p.fasc_multiplet_interval_ms[0],
           "fasc_refractory_ms must not exceed the shortest multiplet interval")
    _check(p.fasc_doublet_prob + p.fasc_triplet_prob <= 1.0,
           "fasc_doublet_prob + fasc_triplet_prob must not exceed 1")
    _check(p.motion_uv[1] + p.pop_uv[1] < p.rail_uv * 0.9, "artifacts must stay below the rail")
    _check_noise_band(p)


#: Tuples that are not a range of one quantity: (mean, sd) of the unit durations.
_MEAN_SD = ("fasc_duration_ms",)


def _check_tuple(name: str, value: tuple) -> None:
    """Finite and not negative; durations, time constants and frequencies above 0 (a 0-s time
    constant divides by zero, a 0-Hz firing rate never fires)."""
    _check(all(isinstance(v, int | float) and math.isfinite(v) for v in value),
           f"{name} must hold finite numbers")
    _check(all(v >= 0 for v in value), f"{name}={value} must not be negative")
    if name in _MEAN_SD:
        _check(len(value) == 2 and value[0] > 0,
               f"{name}={value} must be (mean, sd) with the mean above 0")
    elif name.endswith(("_s", "_ms", "_hz")):
        _check(all(v > 0 for v in value), f"{name}={value} must be above 0")


def _check_noise_band(p: SimulationParams) -> None:
    """The band ``noise_rms_uv`` holds in: its high edge is capped at 0.45 x the sampling rate,
    and an empty or inverted band has no noise to scale."""
    low, high = p.noise_band_hz
    top = min(high, 0.45 * p.sfreq_hz)
    _check(low < top, f"noise_band_hz={p.noise_band_hz} must have its low edge below its high "
           f"edge, which is capped at 0.45 x sfreq_hz ({top:g} Hz here)")


_NIGHT_S = 8 * 3600.0

_BENIGN = dict(
    duration_s=_NIGHT_S, noise_rms_uv=5.0, fasc_rate_per_min=2.0, fasc_complex_fraction=0.1,
    fasc_doublet_prob=0.02, voluntary_per_h=6.0, plm_series_per_h=0.2, myoclonus_per_h=3.0,
    pop_per_h=1.0, motion_per_h=2.0, leadoff_per_h=0.1, saturation_per_h=0.1,
)
_BUSY = dict(
    duration_s=_NIGHT_S, noise_rms_uv=6.0, mains_uv=6.0, fasc_rate_per_min=5.0,
    fasc_complex_fraction=0.1, fasc_doublet_prob=0.03, voluntary_per_h=30.0,
    plm_series_per_h=0.75, cramp_per_h=0.4, myoclonus_per_h=20.0, pop_per_h=4.0,
    motion_per_h=10.0, leadoff_per_h=0.5, saturation_per_h=0.5,
)

#: Named profiles: name -> parameters (an 8-hour night unless overridden).
PROFILES: dict[str, SimulationParams] = {
    # Rest all night: fasciculations only, low noise, weak mains.
    "quiet": SimulationParams(
        profile="quiet", duration_s=_NIGHT_S, noise_rms_uv=3.0, mains_uv=1.0, wander_uv=8.0,
        fasc_rate_per_min=3.0,
    ),
    # An ordinary night: benign twitch rate, some movement, a PLM series or two, a few artifacts.
    "benign-night": SimulationParams(profile="benign-night", **_BENIGN),
    # Lots of movement, PLMs, cramps, myoclonus and artifacts, plus twitches.
    "busy-night": SimulationParams(profile="busy-night", **_BUSY),
    # The false-positive control: a busy night without a single fasciculation.
    "no-twitch": SimulationParams(profile="no-twitch", **{**_BUSY, "fasc_rate_per_min": 0.0}),
    # Complex and unstable polyphasic units, larger and longer, with doublets (22.6 % polyphasic in
    # partly denervated muscle, 799 vs 561 uV and 13.7 vs 12.6 ms: de Carvalho & Swash 2013).
    "complex": SimulationParams(
        profile="complex", **{**_BENIGN, "fasc_rate_per_min": 15.0, "fasc_units": 8,
                              "fasc_complex_fraction": 0.6, "fasc_unstable_fraction": 0.5,
                              "fasc_doublet_prob": 0.15, "fasc_ptp_median_uv": 170.0,
                              "fasc_duration_ms": (13.7, 5.4)},
    ),
}


def load_profile(name: str, **overrides) -> SimulationParams:
    """Return the parameters of a named profile with some fields replaced.

    Parameters
    ----------
    name : str
        One of :data:`PROFILES`.
    **overrides
        Any field of :class:`SimulationParams` (e.g. ``duration_s=600, sfreq_hz=2000``).

    Returns
    -------
    SimulationParams

    Raises
    ------
    SimulationError
        Unknown profile, unknown field or a value out of range.
    """
    if name not in PROFILES:
        raise SimulationError(f"unknown profile {name!r} (choose from {', '.join(PROFILES)})")
    known = {f.name for f in fields(SimulationParams)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise SimulationError(f"unknown simulation parameter {unknown[0]!r}")
    return replace(PROFILES[name], **overrides)


def parse_value(name: str, text: str):
    """Convert ``text`` to the type of field ``name`` (for ``--set key=value``)."""
    known = {f.name: f for f in fields(SimulationParams)}
    if name not in known:
        raise SimulationError(f"unknown simulation parameter {name!r}")
    current = getattr(SimulationParams(), name)
    try:
        if isinstance(current, tuple):
            kind = int if all(isinstance(v, int) for v in current) else float
            return tuple(kind(v) for v in text.split(",") if v.strip())
        if isinstance(current, bool):
            return text.lower() in ("1", "true", "yes")
        if isinstance(current, int):
            return int(text)
        if isinstance(current, float):
            return float(text)
    except ValueError as exc:
        raise SimulationError(f"{name}={text!r} is not a valid {type(current).__name__}") from exc
    return text


__all__ = [
    "PROFILES", "SimulationError", "SimulationParams", "load_profile", "parse_value"
]
