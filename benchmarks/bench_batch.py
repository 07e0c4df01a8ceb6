"""A batch of recordings: ``calfwatch analyze DIR`` in one process, with ``--jobs 2``, and on a Dask
``LocalCluster`` of 2 worker processes through ``--scheduler``, in one run on the same files.

The recordings (default 16 simulated 20-minute single-channel nights at 2 kHz) are written once into
a temporary folder. Each variant is one ``calfwatch analyze`` process timed from start to exit (its
start-up, and for ``--jobs 2`` the start of its local cluster, included); the cluster of the
``--scheduler`` variant is started before the command and its start time printed apart. Throughput
is files per second of wall time; the ratio to the serial run is printed.

Throughput is printed twice: for the whole command, and warm (from the second file finished to the
last, i.e. once the workers have started and loaded their kernels: what a batch of thousands of
files sees). CPU seconds of each process tree are printed beside the wall time.

Targets: on 2 cores, ``--jobs 2`` and the 2-worker cluster at least 1.7x the serial throughput; the
cohort tables of all variants identical. The serial run already keeps more than one core busy (the
filter of a one-channel recording runs ahead on a thread of its own), so workers of one thread
each can do at most ``cores / (cores the serial run used)`` its throughput: that ceiling is printed
beside the target, and CPU seconds per file for each variant. ``--jobs 0`` (one worker per core
when the batch repays their start, else the serial path) is run too. ``--per-file`` adds the
one-process-per-file baseline (two at a time, like ``xargs -P2``). The load average is printed: on
a machine shared with other work the figures move with it; ``--repeat`` runs the variants again
in turn and keeps each one's best.

Usage: ``python benchmarks/bench_batch.py [--files 16] [--minutes 20] [--repeat 1] [--per-file]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

PYTHON = sys.executable
TARGET_RATIO = 1.7
#: Files finished before the warm throughput is counted (each of 2 workers has had its first).
WARM_SKIP = 2


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
    for path in folder.joinpath("recs").iterdir():  # only the recordings in the batch
        if path not in paths:
            path.unlink()
    return paths


def cpu_s() -> float:
    """CPU seconds (user + system) of this process and every child it waited for."""
    own, kids = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                       resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def timed(argv: list[str], cwd: Path) -> tuple[float, list[float]]:
    """Wall seconds of one command and the times its ``wrote .../summary.json`` lines appeared
    (one per file finished); a failure stops the benchmark."""
    start = time.perf_counter()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    done = []
    with subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, env=env) as proc:
        for line in proc.stdout:
            if line.startswith("wrote ") and line.rstrip().endswith("summary.json"):
                done.append(time.perf_counter() - start)
        err = proc.stderr.read()
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(argv)}\n{err}")
    return wall, done


def measure(run) -> tuple[float, float, list[float]]:
    """(wall s, CPU s of the process tree, finishing times) of ``run()``."""
    cpu = cpu_s()
    wall, done = run()
    return wall, cpu_s() - cpu, done


def warm_rate(done: list[float], skip: int = WARM_SKIP) -> float:
    """Files per second once running: from the ``skip``-th file finished to the last."""
    if len(done) <= skip:
        return float("nan")
    return (len(done) - skip) / (done[-1] - done[skip - 1])


def analyze(cwd: Path, out: str, *extra: str) -> tuple[float, list[float]]:
    return timed([PYTHON, "-m", "calfwatch", "analyze", "recs", "--out", out, "--quiet", *extra],
                 cwd)


def per_file(cwd: Path, paths: list[Path], workers: int = 2) -> tuple[float, list[float]]:
    """One ``calfwatch analyze FILE`` process per file, ``workers`` at a time."""
    start = time.perf_counter()

    def one(path: Path) -> float:
        timed([PYTHON, "-m", "calfwatch", "analyze", str(path), "--out",
               str(cwd / "per_file" / path.stem), "--quiet"], cwd)
        return time.perf_counter() - start

    with ThreadPoolExecutor(workers) as pool:
        done = sorted(pool.map(one, paths))
    return time.perf_counter() - start, done


def on_cluster(cwd: Path, n_workers: int, started: list[float]) -> tuple[float, list[float]]:
    """Analyze wall s on a LocalCluster started here (its start time appended to ``started``)."""
    import logging

    from distributed import LocalCluster

    start = time.perf_counter()
    with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                      dashboard_address=None, silence_logs=logging.ERROR) as cluster:
        started.append(time.perf_counter() - start)
        return analyze(cwd, "cluster", "--scheduler", cluster.scheduler_address)


def best(runs: list[tuple[float, float, list[float]]]) -> tuple[float, float, list[float]]:
    """The run of shortest wall time (its CPU and finishing times) and the least CPU of all."""
    wall, _, done = min(runs, key=lambda r: r[0])
    return wall, min(r[1] for r in runs), done


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=16)
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--per-file", action="store_true",
                        help="add one process per file, two at a time")
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory(prefix="calfwatch-bench-") as tmp:
        cwd = Path(tmp)
        t = time.perf_counter()
        paths = make_recordings(cwd, args.files, args.minutes)
        load0 = os.getloadavg()[0]
        print(f"{args.files} recordings of {args.minutes:g} min written in "
              f"{time.perf_counter() - t:.1f} s; {cores} cores; load average "
              f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
        variants = {
            "serial (--jobs 1)": lambda: analyze(cwd, "serial"),
            "--jobs 2 (LocalCluster inside)": lambda: analyze(cwd, "jobs2", "--jobs", "2"),
            "--jobs 0 (workers if they repay)": lambda: analyze(cwd, "jobs0", "--jobs", "0"),
        }
        started: list[float] = []
        variants["--scheduler (2-worker LocalCluster)"] = lambda: on_cluster(cwd, 2, started)
        if args.per_file:
            variants["one process per file, 2 at a time"] = lambda: per_file(cwd, paths)
        runs: dict[str, list] = {name: [] for name in variants}
        for _ in range(args.repeat):  # in turn: a change of load slows all alike
            for name, run in variants.items():
                runs[name].append(measure(run))
        return report({k: best(v) for k, v in runs.items()}, args.files, cores, min(started), cwd,
                      load0)


def report(runs: dict[str, tuple[float, float, list[float]]], n_files: int, cores: int,
           started: float, cwd: Path, load0: float) -> int:
    """Print the table and the checks; 0 when the cohort tables are identical."""
    wall0, cpu0, done0 = runs["serial (--jobs 1)"]
    base, warm_base = n_files / wall0, warm_rate(done0)
    ceiling = cores / (cpu0 / wall0)
    print(f"{'variant':38s} {'wall s':>7s} {'CPU s':>6s} {'CPU/file':>8s} {'files/s':>8s} "
          f"{'x serial':>8s} {'warm files/s':>12s} {'x serial':>8s}")
    ok = warm_ok = True
    for name, (wall, cpu, done) in runs.items():
        ratio, warm = n_files / wall / base, warm_rate(done)
        print(f"{name:38s} {wall:7.1f} {cpu:6.1f} {cpu / n_files:8.2f} {n_files / wall:8.3f} "
              f"{ratio:8.2f} {warm:12.3f} {warm / warm_base:8.2f}")
        if name.startswith("--jobs 2") or name.startswith("--scheduler"):
            ok = ok and ratio >= TARGET_RATIO
            warm_ok = warm_ok and warm / warm_base >= TARGET_RATIO
    print(f"files/s: whole command, start-up included; warm: from the {WARM_SKIP}nd file "
          f"finished to the last. The --scheduler cluster took {started:.1f} s to start, "
          "not in its wall time (its CPU is). CPU: user + system of the command and every "
          "process it started.")
    tables = {name: (cwd / name / "cohort.csv").read_bytes()
              for name in ("serial", "jobs2", "jobs0", "cluster")}
    same = len(set(tables.values())) == 1
    print(f"cohort tables identical: {same}")
    used = cpu0 / wall0
    busy = max(os.getloadavg()[0], load0) > cores / 2
    if busy:  # Linux shares busy cores out by session: the run got what the others left
        print(f"the serial run kept {used:.2f} cores busy, but the machine was busy with other "
              f"work (load average above {cores / 2:g}): what it keeps busy alone, hence the "
              f"ceiling cores / that, is not measured by this run, and parallel workers get no "
              f"more of the cores than the serial run did")
        limit = "ceiling not measured"
    else:
        print(f"the serial run kept {used:.2f} cores busy: workers of one thread each on {cores} "
              f"cores can do at most {cores} / {used:.2f} = {ceiling:.2f}x its throughput")
        limit = f"ceiling {ceiling:.2f}x"
    print(f"target >= {TARGET_RATIO}x serial on {cores} cores ({limit}): whole "
          f"command {'met' if ok else 'NOT met'}, warm {'met' if warm_ok else 'NOT met'}; "
          f"load average now {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
