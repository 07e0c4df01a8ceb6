"""The recorder killed with SIGKILL at random moments: the file opens, loses at most 1 s, keeps annotations.

A subprocess records a deterministic stream in real time x 4 and reports on stdout what it wrote and
what it flushed; the test kills it at a random moment, opens the file with MNE before and after
``repair_edf`` and compares with what the child had reported.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import mne
import numpy as np
import pytest

from acquisition.edf.repair import repair_edf

SFREQ = 250.0
N_CH = 2
CHUNK = 50  # samples: 0.2 s
UV = 0.5

CHILD = textwrap.dedent(
    """
    import sys, time
    from datetime import UTC, datetime
    import numpy as np
    from acquisition.recorder import Recorder
    from acquisition.stream import SampleChunk, StreamInfo

    out, bits = sys.argv[1], int(sys.argv[2])
    sfreq, n_ch, chunk, uv = {sfreq}, {n_ch}, {chunk}, {uv}
    info = StreamInfo(sfreq, [f"c{{i}}" for i in range(n_ch)],
                      datetime(2026, 1, 2, 23, 0, 0, tzinfo=UTC), bits, uv, {{"kind": "test"}})
    rec = Recorder(out, info)
    per_record = int(sfreq)
    pos, k = 0, 0
    while True:
        counts = np.random.default_rng(k).integers(-20000, 20000, size=(n_ch, chunk))
        if pos % per_record == 0:
            rec.annotate(pos / sfreq + 0.1, 0.0, f"event {{pos // per_record}}")
        rec.write_chunk(SampleChunk(pos, counts * uv))
        pos += chunk
        k += 1
        print(f"wrote {{pos}}", flush=True)
        if pos % per_record == 0:
            rec.writer.flush()
            print(f"flushed {{pos}} {{pos // per_record}}", flush=True)
        time.sleep(chunk / sfreq / 4)
    """
).format(sfreq=SFREQ, n_ch=N_CH, chunk=CHUNK, uv=UV)


def _expected(n_samples: int) -> np.ndarray:
    n_chunks = -(-n_samples // CHUNK)
    blocks = [
        np.random.default_rng(k).integers(-20000, 20000, size=(N_CH, CHUNK)) * UV
        for k in range(n_chunks)
    ]
    return np.concatenate(blocks, axis=1)[:, :n_samples]


def _read(path: str, bits: int):
    reader = mne.io.read_raw_edf if bits == 16 else mne.io.read_raw_bdf
    return reader(path, preload=True, verbose="error")


def _one_trial(tmp_path, trial: int, bits: int, rng: random.Random) -> None:
    path = str(tmp_path / f"crash{trial}.{'edf' if bits == 16 else 'bdf'}")
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, path, str(bits)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    # wait until it writes, then let it run a random while before the kill
    first = proc.stdout.readline()
    assert first.startswith("wrote"), proc.stderr.read()
    time.sleep(rng.uniform(0.2, 1.6))
    os.kill(proc.pid, signal.SIGKILL)
    rest, _ = proc.communicate(timeout=10)
    lines = [first] + rest.splitlines()
    wrote = max(int(line.split()[1]) for line in lines if line.startswith("wrote"))
    flushed = [line.split() for line in lines if line.startswith("flushed")]
    flushed_samples = int(flushed[-1][1]) if flushed else 0
    flushed_events = int(flushed[-1][2]) if flushed else 0

    raw = _read(path, bits)  # MNE opens the crashed file as it is
    assert raw.n_times >= flushed_samples
    report = repair_edf(path)
    raw = _read(path, bits)
    n = raw.n_times
    assert n == report.records_found * int(SFREQ)
    assert wrote - n <= SFREQ, f"lost {wrote - n} samples"
    np.testing.assert_allclose(raw.get_data() * 1e6, _expected(n), atol=0.5 * UV * (1 + 1e-6))
    events = {d for d in raw.annotations.description if d.startswith("event")}
    assert {f"event {i}" for i in range(flushed_events)} <= events


@pytest.mark.parametrize("bits", [16, 24])
def test_sigkill_at_random_moments_leaves_readable_files(tmp_path, bits):
    rng = random.Random(1234 + bits)
    for trial in range(5):  # x 2 formats = 10 trials
        _one_trial(tmp_path, trial, bits, rng)
