"""Physiological calf surface-EMG simulator with exact ground truth.

>>> params = load_profile("benign-night", duration_s=600)
>>> night = simulate_night(params, seed=0)
>>> for chunk in night.chunks(chunk_s=1.0): ...
>>> write_simulation(night, "night.edf")

Profiles: ``quiet``, ``benign-night``, ``busy-night``, ``no-twitch``, ``complex`` (see
:data:`PROFILES`). Every number of the model is a field of :class:`SimulationParams` with its source.
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
