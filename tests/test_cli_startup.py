"""What a command loads before it works: analysing an EDF+ file with no history to fit imports
neither MNE (the file is read record by record) nor scipy.stats (the trend's Theil-Sen fit)."""

from __future__ import annotations

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
    assert proc.stdout.splitlines()[-1].split() == ["0"], proc.stdout
    assert (tmp_path / "out" / "events.tsv").is_file()
