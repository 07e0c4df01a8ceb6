"""Physiological calf surface-EMG simulator with exact ground truth.

>>> params = load_profile("benign-night", duration_s=60)
>>> night = simulate_night(params, seed=0)
>>> sum(chunk.data_uv.shape[1] for chunk in night.chunks(chunk_s=1.0)) / params.sfreq_hz
60.0
>>> write_simulation(night, "night.edf")  # doctest: +SKIP

Profiles: ``quiet``, ``benign-night``, ``busy-night``, ``no-twitch``, ``complex`` (see
:data:`PROFILES`). Every number of the model is a field of :class:`SimulationParams` with its source.

The model follows physiology, not any detection rule: each fasciculating unit fires as its own
irregular process with a refractory period, so potentials of different units may fall arbitrarily
close (:mod:`~calfwatch.simulator.fasciculations`); units may fire doublets and triplets 5-40 ms
apart; shapes come from two analytic families in simple, polyphasic and slow variants with their
spectral peak at 30-150 Hz (:mod:`~calfwatch.simulator.shapes`); pops of a shared electrode hit every
channel of the leg at once (:mod:`~calfwatch.simulator.artifacts`). The truth marks potentials that
overlap too closely to be split (:class:`TruthEvent` ``overlaps``).
"""

from __future__ import annotations

from calfwatch.simulator.night import SimulatedNight, simulate_night
from calfwatch.simulator.output import write_simulation
from calfwatch.simulator.params import (
    PROFILES,
    SimulationError,
    SimulationParams,
    load_profile,
)
from calfwatch.simulator.truth import TruthEvent

__all__ = [
    "PROFILES",
    "SimulatedNight",
    "SimulationError",
    "SimulationParams",
    "TruthEvent",
    "load_profile",
    "simulate_night",
    "write_simulation",
]
