"""Compile the detection chain's kernels ahead of a run, and tell whether a run would compile them.

numba compiles each kernel at its first call and keeps the machine code on disk (``cache=True``:
beside the modules, or in ``NUMBA_CACHE_DIR``); a fresh install compiles for several seconds before
its first output. :func:`kernels_cached` says whether the kernels a chain of ``n_channels`` calls
are on disk, so that an application can tell its user once; :func:`warm_up` compiles them by
running short chains the way a file analysis and a live stream run them (``python -m dsp.warmup``).

Examples
--------
>>> from dsp.warmup import kernels_cached, warm_up
>>> if not kernels_cached(1):
...     warm_up((1,))
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable

import numpy as np

from dsp import _detect_numba, _features_numba, _filter_numba, _noise_numba, _quality_numba


def chain_kernels(n_channels: int) -> list:
    """The compiled entry points a :class:`dsp.chain.DetectionChain` of ``n_channels`` calls."""
    filt = (_filter_numba.run_one_keep_serial if n_channels == 1
            else _filter_numba.run_lanes_keep_serial)
    return [filt, _noise_numba.blank_after_restart, _noise_numba.update_blocks_serial,
            _detect_numba.detect_serial, _features_numba.measure_serial,
            _quality_numba.window_quality_serial]


def _on_disk(kernel) -> bool:
    """True when numba's cache index of ``kernel`` exists and matches its source; True too when
    this numba does not say (an unknown state is not reported as a cold cache)."""
    try:
        index = kernel._cache._cache_file._load_index()
    except Exception:  # noqa: BLE001 (numba internals differ between versions)
        return True
    return bool(index)


def kernels_cached(n_channels: int = 1) -> bool:
    """Whether the kernels a chain of ``n_channels`` calls are compiled on disk already.

    Parameters
    ----------
    n_channels : int
        Channels of the chain (one channel and several use different filter kernels).

    Returns
    -------
    bool
        False when a run would compile some of them first (seconds to a minute).
    """
    return all(_on_disk(k) for k in chain_kernels(n_channels))


def _signal(n_channels: int, sfreq_hz: float, seconds: float) -> np.ndarray:
    """Noise with a potential every half second after the first two (so that features run)."""
    rng = np.random.default_rng(0)
    x = rng.normal(0.0, 5.0, (n_channels, int(seconds * sfreq_hz)))
    wave = 200.0 * np.sin(np.linspace(0.0, 2 * np.pi, max(4, int(0.01 * sfreq_hz))))
    for start in range(int(2 * sfreq_hz), x.shape[1] - wave.size, int(0.5 * sfreq_hz)):
        x[:, start : start + wave.size] += wave
    return x


def warm_up(channel_counts: Iterable[int] = (1, 2), sfreq_hz: float = 2000.0) -> None:
    """Compile the chain's kernels for each channel count: one long input (cut in pieces, the filter
    run ahead) and 0.1-s chunks (a live stream), as a file analysis and a recording call them.

    Parameters
    ----------
    channel_counts : iterable of int
        Channel counts to prepare (one channel and several use different filter kernels).
    sfreq_hz : float
        Sampling rate of the short signals run.
    """
    from dsp.chain import DetectionChain
    from dsp.config import ChainConfig

    config = ChainConfig(batch_s=0.1)
    for n in channel_counts:
        x = _signal(n, sfreq_hz, 12.0)
        chain = DetectionChain(sfreq_hz, n, 50.0, config)
        chain.process(x, 0)
        chain.flush()
        chain = DetectionChain(sfreq_hz, n, 50.0, config)
        step = int(0.1 * sfreq_hz)
        for a in range(0, x.shape[1], step):
            chain.process(x[:, a : a + step], a)
        chain.flush()


def main(argv: list[str] | None = None) -> int:
    """``python -m dsp.warmup [--if-cold] [--channels 1 2]``."""
    parser = argparse.ArgumentParser(prog="python -m dsp.warmup", description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--if-cold", action="store_true",
                        help="only when some kernel is not on disk yet")
    args = parser.parse_args(argv)
    if args.if_cold and all(kernels_cached(n) for n in args.channels):
        return 0
    sys.stderr.write("preparing the signal kernels (compiled once, kept on disk) ...\n")
    warm_up(args.channels)
    return 0


if __name__ == "__main__":
    sys.exit(main())
