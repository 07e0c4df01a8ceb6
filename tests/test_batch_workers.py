"""How many local workers a batch gets, and that they start with the kernels and the task's
modules loaded (forked from one process that loaded them)."""

from __future__ import annotations

import pytest

from calfwatch.batch import engines


def _files(tmp_path, sizes):
    paths = []
    for i, size in enumerate(sizes):
        path = tmp_path / f"n{i}.edf"
        path.write_bytes(b"\0" * size)
        paths.append(str(path))
    return paths


def test_workers_are_capped_by_cores_and_recordings(tmp_path, monkeypatch):
    monkeypatch.setattr(engines, "usable_cores", lambda: 2)
    paths = _files(tmp_path, [10] * 3)
    assert engines.local_workers(1, paths) == 1
    assert engines.local_workers(2, paths) == 2
    assert engines.local_workers(8, paths) == 2  # no more workers than cores
    assert engines.local_workers(8, paths[:1]) == 1
    assert engines.local_workers(2, ["missing.edf", "missing2.edf"]) == 2


def test_jobs_0_starts_workers_only_for_a_batch_that_repays_them(tmp_path, monkeypatch):
    monkeypatch.setattr(engines, "usable_cores", lambda: 4)
    per = engines.AUTO_MIN_BYTES_PER_WORKER
    small = _files(tmp_path, [per // 4] * 3)
    assert engines.local_workers(0, small) == 1  # done here before workers would start
    assert engines.local_workers(0, _files(tmp_path, [per] * 2)) == 2
    assert engines.local_workers(0, _files(tmp_path, [per] * 9)) == 4
    assert engines.local_workers(3, small) == 3  # an explicit count is kept (up to the cores)


def _loaded_signatures() -> int:
    from dsp.warmup import chain_kernels

    return sum(len(k.signatures) for k in chain_kernels(1))


def _modules() -> set[str]:
    import sys

    return set(sys.modules)


def _faults_per_array() -> float:
    """Page faults per 2-MiB array filled and freed (the chain's per-chunk arrays)."""
    import resource

    import numpy as np

    def churn() -> int:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for _ in range(20):
            a = np.empty(1 << 18)
            a[:] = 1.0
            del a
        return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

    churn()
    return churn() / 20


def _forkservers() -> list:
    import psutil

    return [p for p in psutil.Process().children(recursive=True)
            if "forkserver" in " ".join(p.cmdline())]


#: Packages a worker's first recording must find imported already.
PRELOADED = ("firmware_io", "acquisition", "dsp", "classifier", "calfwatch", "scipy", "mne")


def test_local_workers_start_with_the_kernels_and_modules_loaded(tmp_path):
    pytest.importorskip("distributed")
    from calfwatch.batch.inputs import plan_batch
    from calfwatch.batch.task import Options, analyze_recording
    from calfwatch.simulator import load_profile, simulate_night, write_simulation
    from classifier.config import load_config
    from dsp.warmup import chain_signatures, prepare

    prepare(1)  # on disk (make venv did it; a fresh cache is filled here)
    path = tmp_path / "night.edf"
    write_simulation(simulate_night(load_profile("benign-night", duration_s=30.0), seed=1), path)
    job = plan_batch([str(path)], str(tmp_path / "out")).jobs[0]
    with engines.dask_client(2) as client:
        loaded = client.run(_loaded_signatures)
        worker = sorted(loaded)[0]
        before = client.run(_modules, workers=[worker])[worker]
        outcome = client.submit(analyze_recording, job, Options(load_config()),
                                workers=[worker], pure=False).result()
        after = client.run(_modules, workers=[worker])[worker]
        faults = client.run(_faults_per_array, workers=[worker])[worker]
    assert len(loaded) == 2
    assert set(loaded.values()) == {len(chain_signatures(1))}  # before any task ran
    assert not outcome.failed, outcome.error
    assert sorted(m for m in after - before if m.split(".")[0] in PRELOADED) == []
    assert faults < 512 / 20  # freed memory reused, not mapped afresh (512 pages an array)
    assert _forkservers() == []  # stopped and reaped
