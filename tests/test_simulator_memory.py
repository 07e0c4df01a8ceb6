"""An 8-hour, 2-channel, 2 kHz night generates and writes in bounded memory (slow)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytest.importorskip("acquisition.edf.writer")

PEAK_RSS_LIMIT_MB = 300.0

_SCRIPT = """
import json, sys, time
from calfwatch.simulator import load_profile, simulate_night, write_simulation
t0 = time.perf_counter()
night = simulate_night(load_profile("busy-night", duration_s=8 * 3600, n_channels=2,
                                    sfreq_hz=2000), seed=0)
paths = write_simulation(night, sys.argv[1], fmt=sys.argv[2])
with open("/proc/self/status") as status:  # ru_maxrss would include the parent's peak at fork
    peak_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(json.dumps({"peak_rss_mb": peak_kb / 1024,
                  "seconds": time.perf_counter() - t0,
                  "bytes": paths["recording"].stat().st_size,
                  "events": len(night.truth)}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["edf", "fif"])
def test_eight_hour_night_peak_memory(tmp_path, fmt):
    out = subprocess.run([sys.executable, "-c", _SCRIPT, str(tmp_path / "night.edf"), fmt],
                         capture_output=True, text=True, timeout=1800, check=True)
    report = json.loads(out.stdout.strip().splitlines()[-1])
    print(report)
    expected = 2 * 8 * 3600 * 2000 * (2 if fmt == "edf" else 4)
    assert report["bytes"] > expected
    assert report["peak_rss_mb"] < PEAK_RSS_LIMIT_MB
