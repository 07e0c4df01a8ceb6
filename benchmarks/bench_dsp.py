"""Benchmark of the dsp layer on one simulated 8-hour 2 kHz night (run: make bench).

Prints the throughput of each stage and its ratio against scipy/numpy baselines on the same data, in
one run: the filter against scipy.signal.sosfilt on the same cascade, the full chain against a plain
scipy+numpy detector (sosfilt + MAD threshold per 30 s + threshold crossings with a dead time),
50 ms chunks against one whole call, the output latency of candidates at 50 ms chunks, zeros after an
impulse against ordinary data, 8 channels on all cores against one core, and the cold and cached JIT
start-up (in fresh interpreters). The chain's time is broken down by kernel (one extra instrumented
run).

Options: --hours H (default 8), --quick (0.5 h, for a smoke run).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy import signal

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numba  # noqa: E402

from dsp import (  # noqa: E402
    _detect_numba,
    _features_numba,
    _filter_numba,
    _noise_numba,
    _quality_numba,
)
from dsp.chain import DetectionChain, concat_outputs  # noqa: E402
from dsp.filters import StreamingFilter, design_sos, sosfilt  # noqa: E402

FS = 2000.0


def best_of(fn, repeat: int = 3) -> float:
    """Shortest wall time of ``repeat`` calls (s)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def best_pair(fa, fb, repeat: int = 3) -> tuple[float, float]:
    """Shortest times of ``fa`` and ``fb`` run alternately (fairer on a machine shared with others)."""
    ta, tb = [], []
    for _ in range(repeat):
        ta.append(best_of(fa, 1))
        tb.append(best_of(fb, 1))
    return min(ta), min(tb)


def night_signal(hours: float) -> tuple[np.ndarray, str]:
    """One channel, float32 µV: the simulator's quiet night when importable, else synthetic."""
    try:
        from calfwatch.simulator import load_profile, simulate_night

        night = simulate_night(load_profile("quiet", duration_s=hours * 3600.0), seed=0)
        x = np.concatenate([d[:1].astype(np.float32) for _, d in night.blocks()], axis=1)
        return x, "calfwatch.simulator profile 'quiet'"
    except ImportError:
        rng = np.random.default_rng(0)
        n = int(hours * 3600 * FS)
        x = rng.normal(0.0, 5.0, (1, n)).astype(np.float32)
        t = np.arange(int(0.015 * FS)) / FS
        wave = (150.0 * np.sin(2 * np.pi * 70 * t) * np.hanning(t.size)).astype(np.float32)
        for onset in rng.choice(n - wave.size, int(hours * 3600), replace=False):
            x[0, onset : onset + wave.size] += wave
        return x, "synthetic white noise + 1 potential/s"


def plain_detector(x64: np.ndarray, sos: np.ndarray) -> int:
    """Baseline: scipy sosfilt, MAD sigma per 30 s, crossings of 5 sigma, 5 ms dead time."""
    y = signal.sosfilt(sos, x64)
    win = int(30 * FS)
    n = (y.size // win) * win
    sigma = np.median(np.abs(y[:n].reshape(-1, win)), axis=1) / 0.6745
    thr = np.repeat(sigma, win)
    above = np.abs(y[:n]) > 5.0 * thr
    rises = np.flatnonzero(above[1:] & ~above[:-1]) + 1
    keep = np.concatenate([[True], np.diff(rises) > int(0.005 * FS)]) if rises.size else rises
    return int(rises[keep].size)


def run_chain(x: np.ndarray, chunk: int | None = None) -> int:
    chain = DetectionChain(FS, x.shape[0], mains_hz=None)
    if chunk is None:
        outs = [chain.process(x, 0)]
    else:
        outs = [chain.process(x[:, i : i + chunk], i) for i in range(0, x.shape[1], chunk)]
    outs.append(chain.flush())
    return len(concat_outputs(outs).candidates)


#: Kernels the chain calls, by stage, for the time breakdown.
STAGES = {
    "filter (23-section cascade)": (_filter_numba, "run_one_keep_serial"),  # one channel
    "settle blanking": (_noise_numba, "blank_after_restart"),
    "noise blocks + envelope frames": (_noise_numba, "update_blocks_serial"),
    "detection": (_detect_numba, "detect_serial"),
    "features": (_features_numba, "measure_serial"),
    "quality windows": (_quality_numba, "window_quality_serial"),
}


def stage_breakdown(x: np.ndarray) -> tuple[dict[str, float], float]:
    """Seconds spent in each kernel of one whole-night chain call, and the call's total.

    The call is made serial (no filter thread running ahead), so that the stages add up.
    """
    from dsp import chain as chain_mod

    spent = dict.fromkeys(STAGES, 0.0)
    ahead_s, chain_mod.AHEAD_MIN_PIECE_S = chain_mod.AHEAD_MIN_PIECE_S, 1e12  # never ahead
    saved = {}
    for name, (module, attr) in STAGES.items():
        kernel = saved[name] = getattr(module, attr)

        def timed(*args, _kernel=kernel, _name=name, **kwargs):
            t0 = time.perf_counter()
            _kernel(*args, **kwargs)
            spent[_name] += time.perf_counter() - t0

        setattr(module, attr, timed)
    try:
        t0 = time.perf_counter()
        run_chain(x)
        total = time.perf_counter() - t0
    finally:
        chain_mod.AHEAD_MIN_PIECE_S = ahead_s
        for name, (module, attr) in STAGES.items():
            setattr(module, attr, saved[name])
    return spent, total


def emit_latency(x: np.ndarray, chunk: int, batch_s: float | None = None) -> tuple[np.ndarray, float]:
    """Seconds from each candidate's peak sample to the end of the chunk whose call returned it.

    Also returns the bound ``batch_s + lookahead_s`` the chain states.
    """
    from dsp.config import ChainConfig

    config = ChainConfig() if batch_s is None else ChainConfig(batch_s=batch_s)
    chain = DetectionChain(FS, x.shape[0], mains_hz=50.0, config=config)
    lat = []
    for i in range(0, x.shape[1], chunk):
        out = chain.process(x[:, i : i + chunk], i)
        end = min(i + chunk, x.shape[1])
        lat.extend((end - out.candidates["peak"]) / FS)
    return np.asarray(lat), config.batch_s + chain.lookahead_s


def run_filter_chunks(sos: np.ndarray, x: np.ndarray, chunk: int) -> None:
    filt = StreamingFilter(sos, x.shape[0])
    for i in range(0, x.shape[1], chunk):
        filt.process(x[:, i : i + chunk])
    filt.flush()


@numba.njit(nogil=True)
def _empty_kernel(coef, x, state, ring, level, step0, y):
    return None


def run_call_floor(sos: np.ndarray, x: np.ndarray, chunk: int) -> None:
    """What any numba filter called once per chunk must spend besides filtering: take the chunk,
    allocate its output and enter a kernel with the filter kernel's arguments (that does nothing)."""
    filt = StreamingFilter(sos, x.shape[0])
    coef = filt.coef
    state = np.zeros((x.shape[0], 2, coef.shape[1]))
    ring = np.zeros((x.shape[0], _filter_numba.RING, coef.shape[1] + 1))
    level = np.full(x.shape[0], np.nan)
    for i in range(0, x.shape[1], chunk):
        part = x[:, i : i + chunk]
        _empty_kernel(coef, part, state, ring, level, i, np.empty(part.shape))


def channels_of(hour: np.ndarray, n_channels: int) -> np.ndarray:
    """The same number of samples in all as ``hour``, as ``n_channels`` channels."""
    return np.ascontiguousarray(np.repeat(hour[:, : hour.shape[1] // n_channels], n_channels, axis=0))


def print_chunk_costs(sos: np.ndarray, hour: np.ndarray, chunk: int) -> None:
    """Chunked against whole, on one thread for both (a whole call may also run channels, or the
    filter of the next piece, on the other cores; 50 ms chunks are too small for that), by number
    of channels, beside the floor that the cost of a call into compiled code sets."""
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        rows = []
        for n_ch in (1, 2, 4, 8):
            xc = channels_of(hour, n_ch)
            t_w, t_c = best_pair(
                lambda xc=xc: run_filter_chunks(sos, xc, xc.shape[1]),
                lambda xc=xc: run_filter_chunks(sos, xc, chunk))
            n_ch_calls = -(-xc.shape[1] // chunk)
            t_floor = best_of(lambda xc=xc: run_call_floor(sos, xc, chunk))
            rows.append((n_ch, t_c / t_w, (t_w + t_floor) / t_w, t_w / n_ch_calls, t_c / n_ch_calls))
        chain = {}
        for n_ch in (1, 8):
            xc = channels_of(hour, n_ch)
            run_chain(xc[:, : int(60 * FS)], chunk)  # compile for this shape before timing
            t_w, t_c = best_pair(lambda xc=xc: run_chain(xc), lambda xc=xc: run_chain(xc, chunk), 2)
            chain[n_ch] = t_c / t_w
    finally:
        numba.set_num_threads(threads)
    print(f"\n{chunk / FS * 1000:g} ms chunks against one whole call, both on one thread, "
          f"{hour.shape[1] / FS / 3600:g} h of samples in all (target <= 1.3). Floor: the ratio if"
          " each chunk cost only its share of the whole call plus slicing it, allocating its output"
          " and entering an empty kernel with the filter's arguments (the least any numba filter"
          " called per chunk costs):")
    print("  channels  filter ratio  floor  us per chunk: whole-call share, chunked")
    for n_ch, ratio, floor, us_w, us_c in rows:
        print(f"  {n_ch:8d}  {ratio:12.2f}  {floor:5.2f}  {us_w * 1e6:22.2f}  {us_c * 1e6:8.2f}")
    print("  chain (gathers chunks into batch_s): "
          + ", ".join(f"{n} ch {r:.2f}" for n, r in chain.items()))
    t_cw, t_cc = best_pair(lambda: run_chain(hour), lambda: run_chain(hour, chunk), 2)
    print(f"  with {threads} threads, where the whole call filters one piece ahead on a second core:"
          f" chain 1 ch {t_cc:.3f} s vs whole {t_cw:.3f} s, ratio {t_cc / t_cw:.2f}")


def jit_startup() -> tuple[float, float]:
    """Seconds from a fresh interpreter to the first chain output: empty cache, then warm cache."""
    code = (
        "import time; t=time.perf_counter(); import numpy as np; "
        "from dsp.chain import DetectionChain; "
        "c=DetectionChain(2000.0, 1, mains_hz=50.0); "
        "c.process(np.random.default_rng(0).normal(0,5,(1,24000)), 0); c.flush(); "
        "print(time.perf_counter()-t)"
    )
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache, PYTHONPATH=str(ROOT))
        run = [sys.executable, "-c", code]
        cold = float(subprocess.run(run, env=env, capture_output=True, text=True, check=True).stdout)
        warm = float(subprocess.run(run, env=env, capture_output=True, text=True, check=True).stdout)
    return cold, warm


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=8.0)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    hours = 0.5 if args.quick else args.hours
    x, source = night_signal(hours)
    x64 = x.astype(np.float64)
    n = x.shape[1]
    sos = design_sos(FS, mains_hz=50.0)
    msps = n / 1e6
    print(f"data: {hours:g} h x {FS:g} Hz x 1 channel = {n} samples ({source}), float32")
    print(f"cascade: band-pass 20-450 Hz + notches 50..950 Hz, {sos.shape[0]} sections")
    print(f"cores: {os.cpu_count()}, numba threads: {numba.get_num_threads()}, "
          f"load average at start: {os.getloadavg()[0]:.1f}")

    # warm-up: compile / load every kernel on a short piece
    run_chain(x[:, : int(60 * FS)])
    sosfilt(sos, x[:, :1000])

    t_scipy, t_filt = best_pair(lambda: signal.sosfilt(sos, x64[0]), lambda: sosfilt(sos, x))
    print(f"\nfilter  dsp.filters.sosfilt : {t_filt:6.3f} s  {msps / t_filt:7.1f} Msamples/s")
    print(f"filter  scipy.signal.sosfilt: {t_scipy:6.3f} s  {msps / t_scipy:7.1f} Msamples/s")
    print(f"  ratio scipy / dsp (target >= 1.0): {t_scipy / t_filt:.2f}")

    n_cand = run_chain(x)
    t_plain, t_chain = best_pair(lambda: plain_detector(x64[0], sos), lambda: run_chain(x))
    print(f"\nfull chain (filter+envelope+noise+detect+features+quality): {t_chain:6.3f} s"
          f"  {msps / t_chain:7.1f} Ms/s, {n_cand} candidates (target < 1.5 s for 8 h)")
    print(f"plain scipy+numpy detector                                : {t_plain:6.3f} s")
    print(f"  ratio plain / chain (target >= 1.5): {t_plain / t_chain:.2f}")
    spent, total = stage_breakdown(x)
    print(f"  breakdown of one instrumented serial chain call ({total:.3f} s; with one channel the "
          "timed call above filters one piece ahead on a second thread):")
    for name, sec in spent.items():
        print(f"    {name:32s} {sec:6.3f} s")
    print(f"    {'python, buffers, mains detection':32s} {total - sum(spent.values()):6.3f} s")

    hour = x[:, : int(min(hours, 1.0) * 3600 * FS)]
    chunk = int(0.05 * FS)
    print_chunk_costs(sos, hour, chunk)
    for batch_s in (None, 0.1):
        lat, bound = emit_latency(hour, chunk, batch_s)
        label = "default batch_s" if batch_s is None else f"batch_s {batch_s:g}"
        print(f"latency at 50 ms chunks ({label}), candidate peak -> chunk end of its output:"
              f" median {np.median(lat):.3f} s, max {lat.max():.3f} s over {lat.size}"
              f" (stated bound {bound:.3f} s; need < 0.5 s)")

    imp = np.zeros_like(hour)
    imp[0, 10] = 1e4
    t_den, t_norm = best_pair(lambda: sosfilt(sos, imp), lambda: sosfilt(sos, hour))
    imp64, hour64 = imp[0].astype(np.float64), hour[0].astype(np.float64)
    t_den_sp, t_norm_sp = best_pair(
        lambda: signal.sosfilt(sos, imp64), lambda: signal.sosfilt(sos, hour64), 1
    )
    print(f"\nzeros after an impulse: dsp {t_den:.3f} s vs normal {t_norm:.3f} s"
          f"  ratio {t_den / t_norm:.2f} (target <= 1.2);"
          f" scipy {t_den_sp:.3f} s vs {t_norm_sp:.3f} s ratio {t_den_sp / t_norm_sp:.2f}")

    eight = np.repeat(hour[:, : int(0.25 * hour.shape[1])], 8, axis=0)
    load = os.getloadavg()[0]
    threads = numba.get_num_threads()
    run_chain(eight[:, : int(60 * FS)])  # compile the threaded kernels for 8 channels
    t_par, t_one = [], []
    for _ in range(2):
        t_par.append(best_of(lambda: run_chain(eight), 1))
        numba.set_num_threads(1)
        t_one.append(best_of(lambda: run_chain(eight), 1))
        numba.set_num_threads(threads)
    t_par, t_one = min(t_par), min(t_one)
    print(f"\n8 channels chain: {threads} threads {t_par:.3f} s vs 1 thread {t_one:.3f} s"
          f"  speed-up {t_one / t_par:.2f} (target >= 1.6; load average before: {load:.1f},"
          f" other work on the cores caps it)")

    cold, warm = jit_startup()
    print(f"load average at end: {os.getloadavg()[0]:.1f} (other work on the machine slows every figure)")
    print(f"\nJIT start-up to first output: cold {cold:.2f} s, cached {warm:.2f} s (target < 1 s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
