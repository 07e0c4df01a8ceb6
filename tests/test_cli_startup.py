"""What a command loads before it works: analysing an EDF+ file with no history to fit imports
neither MNE (the file is read record by record) nor scipy.stats (the trend's Theil-Sen fit); an
empty numba cache (a fresh install) is told once and filled, and not told after
``python -m dsp.warmup``."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROBE = """
import sys
from calfwatch.cli import main
code = main(["analyze", sys.argv[1], "--out", sys.argv[2], "--quiet"])
print(code, *sorted(m for m in ("mne", "scipy.stats") if m in sys.modules))
"""


@pytest.fixture(scope="module")
def edf(tmp_path_factory):
    path = tmp_path_factory.mktemp("startup") / "night.edf"
    proc = subprocess.run([sys.executable, "-m", "calfwatch", "simulate", "--profile", "quiet",
                           "--duration", "2m", "--seed", "1", "--out", str(path)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return path


def test_analyze_of_an_edf_without_history_imports_neither_mne_nor_scipy_stats(edf, tmp_path):
    proc = subprocess.run([sys.executable, "-c", PROBE, str(edf), str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    # exit 4: two minutes of rest are not evaluable; nothing but the code on the line
    assert proc.stdout.splitlines()[-1].split() == ["4"], proc.stdout
    assert (tmp_path / "out" / "events.tsv").is_file()


ENGINES = """
from datetime import UTC, datetime
from acquisition.stream import StreamInfo
from calfwatch.engine import NightEngine
from dsp.warmup import kernels_cached
info = StreamInfo(sfreq_hz=2000.0, ch_names=["calf"], meas_date=datetime.now(UTC),
                  resolution_bits=24, uv_per_count=0.1, device={})
print(kernels_cached(1))
NightEngine(info)
NightEngine(info)
print(kernels_cached(1))
"""


def _engines(cache_dir):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache_dir)}
    proc = subprocess.run([sys.executable, "-c", ENGINES], capture_output=True, text=True,
                          timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split(), proc.stderr


def test_an_empty_kernel_cache_is_told_once(tmp_path):
    from calfwatch.engine.night_engine import COLD_KERNELS_NOTE

    cached, err = _engines(tmp_path)
    assert cached == ["False", "True"]  # the engine compiled them (dsp.warmup.prepare)
    assert err.count(COLD_KERNELS_NOTE) == 1, err


@pytest.mark.slow
def test_after_the_warm_up_nothing_is_told(tmp_path):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "dsp.warmup", "--channels", "1"],
                          capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr
    cached, err = _engines(tmp_path)
    assert cached == ["True", "True"]
    assert "preparing" not in err


def test_a_cold_analyze_compiles_while_it_starts_and_tells_once(edf, tmp_path):
    """``analyze`` starts the helpers before opening the file (dsp.warmup.start_early); the
    engine waits for them: told once, the outputs written, every kernel on disk afterwards."""
    from calfwatch.engine.night_engine import COLD_KERNELS_NOTE

    cache = tmp_path / "cache"
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
    proc = subprocess.run([sys.executable, "-m", "calfwatch", "analyze", str(edf), "--out",
                           str(tmp_path / "out"), "--quiet"], capture_output=True, text=True,
                          timeout=600, env=env)
    assert proc.returncode == 4, proc.stderr  # two minutes of rest: not evaluable
    assert proc.stderr.count(COLD_KERNELS_NOTE) == 1, proc.stderr
    assert (tmp_path / "out" / "events.tsv").is_file()
    check = subprocess.run([sys.executable, "-c", "from dsp.warmup import missing; "
                            "print(len(missing(1)))"], capture_output=True, text=True,
                           timeout=300, env=env)
    assert check.stdout.split() == ["0"], check.stderr
