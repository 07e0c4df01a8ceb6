"""Signal quality second by second for ``calfwatch check``, with plain advice and a verdict.

:class:`QualityMeter` takes the raw µV chunks of a live stream through the detection chain the night
runs (:class:`dsp.chain.DetectionChain`, with quality windows of one second) and, for every
completed second, reports per channel what the night's quality rows hold: the noise floor of the
20-450 Hz band with the mains notches (robust sigma, median |y| / 0.6745 per noise block, as the
detector uses), the mains fraction (power at the mains line and its 2nd and 3rd harmonics / variance
of the raw signal), the fraction of samples in runs at the window's extremes (saturation), the
fraction in flat runs of ``flat_run_s`` (no contact or a dead channel), the fraction lost on the
link and the floor ratio (about 1 for raw EMG, about 0.3 for a rectified output: :mod:`dsp.quality`);
besides, the movement level (RMS below 15 Hz), which only the check needs. :func:`advice`
turns the median of the seconds into plain sentences and a pass/fail verdict.

Limits (:data:`LIMITS`): surface calf EMG at rest has a 3-8 µV noise floor (see the project's
domain notes); above 15 µV small fasciculation potentials drown. Mains above half the raw power, any
saturation above 1 %, flat stretches above 20 %, movement above 50 µV or a rectified signal fail the
check.

Flat runs at the rails: the quality windows count a run held at the window's extremes as flat as
well as saturated (the night's rows keep both). A clipping signal (a swing larger than the
amplifier's range) is then "flat" for as long as it is saturated, though it has contact; so the
flat advice goes by the flat time the rails do not explain, the median flat fraction less the
median saturated one (:attr:`SecondQuality.flat_off_rails_fraction`). A channel pinned at a rail
for whole seconds (a lead off) has no extremes within those seconds: 0 % saturated and all flat,
and the flat advice; so has one pinned for most of the time, with a few seconds of signal between.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from dsp.quality import is_rectified

#: Pass/fail limits, per channel, on the median of the seconds measured.
LIMITS = {
    "noise_uv_max": 15.0,
    "noise_uv_min": 0.3,
    "mains_fraction_max": 0.5,
    "saturated_fraction_max": 0.01,
    "flat_fraction_max": 0.2,
    "movement_uv_max": 50.0,
    "lost_fraction_max": 0.05,
}
#: Movement band upper edge (Hz).
MOVEMENT_HZ = 15.0
#: Length of the check's quality windows (s).
WINDOW_S = 1.0


@dataclass
class SecondQuality:
    """Quality of one channel over one second (or the medians of the seconds,
    :func:`channel_summary`)."""

    noise_uv: float
    mains_fraction: float
    saturated_fraction: float
    flat_fraction: float
    movement_uv: float
    lost_fraction: float
    floor_ratio: float

    @property
    def flat_off_rails_fraction(self) -> float:
        """The flat fraction less the saturated one, not below 0 (NaN stays NaN): the flat time
        not held at the rails.

        A run held at the rails counts as both, as every flat run (``flat_run_s``, 0.02 s) is at
        least ``rail_run`` (3) samples long at the rates EMG is sampled at; where it is not
        (below about 125 Hz) the difference errs towards flat. Of :func:`channel_summary`'s
        medians it is the difference of the medians, not the median of the seconds'
        differences: a lead pinned at a rail for most of the time, leaving it now and then,
        stays flat. The seconds it leaves the rail in read saturated, those of signal between
        clean; together they may be most seconds, though neither alone is.
        """
        return float(np.maximum(0.0, self.flat_fraction - self.saturated_fraction))


def movement_uv(x: np.ndarray, sfreq_hz: float) -> float:
    """RMS (µV) of the valid samples of ``x`` below ``MOVEMENT_HZ``, mean removed; NaN when none."""
    x = x[np.isfinite(x)]
    if not x.size:
        return float("nan")
    spec = np.abs(np.fft.rfft(x - x.mean())) ** 2
    freqs = np.fft.rfftfreq(len(x), 1.0 / sfreq_hz)
    low = spec[(freqs > 0) & (freqs < MOVEMENT_HZ)].sum()
    return float(np.sqrt(2 * low / len(x) ** 2))


class QualityMeter:
    """Per-second quality of a live stream, measured by the detection chain's quality windows.

    Parameters
    ----------
    sfreq_hz : float
        Sampling rate.
    n_channels : int
        Channels.
    mains_hz : float
        50 or 60.
    """

    def __init__(self, sfreq_hz: float, n_channels: int, mains_hz: float) -> None:
        from dsp.chain import DetectionChain

        self.sfreq_hz = float(sfreq_hz)
        self.mains_hz = float(mains_hz)
        self._chain = DetectionChain(sfreq_hz, n_channels, mains_hz, quality_window_s=WINDOW_S)
        self._window = self._chain.grid.window_samples
        self._raw = np.zeros((n_channels, 0))  # from sample self._raw_start on
        self._raw_start = 0
        self._next = 0
        self._finished = False
        self.seconds: list[list[SecondQuality]] = []

    def feed(self, data_uv: np.ndarray) -> list[list[SecondQuality]]:
        """Take samples (NaN = lost); return the seconds completed by them."""
        data = np.asarray(data_uv, dtype=np.float64)
        if self._finished or not data.shape[1]:
            return []
        self._raw = np.concatenate([self._raw, data], axis=1)
        out = self._chain.process(data, self._next)
        self._next += data.shape[1]
        return self._seconds(out.quality)

    def finish(self) -> list[list[SecondQuality]]:
        """Measure what the chain still holds; return the complete seconds this gives."""
        if self._finished:
            return []
        self._finished = True
        return self._seconds(self._chain.flush().quality)

    def _seconds(self, rows: np.ndarray) -> list[list[SecondQuality]]:
        """One list of channels per complete window of ``rows`` (the chain's quality rows)."""
        done = []
        for start in np.unique(rows["start"]):
            window = rows[rows["start"] == start]
            if window["stop"][0] - start < self._window:
                continue  # the end of the stream: not a whole second
            raw = self._raw[:, start - self._raw_start : window["stop"][0] - self._raw_start]
            done.append([self._channel(row, raw[row["channel"]]) for row in window])
            self._raw = self._raw[:, window["stop"][0] - self._raw_start :]
            self._raw_start = int(window["stop"][0])
        self.seconds.extend(done)
        return done

    def _channel(self, row: np.void, raw: np.ndarray) -> SecondQuality:
        return SecondQuality(
            noise_uv=float(row["noise_rms_uv"]),
            mains_fraction=float(row["mains_fraction"]),
            saturated_fraction=float(row["saturated_fraction"]),
            flat_fraction=float(row["flat_fraction"]),
            movement_uv=movement_uv(raw, self.sfreq_hz),
            lost_fraction=float(row["nan_fraction"]),
            floor_ratio=float(row["floor_ratio"]),
        )


def channel_summary(seconds: list[list[SecondQuality]], ch: int) -> SecondQuality:
    """Median of each measure over the seconds of channel ``ch`` (NaN where no second has it)."""
    rows = [s[ch] for s in seconds]
    fields = SecondQuality.__dataclass_fields__
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN: nothing measured
        values = {f: float(np.nanmedian([getattr(r, f) for r in rows])) if rows else np.nan
                  for f in fields}
    return SecondQuality(**values)


def advice(q: SecondQuality, mains_hz: float) -> list[str]:
    """Plain advice for one channel; empty when the channel is good.

    The flat advice (no contact) goes by the flat time off the rails
    (:attr:`SecondQuality.flat_off_rails_fraction`): a clipping signal gets the saturation advice,
    not the flat one; a lead pinned at a rail for whole seconds the flat one.
    """
    tips = []
    if q.lost_fraction > LIMITS["lost_fraction_max"]:
        tips.append("samples are being lost on the link: move the receiver closer, check the "
                    "cable")
    if not np.isfinite(q.noise_uv) or q.flat_off_rails_fraction > LIMITS["flat_fraction_max"]:
        tips.append("no signal (flat): check that the electrodes touch the skin and the leads "
                    "are plugged in (electrode contact)")
    elif q.noise_uv < LIMITS["noise_uv_min"]:
        tips.append("no signal in the EMG band (20-450 Hz), though the signal moves: check that "
                    "the electrodes touch the skin (electrode contact), and that this is the "
                    "sensor's raw output (RAW on a MyoWare 2.0), not its envelope (ENV)")
    if is_rectified(q.floor_ratio):
        tips.append("the signal never dips below its baseline (rectified): connect the sensor's "
                    "raw output (RAW on a MyoWare 2.0), not RECT or ENV")
    if q.saturated_fraction > LIMITS["saturated_fraction_max"]:
        tips.append("the signal hits the amplifier's limits (saturation): press the electrodes "
                    "on, check the reference electrode, relax the calf")
    if q.mains_fraction > LIMITS["mains_fraction_max"]:
        tips.append(f"strong mains interference ({mains_hz:g} Hz): check electrode contact, keep "
                    "the leads short and together, move away from chargers and power cables")
    if np.isfinite(q.noise_uv) and q.noise_uv > LIMITS["noise_uv_max"]:
        tips.append(f"noisy baseline ({q.noise_uv:.0f} µV): clean the skin, use fresh electrodes, "
                    "relax the calf")
    if np.isfinite(q.movement_uv) and q.movement_uv > LIMITS["movement_uv_max"]:
        tips.append("movement: keep the leg still and the leads taped down during the check")
    return tips


def verdict(seconds: list[list[SecondQuality]], ch_names: list[str],
            mains_hz: float) -> tuple[bool, dict[str, list[str]]]:
    """Pass (no advice on any channel) and the advice per channel."""
    if not seconds:
        return False, {name: ["no data arrived during the check"] for name in ch_names}
    tips = {name: advice(channel_summary(seconds, c), mains_hz) for c, name in enumerate(ch_names)}
    return not any(tips.values()), tips
