"""Assembly of a simulated night: schedule once, then samples block by block.

Samples are made in fixed internal blocks of ``BLOCK_SAMPLES`` whatever chunk size the caller asks
for, so the output does not depend on ``chunk_s``; each block adds only the events overlapping it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from acquisition.stream import SampleChunk, StreamInfo
from calfwatch.simulator.artifacts import apply_artifacts
from calfwatch.simulator.events import ChannelPlan, Schedule, build_schedule
from calfwatch.simulator.muap import add_discharges
from calfwatch.simulator.noise import NoiseSource
from calfwatch.simulator.params import SimulationError, SimulationParams
from calfwatch.simulator.truth import TruthEvent, summarize

BLOCK_SAMPLES = 16384


@dataclass
class SimulatedNight:
    """A night decided by ``params`` and ``seed``: stream info, ground truth and samples on demand."""

    params: SimulationParams
    seed: int
    info: StreamInfo
    truth: list[TruthEvent]
    schedule: Schedule

    @property
    def n_samples(self) -> int:
        """Samples per channel."""
        return self.params.n_samples

    def truth_summary(self) -> dict:
        """Counts, rest minutes and rates per channel and pooled, PLM index, profile, seed, params.

        Returns
        -------
        dict
            ``channels`` maps each channel name to ``rest_minutes``, ``fasciculations`` (doublets
            excluded), ``doublets``, ``fasciculations_per_min_rest``, ``plm_index_per_h`` and
            ``counts`` per kind; top-level keys give the pooled values (``rest_minutes`` summed over
            channels, ``fasciculations``, ``fasciculations_per_min_rest``, ``plm_index_per_h``),
            ``counts``, ``profile``, ``seed``, ``params``. ``detectable_fasciculations`` and
            ``detectable_fasciculations_per_min_rest`` (per channel and pooled, same rest) count
            only potentials at or above the detection floor, described under ``detection_floor``
            (definition, ``detectable_ptp_k``, ``noise_rms_uv``, ``noise_band_hz``, ``floor_uv``).
        """
        p = self.params
        return summarize(self.truth, self.info.ch_names, p.duration_s, p.rest_margin_s,
                         p.profile, self.seed, p.to_dict())

    def blocks(self) -> Iterator[tuple[int, np.ndarray]]:
        """Yield ``(start_sample, data_uv)`` for each internal block, in order."""
        p = self.params
        noise = [NoiseSource(p, self.seed, i) for i in range(len(self.schedule.channels))]
        for index, start in enumerate(range(0, self.n_samples, BLOCK_SAMPLES)):
            n = min(BLOCK_SAMPLES, self.n_samples - start)
            data = np.empty((len(noise), n))
            for ch, plan in enumerate(self.schedule.channels):
                data[ch] = noise[ch].block(index, n) + plan.periodic.block(start, n)
                _add_events(data[ch], start, plan, p.sfreq_hz)
            np.clip(data, -p.rail_uv, p.rail_uv, out=data)
            yield start, data

    def chunks(self, chunk_s: float = 1.0) -> Iterator[SampleChunk]:
        """Yield the night as :class:`~acquisition.stream.SampleChunk` of ``chunk_s`` seconds (µV).

        The samples are identical for any ``chunk_s``; the last chunk may be shorter.
        """
        size = max(1, int(round(chunk_s * self.params.sfreq_hz)))
        pending: list[np.ndarray] = []
        have, emitted = 0, 0
        for _, data in self.blocks():
            pending.append(data)
            have += data.shape[1]
            if have < size:
                continue
            buf = np.concatenate(pending, axis=1)
            n_full = (have // size) * size
            for lo in range(0, n_full, size):
                yield SampleChunk(emitted, buf[:, lo:lo + size].copy())
                emitted += size
            pending, have = [buf[:, n_full:]], have - n_full
        if have:
            yield SampleChunk(emitted, np.concatenate(pending, axis=1))

    def data_uv(self) -> np.ndarray:
        """The whole night as one array ``(n_channels, n_samples)`` (for short nights)."""
        return np.concatenate([d for _, d in self.blocks()], axis=1)

    def close(self) -> None:
        """Nothing to release (a stream source's interface)."""


def _add_events(out: np.ndarray, start: int, plan: ChannelPlan, sfreq_hz: float) -> None:
    t0_s, t1_s = start / sfreq_hz, (start + out.size) / sfreq_hz
    f, bank = plan.fasc, plan.units.fasc
    lo, hi = _window(f.onset_s, t0_s - bank.post_s.max(), t1_s - bank.pre_s.min())
    if hi > lo:
        add_discharges(out, start, bank, f.unit[lo:hi], f.onset_s[lo:hi], f.gain[lo:hi], sfreq_hz,
                       f.comp_shift_s[lo:hi], f.comp_keep[lo:hi])
    d, bank = plan.pool, plan.units.pool
    lo, hi = _window(d.onset_s, t0_s - bank.post_s.max(), t1_s - bank.pre_s.min())
    if hi > lo:
        add_discharges(out, start, bank, d.unit[lo:hi], d.onset_s[lo:hi], d.gain[lo:hi], sfreq_hz)
    apply_artifacts(out, start, sfreq_hz, plan.artifacts)


def _window(onset_s: np.ndarray, lo_s: float, hi_s: float) -> tuple[int, int]:
    return int(np.searchsorted(onset_s, lo_s)), int(np.searchsorted(onset_s, hi_s, side="right"))


def simulate_night(params: SimulationParams, seed: int = 0) -> SimulatedNight:
    """Decide a night: its events and ground truth now, its samples when iterated.

    Parameters
    ----------
    params : SimulationParams
        See :func:`~calfwatch.simulator.load_profile`.
    seed : int
        Non-negative; the same seed gives the same night, sample for sample.

    Returns
    -------
    SimulatedNight
    """
    if not isinstance(seed, int | np.integer) or seed < 0:
        raise SimulationError(f"seed={seed!r} must be a non-negative integer")
    schedule = build_schedule(params, int(seed))
    info = StreamInfo(
        sfreq_hz=float(params.sfreq_hz),
        ch_names=[plan.name for plan in schedule.channels],
        meas_date=params.meas_datetime,
        resolution_bits=params.resolution_bits,
        uv_per_count=2 * params.rail_uv / 2**params.resolution_bits,
        device={"kind": "simulator", "device_id": f"sim-{params.profile}-{int(seed)}",
                "firmware": "calfwatch-simulator", "site": "calf", "serial_number": str(int(seed)),
                "profile": params.profile, "seed": int(seed)},
    )
    return SimulatedNight(params, int(seed), info, schedule.truth, schedule)
