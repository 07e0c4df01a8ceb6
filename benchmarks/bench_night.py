"""Whole-night analysis: ``calfwatch analyze`` against a plain detector on the same 8-hour EDF+ file.

One run, side by side, each as its own process (wall time and peak RSS of the whole process):

- calfwatch: ``calfwatch analyze NIGHT.edf`` (engine, classifier, summary, the three output files);
- plain detector: MNE reads the file (``preload=True``), one causal SOS cascade (band-pass 20-450 Hz and
  mains notches, ``scipy.signal.sosfilt``), 5 x MAD threshold, threshold crossings as events, written
  to a TSV file.

Targets: calfwatch at most 1.5x the plain detector's wall time and at most 500 MB peak RSS, on an
8-hour 2 kHz single-channel night; an 8-channel night also under 500 MB. Then the live figures:
CPU per second of signal at 8 channels x 2 kHz fed in 0.1-s chunks as a serial source delivers them,
and the delay from an event's last sample to its first live emission (events are given as soon as
they have ended and corrected when the signal after them changes them).

Usage: ``python benchmarks/bench_night.py [--hours 8] [--channels8-hours 8] [--out bench-output]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from _plain_detector import PLAIN

PYTHON = sys.executable
#: Live classification at most this often (s of signal; calfwatch.live.LiveAnalysis's live_every_s).
LIVE_EVERY_S = 0.25


def measured(argv: list[str]) -> tuple[float, float]:
    """Run ``argv`` in a fresh child of a fresh helper; return (wall s, peak RSS MB) of ``argv``."""
    helper = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode\n"
        "wall = time.perf_counter() - t\n"
        "rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
        "print(code, wall, rss)\n"
    )
    out = subprocess.run([PYTHON, "-c", helper, *argv], capture_output=True, text=True, check=True)
    code, wall, rss = out.stdout.split()
    if int(code) != 0:
        raise SystemExit(f"failed ({code}): {' '.join(argv)}")
    return float(wall), float(rss)




def simulate(path: Path, hours: float, channels: int) -> None:
    if path.exists():
        return
    subprocess.run([PYTHON, "-m", "calfwatch", "simulate", "--profile", "benign-night",
                    "--duration", f"{hours}h", "--channels", str(channels), "--seed", "1",
                    "--out", str(path)], check=True, stdout=subprocess.DEVNULL)


def file_figures(out: Path, hours: float, hours8: float) -> None:
    night1 = out / "night_1ch.edf"
    simulate(night1, hours, 1)
    measured([PYTHON, "-m", "calfwatch", "--version"])  # warm the numba cache and the disk
    cw_wall, cw_rss = measured([PYTHON, "-m", "calfwatch", "analyze", str(night1), "--out",
                                str(out / "analysis_1ch"), "--quiet"])
    plain_wall, plain_rss = measured([PYTHON, "-c", PLAIN, str(night1), str(out / "plain.tsv")])
    print(f"{hours:g} h, 2 kHz, 1 channel ({night1.stat().st_size / 1e6:.0f} MB EDF+):")
    print(f"  calfwatch analyze : {cw_wall:6.2f} s  {cw_rss:7.0f} MB peak RSS")
    print(f"  plain detector    : {plain_wall:6.2f} s  {plain_rss:7.0f} MB peak RSS")
    print(f"  ratio             : {cw_wall / plain_wall:6.2f} x wall time (target <= 1.5), "
          f"{cw_rss / plain_rss:.2f} x memory; calfwatch "
          f"{'within' if cw_rss <= 500 else 'ABOVE'} 500 MB")
    night8 = out / "night_8ch.edf"
    simulate(night8, hours8, 8)
    w8, r8 = measured([PYTHON, "-m", "calfwatch", "analyze", str(night8), "--out",
                       str(out / "analysis_8ch"), "--quiet"])
    print(f"{hours8:g} h, 2 kHz, 8 channels: calfwatch analyze {w8:.2f} s, {r8:.0f} MB peak RSS "
          f"({'within' if r8 <= 500 else 'ABOVE'} 500 MB)")


def live_figures(minutes: float) -> None:
    """CPU per signal second and emission delay, 8 channels x 2 kHz in 0.1-s chunks."""
    import numpy as np

    from calfwatch.engine import NightEngine
    from calfwatch.simulator import load_profile, simulate_night

    night = simulate_night(load_profile("busy-night", duration_s=minutes * 60, n_channels=8),
                           seed=2)
    chunks = list(night.chunks(0.1))
    engine = NightEngine(night.info)
    delays, fs = [], night.info.sfreq_hz
    early, corrected, startup = 0, 0, 0
    startup_s = engine.chain_config.mains_detect_s  # the chain waits this long to choose 50/60 Hz
    cpu0 = time.process_time()
    last_s = last_call_s = 0.0
    for chunk in chunks:
        engine.feed(chunk)
        horizon_s = engine.live_horizon_s
        # as calfwatch.live.LiveAnalysis: when new signal is processed, at most every LIVE_EVERY_S
        if horizon_s > last_s and chunk.stop_sample / fs - last_call_s >= LIVE_EVERY_S - 1e-9:
            last_s, last_call_s = horizon_s, chunk.stop_sample / fs
            t0 = time.perf_counter()
            rows = engine.live_events()
            spent = time.perf_counter() - t0
            now_s = chunk.stop_sample / fs
            first = [r for r in rows if r["live"] in ("provisional", "settled")]
            delays += [(r["kind"], now_s + spent - (r["onset_s"] + r["duration_s"]))
                       for r in first if r["onset_s"] + r["duration_s"] >= startup_s]
            startup += sum(r["onset_s"] + r["duration_s"] < startup_s for r in first)
            early += sum(r["live"] == "provisional" for r in rows)
            corrected += sum(r["live"] in ("revised", "withdrawn") for r in rows)
    cpu = time.process_time() - cpu0
    signal_s = night.n_samples / fs
    print(f"live, 8 channels x 2 kHz, {minutes:g} min of busy night in 0.1-s chunks:")
    print(f"  CPU {100 * cpu / signal_s:.2f} % of one core at real time (target < 5 %)")
    print("  delay from an event's last sample to its first live emission (target < 0.5 s), after "
          f"the first {startup_s:g} s (mains detection; {startup} events there):")
    groups = (("fasciculations", {"fasciculation"}), ("jerks", {"myoclonus"}),
              ("movements etc.", {"voluntary", "plm", "cramp", "artifact"}), ("all kinds", None))
    for label, keep in groups:
        d = np.array([v for k, v in delays if keep is None or k in keep])
        if len(d):
            print(f"    {label:<15} median {np.median(d):.2f} s, 95th percentile "
                  f"{np.percentile(d, 95):.2f} s, max {d.max():.2f} s over {len(d)} events")
    print(f"  events given early: {early}, of which corrected once settled (revised or "
          f"withdrawn): {corrected}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=8.0)
    parser.add_argument("--channels8-hours", type=float, default=8.0)
    parser.add_argument("--live-minutes", type=float, default=5.0)
    parser.add_argument("--out", default="bench-output")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("MPLBACKEND", "Agg")
    file_figures(out, args.hours, args.channels8_hours)
    live_figures(args.live_minutes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
