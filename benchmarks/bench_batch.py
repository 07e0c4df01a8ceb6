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
cohort tables of all variants identical. ``--jobs 0`` (one worker per core when the batch repays
their start, else the serial path) is run too. ``--per-file`` adds the one-process-per-file
baseline (two at a time, like ``xargs -P2``).

What bounds the ratios is printed after the table, from measurements: the CPU seconds per file
inside the process analysing it (a process of its own runs the tasks in process with the filter
one piece ahead on its own thread, as the serial command does, and inline, and on a ``--jobs 2``
cluster's workers; each process's first file left out), the cores the serial run keeps busy
(its warm files/s x its CPU per file), hence the most that workers of one thread each can do
(cores / their CPU per file), and each command's fixed seconds (wall minus files / warm files/s:
start-up and shut-down). From these it prints the batch size from which the whole command would
reach the target, and the ratio projected for the same number of 120-minute files (run
``--minutes 120`` to measure it). On a machine shared with other work the walls move with it, the
CPU per file much less: the ``others`` column gives the CPU time other processes used during each
run, as a share of the cores (from /proc/stat, less the run's own), and the load average is
printed; ``--repeat`` runs the variants again in turn and keeps each one's best.

Usage: ``python benchmarks/bench_batch.py [--files 16] [--minutes 20] [--repeat 1] [--per-file]``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

PYTHON = sys.executable
#: The environment every command gets: as this process started (a LocalCluster started here sets
#: Dask's worker variables, MALLOC_TRIM_THRESHOLD_ among them, in this process's environment).
BASE_ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}
TARGET_RATIO = 1.7
#: Files finished before the warm throughput is counted (each of 2 workers has had its first).
WARM_SKIP = 2
#: Names of the per-file CPU measurements.
CPU_AHEAD, CPU_INLINE, CPU_WORKER = ("serial (filter ahead)", "serial (filter inline)",
                                     "--jobs 2 worker")
SERIAL, JOBS2, CLUSTER = ("serial (--jobs 1)", "--jobs 2 (LocalCluster inside)",
                          "--scheduler (2-worker LocalCluster)")


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
    done = []
    with subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, env=BASE_ENV) as proc:
        for line in proc.stdout:
            if line.startswith("wrote ") and line.rstrip().endswith("summary.json"):
                done.append(time.perf_counter() - start)
        err = proc.stderr.read()
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(argv)}\n{err}")
    return wall, done


def machine_busy_s() -> float:
    """CPU seconds every process of this machine has used (user, system, interrupts: from
    /proc/stat), nan where there is none."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            ticks = [int(x) for x in stat.readline().split()[1:8]]
    except (OSError, ValueError):
        return float("nan")
    user, nice, system, _idle, _iowait, irq, softirq = ticks
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


#: One variant's run: wall s, CPU s of its process tree, finishing times, and the share of the
#: cores other work used meanwhile.
Run = tuple[float, float, list[float], float]


def measure(run, cores: int) -> Run:
    """Wall s, CPU s of the process tree and finishing times of ``run()``, and the CPU time the
    rest of the machine (other people's work) used meanwhile, as a share of the cores."""
    cpu, busy, start = cpu_s(), machine_busy_s(), time.perf_counter()
    wall, done = run()
    cpu, elapsed = cpu_s() - cpu, time.perf_counter() - start
    return wall, cpu, done, max(0.0, machine_busy_s() - busy - cpu) / (cores * elapsed)


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
    """Analyze wall s on a LocalCluster started here (its start time appended to ``started``),
    its workers started as the README says (``--preload calfwatch.batch.worker``)."""
    import logging

    from distributed import LocalCluster

    start = time.perf_counter()
    with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                      dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR,
                      preload=["calfwatch.batch.worker"]) as cluster:
        started.append(time.perf_counter() - start)
        return analyze(cwd, "cluster", "--scheduler", cluster.scheduler_address)


def _task_cpu(job, options) -> tuple[float, int]:
    """CPU seconds of the process running one task (all its threads) during it, and its pid."""
    from calfwatch.batch.task import analyze_recording

    cpu = time.process_time()
    outcome = analyze_recording(job, options)
    if outcome.failed:
        raise RuntimeError(outcome.error)
    return time.process_time() - cpu, os.getpid()


def warm_mean(samples: list[tuple[float, int]]) -> float:
    """Mean CPU seconds per file, each process's first file left out."""
    seen: set[int] = set()
    warm = []
    for cpu, pid in samples:
        if pid in seen:
            warm.append(cpu)
        seen.add(pid)
    return sum(warm) / max(1, len(warm))


def measure_cpu_per_file(folder: Path) -> dict[str, float]:
    """CPU seconds per file inside the process that analyses it: this process with numba's
    default threads (one channel: the filter one piece ahead on a thread of its own), with one
    thread (the filter inline), and a worker of the ``--jobs 2`` local cluster."""
    from dataclasses import replace

    from calfwatch.batch.engines import dask_client, threads_by_worker
    from calfwatch.batch.inputs import plan_batch
    from calfwatch.batch.task import Options
    from classifier.config import load_config

    jobs = plan_batch([str(folder / "recs")], str(folder / "cpu")).jobs
    out = {}
    for name, threads in ((CPU_AHEAD, None), (CPU_INLINE, 1)):
        options = Options(load_config(), numba_threads=threads)
        out[name] = warm_mean([_task_cpu(job, options) for job in jobs])
    with dask_client(2) as client:
        options = replace(Options(load_config()), numba_threads=threads_by_worker(client))
        out[CPU_WORKER] = warm_mean(client.gather(
            client.map(_task_cpu, jobs, options=options, pure=False)))
    return out


def cpu_per_file(folder: Path) -> dict[str, float]:
    """:func:`measure_cpu_per_file` in a process of its own (with the commands' environment)."""
    done = subprocess.run([PYTHON, __file__, "--measure-cpu", str(folder)], capture_output=True,
                          text=True, env=BASE_ENV)
    if done.returncode != 0:
        raise SystemExit(f"CPU per file not measured:\n{done.stderr}")
    return json.loads(done.stdout.splitlines()[-1])


def best(runs: list[Run]) -> Run:
    """The run of shortest wall time (its finishing times and other work) and the least CPU of
    all."""
    wall, _, done, others = min(runs, key=lambda r: r[0])
    return wall, min(r[1] for r in runs), done, others


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=16)
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--per-file", action="store_true",
                        help="add one process per file, two at a time")
    parser.add_argument("--measure-cpu", metavar="DIR", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure_cpu:  # the per-file CPU, in a process of its own
        print(json.dumps(measure_cpu_per_file(Path(args.measure_cpu))))
        return 0
    cores = len(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory(prefix="calfwatch-bench-") as tmp:
        cwd = Path(tmp)
        t = time.perf_counter()
        paths = make_recordings(cwd, args.files, args.minutes)
        print(f"{args.files} recordings of {args.minutes:g} min written in "
              f"{time.perf_counter() - t:.1f} s; {cores} cores; load average {_load()}",
              flush=True)
        variants = {
            SERIAL: lambda: analyze(cwd, "serial"),
            JOBS2: lambda: analyze(cwd, "jobs2", "--jobs", "2"),
            "--jobs 0 (workers if they repay)": lambda: analyze(cwd, "jobs0", "--jobs", "0"),
        }
        started: list[float] = []
        variants[CLUSTER] = lambda: on_cluster(cwd, 2, started)
        if args.per_file:
            variants["one process per file, 2 at a time"] = lambda: per_file(cwd, paths)
        runs: dict[str, list] = {name: [] for name in variants}
        for _ in range(args.repeat):  # in turn: a change of load slows all alike
            for name, run in variants.items():
                runs[name].append(measure(run, cores))
        cpu = cpu_per_file(cwd)
        kept = {k: best(v) for k, v in runs.items()}
        same = report(kept, args.files, min(started), cwd)
        explain(kept, cpu, args.files, args.minutes, cores)
        return 0 if same else 1


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def fixed_s(wall: float, done: list[float], n_files: int) -> float:
    """Seconds of a command its warm throughput does not explain: start-up and shut-down."""
    return wall - n_files / warm_rate(done)


def report(runs: dict[str, Run], n_files: int, started: float, cwd: Path) -> bool:
    """Print the table; True when the cohort tables are identical."""
    wall0, _, done0, _ = runs[SERIAL]
    base, warm_base = n_files / wall0, warm_rate(done0)
    print(f"{'variant':38s} {'wall s':>7s} {'CPU s':>6s} {'CPU/file':>8s} {'fixed s':>7s} "
          f"{'files/s':>8s} {'x serial':>8s} {'warm files/s':>12s} {'x serial':>8s} "
          f"{'others':>6s}")
    for name, (wall, cpu, done, others) in runs.items():
        warm = warm_rate(done)
        print(f"{name:38s} {wall:7.1f} {cpu:6.1f} {cpu / n_files:8.2f} "
              f"{fixed_s(wall, done, n_files):7.1f} {n_files / wall:8.3f} "
              f"{n_files / wall / base:8.2f} {warm:12.3f} {warm / warm_base:8.2f} "
              f"{others:6.0%}")
    print(f"files/s: whole command, start-up included; warm: from the {WARM_SKIP}nd file "
          f"finished to the last; fixed: wall - files / warm files/s (start-up and shut-down). "
          f"The --scheduler cluster took {started:.1f} s to start, not in its wall time (its CPU "
          "is). CPU: user + system of the command and every process it started. others: the "
          "machine's CPU time used by other work during the run, as a share of its cores.")
    tables = {name: (cwd / name / "cohort.csv").read_bytes()
              for name in ("serial", "jobs2", "jobs0", "cluster")}
    same = len(set(tables.values())) == 1
    print(f"cohort tables identical: {same}")
    return same


def files_for_ratio(f_s: float, r_s: float, f_p: float, r_p: float,
                    ratio: float = TARGET_RATIO) -> float:
    """Files from which ``(f_s + n / r_s) / (f_p + n / r_p)`` reaches ``ratio`` (inf if never):
    f the fixed seconds, r the warm files/s, of the serial run and a parallel one."""
    gain = 1.0 / r_s - ratio / r_p
    return max(0.0, (ratio * f_p - f_s) / gain) if gain > 0 else float("inf")


def _files(n: float, minutes: float) -> str:
    if not math.isfinite(n):
        return "no batch size (the warm ratio is below it)"
    return f"about {n:.0f} files of {minutes:g} min ({n * minutes / 60:.0f} h of recordings)"


def explain(runs: dict[str, Run], cpu: dict[str, float], n_files: int, minutes: float,
            cores: int) -> None:
    """Print what bounds each ratio (the serial run's busy cores, the CPU per file, the fixed
    seconds), the batch from which the whole command would reach the target, and the checks."""
    wall0, _, done0, _ = runs[SERIAL]
    r_s, f_s, c_w = warm_rate(done0), fixed_s(wall0, done0, n_files), cpu[CPU_WORKER]
    print("CPU s per file inside the process analysing it (its first file left out): "
          + "; ".join(f"{name} {value:.3f}" for name, value in cpu.items()))
    print(f"warm ceiling: the serial run keeps {r_s:.2f} files/s x {cpu[CPU_AHEAD]:.3f} s = "
          f"{r_s * cpu[CPU_AHEAD]:.2f} cores busy; {cores} workers at {c_w:.3f} s a file do at "
          f"most {cores / c_w:.2f} files/s = {cores / c_w / r_s:.2f}x serial")
    others = max(run[3] for run in runs.values())
    if others > 0.1:  # Linux shares busy cores out by session: the runs got what was left
        print(f"other work took up to {others:.0%} of the cores during a run: walls, ratios and "
              "the ceiling are not what an idle machine gives; the CPU s per file much less so")
    best_whole = (f_s + n_files / r_s) / (f_s + n_files * c_w / cores)
    print(f"whole-command bound: with no more fixed seconds than the serial run's {f_s:.1f} s "
          f"(its start-up, which a parallel command pays too) and workers at the warm ceiling, "
          f"{n_files} files of {minutes:g} min would reach at most {best_whole:.2f}x")
    long_k = 120.0 / minutes
    for name in (JOBS2, CLUSTER):
        wall, _, done, _ = runs[name]
        r_p, f_p = warm_rate(done), fixed_s(wall, done, n_files)
        whole, warm = wall0 / wall, r_p / r_s
        need, even = files_for_ratio(f_s, r_s, f_p, r_p), files_for_ratio(f_s, r_s, f_p, r_p, 1.0)
        longer = (f_s + n_files * long_k / r_s) / (f_p + n_files * long_k / r_p)
        print(f"{name}: warm {warm:.2f}x ({'met' if warm >= TARGET_RATIO else 'NOT met'}), "
              f"whole command {whole:.2f}x ({'met' if whole >= TARGET_RATIO else 'NOT met'}): "
              f"{f_p:.1f} s fixed against the serial run's {f_s:.1f} s; faster than serial "
              f"from {_files(even, minutes)}, {TARGET_RATIO}x from {_files(need, minutes)}; "
              f"{n_files} files of 120 min: {longer:.2f}x (projected)")
    print(f"target >= {TARGET_RATIO}x serial on {cores} cores; load average now {_load()}")


if __name__ == "__main__":
    sys.exit(main())
