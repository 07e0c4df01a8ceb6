"""``calfwatch analyze`` run as a user runs it, in a process of its own (for the tests)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def run_analyze(path: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    """``python -m calfwatch analyze PATH --out OUT --quiet [EXTRA...]``, its output captured."""
    return subprocess.run([sys.executable, "-m", "calfwatch", "analyze", str(path), "--out",
                           str(out), "--quiet", *extra], capture_output=True, text=True,
                          timeout=300)
