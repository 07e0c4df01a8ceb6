"""Scenes made independently of calfwatch's simulator, for checking the detector on data it was not
built from.

Nothing here shares code or assumptions with :mod:`calfwatch.simulator` or the classifier:

- potentials are random band-limited waveforms (white noise band-passed around a random spectral
  peak of 30-150 Hz, 6-28 ms long under a Tukey window, optionally with a slow lead-in or tail),
  not sums of Hermite functions; or, with ``shape_bank``, real motor-unit templates from needle
  recordings as a surface electrode sees them (:mod:`needle_shapes`); or, with ``surface_bank``,
  units' potentials recorded at the skin (:mod:`surface_averages`); or, with
  ``volume_conductor``, potentials of fibres' action potentials in a volume conductor
  (:mod:`volume_conductor_shapes`);
- each unit fires as a Poisson process with a 3-ms refractory period, units independent;
- background noise is coloured Gaussian noise (20-450 Hz) or a real resting recording (looped);
- voluntary bursts are interference patterns (band-limited Gaussian noise under a ramped envelope),
  jerks are 30-120 ms bursts of the same, pops are steps with an exponential recovery on every
  channel, motion is a 1-10 Hz wave;
- the ECG, when asked for (``ecg_uv``), leaks into every channel as QRS complexes of Gaussian
  Q, R and S waves (the sum-of-Gaussians morphology of McSharry et al., IEEE Trans Biomed Eng
  2003;50:289; QRS 80-100 ms) with a T wave, at a heart rate with respiratory sinus arrhythmia
  (0.25 Hz, +-3 %) and beat-to-beat jitter (2 %), each channel with its own size and polarity.
  Heartbeats are not truth rows: a fasciculation counted on one is false.
- a drift of the electrode-skin potential at rest, when asked for (``drift_uv``): on each channel a
  sum of four sinusoids of random frequency (0.05-1 Hz: breathing at 0.1-0.5 Hz moves the skin
  under the electrode, sweat and pressure drift slower), amplitude and phase, scaled to
  ``drift_uv`` peak; it is no event (faster waves, 1-10 Hz, are motion, an artifact of its own).
- a mains line whose frequency wanders, when asked for (``mains_wander_hz``): up to that far
  from ``mains_hz`` either way every ``MAINS_WANDER_PERIOD_S``, from a random point of that cycle,
  the same on every channel (a grid's
  frequency follows its load: the European grid's standard range is +-50 mHz, ENTSO-E, and
  EN 50160 allows +-1 %).
- a noise that swings, when asked for (``noise_swing_uv``): Gaussian 20-450 Hz noise added on each
  channel with an RMS rising from 0 to ``noise_swing_uv`` and back every ``NOISE_SWING_PERIOD_S``
  (a contact that loosens and settles, a posture near mains wiring: the electrode-skin noise
  changes over a night); :func:`noise_swing_rms_uv` gives the RMS over time.

Truth rows: ``(onset_s, duration_s, kind, channel, ptp_uv, detail)`` with ``detail`` ``doublet``
for the second potential of a doublet and ``overlap`` for a potential whose main phases (where its
magnitude reaches half its peak) start before those of an earlier potential on its channel have
ended: the two sum into one compound waveform that no detector can split, counted once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from needle_shapes import SHALLOW_CORNER_HZ, surface_shape
from scipy import signal
from surface_averages import as_sampled
from volume_conductor_shapes import motor_unit_shape

TRUTH_DTYPE = np.dtype([("onset_s", float), ("duration_s", float), ("kind", "U13"),
                        ("channel", int), ("ptp_uv", float), ("detail", "U12")])


@dataclass
class Scene:
    """Samples (µV, shape (n_channels, n)), rate and truth of an independent scene;
    ``noise_rms_uv`` is the background's RMS in 20-450 Hz (mean over channels)."""

    data_uv: np.ndarray
    sfreq_hz: float
    truth: np.ndarray
    noise_rms_uv: float
    busy_s: list = field(default_factory=list)  # (channel, start_s, stop_s) of non-rest spans


def random_potential(rng, sfreq_hz, ptp_uv, peak_hz=None, duration_ms=None, slow=False):
    """One band-limited random potential with the given peak-to-peak."""
    dur_s = (duration_ms or rng.uniform(6.0, 28.0)) / 1e3
    n = max(8, int(round(dur_s * sfreq_hz)))
    f0 = peak_hz or rng.uniform(30.0, 150.0)
    b, a = signal.butter(2, [f0 * 0.6, min(f0 * 1.6, 0.45 * sfreq_hz)], "bandpass", fs=sfreq_hz)
    w = signal.filtfilt(b, a, rng.standard_normal(n + 400))[200:200 + n]
    w *= signal.windows.tukey(n, 0.6)
    if slow:  # a slow lead-in or tail: a broad hump a fifth of the size, before or after
        m = n // 2
        hump = signal.windows.hann(m) * rng.choice([-1.0, 1.0]) * 0.2 * np.abs(w).max()
        w = np.concatenate([hump, w]) if rng.random() < 0.5 else np.concatenate([w, hump])
    return w / np.ptp(w) * ptp_uv


def coloured_noise(rng, n, sfreq_hz, rms_uv):
    """Gaussian noise in 20-450 Hz with the given RMS."""
    b, a = signal.butter(2, [20.0, min(450.0, 0.45 * sfreq_hz)], "bandpass", fs=sfreq_hz)
    x = signal.lfilter(b, a, rng.standard_normal(n + 2000))[2000:]
    return x * (rms_uv / x.std())


def band_rms(x: np.ndarray, sfreq_hz: float) -> float:
    """RMS in the surface-EMG band 20-450 Hz (4th-order Butterworth, the band every floor uses)."""
    sos = signal.butter(4, [20.0, min(450.0, 0.45 * sfreq_hz)], "bandpass", fs=sfreq_hz,
                        output="sos")
    return float(np.std(signal.sosfiltfilt(sos, x)))


def looped_noise(rng, rest_uv, n, rms_uv):
    """A real resting recording, looped from random offsets with random sign, scaled to RMS."""
    out = np.empty(n)
    i = 0
    while i < n:
        a = int(rng.integers(0, len(rest_uv) // 2))
        piece = rest_uv[a:a + min(n - i, len(rest_uv) - a)] * rng.choice([-1.0, 1.0])
        out[i:i + len(piece)] = piece
        i += len(piece)
    return out * (rms_uv / out.std())


def _interference(rng, n, sfreq_hz, rms_uv, ramp_s):
    x = coloured_noise(rng, n, sfreq_hz, 1.0)
    k = max(1, int(ramp_s * sfreq_hz))
    env = np.ones(n)
    env[:k] = np.linspace(0, 1, k)[: n]
    env[-k:] = np.minimum(env[-k:], np.linspace(1, 0, k)[-min(k, n):])
    return x * env * rms_uv


@dataclass
class SceneSpec:
    """What an independent scene holds (per channel unless said)."""

    minutes: float = 3.0
    sfreq_hz: float = 2000.0
    n_channels: int = 1
    rate_per_min: float = 20.0
    units: int = 6
    ptp_range_uv: tuple = (15.0, 2000.0)  # log-uniform over units
    noise_rms_uv: float = 4.5
    mains_hz: float = 50.0
    mains_uv: float = 3.0
    mains_wander_hz: float = 0.0  # largest departure of the line from mains_hz (module docstring)
    doublet_fraction: float = 0.0
    slow_fraction: float = 0.3
    voluntary_per_min: float = 0.0
    jerks_per_min: float = 0.0
    pops_per_min: float = 0.0
    motion_per_min: float = 0.0
    real_noise: np.ndarray | None = None
    ecg_uv: float = 0.0  # QRS peak-to-peak on the channel, before any filtering
    heart_rate_per_min: float = 60.0
    drift_uv: float = 0.0  # largest excursion of the baseline drift on each channel
    shape_bank: list | None = None  # real unit templates (needle_shapes) instead of random shapes
    surface_bank: list | None = None  # units recorded at the skin (surface_averages), as is
    tissue_corner_hz: tuple = SHALLOW_CORNER_HZ  # the tissue's low-pass on them (needle_shapes)
    volume_conductor: bool = False  # units from a volume-conductor model (volume_conductor_shapes)
    noise_swing_uv: float = 0.0  # largest RMS of the added noise that swings (module docstring)


#: Period of the noise's swing (s): it rises over half of it and falls over the other half.
NOISE_SWING_PERIOD_S = 180.0


def noise_swing_rms_uv(t_s: np.ndarray, spec: SceneSpec) -> np.ndarray:
    """The background's RMS at times ``t_s``: the noise's own, ``noise_rms_uv``, with the swing's."""
    swing = spec.noise_swing_uv * (0.5 - 0.5 * np.cos(2 * np.pi * t_s / NOISE_SWING_PERIOD_S))
    return np.sqrt(spec.noise_rms_uv**2 + swing**2)


def make_scene(spec: SceneSpec, seed: int) -> Scene:
    """Draw an independent scene (see the module docstring)."""
    rng = np.random.default_rng(seed)
    fs, n = spec.sfreq_hz, int(spec.minutes * 60 * spec.sfreq_hz)
    data = np.zeros((spec.n_channels, n))
    rows: list[tuple] = []
    busy: list[tuple] = []
    t = np.arange(n) / fs
    in_band = []
    # where the recording starts in the line's wander: a stream of its own (scenes without it alike)
    wander_start = np.random.default_rng((seed, 3)).uniform(0, 2 * np.pi) if (
        spec.mains_wander_hz) else 0.0
    for ch in range(spec.n_channels):
        if spec.real_noise is not None:
            data[ch] = looped_noise(rng, spec.real_noise, n, spec.noise_rms_uv)
        else:
            data[ch] = coloured_noise(rng, n, fs, spec.noise_rms_uv)
        in_band.append(band_rms(data[ch], fs))
        phase = rng.uniform(0, 2 * np.pi)
        line = _line_phase(t, spec, wander_start)
        data[ch] += spec.mains_uv * (np.sin(line + phase) + 0.3 * np.sin(3 * line + 2 * phase))
    if spec.ecg_uv > 0:
        _add_ecg(np.random.default_rng(rng.integers(2**32)), spec, data)
    if spec.drift_uv > 0:  # a stream of its own: the same scene with and without the drift
        _add_drift(np.random.default_rng((seed, 1)), spec, data)
    if spec.noise_swing_uv > 0:  # and so the swing
        _add_noise_swing(np.random.default_rng((seed, 2)), spec, data)
    _add_pops(rng, spec, data, rows, busy)
    for ch in range(spec.n_channels):
        _add_bursts(rng, spec, data[ch], ch, rows, busy)
        _add_potentials(rng, spec, data[ch], ch, rows, busy)
    truth = np.array(sorted(rows), dtype=TRUTH_DTYPE)
    return Scene(data, fs, truth, float(np.mean(in_band)), busy)


#: Period of the line frequency's wander (s).
MAINS_WANDER_PERIOD_S = 240.0


def _line_phase(t_s: np.ndarray, spec: SceneSpec, start: float) -> np.ndarray:
    """Phase (rad) of the mains line: ``mains_hz`` + ``mains_wander_hz`` x sin(2 pi t / period +
    ``start``), the wander's period ``MAINS_WANDER_PERIOD_S`` (the integral of that frequency)."""
    w = 2 * np.pi / MAINS_WANDER_PERIOD_S
    wander = spec.mains_wander_hz / w * (np.cos(start) - np.cos(w * t_s + start))
    return 2 * np.pi * (spec.mains_hz * t_s + wander)


def _add_ecg(rng, spec, data):
    """QRS-T complexes at every heartbeat, the same beats on every channel."""
    fs, n = spec.sfreq_hz, data.shape[1]
    t = np.arange(-0.1, 0.45, 1 / fs)
    wave = (-0.1 * np.exp(-0.5 * ((t + 0.025) / 0.008) ** 2)
            + np.exp(-0.5 * (t / 0.009) ** 2)
            - 0.3 * np.exp(-0.5 * ((t - 0.025) / 0.009) ** 2)
            + 0.25 * np.exp(-0.5 * ((t - 0.25) / 0.04) ** 2))
    qrs_ptp = np.ptp(wave[np.abs(t) <= 0.05])
    gains = spec.ecg_uv / qrs_ptp * rng.uniform(0.7, 1.0, data.shape[0]) * rng.choice(
        [-1.0, 1.0], data.shape[0])
    rr0 = 60.0 / spec.heart_rate_per_min
    beat = rng.uniform(0.2, rr0)
    while beat < n / fs - 0.5:
        i = int(round(beat * fs))
        size = 1.0 + 0.1 * np.sin(2 * np.pi * 0.25 * beat)  # breathing swings the QRS too
        data[:, i:i + len(wave)] += np.outer(gains * size, wave)[:, : n - i]
        beat += rr0 * (1.0 + 0.03 * np.sin(2 * np.pi * 0.25 * beat) + 0.02 * rng.standard_normal())


def _add_drift(rng, spec, data):
    """A slow wander of the baseline on every channel, each its own."""
    t = np.arange(data.shape[1]) / spec.sfreq_hz
    for x in data:
        wander = sum(rng.uniform(0.3, 1.0) * np.sin(2 * np.pi * rng.uniform(0.05, 1.0) * t
                                                    + rng.uniform(0, 2 * np.pi))
                     for _ in range(4))
        x += spec.drift_uv * wander / np.max(np.abs(wander))


def _add_noise_swing(rng, spec, data):
    """Noise whose RMS swings (:func:`noise_swing_rms_uv`), each channel its own."""
    t = np.arange(data.shape[1]) / spec.sfreq_hz
    swing = np.sqrt(noise_swing_rms_uv(t, spec) ** 2 - spec.noise_rms_uv**2)
    for x in data:
        x += swing * coloured_noise(rng, len(x), spec.sfreq_hz, 1.0)


def _poisson_times(rng, rate_per_s, length_s, refractory_s=0.003):
    if rate_per_s <= 0:
        return np.zeros(0)
    gaps = rng.exponential(1.0 / rate_per_s, int(rate_per_s * length_s * 1.5 + 30)) + refractory_s
    times = np.cumsum(gaps)
    return times[times < length_s]


def _add_potentials(rng, spec, x, ch, rows, busy):
    fs = spec.sfreq_hz
    lo, hi = np.log(spec.ptp_range_uv[0]), np.log(spec.ptp_range_uv[1])
    if spec.volume_conductor:
        bank = [_scaled(motor_unit_shape(rng, fs), float(np.exp(rng.uniform(lo, hi))))
                for _ in range(spec.units)]
    elif spec.surface_bank:
        bank = [_scaled(as_sampled(rng, spec.surface_bank[rng.integers(len(spec.surface_bank))], fs),
                        float(np.exp(rng.uniform(lo, hi))))
                for _ in range(spec.units)]
    elif spec.shape_bank:
        bank = [_scaled(surface_shape(rng, spec.shape_bank[rng.integers(len(spec.shape_bank))],
                                      fs, corner_hz=spec.tissue_corner_hz),
                        float(np.exp(rng.uniform(lo, hi))))
                for _ in range(spec.units)]
    else:
        bank = [random_potential(rng, fs, float(np.exp(rng.uniform(lo, hi))),
                                 slow=rng.random() < spec.slow_fraction) for _ in range(spec.units)]
    weights = rng.dirichlet(np.full(spec.units, 2.0))
    length_s = spec.minutes * 60 - 0.5
    events = []
    for u in range(spec.units):
        for t0 in _poisson_times(rng, spec.rate_per_min / 60 * weights[u], length_s):
            if t0 < 1.0 or _in_busy(busy, ch, t0, 0.6):
                continue
            events.append((t0, u, ""))
            if rng.random() < spec.doublet_fraction:
                events.append((t0 + rng.uniform(0.005, 0.040), u, "doublet"))
    events.sort()
    main = [_main_span_s(w, fs) for w in bank]
    reach = -1.0
    for t0, u, detail in events:
        w = bank[u] * np.exp(0.03 * rng.standard_normal())
        i = int(round(t0 * fs))
        x[i:i + len(w)] += w[: len(x) - i]
        if t0 + main[u][0] < reach and detail != "doublet":
            detail = "overlap"
        reach = max(reach, t0 + main[u][1])
        rows.append((t0, len(w) / fs, "fasciculation", ch, float(np.ptp(w)), detail))


def _scaled(w, ptp_uv):
    return w / np.ptp(w) * ptp_uv


def _main_span_s(w, fs):
    """Start and end (s from the waveform's start) of its main phases: where ``|w|`` reaches half
    its peak. Two potentials whose main phases overlap sum into one compound waveform."""
    big = np.flatnonzero(np.abs(w) >= 0.5 * np.abs(w).max())
    return big[0] / fs, (big[-1] + 1) / fs


def _in_busy(busy, ch, t0, margin_s):
    return any(c == ch and a - margin_s <= t0 <= b + margin_s for c, a, b in busy)


def _add_bursts(rng, spec, x, ch, rows, busy):
    fs, length_s = spec.sfreq_hz, spec.minutes * 60
    for t0 in _poisson_times(rng, spec.voluntary_per_min / 60, length_s - 12, 2.0):
        dur = rng.uniform(1.0, 8.0)
        i, m = int(t0 * fs), int(dur * fs)
        x[i:i + m] += _interference(rng, m, fs, rng.uniform(20, 120), rng.uniform(0.1, 0.5))
        rows.append((t0, dur, "voluntary", ch, 0.0, ""))
        busy.append((ch, t0, t0 + dur))
    for t0 in _poisson_times(rng, spec.jerks_per_min / 60, length_s - 1, 1.0):
        dur = rng.uniform(0.03, 0.12)
        i, m = int(t0 * fs), int(dur * fs)
        x[i:i + m] += _interference(rng, m, fs, rng.uniform(40, 150), dur / 4)
        rows.append((t0, dur, "myoclonus", ch, 0.0, ""))
        busy.append((ch, t0, t0 + dur))
    for t0 in _poisson_times(rng, spec.motion_per_min / 60, length_s - 10, 2.0):
        dur = rng.uniform(1.0, 6.0)
        i, m = int(t0 * fs), int(dur * fs)
        tt = np.arange(m) / fs
        wave = np.sin(2 * np.pi * rng.uniform(1, 10) * tt) * np.sin(np.pi * tt / dur) ** 2
        x[i:i + m] += wave * rng.uniform(200, 1500)
        rows.append((t0, dur, "artifact", ch, 0.0, "motion"))
        busy.append((ch, t0, t0 + dur))


def _add_pops(rng, spec, data, rows, busy):
    fs, n = spec.sfreq_hz, data.shape[1]
    for t0 in _poisson_times(rng, spec.pops_per_min / 60, spec.minutes * 60 - 3, 1.0):
        step = rng.choice([-1.0, 1.0]) * rng.uniform(300, 2500)
        tau = rng.uniform(0.05, 0.5)
        i = int(t0 * fs)
        tail = np.exp(-np.arange(n - i) / fs / tau)
        for ch in range(data.shape[0]):  # the shared reference electrode moves every channel
            data[ch, i:] += step * rng.uniform(0.5, 1.0) * tail
            rows.append((t0, 4.6 * tau, "artifact", ch, abs(step), "pop"))
            busy.append((ch, t0, t0 + 4.6 * tau))
