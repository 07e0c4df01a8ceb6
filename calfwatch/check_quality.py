"""Signal quality second by second for ``calfwatch check``, with plain advice and a verdict.

:class:`QualityMeter` takes the raw µV chunks of a live stream and, for every completed second,
measures per channel: the noise floor of the 20-450 Hz band with the mains notches (robust sigma,
median |y| / 0.6745, as the detector uses), the mains fraction (power within 1 Hz of the mains
frequency and its harmonics / total power of the raw signal), the fraction of samples at the rails
(saturation), the fraction of repeated samples (flat: no contact or a dead channel), the movement
level (RMS below 15 Hz) and the fraction lost on the link. :func:`advice` turns the median of the
seconds into plain sentences and a pass/fail verdict.

Limits (:data:`LIMITS`): surface calf EMG at rest has a 3-8 µV noise floor (see the project's
domain notes); above 15 µV small fasciculation potentials drown. Mains above half the raw power, any
saturation above 1 %, flat stretches above 20 % or movement above 50 µV fail the check.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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


@dataclass
class SecondQuality:
    """Quality of one channel over one second."""

    noise_uv: float
    mains_fraction: float
    saturated_fraction: float
    flat_fraction: float
    movement_uv: float
    lost_fraction: float


class QualityMeter:
    """Per-second quality of a live stream.

    Parameters
    ----------
    sfreq_hz : float
        Sampling rate.
    n_channels : int
        Channels.
    rail_uv : float
        Largest magnitude the device can report (saturation level).
    mains_hz : float
        50 or 60.
    """

    def __init__(self, sfreq_hz: float, n_channels: int, rail_uv: float, mains_hz: float) -> None:
        from dsp.filters import StreamingFilter, design_sos

        self.sfreq_hz = float(sfreq_hz)
        self.n = int(round(sfreq_hz))
        self.rail_uv = float(rail_uv)
        self.mains_hz = float(mains_hz)
        self._filter = StreamingFilter(design_sos(sfreq_hz, mains_hz=mains_hz), n_channels)
        self._raw = np.zeros((n_channels, 0))
        self._y = np.zeros((n_channels, 0))
        self.seconds: list[list[SecondQuality]] = []
        self._drained = False

    def feed(self, data_uv: np.ndarray) -> list[list[SecondQuality]]:
        """Take samples (NaN = lost); return the seconds completed by them."""
        self._raw = np.concatenate([self._raw, data_uv], axis=1)
        if data_uv.shape[1] and not self._drained:
            y = self._filter.process(np.nan_to_num(data_uv, nan=0.0))
            self._y = np.concatenate([self._y, y], axis=1)
        done = []
        while self._y.shape[1] >= self.n:
            raw, self._raw = self._raw[:, : self.n], self._raw[:, self.n :]
            y, self._y = self._y[:, : self.n], self._y[:, self.n :]
            done.append([self._channel(raw[c], y[c]) for c in range(raw.shape[0])])
        self.seconds.extend(done)
        return done

    def finish(self) -> list[list[SecondQuality]]:
        """Drain the filter's pipeline; return the seconds this completes."""
        self._drained = True
        tail = self._filter.flush()
        self._y = np.concatenate([self._y, tail], axis=1)
        return self.feed(np.zeros((self._raw.shape[0], 0)))

    def _channel(self, raw: np.ndarray, y: np.ndarray) -> SecondQuality:
        ok = np.isfinite(raw)
        lost = 1.0 - float(ok.mean())
        if not ok.any():
            return SecondQuality(np.nan, np.nan, 0.0, 0.0, np.nan, 1.0)
        x = raw[ok]
        spec = np.abs(np.fft.rfft(x - x.mean())) ** 2
        freqs = np.fft.rfftfreq(len(x), 1.0 / self.sfreq_hz)
        near = np.zeros(len(freqs), bool)
        for h in np.arange(self.mains_hz, self.sfreq_hz / 2, self.mains_hz):
            near |= np.abs(freqs - h) <= 1.0
        total = float(spec[1:].sum())
        low = spec[(freqs > 0) & (freqs < MOVEMENT_HZ)].sum()
        return SecondQuality(
            noise_uv=float(np.median(np.abs(y[ok])) / 0.6745),
            mains_fraction=float(spec[near].sum() / total) if total > 0 else 0.0,
            saturated_fraction=float(np.mean(np.abs(x) >= 0.999 * self.rail_uv)),
            flat_fraction=float(np.mean(np.diff(x) == 0)) if len(x) > 1 else 1.0,
            movement_uv=float(np.sqrt(2 * low / len(x) ** 2)),
            lost_fraction=lost,
        )


def channel_summary(seconds: list[list[SecondQuality]], ch: int) -> SecondQuality:
    """Median of each measure over the seconds of channel ``ch``."""
    rows = [s[ch] for s in seconds]
    fields = SecondQuality.__dataclass_fields__
    with np.errstate(all="ignore"):
        values = {f: float(np.nanmedian([getattr(r, f) for r in rows])) if rows else np.nan
                  for f in fields}
    return SecondQuality(**values)


def advice(q: SecondQuality, mains_hz: float) -> list[str]:
    """Plain advice for one channel; empty when the channel is good."""
    tips = []
    if q.lost_fraction > LIMITS["lost_fraction_max"]:
        tips.append("samples are being lost on the link: move the receiver closer, check the "
                    "cable")
    if not np.isfinite(q.noise_uv) or q.flat_fraction > LIMITS["flat_fraction_max"] or (
            q.noise_uv < LIMITS["noise_uv_min"]):
        tips.append("no signal (flat): check that the electrodes touch the skin and the leads "
                    "are plugged in (electrode contact)")
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
