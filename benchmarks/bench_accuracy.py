"""Fasciculation accuracy: calfwatch against the plain band-pass + 5 x MAD detector, on the same data.

Two families of scenes, so that a rule tuned to one cannot pass unnoticed:

- ``sim``: calfwatch's simulator (physiology from the literature: independent units, surface
  potential shapes, voluntary bursts, PLM series, cramps, jerks, pops, motion);
- ``ind``: scenes made independently of it (``tests/independent_scenes.py``: random band-limited
  potentials, interference-pattern bursts, shared pops), on coloured noise or, with
  ``$CALFWATCH_SAMPLE_DATA``, on a real resting surface recording (BioSPPy ``emg.txt``, looped and
  scaled; the row at 0/min shows the discrete potentials that recording holds of its own, which
  the other real-noise rows count as false); and, with the same data, scenes whose units have
  real shapes (``tests/needle_shapes.py``: templates of single units in PhysioNet's needle
  recordings, seen through the tissue's low-pass as a surface electrode sees them; the ``deep``
  rows through a lower corner, which puts the shapes' spectral peaks where most surface
  potentials have theirs); and scenes whose potentials come from a volume-conductor model
  (``tests/volume_conductor_shapes.py``: fibres' action potentials seen by a bipolar pair).

Sweeps: rate (1-120 per minute of rest), amplitude (x the noise RMS), shape family, doublet
and triplet fraction, mains 50/60 Hz (and a strong hum at 49.9 Hz, and one whose line wanders),
the ECG, a drifting
baseline, a noise that swings over minutes, sampling rate (1000 and 500 Hz), busy nights (also at
500 Hz) and a night of cramps.
Per scene: F1, precision and recall of detectable potentials (p-p >= the detection floor), recall
of all and of those >= 10 x noise, reported and true rate per minute of rest, false
fasciculations per rest minute, recall of each other kind (and ``vol/plm``: voluntary recall where
a voluntary burst that falls into a series the AASM rule scores as PLMs, at least 4 movements of
0.5-10 s 5-90 s apart, may be called either) and the movements and jerks reported where the scene
has none (``unreal``), the same figures for the plain detector, and what each missed potential
was called. Each row pools three scenes drawn
with different seeds (``--repeats``; one with ``--quick``), so that a rate does not hang on whether
one unit of a scene sits just above or below the detection floor; the rows at 1 per minute pool
five times as many (``SPARSE_ROW_FACTOR``), as three 20-minute scenes hold about 60 potentials of
some 18 units, whose rate is then uncertain by about 13 % by chance alone.

Run: ``python benchmarks/bench_accuracy.py [--quick]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from accuracy_scoring import (  # noqa: E402
    fasciculation_onsets,
    in_aasm_series,
    kind_recall,
    missed_called,
    plain_detector,
    run_calfwatch,
    score_detections,
    truth_from_simulation,
    unreal_events,
)
from independent_scenes import SceneSpec, make_scene  # noqa: E402
from needle_shapes import DEEP_CORNER_HZ, needle_templates  # noqa: E402

from calfwatch.simulator import load_profile, simulate_night  # noqa: E402
from calfwatch.simulator.params import SimulationParams  # noqa: E402

#: Scenes pooled per row at 1 per minute, as a multiple of ``--repeats``.
SPARSE_ROW_FACTOR = 5

OTHER_KINDS = ("voluntary", "plm", "cramp", "myoclonus", "artifact")


def real_rest_noise() -> np.ndarray | None:
    """BioSPPy's resting surface recording (µV-scaled later), when the sample data is present."""
    root = os.environ.get("CALFWATCH_SAMPLE_DATA")
    path = Path(root) / "biosppy" / "emg.txt" if root else None
    if path is None or not path.exists():
        return None
    x = np.loadtxt(path, comments="#", ndmin=2)[:, -1].astype(float)
    return x - np.mean(x)


def sim_scene(minutes: float, seed: int, profile: str = "quiet", **over):
    params = load_profile(profile, duration_s=minutes * 60, n_channels=1, **over)
    sim = simulate_night(params, seed)
    truth = truth_from_simulation(sim)
    return sim.data_uv(), params.sfreq_hz, truth, params.noise_rms_uv, sim.truth_summary()[
        "rest_minutes"], params.mains_hz


def ind_scene(minutes: float, seed: int, **over):
    spec = SceneSpec(minutes=minutes, **over)
    scene = make_scene(spec, seed)
    lost = 0.0
    for ch in range(spec.n_channels):  # each channel's rest: its own busy spans
        reach = -np.inf
        for a, b in sorted((a, b) for c, a, b in scene.busy_s if c == ch):
            a, b = a - 0.5, b + 0.5  # union of busy spans widened by the 0.5-s AASM margin
            lost += max(0.0, b - max(a, reach))
            reach = max(reach, b)
    rest_min = (spec.minutes * 60 * spec.n_channels - lost) / 60
    return scene.data_uv, spec.sfreq_hz, scene.truth, scene.noise_rms_uv, rest_min, spec.mains_hz


def scenes(quick: bool, real: np.ndarray | None, needle: list | None = None):
    """(name, builder) pairs; a builder takes a seed offset (one scene per offset)."""
    m = 2.0 if quick else 4.0
    out = []
    for rate in (1, 5, 20, 40, 80, 120):
        minutes = max(m, 20.0 / rate) if rate < 5 else m
        out.append((f"ind rate {rate}/min", lambda j, r=rate, mm=minutes: ind_scene(
            mm, 10 + r + j, rate_per_min=r)))
        out.append((f"sim rate {rate}/min", lambda j, r=rate, mm=minutes: sim_scene(
            mm, 20 + r + j, fasc_rate_per_min=r)))
    for k in (6, 8, 10, 15, 30, 100):
        out.append((f"ind amplitude {k}x noise", lambda j, k=k: ind_scene(
            m, 30 + k + j, rate_per_min=20, ptp_range_uv=(4.5 * k, 4.5 * k * 1.0001))))
    for shape in ("simple", "polyphasic", "slow", "mixed"):
        if "fasc_shape" in SimulationParams.__dataclass_fields__:
            out.append((f"sim shape {shape}", lambda j, s=shape: sim_scene(
                m, 40 + j, fasc_rate_per_min=20, fasc_shape=s)))
    for frac in (0.0, 0.3):
        out.append((f"ind doublets {frac:.0%}", lambda j, f=frac: ind_scene(
            m, 50 + j, rate_per_min=20, doublet_fraction=f)))
        out.append((f"sim doublets {frac:.0%}", lambda j, f=frac: sim_scene(
            m, 51 + j, fasc_rate_per_min=20, fasc_doublet_prob=f)))
    # a third discharge of one unit: two of the three often merge into one candidate
    out.append(("sim triplets 30%", lambda j: sim_scene(
        m, 52 + j, fasc_rate_per_min=20, fasc_triplet_prob=0.3)))
    for mains in (50.0, 60.0):
        out.append((f"ind mains {mains:.0f} Hz", lambda j, mh=mains: ind_scene(
            m, 60 + j, rate_per_min=15, mains_hz=mh, mains_uv=8.0)))
    # Grids run a few tenths of a hertz off nominal; a strong hum there tests the notches' centre.
    out.append(("ind mains 49.9 Hz 40 uV", lambda j: ind_scene(
        m, 62 + j, rate_per_min=15, mains_hz=49.9, mains_uv=40.0)))
    # a strong hum whose line wanders within the European grid's standard range (+-50 mHz)
    out.append(("ind mains 50 uV wandering 0.05 Hz", lambda j: ind_scene(
        m, 63 + j, rate_per_min=15, mains_uv=50.0, mains_wander_hz=0.05)))
    for ecg in (60.0, 200.0):  # the ECG leaking into the calf channel, weak and strong
        out.append((f"ind ECG {ecg:.0f} uV 20/min", lambda j, e=ecg: ind_scene(
            m, 90 + j, rate_per_min=20, ecg_uv=e, heart_rate_per_min=60.0)))
    # a faster heart (asleep 50-90 per minute) and denser twitching over the same beats
    out.append(("ind ECG 100 uV 85 bpm 40/min", lambda j: ind_scene(
        m, 97 + j, rate_per_min=40, ecg_uv=100.0, heart_rate_per_min=85.0)))
    # a QRS the band-pass leaves near the floor, found at only some of its beats, no twitches
    out.append(("ind ECG 45 uV 75 bpm no twitch", lambda j: ind_scene(
        m, 96 + j, rate_per_min=0, ecg_uv=45.0, heart_rate_per_min=75.0)))
    # the electrode potential wandering by hundreds of µV (a DC-coupled consumer sensor)
    out.append(("ind drift 300 uV 40/min", lambda j: ind_scene(
        m, 95 + j, rate_per_min=40, drift_uv=300.0)))
    for fs in (1000.0, 500.0):  # consumer sensors sample at 250-1000 Hz
        out.append((f"ind {fs:.0f} Hz 80/min", lambda j, f=fs: ind_scene(
            m, 980 + j, rate_per_min=80, sfreq_hz=f)))
    if real is not None:
        for rate in (0, 15, 40):  # at 0: what the resting recording holds of its own
            out.append((f"ind real noise {rate}/min", lambda j, r=rate: ind_scene(
                m, 70 + r + j, rate_per_min=r, real_noise=real, sfreq_hz=1000.0)))
    if needle:  # real units' shapes (PhysioNet needle templates seen through tissue)
        for fs, rate in ((2000.0, 40), (500.0, 40), (2000.0, 80)):
            out.append((f"ind needle {fs:.0f} Hz {rate}/min", lambda j, f=fs, r=rate: ind_scene(
                m, 110 + r + j, rate_per_min=r, sfreq_hz=f, shape_bank=needle, mains_uv=8.0)))
        out.append(("ind needle ECG 200 uV", lambda j: ind_scene(
            m, 360 + j, rate_per_min=20, shape_bank=needle, ecg_uv=200.0, heart_rate_per_min=60.0)))
        # a clean sensor (1.5 uV): a 2-mV unit is over 1000 x the noise, and the notch rings
        # after it above the noise for seconds
        out.append(("ind needle clean 1.5 uV", lambda j: ind_scene(
            m, 380 + j, rate_per_min=40, shape_bank=needle, noise_rms_uv=1.5)))
        # small real shapes near the floor: their size in the band is below their raw size
        out.append(("ind needle 25-60 uV", lambda j: ind_scene(
            m, 370 + j, rate_per_min=20, shape_bank=needle, ptp_range_uv=(25.0, 60.0))))
        # deep units: the tissue's low-pass puts their spectral peaks where most surface
        # potentials have theirs (median about 57 Hz; tests/needle_shapes.py)
        for rate in (15, 40, 80):
            out.append((f"ind needle deep {rate}/min", lambda j, r=rate: ind_scene(
                m, 400 + r + j, rate_per_min=r, shape_bank=needle, mains_uv=8.0,
                tissue_corner_hz=DEEP_CORNER_HZ)))
        out.append(("ind needle deep 25-60 uV", lambda j: ind_scene(
            m, 490 + j, rate_per_min=20, shape_bank=needle, ptp_range_uv=(25.0, 60.0),
            tissue_corner_hz=DEEP_CORNER_HZ)))
    # potentials of a volume-conductor model (tests/volume_conductor_shapes.py)
    for rate in (15, 40, 80):
        out.append((f"ind volume conductor {rate}/min", lambda j, r=rate: ind_scene(
            m, 600 + r + j, rate_per_min=r, volume_conductor=True, mains_uv=8.0)))
    out.append(("ind volume conductor 25-60 uV", lambda j: ind_scene(
        m, 690 + j, rate_per_min=20, volume_conductor=True, ptp_range_uv=(25.0, 60.0))))
    # a contact that loosens and settles: the noise swings from 3 to 7.5 uV and back in 3 minutes
    # (no twitches: the detectable ones are judged against the base noise, so only false counts
    # are meaningful here)
    out.append(("ind noise swing no twitch", lambda j: ind_scene(
        m, 385 + j, rate_per_min=0, noise_rms_uv=3.0, noise_swing_uv=6.0)))
    busy = dict(voluntary_per_min=1.0, jerks_per_min=1.0, pops_per_min=0.5, motion_per_min=0.3)
    out.append(("ind busy 15/min", lambda j: ind_scene(2 * m, 80 + j, rate_per_min=15, **busy)))
    out.append(("ind busy no twitch", lambda j: ind_scene(2 * m, 81 + j, rate_per_min=0, **busy)))
    if needle:  # four channels: each its own units and movements, the pops on all at once
        out.append(("ind needle 4 ch busy 15/min", lambda j: ind_scene(
            m, 530 + j, rate_per_min=15, n_channels=4, shape_bank=needle, **busy)))
    out.append(("sim busy-night", lambda j: sim_scene(2 * m, 82 + j, "busy-night")))
    out.append(("sim no-twitch", lambda j: sim_scene(2 * m, 83 + j, "no-twitch")))
    # Cramps are 0.4 an hour on a busy night, too few for a row: a night of cramps (10-90 s each).
    out.append(("sim cramps", lambda j: sim_scene(2 * m, 84 + j, "busy-night", cramp_per_h=20.0)))
    out.append(("sim busy-night 500 Hz", lambda j: sim_scene(2 * m, 82 + j, "busy-night",
                                                             sfreq_hz=500.0)))
    return out


def evaluate_one(build, j: int) -> dict:
    data, sfreq, truth, noise, rest_true, mains = build(1000 * j)
    night, cn = run_calfwatch(data, sfreq)
    rest = cn.rates["rest_minutes"] or 0.0
    live = rest - (cn.rates.get("blind_minutes") or 0.0)  # the rate's exposure (classifier.rates)
    return {
        "cw": score_detections(truth, fasciculation_onsets(cn), noise, rest_true),
        "plain": score_detections(truth, plain_detector(data, sfreq, mains), noise, rest_true),
        "counted": cn.count("fasciculation"), "rest": rest, "live": live, "rest_true": rest_true,
        "kinds": {k: kind_recall(truth, cn, k) for k in OTHER_KINDS}
        | {"vol/plm": kind_recall(truth, cn, "voluntary", {
            int(i): "plm" for i in np.flatnonzero(in_aasm_series(truth))})},
        "unreal": unreal_events(truth, cn), "hours": data.shape[1] / sfreq / 3600,
        "missed": missed_called(truth, score_detections(
            truth, fasciculation_onsets(cn), noise, rest_true)["hits"], cn, noise),
    }


def _mean_finite(values: list[float]) -> float:
    ok = [v for v in values if np.isfinite(v)]
    return float(np.mean(ok)) if ok else float("nan")


def _pooled(scores: list[dict], rest_true: float) -> dict:
    tp, fp, fn = (sum(s[k] for s in scores) for k in ("tp", "fp", "fn"))
    return {
        "tp": tp, "fp": fp, "fn": fn,
        "f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else float("nan"),
        "precision": tp / (tp + fp) if tp + fp else float("nan"),
        "recall": tp / (tp + fn) if tp + fn else float("nan"),
        "recall_all": _mean_finite([s["recall_all"] for s in scores]),
        "recall_10x": _mean_finite([s["recall_10x"] for s in scores]),
        "false_per_rest_min": fp / rest_true if rest_true else float("nan"),
    }


def evaluate(name: str, build, repeats: int) -> dict:
    """One scene per seed offset, pooled: counts summed, rates over the summed rest."""
    runs = [evaluate_one(build, j) for j in range(repeats)]
    rest_true = sum(r["rest_true"] for r in runs)
    live = sum(r["live"] for r in runs)
    n_true = sum(r["cw"]["true_rate"] * r["rest_true"] for r in runs)
    n_plain = sum(r["plain"]["tp"] + r["plain"]["fp"] for r in runs)
    cw = _pooled([r["cw"] for r in runs], rest_true)
    cw["true_rate"] = n_true / rest_true if rest_true else float("nan")
    missed: Counter = Counter()
    kinds = {}
    for r in runs:
        missed.update(r["missed"])
        for k, (h, n) in r["kinds"].items():
            kinds[k] = (kinds.get(k, (0, 0))[0] + h, kinds.get(k, (0, 0))[1] + n)
    return {
        "name": name, "cw": cw, "plain": _pooled([r["plain"] for r in runs], rest_true),
        "rate": sum(r["counted"] for r in runs) / live if live else float("nan"),
        "plain_rate": n_plain / rest_true if rest_true else float("nan"),
        "kinds": kinds, "missed": missed,
        "unreal": sum(r["unreal"] for r in runs), "hours": sum(r["hours"] for r in runs),
    }


def fmt(x, spec=".2f") -> str:
    return "n/a" if x is None or (isinstance(x, float) and not np.isfinite(x)) else format(x, spec)


def print_row(r: dict) -> None:
    cw, pl = r["cw"], r["plain"]
    kinds = " ".join([f"{k[:3] if k in OTHER_KINDS else k} {h}/{n}"
                      for k, (h, n) in r["kinds"].items() if n]
                     + ([f"unreal {r['unreal']}"] if r["unreal"] else []))
    print(f"{r['name']:<26} {fmt(cw['f1']):>5} {fmt(cw['precision']):>5} {fmt(cw['recall']):>5} "
          f"{fmt(cw['recall_all']):>5} {fmt(cw['recall_10x']):>5} {fmt(r['rate'], '.1f'):>6} "
          f"{fmt(cw['true_rate'], '.1f'):>6} {fmt(cw['false_per_rest_min']):>5} | "
          f"{fmt(pl['f1']):>5} {fmt(r['plain_rate'], '.1f'):>6} {fmt(pl['false_per_rest_min']):>5}"
          f" | {kinds}", flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="shorter scenes")
    ap.add_argument("--only", default="", help="run scenes whose name contains this text")
    ap.add_argument("--repeats", type=int, default=3, help="scenes (seeds) pooled per row")
    args = ap.parse_args(argv)
    real = real_rest_noise()
    needle = needle_templates()
    print("calfwatch (F1 prec rec of detectable; rec of all; rec >= 10x; rate reported / true per "
          "rest min; false per rest min) | plain 5xMAD (F1, rate, false/min) | other kinds")
    print(f"{'scene':<26} {'F1':>5} {'prec':>5} {'rec':>5} {'all':>5} {'10x':>5} {'rate':>6} "
          f"{'true':>6} {'false':>5} | {'F1':>5} {'rate':>6} {'false':>5} | recall")
    missed: Counter = Counter()
    t0 = time.perf_counter()
    rows = []
    for name, build in scenes(args.quick, real, needle):
        if args.only and args.only not in name:
            continue
        repeats = 1 if args.quick else args.repeats
        r = evaluate(name, build, repeats * (SPARSE_ROW_FACTOR if "rate 1/min" in name else 1))
        rows.append(r)
        missed.update(r["missed"])
        print_row(r)
    print(f"\nmissed detectable potentials were called: {dict(missed.most_common())}")
    unreal, hours = sum(r["unreal"] for r in rows), sum(r["hours"] for r in rows)
    own = [r for r in rows if "real noise" not in r["name"]]  # BioSPPy's has activity of its own
    own_unreal, own_hours = sum(r["unreal"] for r in own), sum(r["hours"] for r in own)
    if hours and own_hours:
        print(f"movements and jerks where the scenes have none: {unreal} in {hours:.1f} h "
              f"({unreal / hours:.1f} per hour); {own_unreal} in {own_hours:.1f} h "
              f"({own_unreal / own_hours:.1f} per hour) without the real-noise rows")
    errs = [abs(r["rate"] / r["cw"]["true_rate"] - 1) for r in rows
            if r["cw"]["true_rate"] and r["rate"] is not None and "rate" in r["name"]]
    if errs:
        print(f"rate error over the rate sweep: median {np.median(errs):.1%}, max {max(errs):.1%}")
    print(f"({len(rows)} scenes in {time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
