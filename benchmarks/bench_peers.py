"""calfwatch against its peers on the same 8-hour 2 kHz 1-channel EDF+ night, in one run.

Each tool runs as its own process (wall time and peak RSS of that process, ``ru_maxrss`` of the
child), the calfwatch and plain-detector runs alternating so that a machine shared with other work
slows both alike:

- calfwatch: ``calfwatch analyze NIGHT.edf`` (whole process: engine, classifier, summary, files),
  with a warm numba cache;
- plain detector: MNE reads the file, one causal SOS cascade (band-pass 20-450 Hz and mains notches,
  ``scipy.signal.sosfilt``), 5 x MAD threshold, threshold crossings written to a TSV file;
- NeuroKit2 ``emg_process`` and BioSPPy ``emg.emg`` (the ``bench`` extra; skipped when missing), on
  the first ``--cut-minutes`` of the night, their processing time scaled to the whole night and
  their start-up (imports, reading the cut) counted once; their memory is that of the cut. Neither detects fasciculations: their envelopes and minimum
  durations remove 5-30 ms potentials; they are here for the cost of a night through them.

Then 8 channels x 8 hours against one channel, and the cold start (benchmarks/bench_cold_start.py): ``calfwatch analyze`` of a
20-minute file with an empty numba cache (``NUMBA_CACHE_DIR``) against the second run with it.
The simulated files are written once and kept in ``--out`` (bench-output/). CPU time (user +
system of the child) is printed beside the wall time: on a shared machine it varies less.

Targets: whole process warm <= 0.8 x the plain detector's wall time and <= 300 MiB peak; 8 channels
<= 4 x one channel's time; cold first run <= 5 s more than a warm one on the 20-minute file.

Usage: ``python benchmarks/bench_peers.py [--hours 8] [--repeat 2] [--cut-minutes 60]
[--skip-8ch] [--out bench-output]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

from _plain_detector import PLAIN
from bench_cold_start import cold_warm, night_20min

PYTHON = sys.executable
MIB = 1024.0

#: Run ``argv`` from a fresh helper; print the child's exit code, wall s, peak RSS (KiB) and CPU s.
HELPER = """
import resource, subprocess, sys, time
t = time.perf_counter()
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
wall = time.perf_counter() - t
use = resource.getrusage(resource.RUSAGE_CHILDREN)
print(code, wall, use.ru_maxrss, use.ru_utime + use.ru_stime)
"""


#: A peer on the first minutes of the night: MNE reads the cut, the peer processes it; the seconds
#: of the processing alone go to the file argv[4] (they are scaled to the night, the rest is not).
PEER = """
import sys, time
import mne
path, minutes, which, spent = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
raw = mne.io.read_raw_edf(path, preload=False, verbose="error")
fs = raw.info["sfreq"]
x = raw.get_data(start=0, stop=int(minutes * 60 * fs))[0] * 1e6
if which == "neurokit2":
    import neurokit2 as nk
    t = time.perf_counter()
    signals, info = nk.emg_process(x, sampling_rate=int(fs))
else:
    from biosppy.signals import emg
    t = time.perf_counter()
    out = emg.emg(signal=x, sampling_rate=fs, show=False)
open(spent, "w").write(str(time.perf_counter() - t))
"""

PEER_MODULES = {"neurokit2": "neurokit2 emg_process", "biosppy": "BioSPPy emg.emg"}


def measured(argv: list[str], env: dict | None = None) -> tuple[float, float, float]:
    """(wall s, peak RSS MiB, CPU s) of ``argv`` run as a child of a fresh helper."""
    out = subprocess.run([PYTHON, "-c", HELPER, *argv], capture_output=True, text=True,
                         check=True, env=env)
    code, wall, rss_kib, cpu = out.stdout.split()
    if int(code) != 0:
        raise SystemExit(f"failed ({code}): {' '.join(argv)}")
    return float(wall), float(rss_kib) / MIB, float(cpu)


def load() -> str:
    """The 1-, 5- and 15-minute load averages (the machine may be shared)."""
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def simulate(path: Path, hours: float, channels: int) -> Path:
    """Write a benign simulated night once (kept for later runs)."""
    if not path.exists():
        print(f"  simulating {path.name} ({hours:g} h, {channels} channel(s)) once ...", flush=True)
        subprocess.run([PYTHON, "-m", "calfwatch", "simulate", "--profile", "benign-night",
                        "--duration", f"{hours * 60:g}min", "--channels", str(channels),
                        "--seed", "1", "--out", str(path)], check=True, stdout=subprocess.DEVNULL)
    return path


def analyze_argv(path: Path, out: Path) -> list[str]:
    return [PYTHON, "-m", "calfwatch", "analyze", str(path), "--out", str(out), "--quiet"]


def best(runs: list[tuple[float, float, float]]) -> tuple[float, float, float]:
    """Shortest wall time, largest peak and shortest CPU time of repeated runs."""
    return (min(r[0] for r in runs), max(r[1] for r in runs), min(r[2] for r in runs))


def row(name: str, wall: float, mib: float, ref: float, note: str = "") -> None:
    print(f"  {name:<34} {wall:8.2f} s {mib:8.0f} MiB {wall / ref:7.2f} x  {note}")


def whole_night(out: Path, hours: float, repeat: int, cut_min: float) -> tuple[float, float]:
    night = simulate(out / "night_1ch.edf", hours, 1)
    measured([PYTHON, "-m", "dsp.warmup", "--if-cold"])  # the warm figure: kernels on disk
    cw, plain = [], []
    for _ in range(repeat):  # alternating: both see the same load
        cw.append(measured(analyze_argv(night, out / "analysis_1ch")))
        plain.append(measured([PYTHON, "-c", PLAIN, str(night), str(out / "plain.tsv")]))
    (cw_s, cw_mib, cw_cpu), (pl_s, pl_mib, pl_cpu) = best(cw), best(plain)
    print(f"{hours:g} h, 2 kHz, 1 channel EDF+ ({night.stat().st_size / 1e6:.0f} MB), best of "
          f"{repeat}; load {load()}")
    print(f"  {'tool':<34} {'wall':>10} {'peak':>12} {'/calfwatch':>9}")
    row("calfwatch analyze (whole process)", cw_s, cw_mib, cw_s, f"CPU {cw_cpu:.2f} s")
    row("plain detector (MNE + sosfilt)", pl_s, pl_mib, cw_s, f"CPU {pl_cpu:.2f} s")
    for module, label in PEER_MODULES.items():
        if importlib.util.find_spec(module) is None:
            print(f"  {label:<34} not installed (pip install '.[bench]')")
            continue
        spent = out / f"{module}_seconds.txt"
        wall, mib, _ = measured([PYTHON, "-c", PEER, str(night), str(cut_min), module,
                                 str(spent)])
        work = float(spent.read_text())
        scaled = wall - work + work * hours * 60 / cut_min  # start-up once, processing scaled
        row(label, scaled, mib, cw_s,
            f"({wall:.1f} s on the first {cut_min:g} min, {work:.1f} s of it processing, scaled)")
    print(f"  target: calfwatch <= 0.8 x plain: {cw_s / pl_s:.2f} x "
          f"({'met' if cw_s <= 0.8 * pl_s else 'NOT met'}); <= 300 MiB: {cw_mib:.0f} MiB "
          f"({'met' if cw_mib <= 300 else 'NOT met'})")
    return cw_s, cw_cpu


def eight_channels(out: Path, hours: float, one: tuple[float, float], repeat: int) -> None:
    """8 channels x ``hours`` against one channel (``one``: its best wall and CPU s), best of
    ``repeat`` runs as for one channel."""
    night = simulate(out / "night_8ch.edf", hours, 8)
    wall, mib, cpu = best([measured(analyze_argv(night, out / "analysis_8ch"))
                           for _ in range(repeat)])
    print(f"{hours:g} h, 2 kHz, 8 channels, best of {repeat}: calfwatch analyze {wall:.2f} s "
          f"(CPU {cpu:.2f} s), {mib:.0f} MiB peak; {wall / one[0]:.2f} x one channel's wall "
          f"(target <= 4: {'met' if wall <= 4 * one[0] else 'NOT met'}), CPU "
          f"{cpu / one[1]:.2f} x; load {load()}")


def cold_start(out: Path, repeat: int) -> None:
    cold_warm(night_20min(out), out, repeat)
    print("  (per-kernel compile times and the gain of compiling on several processes: "
          "benchmarks/bench_cold_start.py)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=8.0)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--cut-minutes", type=float, default=60.0)
    parser.add_argument("--skip-8ch", action="store_true")
    parser.add_argument("--out", default="bench-output")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("MPLBACKEND", "Agg")
    t0 = time.perf_counter()
    one = whole_night(out, args.hours, args.repeat, args.cut_minutes)
    if not args.skip_8ch:
        eight_channels(out, args.hours, one, args.repeat)
    cold_start(out, args.repeat)
    print(f"(bench_peers: {time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
