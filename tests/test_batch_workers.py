"""How many local workers a batch gets, and that they start with the kernels loaded (forked from
one process that loaded them)."""

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


def test_local_workers_start_with_the_kernels_loaded():
    pytest.importorskip("distributed")
    from dsp.warmup import chain_signatures, prepare

    prepare(1)  # on disk (make venv did it; a fresh cache is filled here)
    with engines.dask_client(2) as client:
        loaded = client.run(_loaded_signatures)
    assert len(loaded) == 2
    assert set(loaded.values()) == {len(chain_signatures(1))}  # before any task ran
