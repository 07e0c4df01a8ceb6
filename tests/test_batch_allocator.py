"""A batch task in a process started as Dask starts its workers (glibc told to give freed memory
back at once) reuses freed memory instead of faulting in every array afresh."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

_CHURN = """
import resource
import numpy as np
from calfwatch.batch.allocator import keep_freed_memory

def faults():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(50):  # what a chain does per chunk: arrays of a few MiB, filled, freed
        a = np.empty(1 << 18)
        a[:] = 1.0
        del a
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

faults()
trimmed = faults()
raised = keep_freed_memory()
faults()
print(trimmed, faults(), raised)
"""


def _churn(env: dict[str, str]) -> tuple[int, int, str]:
    done = subprocess.run([sys.executable, "-c", _CHURN], env=env, capture_output=True,
                          text=True, check=True)
    trimmed, kept, raised = done.stdout.split()
    return int(trimmed), int(kept), raised


def _glibc() -> bool:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc")
    except (AttributeError, ValueError, OSError):
        return False


@pytest.mark.skipif(not _glibc(), reason="glibc's malloc thresholds")
def test_a_process_started_as_dask_starts_workers_stops_faulting_in_freed_arrays():
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    trimmed, kept, raised = _churn({**env, "MALLOC_TRIM_THRESHOLD_": "65536"})
    pages = 50 * (1 << 21) // os.sysconf("SC_PAGESIZE")
    assert raised == "True"
    assert trimmed > pages // 2  # each 2-MiB array mapped afresh and faulted in
    assert kept < pages // 20  # the same memory reused
    _, _, raised = _churn(env)
    assert raised == "False"  # glibc left to its own rule: nothing changed
