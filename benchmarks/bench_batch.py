"""A batch of recordings: ``calfwatch analyze DIR`` in one process, with ``--jobs 2``, and on a Dask
``LocalCluster`` of 2 worker processes through ``--scheduler``, in one run on the same files.

The recordings (default 16 simulated 20-minute single-channel nights at 2 kHz) are written once into
a temporary folder. Each variant is one ``calfwatch analyze`` process timed from start to exit (its
start-up, and for ``--jobs 2`` the start of its local cluster, included); the cluster of the
``--scheduler`` variant is started before the command and its start time printed apart. Throughput
is files per second of wall time; the ratio to the serial run is printed.

Targets: on 2 cores, ``--jobs 2`` and the 2-worker cluster at least 1.7x the serial throughput; the
cohort tables of all variants identical. ``--per-file`` adds the one-process-per-file baseline
(two at a time, like ``xargs -P2``). The load average is printed: on a machine shared with other
work the figures move with it.

Usage: ``python benchmarks/bench_batch.py [--files 16] [--minutes 20] [--per-file]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

PYTHON = sys.executable
TARGET_RATIO = 1.7


def make_recordings(folder: Path, n_files: int, minutes: float) -> list[Path]:
    """``n_files`` simulated nights (benign-night profile, seeds 0..n-1) written as EDF+."""
    from calfwatch.simulator import load_profile, simulate_night, write_simulation

    paths = []
    for seed in range(n_files):
        params = load_profile("benign-night", duration_s=minutes * 60.0,
                              meas_date=f"2026-02-{1 + seed % 28:02d}T22:00:00+00:00")
        path = folder / "recs" / f"night{seed:03d}.edf"
        write_simulation(simulate_night(params, seed=seed), path)
        paths.append(path)
    return paths


def timed(argv: list[str], cwd: Path) -> float:
    """Wall seconds of one command (its output discarded; a failure stops the benchmark)."""
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(argv)}\n{proc.stderr}")
    return wall


def analyze(cwd: Path, out: str, *extra: str) -> float:
    return timed([PYTHON, "-m", "calfwatch", "analyze", "recs", "--out", out, "--quiet", *extra],
                 cwd)


def per_file(cwd: Path, paths: list[Path], workers: int = 2) -> float:
    """One ``calfwatch analyze FILE`` process per file, ``workers`` at a time."""
    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda p: timed([PYTHON, "-m", "calfwatch", "analyze", str(p), "--out",
                                       str(cwd / "per_file" / p.stem), "--quiet"], cwd), paths))
    return time.perf_counter() - start


def on_cluster(cwd: Path, n_workers: int) -> tuple[float, float]:
    """(cluster start s, analyze wall s) on a LocalCluster started here."""
    import logging

    from distributed import LocalCluster

    start = time.perf_counter()
    with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                      dashboard_address=None, silence_logs=logging.ERROR) as cluster:
        started = time.perf_counter() - start
        wall = analyze(cwd, "cluster", "--scheduler", cluster.scheduler_address)
    return started, wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=16)
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--per-file", action="store_true",
                        help="add one process per file, two at a time")
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory(prefix="calfwatch-bench-") as tmp:
        cwd = Path(tmp)
        t = time.perf_counter()
        paths = make_recordings(cwd, args.files, args.minutes)
        print(f"{args.files} recordings of {args.minutes:g} min written in "
              f"{time.perf_counter() - t:.1f} s; {cores} cores; load average "
              f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        walls = {"serial (--jobs 1)": analyze(cwd, "serial")}
        walls["--jobs 2 (LocalCluster inside)"] = analyze(cwd, "jobs2", "--jobs", "2")
        started, walls["--scheduler (2-worker LocalCluster)"] = on_cluster(cwd, 2)
        if args.per_file:
            walls["one process per file, 2 at a time"] = per_file(cwd, paths)
        base = args.files / walls["serial (--jobs 1)"]
        print(f"{'variant':40s} {'wall s':>8s} {'files/s':>8s} {'x serial':>9s}")
        ok = True
        for name, wall in walls.items():
            ratio = args.files / wall / base
            print(f"{name:40s} {wall:8.1f} {args.files / wall:8.3f} {ratio:9.2f}")
            if name.startswith("--") and ratio < TARGET_RATIO:
                ok = False
        print(f"(the --scheduler cluster took {started:.1f} s to start, not counted above)")
        tables = {name: (cwd / name / "cohort.csv").read_bytes()
                  for name in ("serial", "jobs2", "cluster")}
        same = len(set(tables.values())) == 1
        print(f"cohort tables identical: {same}")
        print(f"target >= {TARGET_RATIO}x serial on {cores} cores: "
              f"{'met' if ok else 'NOT met'}; load average now "
              f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
