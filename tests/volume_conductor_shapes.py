"""Surface motor-unit potentials from a volume-conductor model, a third family of test shapes.

The shapes of :mod:`independent_scenes` are random band-limited waves and those of
:mod:`needle_shapes` real needle templates; these come from the physics of a discharge as a
bipolar surface pair records it:

- each fibre's intracellular action potential has Rosenfalck's profile, 96 z^3 exp(-z) - 90 mV
  with z in mm behind the wavefront (Rosenfalck, Acta Physiol Scand Suppl 1969;321), and its
  transmembrane current is the profile's second derivative along the fibre (line source);
- two wavefronts leave the fibre's end-plate in opposite directions at the unit's conduction
  velocity, 3-5 m/s, and die at the fibre's ends: their appearance and extinction are the
  non-propagating components of a surface potential (Merletti et al., IEEE Trans Biomed Eng
  1999;46:810);
- the tissue is an infinite anisotropic conductor whose conductivity along the fibres is 5.2 x
  that across them (Merletti et al. 1999), so a source at depth h and axial distance dz
  contributes as 1 / sqrt(5.2 h^2 + dz^2);
- the electrodes are 10-mm discs 20 mm apart along the fibres (SENIAM: Hermens et al.,
  J Electromyogr Kinesiol 2000;10:361), each averaging the potential over its length, centred
  anywhere within 30 mm of the end-plate zone;
- a unit is a sample of 20-60 of its fibres (only the shape matters: the scenes set its size)
  within 1.5-4 mm of its centre, 8-25 mm below the skin (fat and muscle), fibres 40-70 mm long
  (calf fascicles: Kawakami et al., J Appl Physiol 1998;85:398), end-plates and ends scattered
  over a few mm, and the discharge reaching its end-plates over a few ms (terminal axon branches
  of different lengths; a half-normal spread of 2 ms, a choice);
- the result is recorded as a surface amplifier records it: 10-500 Hz.

Over 30 units at 2 kHz the spectral peaks in the 20-450 Hz band lie at 88 / 116 / 279 Hz (10th /
50th / 90th percentile), the potentials last 13-17 ms and have 3-7 phases, and the 20-450 Hz
band keeps a median of 90 % of their peak-to-peak. In half of them the largest phase lies in the
first sixth of the potential: the sharp front of the waves leaving the end-plates.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

#: Sampling rate of the model (Hz) and its grid along the fibre (mm).
MODEL_HZ = 10_000.0
GRID_MM = 0.1
ANISOTROPY = 5.2
ELECTRODE_GAP_MM = 20.0
ELECTRODE_HALF_MM = 5.0


def _source(behind_mm: np.ndarray) -> np.ndarray:
    """Second derivative of Rosenfalck's profile (mV / mm^2) at ``behind_mm`` behind the front."""
    z = np.maximum(behind_mm, 0.0)
    return np.where(behind_mm > 0, 96 * np.exp(-z) * (6 * z - 6 * z**2 + z**3), 0.0)


def _fibre(t_s: np.ndarray, weights: np.ndarray, z_mm: np.ndarray, end_plate_mm: float,
           velocity_mm_s: float) -> np.ndarray:
    """The potential of one fibre over ``t_s`` at each electrode (``weights``, electrodes x z)."""
    front = velocity_mm_s * np.maximum(t_s, 0.0)[:, None]
    right = z_mm >= end_plate_mm
    behind = np.where(right, end_plate_mm + front - z_mm, z_mm - (end_plate_mm - front))
    src = np.where(t_s[:, None] >= 0, _source(behind), 0.0)
    return src @ weights.T * GRID_MM


def motor_unit_shape(rng: np.random.Generator, sfreq_hz: float) -> np.ndarray:
    """One bipolar surface potential (arbitrary scale) sampled at ``sfreq_hz`` (see the module)."""
    depth_mm, radius_mm = rng.uniform(8.0, 25.0), rng.uniform(1.5, 4.0)
    half_length_mm = rng.uniform(20.0, 35.0)
    centre_mm = rng.uniform(-30.0, 30.0)
    velocity = rng.uniform(3000.0, 5000.0)
    t = np.arange(-0.002, 0.05, 1 / MODEL_HZ)
    pads = np.linspace(-ELECTRODE_HALF_MM, ELECTRODE_HALF_MM, 11)
    electrodes = centre_mm + np.array([-1, 1]) * ELECTRODE_GAP_MM / 2
    total = np.zeros((len(t), 2))
    for _ in range(int(rng.integers(20, 60))):
        r, a = radius_mm * np.sqrt(rng.random()), rng.uniform(0, 2 * np.pi)
        h = max(1.0, depth_mm + r * np.sin(a))
        end_plate = rng.normal(0.0, 4.0)
        z = np.arange(end_plate - half_length_mm + rng.normal(0, 4.0),
                      end_plate + half_length_mm + rng.normal(0, 4.0), GRID_MM)
        axial = z[None, None, :] - electrodes[:, None, None] - pads[None, :, None]
        weights = np.mean(1.0 / np.sqrt(ANISOTROPY * h**2 + axial**2), axis=1)
        delay_s = abs(rng.normal(0.0, 0.002))
        total += _fibre(t - delay_s, weights, z, end_plate, velocity)
    bipolar = np.concatenate([np.zeros(2000), total[:, 0] - total[:, 1], np.zeros(2000)])
    bipolar = signal.sosfiltfilt(signal.butter(2, 10.0, "highpass", fs=MODEL_HZ, output="sos"),
                                 bipolar)
    bipolar = signal.sosfiltfilt(signal.butter(4, 500.0, fs=MODEL_HZ, output="sos"), bipolar)
    y = signal.resample_poly(bipolar, int(sfreq_hz), int(MODEL_HZ))
    big = np.flatnonzero(np.abs(y) >= 0.05 * np.abs(y).max())
    y = y[big[0]:big[-1] + 1] * signal.windows.tukey(big[-1] + 1 - big[0], 0.2)
    return y * rng.choice([-1.0, 1.0])
