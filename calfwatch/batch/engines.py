"""Where a batch's tasks run: in this process one after another, on a Dask ``LocalCluster`` of
this machine's cores, or on an existing ``dask.distributed`` cluster.

Each engine yields :class:`~calfwatch.batch.task.Outcome` objects as the tasks finish (in any
order). Worker processes live for the whole batch and take file after file. On this machine
(``--jobs N``) they are forked from one process that imported calfwatch and loaded the compiled
kernels once for all of them (:mod:`calfwatch.batch.worker`), after this process compiled what the
disk lacked (on every core, :func:`dsp.warmup.prepare`). Each file's kernels get
``cores // workers`` numba threads on a machine, so the workers together do not ask for more
threads than there are cores (one each on a machine of as many cores as workers: no filter thread
running ahead, the other cores being busy with other files).
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace

from calfwatch.batch.inputs import Job
from calfwatch.batch.sigint import SigintLatch, sigint_ignored
from calfwatch.batch.task import Options, Outcome, analyze_recording

#: What to install for --jobs N > 1 and --scheduler.
EXTRA_HINT = "pip install 'calfwatch[cluster]'"
#: With ``--jobs 0``, recording bytes per worker below which a worker is not started. Two local
#: workers add about 1.5 s to a command's start and shut-down (Dask, the fork server's imports),
#: and then analyse a 20-minute one-channel recording (5.5 MB of EDF+) in about 0.075 s of wall
#: time against 0.14 s in this process: they repay their start from 15 to 20 such recordings, 40
#: to 55 MB per worker (``benchmarks/bench_batch.py`` prints it on the machine it runs on).
AUTO_MIN_BYTES_PER_WORKER = 64_000_000
#: Where a local cluster's scheduler serves HTTP: it always does (``dashboard_address=None`` still
#: takes port 8787, and warns on stderr when another batch holds it); a free port, this machine only.
_HTTP_ADDRESS = "127.0.0.1:0"
#: Seconds between looks for finished tasks (and for Ctrl-C) while none is ready.
_POLL_S = 0.1


def usable_cores() -> int:
    """Cores this process may run on (as :func:`dsp.warmup.usable_cores`, without importing
    numba: a local cluster's fork server starts before this process needs it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def run_serial(jobs: list[Job], options: Options) -> Iterator[Outcome]:
    """The tasks one after another in this process."""
    for job in jobs:
        yield analyze_recording(job, options)


def require_distributed(what: str) -> None:
    """RuntimeError (one line) when dask.distributed is not installed (looked up, not imported:
    importing it takes 0.3 s, which a local cluster's fork server overlaps)."""
    import importlib.util

    try:
        found = importlib.util.find_spec("distributed") is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise RuntimeError(f"{what} needs dask.distributed: {EXTRA_HINT}")


def _import_distributed(what: str) -> None:
    """Import dask.distributed; the same one line as :func:`require_distributed` if it fails."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise RuntimeError(f"{what} needs dask.distributed: {EXTRA_HINT}") from None


def local_workers(n_jobs: int, paths: list[str]) -> int:
    """Worker processes for ``--jobs n_jobs`` on this machine (1: analyse in this process).

    Never more than the usable cores (a worker runs its kernels on one thread; more workers than
    cores only add start-ups) nor the recordings. ``n_jobs`` 0 (one per core) also leaves out
    the workers whose share of the recordings would be under :data:`AUTO_MIN_BYTES_PER_WORKER`:
    a batch that small is done in this process before workers would have started.
    """
    n = min(n_jobs or usable_cores(), usable_cores(), len(paths))
    if n_jobs == 0 and n > 1:
        total = 0
        for path in paths:
            try:
                total += os.path.getsize(path)
            except OSError:
                pass
        n = min(n, total // AUTO_MIN_BYTES_PER_WORKER)
    return max(1, n)


@contextmanager
def _forked_workers(what: str):
    """Local worker processes forked from one process that has imported what a task runs and
    loaded the kernels (:mod:`calfwatch.batch.worker`), where the platform can fork; otherwise
    (or when that process already runs) Dask's default start.

    That process is started first: its imports (about a second of CPU) overlap what this one
    does before the cluster asks for workers (distributed imported, kernels checked, scheduler
    started).
    """
    import multiprocessing

    if "forkserver" not in multiprocessing.get_all_start_methods():
        _import_distributed(what)
        yield
        return
    from multiprocessing import forkserver

    preload = ["distributed", "calfwatch.batch.worker"]
    multiprocessing.get_context("forkserver").set_forkserver_preload(preload)
    try:
        _start_forkserver()
        _import_distributed(what)
        import dask
        import distributed.utils

        # distributed would replace the list by its own (dask, pandas...), imported here first
        distributed.utils._forkserver_preload_set = True
        with dask.config.set({"distributed.worker.multiprocessing-method": "forkserver"}):
            yield
    finally:
        _stop_forkserver(forkserver._forkserver)


def _stop_forkserver(server) -> None:
    """Stop the fork server and reap it: no process left behind, its CPU time counted as this
    one's. It is terminated first: it holds nothing to save, and the interpreter shutdown it
    would otherwise go through (every module it imported) takes half a second."""
    stop = getattr(server, "_stop", None)
    pid = getattr(server, "_forkserver_pid", None)
    if stop is None:
        return
    if pid is not None:
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:  # gone already
            pass
    stop()


def _worker_env() -> dict[str, str]:
    """The local workers' environment where this one does not set it: one thread for OpenMP and
    BLAS (a worker runs one task at a time on one core, as Dask's nanny sets for the workers it
    spawns), and glibc's malloc thresholds at the values :mod:`calfwatch.batch.allocator` sets
    (freed memory kept for the next recording)."""
    from calfwatch.batch.allocator import MMAP_THRESHOLD_BYTES, TRIM_THRESHOLD_BYTES

    return {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
            "MALLOC_MMAP_THRESHOLD_": str(MMAP_THRESHOLD_BYTES),
            "MALLOC_TRIM_THRESHOLD_": str(TRIM_THRESHOLD_BYTES)}


def _start_forkserver() -> None:
    """Start the fork server (workers inherit its environment: :func:`_worker_env`).

    It starts with SIGINT ignored, and so do the workers it forks: Ctrl-C reaches every process
    of the terminal's group, and each worker would print its own KeyboardInterrupt traceback
    while this process, which stops them, says in one line that the batch was interrupted.
    """
    from multiprocessing import forkserver

    env = _worker_env()
    added = [k for k in env if k not in os.environ]
    os.environ.update({k: env[k] for k in added})
    try:
        with sigint_ignored():
            forkserver.ensure_running()
    finally:
        for k in added:
            del os.environ[k]


@contextmanager
def dask_client(n_workers: int = 0, scheduler: str | None = None):
    """A ``distributed.Client``: on ``scheduler``, else on a new local cluster of ``n_workers``
    single-threaded worker processes (closed on exit)."""
    what = "--scheduler" if scheduler else f"--jobs {n_workers}"
    require_distributed(what)
    if scheduler:
        _import_distributed(what)
        from distributed import Client

        with Client(scheduler, timeout="30s") as client:
            yield client
        return
    threads = max(1, usable_cores() // n_workers)
    with _forked_workers(what):
        from distributed import Client, LocalCluster

        from calfwatch.engine.night_engine import tell_if_kernels_cold

        tell_if_kernels_cold(1)  # compiled here once, on every core, rather than in each worker
        with ExitStack() as stack:
            with SigintLatch() as latch:  # Ctrl-C raised once the cluster is up, then closed
                cluster = stack.enter_context(LocalCluster(
                    n_workers=n_workers, threads_per_worker=1, processes=True,
                    dashboard_address=_HTTP_ADDRESS, silence_logs=logging.ERROR,
                    env={"NUMBA_NUM_THREADS": str(threads)}))
                client = stack.enter_context(Client(cluster))
            latch.check()
            yield client


def threads_by_worker(client) -> dict[str, int]:
    """Numba threads per worker: its host's cores shared among the worker threads on that host."""
    try:
        workers = client.scheduler_info(n_workers=-1)["workers"]
    except TypeError:  # before distributed 2025.4 every worker was listed
        workers = client.scheduler_info()["workers"]
    cores = client.run(usable_cores)
    on_host: dict[str, int] = {}
    for info in workers.values():
        on_host[info["host"]] = on_host.get(info["host"], 0) + int(info["nthreads"])
    return {addr: max(1, cores.get(addr, 1) // max(1, on_host[info["host"]]))
            for addr, info in workers.items()}


def run_dask(jobs: list[Job], options: Options, client) -> Iterator[Outcome]:
    """The tasks on the client's cluster, as they finish.

    A worker that dies on a recording (the scheduler retries it on others a few times) gives that
    recording an error line; the batch goes on.
    """
    from distributed import as_completed

    options = replace(options, numba_threads=threads_by_worker(client))
    shared = client.scatter(options, broadcast=True, hash=False)
    futures = client.map(analyze_recording, jobs, options=shared, pure=False)
    job_of = {future.key: job for future, job in zip(futures, jobs, strict=True)}
    try:
        with SigintLatch() as latch:  # Ctrl-C raised here, between Dask's calls
            pending = as_completed(futures)
            while not pending.is_empty():
                ready = pending.next_batch(block=False)
                for future in ready:
                    yield _outcome(future, job_of[future.key])
                    latch.check()
                if not ready:
                    latch.wait(_POLL_S)
    finally:
        client.cancel(futures)


def _outcome(future, job: Job) -> Outcome:
    """What the task of ``future`` gave, or an error line when its worker stopped."""
    try:
        outcome = future.result()
    except Exception as exc:
        outcome = Outcome(job.index, job.path, error=(
            f"{job.path}: the worker analysing it stopped ({type(exc).__name__})"))
    future.release()
    return outcome
