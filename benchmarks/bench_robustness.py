"""Robustness: fasciculation counting on scenes unlike the accuracy benchmark's, with fresh seeds.

``bench_accuracy.py`` holds the scenes the detection rules were measured and set on. The rows here
change what those hold fixed, on scenes made independently of calfwatch's simulator
(``tests/independent_scenes.py``), three seeds per row from ``--seed`` (1500 by default, a range
no rule was set on):

- sampling rates of 250, 512, 1024, 2048 and 4000 Hz (consumer sensors to research amplifiers);
- 2 and 30 fasciculating units; sensors of 2 and 10 µV noise; a 100-µV hum at 60 Hz;
- twitching that changes over the night: a stretch at 100 per minute then one at 5 (and, with
  real units' shapes, 120, 3 and 60), where chance coincidences must be judged at the rate around
  them, not the night's;
- background noise of other spectra and statistics at the same RMS in 20-450 Hz: white over the
  whole band, pink (1/f), and heavy-tailed (Laplace: at the same RMS its peaks reach the floor
  more often than Gaussian noise's, which the floor was measured on);
- 60 % doublets at 20 per minute, and 30 % doublets at 100 per minute;
- a strong QRS (300 µV) at 50 beats per minute;
- pops and motion on one and on four channels, with twitches and without;
- every unit with a slow lead-in or tail;
- a 10-bit converter's steps of 3.2 µV (BITalino's EMG channel) over 1 and 0.5 µV of noise, with
  twitches and without;
- potentials recorded at the skin (spike-triggered averages of decomposed units,
  ``tests/surface_averages.py``) at 15 and 120 per minute, at 1000 and 500 Hz, with 30 % doublets
  and at 25-60 µV;
- potentials of the textbook analytic model, Hermite-Rodriguez functions
  (``tests/hermite_shapes.py``), at 40 and 120 per minute, at 1000 Hz and at 25-60 µV;
- what a night's recording goes through: a DC-coupled amplifier's electrode offset (150 mV), a
  20-µV hum switched on and off every 20 s (a lamp, an electric blanket's controller) at
  1 kHz / 60 Hz, and the first minute flat (the electrodes not on yet; its truth and rest left
  out of the scoring);
- a calf not quite relaxed: for the middle third one small unit (9 and 12 x the noise) firing
  tonically at 6 Hz, at 2 and 1 kHz (that stretch's truth and rest left out of the scoring: its
  discharges are voluntary firing, and a twitch counted there is false), and one at a heart's
  rate (2 Hz at 9 x, 3 Hz at 15 x, as regular as tonic firing is) at 1 kHz, which calfwatch may
  take for a heart (that stretch stays rest; its discharges are not twitches);
- a clonus: for the middle third 3 units (10 x the noise) or 5 (25 x) firing together at the
  beats of a 6-Hz rhythm, at 2 and 1 kHz (scored as the tonic rows).

The rows with real units' shapes (``tests/needle_shapes.py``) need ``$CALFWATCH_SAMPLE_DATA``;
those with surface averages need the recording they are taken from, which ``make bench`` fetches
(or ``$CALFWATCH_SURFACE_UNITS``).
Per row, pooled over its seeds: F1, precision and recall of the detectable potentials (p-p at or
above the detection floor), recall of those >= 10 x the noise RMS, the reported and true rate per
minute of rest, false fasciculations per rest minute, and what the missed potentials were called
(the three commonest).

Run: ``python benchmarks/bench_robustness.py [--only TEXT] [--seed N] [--jobs N]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from functools import cache
from pathlib import Path

import numpy as np

from firmware_io.devices import DEVICES

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from accuracy_scoring import (  # noqa: E402
    fasciculation_onsets,
    missed_called,
    run_calfwatch,
    score_detections,
)
from bench_accuracy import fmt, ind_scene  # noqa: E402
from hermite_shapes import hermite_templates  # noqa: E402
from independent_scenes import band_rms, random_potential  # noqa: E402
from needle_shapes import needle_templates  # noqa: E402
from surface_averages import surface_averages  # noqa: E402

#: Seeds pooled per row.
SEEDS_PER_ROW = 3
#: Minutes per scene.
MINUTES = 4.0
#: Noise RMS (µV, 20-450 Hz) of the rows whose background is replaced.
NOISE_UV = 4.5
#: Converter step of BITalino's EMG channel (µV): 3.3 V / gain 1009 / 2^10 levels.
BITALINO_STEP_UV = DEVICES["bitalino"].uv_per_count


def steady(**over):
    """A builder of independent scenes at a steady rate with these settings (``SceneSpec``)."""
    return lambda seed, banks: ind_scene(MINUTES, seed, **_shapes(over, banks))


def stretches(parts, **over):
    """A builder of one channel whose twitching changes: ``(minutes, rate)`` stretches end to end,
    each an independent scene of its own seed."""
    def build(seed, banks):
        runs = [ind_scene(m, 10 * seed + k, rate_per_min=r, **_shapes(over, banks))
                for k, (m, r) in enumerate(parts)]
        truth, start_s = [], 0.0
        for data, fs, rows, *_ in runs:
            rows = rows.copy()
            rows["onset_s"] += start_s
            truth.append(rows)
            start_s += data.shape[1] / fs
        return (np.concatenate([r[0] for r in runs], axis=1), runs[0][1], np.concatenate(truth),
                float(np.mean([r[3] for r in runs])), sum(r[4] for r in runs), runs[0][5])
    return build


def renoised(kind: str, **over):
    """A builder of scenes whose background is replaced by noise of ``kind`` (``white``: flat
    over the whole band; ``pink``: 1/f; ``laplace``: white and heavy-tailed) of ``NOISE_UV`` RMS
    in 20-450 Hz."""
    def build(seed, banks):
        data, fs, truth, _, rest, mains = ind_scene(MINUTES, seed, noise_rms_uv=0.05,
                                                    **_shapes(over, banks))
        rng = np.random.default_rng((seed, 7))
        n = data.shape[1]
        if kind == "pink":
            spec = rng.standard_normal(n // 2 + 1) + 1j * rng.standard_normal(n // 2 + 1)
            spec[1:] /= np.sqrt(np.fft.rfftfreq(n, 1 / fs)[1:])
            spec[0] = 0.0
            noise = np.fft.irfft(spec, n)
        else:
            noise = rng.laplace(size=n) if kind == "laplace" else rng.standard_normal(n)
        return data + noise * (NOISE_UV / band_rms(noise, fs)), fs, truth, NOISE_UV, rest, mains
    return build


def quantized(step_uv: float, **over):
    """A builder of independent scenes without mains hum (a hum dithers a converter) rounded to
    a converter's ``step_uv``; detectable potentials are counted from the noise, as in the other
    rows, so that what the converter's step hides shows as missed."""
    def build(seed, banks):
        data, fs, truth, noise, rest, mains = ind_scene(MINUTES, seed, mains_uv=0.0,
                                                        **_shapes(over, banks))
        return np.round(data / step_uv) * step_uv, fs, truth, noise, rest, mains
    return build


def offset(offset_uv: float, **over):
    """A builder of independent scenes recorded with an electrode offset of ``offset_uv``."""
    def build(seed, banks):
        data, *rest = ind_scene(MINUTES, seed, **_shapes(over, banks))
        return (data + offset_uv, *rest)
    return build


def switching_hum(hum_uv: float, period_s: float, **over):
    """A builder of independent scenes under a hum of ``hum_uv`` (amplitude, with a third
    harmonic at 0.3 x) at the scene's mains frequency, on for ``period_s`` and off for as long."""
    def build(seed, banks):
        data, fs, truth, noise, rest, mains = ind_scene(MINUTES, seed, **_shapes(over, banks))
        t = np.arange(data.shape[1]) / fs
        line = 2 * np.pi * mains * t
        hum = hum_uv * (np.sin(line + 0.3) + 0.3 * np.sin(3 * line + 1.0))
        return data + hum * (np.floor(t / period_s) % 2 == 1), fs, truth, noise, rest, mains
    return build


def flat_start(flat_s: float, **over):
    """A builder of independent scenes whose first ``flat_s`` are flat (zeros: the electrodes
    not on yet); the potentials there and that time are left out of the truth and the rest."""
    def build(seed, banks):
        data, fs, truth, noise, rest, mains = ind_scene(MINUTES, seed, **_shapes(over, banks))
        data = data.copy()
        data[:, : int(flat_s * fs)] = 0.0
        kept = truth[truth["onset_s"] >= flat_s]
        return data, fs, kept, noise, rest - flat_s * data.shape[0] / 60.0, mains
    return build


def tonic_unit(firing_hz: float, size_k: float, cv: float = 0.1, **over):
    """A builder of independent scenes where, for the middle third, one more unit of ``size_k``
    x the noise RMS fires tonically at ``firing_hz`` with an interval CV of ``cv`` (a calf not
    quite relaxed; tonic firing's ISI variability is about 3.5 %). At 5 Hz and faster that
    stretch is voluntary activity, not rest: its twitches and time (with the 0.5-s margins) are
    left out of the truth and the rest. Slower, at a heart's rate, its timing cannot tell it from
    a heart's, which is interference on a channel at rest (:mod:`classifier.cardiac`): the
    stretch stays rest and its twitches stay in the truth; only the unit's discharges are not
    twitches."""
    def build(seed, banks):
        data, fs, truth, noise, rest, mains = ind_scene(MINUTES, seed, **_shapes(over, banks))
        rng = np.random.default_rng((seed, 11))
        shape = random_potential(rng, fs, size_k * noise)
        start_s, stop_s = MINUTES * 20.0, MINUTES * 40.0
        data, t_s = data.copy(), start_s
        while t_s < stop_s:
            i = int(t_s * fs)
            data[0, i:i + len(shape)] += shape
            t_s += rng.normal(1.0 / firing_hz, cv / firing_hz)
        if firing_hz < 5.0:
            return data, fs, truth, noise, rest, mains
        lo, hi = start_s - 0.5, t_s + len(shape) / fs + 0.5
        kept = truth[(truth["channel"] != 0) | (truth["onset_s"] + truth["duration_s"] < lo)
                     | (truth["onset_s"] > hi)]
        return data, fs, kept, noise, rest - (hi - lo) / 60.0, mains
    return build


def clonus(n_units: int, size_k: float, **over):
    """A builder of independent scenes where, for the middle third, ``n_units`` more units of
    about ``size_k`` x the noise RMS fire together at each beat of a 6-Hz rhythm (interval SD 15
    ms), each at 80 % of the beats, 0-25 ms apart within a beat (ankle clonus: 5-8 Hz). That
    stretch is sustained activity: its twitches and time (with 0.5-s margins) are left out of
    the truth and the rest."""
    def build(seed, banks):
        data, fs, truth, noise, rest, mains = ind_scene(MINUTES, seed, **_shapes(over, banks))
        rng = np.random.default_rng((seed, 13))
        units = [random_potential(rng, fs, size_k * noise * rng.uniform(0.7, 1.4))
                 for _ in range(n_units)]
        start_s, stop_s = MINUTES * 20.0, MINUTES * 40.0
        data, t_s = data.copy(), start_s
        while t_s < stop_s:
            for shape in units:
                if rng.random() < 0.8:
                    i = int((t_s + rng.uniform(0.0, 0.025)) * fs)
                    data[0, i:i + len(shape)] += shape
            t_s += rng.normal(1.0 / 6.0, 0.015)
        lo, hi = start_s - 0.5, t_s + 0.05 + 0.5
        kept = truth[(truth["channel"] != 0) | (truth["onset_s"] + truth["duration_s"] < lo)
                     | (truth["onset_s"] > hi)]
        return data, fs, kept, noise, rest - (hi - lo) / 60.0, mains
    return build


def _shapes(over: dict, banks: dict) -> dict:
    """``over`` with the real units' shapes of ``banks`` for ``shape_bank=True`` (needle
    templates) and ``surface_bank=True`` (surface averages)."""
    return {key: banks[key] if key in banks and value is True else value
            for key, value in over.items()}


def rows(banks: dict) -> list[tuple[str, object]]:
    """(name, builder) of every row; the rows of real units' shapes only with their ``banks``
    (``shape_bank``: needle templates; ``surface_bank``: surface averages)."""
    out = [(f"{fs:.0f} Hz 40/min", steady(sfreq_hz=fs, rate_per_min=40))
           for fs in (512.0, 1024.0, 2048.0, 4000.0)]
    out += [("250 Hz 20/min", steady(sfreq_hz=250.0, rate_per_min=20)),
            ("250 Hz 60/min", steady(sfreq_hz=250.0, rate_per_min=60)),
            ("2 units 40/min", steady(units=2, rate_per_min=40)),
            ("30 units 80/min", steady(units=30, rate_per_min=80)),
            ("noise 2 uV 40/min", steady(noise_rms_uv=2.0, rate_per_min=40)),
            ("noise 10 uV 20/min", steady(noise_rms_uv=10.0, rate_per_min=20,
                                          ptp_range_uv=(40.0, 2000.0))),
            ("60 Hz hum 100 uV 20/min", steady(mains_hz=60.0, mains_uv=100.0, rate_per_min=20)),
            ("stretches 100 then 5/min", stretches([(1.5, 100.0), (2.5, 5.0)])),
            ("white noise 30/min", renoised("white", rate_per_min=30)),
            ("pink noise 30/min", renoised("pink", rate_per_min=30)),
            ("laplace noise 30/min", renoised("laplace", rate_per_min=30)),
            ("doublets 60% 20/min", steady(doublet_fraction=0.6, rate_per_min=20)),
            ("QRS 300 uV 50 bpm 10/min", steady(ecg_uv=300.0, heart_rate_per_min=50.0,
                                                rate_per_min=10)),
            ("pops+motion 20/min", steady(pops_per_min=1.0, motion_per_min=1.0, rate_per_min=20)),
            ("pops+motion no twitch", steady(pops_per_min=1.0, motion_per_min=1.0,
                                             rate_per_min=0)),
            ("4 ch pops 20/min", steady(n_channels=4, pops_per_min=1.0, rate_per_min=20)),
            ("4 ch pops+motion no twitch", steady(n_channels=4, pops_per_min=1.0,
                                                  motion_per_min=2.0, rate_per_min=0)),
            ("slow all 20/min", steady(slow_fraction=1.0, rate_per_min=20)),
            ("10-bit 3.2-uV steps, 1 uV 20/min", quantized(
                BITALINO_STEP_UV, sfreq_hz=1000.0, noise_rms_uv=1.0, rate_per_min=20)),
            ("10-bit 3.2-uV steps, 0.5 uV no twitch", quantized(
                BITALINO_STEP_UV, sfreq_hz=1000.0, noise_rms_uv=0.5, rate_per_min=0))]
    out += [("electrode offset 150 mV 40/min", offset(150_000.0, rate_per_min=40)),
            ("hum 20 uV on/off 20 s 1 kHz 60 Hz 20/min", switching_hum(
                20.0, 20.0, sfreq_hz=1000.0, mains_hz=60.0, rate_per_min=20)),
            ("first minute flat 20/min", flat_start(60.0, rate_per_min=20)),
            ("tonic unit 6 Hz 9x 20/min", tonic_unit(6.0, 9.0, rate_per_min=20)),
            ("tonic unit 2 Hz 9x 1 kHz 20/min", tonic_unit(2.0, 9.0, cv=0.035, sfreq_hz=1000.0,
                                                           rate_per_min=20)),
            ("tonic unit 3 Hz 15x 1 kHz 20/min", tonic_unit(3.0, 15.0, cv=0.035, sfreq_hz=1000.0,
                                                            rate_per_min=20)),
            ("tonic unit 6 Hz 12x 1 kHz 20/min", tonic_unit(6.0, 12.0, sfreq_hz=1000.0,
                                                            rate_per_min=20)),
            ("clonus 3 units 10x 6 Hz 20/min", clonus(3, 10.0, rate_per_min=20)),
            ("clonus 5 units 25x 6 Hz 1 kHz 20/min", clonus(5, 25.0, sfreq_hz=1000.0,
                                                            rate_per_min=20))]
    hermite = hermite_templates()
    out += [("Hermite units 40/min", steady(rate_per_min=40, surface_bank=hermite)),
            ("Hermite units 120/min", steady(rate_per_min=120, surface_bank=hermite)),
            ("Hermite units 1000 Hz 40/min", steady(sfreq_hz=1000.0, rate_per_min=40,
                                                              surface_bank=hermite)),
            ("Hermite units 25-60 uV 20/min", steady(ptp_range_uv=(25.0, 60.0),
                                                               rate_per_min=20,
                                                               surface_bank=hermite))]
    if banks.get("shape_bank"):
        out += [("real shapes 120/3/60 per min", stretches([(1.0, 120.0), (2.0, 3.0), (1.0, 60.0)],
                                                           shape_bank=True)),
                ("real shapes 1000 Hz 100/min", steady(sfreq_hz=1000.0, rate_per_min=100,
                                                       shape_bank=True)),
                ("real shapes doublets 30% 100/min", steady(doublet_fraction=0.3,
                                                            rate_per_min=100, shape_bank=True)),
                ("real shapes 4 ch 40/min", steady(n_channels=4, rate_per_min=40,
                                                   shape_bank=True))]
    if banks.get("surface_bank"):
        out += [("surface units 15/min", steady(rate_per_min=15, surface_bank=True)),
                ("surface units 120/min", steady(rate_per_min=120, surface_bank=True)),
                ("surface units 1000 Hz 40/min", steady(sfreq_hz=1000.0, rate_per_min=40,
                                                        surface_bank=True)),
                ("surface units 500 Hz 40/min", steady(sfreq_hz=500.0, rate_per_min=40,
                                                       surface_bank=True)),
                ("surface units doublets 30% 20/min", steady(doublet_fraction=0.3,
                                                             rate_per_min=20, surface_bank=True)),
                ("surface units 25-60 uV 20/min", steady(ptp_range_uv=(25.0, 60.0),
                                                         rate_per_min=20, surface_bank=True))]
    return out


@cache
def _banks() -> dict:
    return {"shape_bank": needle_templates(), "surface_bank": surface_averages()}


def evaluate(job: tuple[int, int]) -> tuple[int, dict]:
    """Score one scene: row ``job[0]`` at seed ``job[1]``."""
    k, seed = job
    banks = _banks()
    data, fs, truth, noise_uv, rest_true, _ = rows(banks)[k][1](seed, banks)
    _, cn = run_calfwatch(data, fs)
    score = score_detections(truth, fasciculation_onsets(cn), noise_uv, rest_true)
    live = (cn.rates["rest_minutes"] or 0.0) - (cn.rates.get("blind_minutes") or 0.0)
    return k, {"tp": score["tp"], "fp": score["fp"], "fn": score["fn"],
               "big": score["recall_10x"], "true_n": score["true_rate"] * rest_true,
               "counted": cn.count("fasciculation"), "live": live, "rest": rest_true,
               "missed": missed_called(truth, score["hits"], cn, noise_uv)}


def _ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def print_row(name: str, runs: list[dict]) -> None:
    tp, fp, fn = (sum(r[key] for r in runs) for key in ("tp", "fp", "fn"))
    rest, live = sum(r["rest"] for r in runs), sum(r["live"] for r in runs)
    big = [r["big"] for r in runs if np.isfinite(r["big"])]
    counted, true_n = (sum(r[key] for r in runs) for key in ("counted", "true_n"))
    missed = sum((r["missed"] for r in runs), Counter()).most_common(3)
    print(f"{name:<34} {fmt(_ratio(2 * tp, 2 * tp + fp + fn)):>5} {fmt(_ratio(tp, tp + fp)):>5} "
          f"{fmt(_ratio(tp, tp + fn)):>5} {fmt(np.mean(big) if big else float('nan')):>5} "
          f"{fmt(_ratio(counted, live), '.1f'):>6} {fmt(_ratio(true_n, rest), '.1f'):>6} "
          f"{fmt(_ratio(fp, rest)):>5}  {dict(missed)}", flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="", help="run rows whose name contains this text")
    ap.add_argument("--seed", type=int, default=1500, help="first seed of each row")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes")
    args = ap.parse_args(argv)
    table = rows(_banks())
    picked = [k for k, (name, _) in enumerate(table) if args.only in name]
    jobs = [(k, args.seed + j) for k in picked for j in range(SEEDS_PER_ROW)]
    t0 = time.perf_counter()
    print(f"{'scene':<34} {'F1':>5} {'prec':>5} {'rec':>5} {'10x':>5} {'rate':>6} {'true':>6} "
          f"{'false':>5}  missed potentials were called")
    with ProcessPoolExecutor(max(1, args.jobs)) as pool:
        done: dict[int, list[dict]] = {}
        for k, result in pool.map(evaluate, jobs):
            done.setdefault(k, []).append(result)
            if len(done[k]) == SEEDS_PER_ROW:
                print_row(table[k][0], done[k])
    print(f"({len(jobs)} scenes in {time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
