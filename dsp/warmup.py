"""Compile the detection chain's kernels ahead of a run, over several processes, and tell whether a
run would compile them.

numba compiles each kernel at its first call and keeps the machine code on disk (``cache=True``:
beside the modules, or in ``NUMBA_CACHE_DIR``); a fresh install compiles for several seconds before
its first output. The entry points a chain calls and the argument types it calls them with are
listed here (:func:`chain_signatures`; a test checks that a chain compiles nothing else).
:func:`kernels_cached` says whether they are all on disk, so that an application can tell its user
once; :func:`prepare` compiles the missing ones, the kernel modules shared out between this process
and helper processes (``python -m dsp.warmup --compile MODULE...``) on the other cores, so that a
first run waits for the slowest share rather than for the sum; :func:`start_early` starts the
helpers at once, so that they compile while the application does the rest of its start-up, and
leaves the heaviest share to :func:`prepare` in the calling process (which has numba imported
already, and would otherwise wait idle for the helpers). A
kernel a helper failed to compile is compiled at its first call, as without this module.

Examples
--------
>>> from dsp.warmup import kernels_cached, prepare
>>> if not kernels_cached(1):
...     prepare(1)
"""

from __future__ import annotations

import argparse
import atexit
import importlib
import itertools
import os
import subprocess
import sys
from collections.abc import Iterable

import numpy as np
from numba import types

#: Kernel modules (a helper process is given whole modules: their kernels share callees).
MODULES = ("_detect_numba", "_noise_numba", "_quality_numba", "_features_numba", "_filter_numba")
#: CPU seconds one signature of each entry point takes to compile (one channel, empty cache;
#: ``benchmarks/bench_cold_start.py``), to share the modules out evenly.
COMPILE_S = {"detect_serial": 6.0, "update_blocks_serial": 1.3, "window_quality_serial": 1.4,
             "run_one_keep_serial": 1.1, "run_lanes_keep_serial": 1.25, "measure_serial": 0.6,
             "blank_after_restart": 0.1, "block_steps_serial": 0.2}
#: Longest wait for a helper process (s); a helper still compiling after it is left to finish alone.
HELPER_TIMEOUT_S = 300.0
#: Kernel module -> the helper process compiling it since :func:`start_early` (until waited for).
_early: dict[str, subprocess.Popen] = {}
#: Kernel modules :func:`start_early` left to :func:`prepare` in this process.
_here: list[str] = []

_i8, _f8 = types.int64, types.float64
_F1, _F2, _F2A, _F3 = types.float64[::1], types.float64[:, ::1], types.float64[:, :], \
    types.float64[:, :, ::1]
_I1, _I2, _I3 = types.int64[::1], types.int64[:, ::1], types.int64[:, :, ::1]
_SNIPPETS, _INTS = types.float32[:, ::1], types.int32[:, ::1]


def _filter(y, x_kept):
    return ("_filter_numba", "run_one_keep_serial" if y is None else "run_lanes_keep_serial",
            (_F3, _I1, x_kept[0], _F3, _F3, _F1, _i8, _F2 if y is None else y, x_kept[1]))


def _blank(y):
    return ("_noise_numba", "blank_after_restart", (y, _I1, _i8))


def _noise(y):
    return ("_noise_numba", "update_blocks_serial", (y, _i8, _i8, _F2, _i8, _f8, _F2, _F2, _F2, _F2))


def _steps(raw):
    return ("_noise_numba", "block_steps_serial", (raw, _i8, _F2, _F2, _F2))


def _detect(y, sig, raw):
    return ("_detect_numba", "detect_serial", (y, _i8, _i8, _i8, sig, _i8, _i8, _I2, _F2, _F1,
                                               _I3, _I1, raw, _i8, _F2, _F1, _F2, _F2))


def _features(y):
    return ("_features_numba", "measure_serial", (y, _i8, _I1, _I1, _I1, _I1, _F1, _SNIPPETS, _F2,
                                                  _F2, _INTS))


def _quality(raw_y, stats):
    return ("_quality_numba", "window_quality_serial", (raw_y, raw_y, _i8, stats, _i8, _F2, _F2,
                                                        _i8, _i8, _f8, _i8, _i8, _F3))


def chain_signatures(n_channels: int) -> list[tuple[str, str, tuple]]:
    """(module, kernel, argument types) of every compiled entry point a
    :class:`dsp.chain.DetectionChain` of ``n_channels`` calls on float64 input, for a file or a
    live stream.

    One channel: every array is contiguous. Several: the chain's views of its buffers are strided
    (layout ``A``) or contiguous depending on where they fall, and each layout is a signature;
    those of a file analysis and a live stream are listed, and the filter may meet another
    combination of layouts with other chunk sizes (it then compiles it at that call).
    """
    one = [_filter(None, (_F2, _F2))]  # the filter's settling time is measured on one channel
    if n_channels == 1:
        return one + [_blank(_F2), _noise(_F2), _steps(_F2), _detect(_F2, _F2, _F2),
                      _features(_F2), _quality(_F2, _F2)]
    return one + [
        _filter(_F2, (_F2, _F2)), _filter(_F2, (_F2A, _F2A)), _filter(_F2A, (_F2A, _F2A)),
        _blank(_F2), _blank(_F2A), _noise(_F2), _noise(_F2A), _steps(_F2), _steps(_F2A),
        _detect(_F2, _F2, _F2), _detect(_F2A, _F2, _F2A), _detect(_F2A, _F2A, _F2A),
        _features(_F2A), _quality(_F2, _F2), _quality(_F2A, _F2A),
    ]


def chain_kernels(n_channels: int) -> list:
    """The compiled entry points (numba dispatchers) a chain of ``n_channels`` calls."""
    seen = []
    for module, name, _ in chain_signatures(n_channels):
        kernel = _dispatcher(module, name)
        if kernel not in seen:
            seen.append(kernel)
    return seen


def _dispatcher(module: str, name: str):
    return getattr(importlib.import_module(f"dsp.{module}"), name)


def _on_disk(module: str, name: str, sig: tuple) -> bool:
    """True when numba's cache holds ``sig`` of the kernel for this source and this processor;
    True too when this numba does not say (an unknown state is not reported as a cold cache)."""
    kernel = _dispatcher(module, name)
    try:
        cache = kernel._cache
        index = cache._cache_file._load_index()
        return cache._index_key(sig, kernel.targetctx.codegen()) in index
    except Exception:  # noqa: BLE001 (numba internals differ between versions)
        return True


def missing(n_channels: int = 1) -> list[tuple[str, str, tuple]]:
    """The signatures of :func:`chain_signatures` not compiled on disk yet."""
    return [s for s in chain_signatures(n_channels) if not _on_disk(*s)]


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
    return not missing(n_channels)


def compile_modules(modules: Iterable[str], channel_counts: Iterable[int] = (1,)) -> None:
    """Compile (or load from disk) the chain's signatures that belong to ``modules``."""
    wanted = set(modules)
    done = set()
    for n in channel_counts:
        for module, name, sig in chain_signatures(n):
            if module in wanted and (module, name, sig) not in done:
                done.add((module, name, sig))
                _dispatcher(module, name).compile(sig)


def load_kernels(n_channels: int = 1) -> int:
    """Load the chain's kernels that are on disk into this process (none is compiled); return
    how many were loaded. A process that forks workers does it once for all of them."""
    loaded = 0
    for module, name, sig in chain_signatures(n_channels):
        if _on_disk(module, name, sig):
            _dispatcher(module, name).compile(sig)
            loaded += 1
    return loaded


def share_out(loads: dict[str, float], n_parts: int) -> list[list[str]]:
    """Kernel modules, given with their compile seconds, in at most ``n_parts`` groups whose
    largest total is as small as can be (every assignment tried: there are a handful of modules),
    the heaviest group first (it goes to the calling process, which has no process to start).

    Examples
    --------
    >>> share_out({"_detect_numba": 3.2, "_noise_numba": 2.5, "_quality_numba": 2.2}, 2)
    [['_noise_numba', '_quality_numba'], ['_detect_numba']]
    """
    modules = sorted(loads, key=lambda m: -loads[m])
    n = max(1, min(n_parts, len(modules)))
    best: tuple[float, tuple[int, ...]] | None = None
    for assign in itertools.product(range(n), repeat=len(modules)):
        if assign and assign[0] != 0:  # the same groups numbered otherwise
            continue
        total = [0.0] * n
        for module, part in zip(modules, assign, strict=True):
            total[part] += loads[module]
        if best is None or max(total) < best[0] - 1e-9:
            best = (max(total), assign)
    parts: list[list[str]] = [[] for _ in range(n)]
    for module, part in zip(modules, best[1] if best else (), strict=True):
        parts[part].append(module)
    parts = [p for p in parts if p]
    return sorted(parts, key=lambda p: -sum(loads[m] for m in p))


def usable_cores() -> int:
    """Cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def prepare(n_channels: int = 1, processes: int | None = None) -> bool:
    """Compile the kernels a chain of ``n_channels`` needs and the disk lacks, shared out between
    this process and ``processes - 1`` helper processes (default: the usable cores).

    The kernels this process compiled are ready in it; the helpers' are on disk, and load at
    their first call (a few ms). After :func:`start_early`, this process compiles what its helpers
    were not given, waits for them, and does not compile their modules again. Returns False when
    there was nothing to compile.

    Parameters
    ----------
    n_channels : int
        Channels of the chain to prepare.
    processes : int, optional
        Processes compiling at once, this one included.
    """
    early = set(_early)
    todo = [s for s in missing(n_channels) if s[0] not in early]  # the others are under way
    if todo:
        if early or _here:  # after start_early: its helpers have the other cores
            parts = [sorted({s[0] for s in todo})]
        else:
            parts = _parts(todo, processes)
        helpers = [_start_helper(part, n_channels) for part in parts[1:]]
        try:
            compile_modules(parts[0], (n_channels,))
        finally:
            _wait(helpers)
    _wait(list(_early.values()))
    _early.clear()
    _here.clear()
    if early:  # what the early helpers did not compile (another channel count, a failure)
        compile_modules(sorted({s[0] for s in missing(n_channels)}), (n_channels,))
    return bool(todo or early)


def _parts(todo: list[tuple[str, str, tuple]], processes: int | None) -> list[list[str]]:
    """The modules of the signatures ``todo`` shared out over ``processes`` (default: the cores)."""
    loads: dict[str, float] = {}
    for module, name, _ in todo:
        loads[module] = loads.get(module, 0.0) + COMPILE_S.get(name, 1.0)
    return share_out(loads, min(len(loads), processes or usable_cores()))


def _wait(helpers: list) -> None:
    for proc in helpers:
        if proc is not None:
            try:
                proc.wait(HELPER_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                pass


def start_early(n_channels: int = 1, processes: int | None = None) -> bool:
    """Start compiling the kernels a chain of ``n_channels`` needs and the disk lacks, and return
    at once: helper processes take all shares but the heaviest, which :func:`prepare` compiles in
    this process (the caller goes on with its own start-up, imports and opening the file, then
    calls :func:`prepare`, which also waits for the helpers and compiles what they did not).
    Helpers still running when the process exits are stopped.

    Returns
    -------
    bool
        True when the kernels were not all on disk (a :func:`prepare` call is due).

    Examples
    --------
    >>> from dsp.warmup import prepare, start_early
    >>> start_early(1)  # doctest: +SKIP
    >>> prepare(1)  # compiles the first share, waits for the helpers  # doctest: +SKIP
    """
    todo = [s for s in missing(n_channels) if s[0] not in _early and s[0] not in _here]
    if not todo:
        return started_early()
    parts = _parts(todo, processes)
    _here.extend(parts[0])
    for part in parts[1:]:
        proc = _start_helper(part, n_channels)
        if proc is None:  # compiled here after all
            _here.extend(part)
        else:
            _early.update(dict.fromkeys(part, proc))
    if _early:
        atexit.register(_stop_early)
    return True


def started_early() -> bool:
    """Whether :func:`start_early` left work for :func:`prepare` (helpers to wait for, or a
    share to compile here)."""
    return bool(_early or _here)


def _stop_early() -> None:
    """Stop the early helpers nobody waited for (the process ends before analysing anything)."""
    for proc in set(_early.values()):
        if proc.poll() is None:
            proc.terminate()
    _early.clear()


def _start_helper(modules: list[str], n_channels: int) -> subprocess.Popen | None:
    """``python -m dsp.warmup --compile MODULES --channels N`` (None when it cannot start)."""
    argv = [sys.executable, "-m", "dsp.warmup", "--channels", str(n_channels), "--compile",
            *modules]
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    try:
        return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env=env)
    except OSError:
        return None


def _signal(n_channels: int, sfreq_hz: float, seconds: float) -> np.ndarray:
    """Noise with a potential every half second after the first two (so that features run)."""
    rng = np.random.default_rng(0)
    x = rng.normal(0.0, 5.0, (n_channels, int(seconds * sfreq_hz)))
    wave = 200.0 * np.sin(np.linspace(0.0, 2 * np.pi, max(4, int(0.01 * sfreq_hz))))
    for start in range(int(2 * sfreq_hz), x.shape[1] - wave.size, int(0.5 * sfreq_hz)):
        x[:, start : start + wave.size] += wave
    return x


def warm_up(channel_counts: Iterable[int] = (1, 2), sfreq_hz: float = 2000.0) -> None:
    """Run short chains of each channel count the way a file analysis (one long input, cut in
    pieces, the filter run ahead) and a live stream (0.1-s chunks) run them, so that every kernel
    they call is compiled (the tests check :func:`chain_signatures` against what this compiles).

    Parameters
    ----------
    channel_counts : iterable of int
        Channel counts to run.
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
    """``python -m dsp.warmup [--if-cold] [--channels 1 2] [--processes N]
    [--compile MODULE ...]``."""
    parser = argparse.ArgumentParser(prog="python -m dsp.warmup", description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--if-cold", action="store_true",
                        help="only when some kernel is not on disk yet")
    parser.add_argument("--processes", type=int, default=None,
                        help="processes compiling at once (default: the usable cores)")
    parser.add_argument("--compile", nargs="+", choices=sorted(MODULES), metavar="MODULE",
                        help="compile these kernel modules' signatures here (a helper of prepare)")
    args = parser.parse_args(argv)
    if args.compile:
        compile_modules(args.compile, args.channels)
        return 0
    if args.if_cold and all(kernels_cached(n) for n in args.channels):
        return 0
    sys.stderr.write("preparing the signal kernels (compiled once, kept on disk) ...\n")
    for n in args.channels:
        prepare(n, args.processes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
