"""A sensor's RECT and ENV outputs made from raw EMG, as a MyoWare 2.0 makes them: the signal
band-passed (here its 20-Hz high-pass) and full-wave rectified; the envelope a low-pass of that."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
from scipy.signal import butter, sosfilt

#: High-pass before the rectifier, and low-pass of the envelope (Hz).
RECT_HIGHPASS_HZ = 20.0
ENV_LOWPASS_HZ = 3.0


def _highpass(sfreq_hz: float) -> np.ndarray:
    return butter(2, RECT_HIGHPASS_HZ, "highpass", fs=sfreq_hz, output="sos")


def rectified(x_uv: np.ndarray, sfreq_hz: float) -> np.ndarray:
    """The RECT output of raw ``x_uv`` (samples on the last axis)."""
    return np.abs(sosfilt(_highpass(sfreq_hz), x_uv, axis=-1))


def envelope(x_uv: np.ndarray, sfreq_hz: float) -> np.ndarray:
    """The ENV output of raw ``x_uv``: the rectified signal low-passed."""
    sos = butter(2, ENV_LOWPASS_HZ, "lowpass", fs=sfreq_hz, output="sos")
    return sosfilt(sos, rectified(x_uv, sfreq_hz), axis=-1)


def rectified_chunks(chunks: Iterable, sfreq_hz: float, channels: list[int]) -> Iterator[np.ndarray]:
    """Stream raw chunks (``data_uv`` of shape (n_channels, n)) with ``channels`` sent as the RECT
    output, the filter's state carried from chunk to chunk."""
    sos = _highpass(sfreq_hz)
    zi = np.zeros((sos.shape[0], len(channels), 2))
    for chunk in chunks:
        x = np.array(chunk.data_uv, dtype=float)
        y, zi = sosfilt(sos, x[channels], axis=1, zi=zi)
        x[channels] = np.abs(y)
        yield x
