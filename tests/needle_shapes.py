"""Motor-unit potential shapes from real needle recordings, as a surface electrode would see them.

The shapes of :mod:`independent_scenes` are random band-limited waves; these come from real
muscle. The PhysioNet "Examples of Electromyograms" records (concentric needle, tibialis anterior;
``$CALFWATCH_SAMPLE_DATA/physionet_emgdb``) hold discharges of single motor units between the
interference of a contraction. A discharge is *isolated* when nothing within 20 ms of its peak
reaches 35 % of it; isolated discharges whose shapes correlate at 0.8 or more (10 Hz high-passed,
peak-aligned 40-ms windows) are one unit, and a unit's template is the median of its discharges
(spike-triggered averaging, as surface templates are made from decomposed units: Farina et al.,
J Appl Physiol 2004;96:1486). Templates that correlate at 0.85 or more at any lag are one.

A surface electrode sees a potential through the tissue between the fibres and the skin, which acts
as a low-pass filter whose corner falls with depth (Lindström & Magnusson, Proc IEEE
1977;65:653; Farina & Merletti, IEEE Trans Biomed Eng 2001;48:637): :func:`surface_shape` passes a
template through a 2nd-order low-pass at a corner drawn from ``corner_hz``, resamples it to the
sensor's rate, trims it to where it reaches 10 % of its peak and flips its sign at random (the
bipolar pair's orientation). The default corner, 80-300 Hz, spans shallow units: the shapes'
spectral peaks in the 20-450 Hz band lie at 40 / 123 / 197 Hz (10th / 50th / 90th percentile,
2 kHz). Surface potentials peak at roughly 40-140 Hz (De Luca, J Appl Biomech 1997;13:135;
Merletti & Parker, Electromyography, 2004), most of them low in that range; ``DEEP_CORNER_HZ``,
45-130 Hz, puts the peaks at 33 / 57 / 117 Hz and makes the shapes longer (median 28 ms within
the 40-ms window), as units under a few centimetres of tissue are. What stays of the needle recording is each unit's
own sequence of phases, its lead-ins and satellites, and the background of other units in its
template. The records' repeated second halves (see the data's README) are left out.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from scipy import signal

#: Record name -> seconds used (the README: the rest of two records repeats their first part).
RECORDS_S = {"emg_healthy": 12.7, "emg_myopathy": 16.8, "emg_neuropathy": 18.4}
#: Robust-noise multiple a discharge's peak must reach (the neuropathy record's units are larger).
PEAK_K = {"emg_healthy": 5.0, "emg_myopathy": 5.0, "emg_neuropathy": 8.0}
WINDOW_S = 0.04
#: Corner range (Hz) of the tissue's low-pass for shallow units (the default) and deep ones.
SHALLOW_CORNER_HZ = (80.0, 300.0)
DEEP_CORNER_HZ = (45.0, 130.0)


def needle_templates(root: str | None = None) -> list[np.ndarray] | None:
    """Unit templates (µV at 4 kHz) from the emgdb records, or None without the data or wfdb."""
    root = root or os.environ.get("CALFWATCH_SAMPLE_DATA")
    folder = Path(root) / "physionet_emgdb" if root else None
    try:
        import wfdb
    except ImportError:
        return None
    if folder is None or not (folder / "emg_healthy.hea").exists():
        return None
    templates = []
    for name, length_s in RECORDS_S.items():
        rec = wfdb.rdrecord(str(folder / name))
        x = rec.p_signal[: int(length_s * rec.fs), 0] * 1000.0
        x = signal.sosfiltfilt(signal.butter(2, 10.0, "highpass", fs=rec.fs, output="sos"), x)
        templates += _unit_templates(_isolated_discharges(x, rec.fs, PEAK_K[name]))
    return _distinct(templates)


def _isolated_discharges(x: np.ndarray, sfreq_hz: float, peak_k: float) -> np.ndarray:
    half = int(WINDOW_S / 2 * sfreq_hz)
    mad = np.median(np.abs(x)) / 0.6745
    peaks, props = signal.find_peaks(np.abs(x), height=peak_k * mad, distance=int(0.004 * sfreq_hz))
    height = props["peak_heights"]
    out = []
    for i, p in enumerate(peaks):
        near = np.abs(peaks - p) < half
        near[i] = False
        if half <= p < len(x) - half and not np.any(height[near] > 0.35 * height[i]):
            out.append(x[p - half:p + half])
    return np.array(out)


def _unit_templates(discharges: np.ndarray, min_corr=0.8, min_members=3) -> list[np.ndarray]:
    """Greedy, largest first: the discharges alike one make a unit; its median is the template."""
    z = discharges - discharges.mean(axis=1, keepdims=True)
    z /= np.linalg.norm(z, axis=1, keepdims=True)
    left = list(np.argsort(-np.ptp(discharges, axis=1)))
    out = []
    while left:
        corr = z[left] @ z[left[0]]
        members = [left[k] for k in np.flatnonzero(corr >= min_corr)]
        if len(members) >= min_members:
            out.append(np.median(discharges[members], axis=0))
        left = [k for k in left if k not in members]
    return out


def _distinct(templates: list[np.ndarray], max_corr=0.85) -> list[np.ndarray]:
    kept, normed = [], []
    for w in templates:
        z = (w - w.mean()) / np.linalg.norm(w - w.mean())
        if all(np.abs(signal.correlate(z, k)).max() < max_corr for k in normed):
            kept.append(w)
            normed.append(z)
    return kept


def surface_shape(rng: np.random.Generator, template_uv: np.ndarray, sfreq_hz: float,
                  source_hz: float = 4000.0,
                  corner_hz: tuple[float, float] = SHALLOW_CORNER_HZ) -> np.ndarray:
    """A needle template as a surface electrode at ``sfreq_hz`` sees it, through a tissue
    low-pass whose corner is drawn from ``corner_hz`` (see the module)."""
    corner_hz = rng.uniform(*corner_hz)
    y = signal.sosfiltfilt(signal.butter(2, corner_hz, fs=source_hz, output="sos"), template_uv)
    y = signal.resample_poly(y, int(sfreq_hz), int(source_hz))
    big = np.flatnonzero(np.abs(y) >= 0.1 * np.abs(y).max())
    y = y[big[0]:big[-1] + 1] * signal.windows.tukey(big[-1] + 1 - big[0], 0.2)
    return y * rng.choice([-1.0, 1.0])
