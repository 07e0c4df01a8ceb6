"""Scoring of fasciculation detection against a truth table, shared by the accuracy tests and
``benchmarks/bench_accuracy.py``.

A truth potential is matched by a detected fasciculation on its channel whose onset lies within
``MATCH_S`` before the truth onset and the end of the truth potential (one-to-one, nearest first).
The second potential of a doublet and potentials whose main phases start inside an earlier one's
(``overlap``, one definition in both scene families: the two sum into one compound waveform that no
detector can split, so the pair counts once) are neither required nor counted as false when
matched. F1 is scored
against the *detectable* potentials (peak-to-peak at or above the detection floor, ``floor_k`` x
the noise RMS): a detection of a real potential below the floor is neither a hit nor a false one.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
from scipy import signal

from classifier.config import default_config
from classifier.night import NightData, classify_night
from dsp.chain import DetectionChain, concat_outputs

MATCH_S = 0.015
TRUTH_DTYPE = np.dtype([("onset_s", float), ("duration_s", float), ("kind", "U13"),
                        ("channel", int), ("ptp_uv", float), ("detail", "U12")])


def truth_from_simulation(sim) -> np.ndarray:
    """The simulator's truth events as a truth table."""
    names = list(sim.info.ch_names)
    rows = [(e.onset_s, e.duration_s, e.kind, names.index(e.channel), e.peak_to_peak_uv,
             "overlap" if getattr(e, "overlaps", False) and e.detail != "doublet"
             else e.detail if e.detail in ("doublet", "overlap", "pop", "motion") else "")
            for e in sim.truth]
    return np.array(sorted(rows), dtype=TRUTH_DTYPE)


def run_calfwatch(data_uv: np.ndarray, sfreq_hz: float, mains_hz=None, chunk_s: float = 1.0):
    """The detection chain and the classifier over a whole scene, fed in chunks as live."""
    n_ch, n = data_uv.shape
    chain = DetectionChain(sfreq_hz, n_ch, mains_hz=mains_hz)
    step = max(1, int(chunk_s * sfreq_hz))
    outs = [chain.process(data_uv[:, i:i + step], i) for i in range(0, n, step)]
    outs.append(chain.flush())
    night = NightData.from_chain_output(concat_outputs(outs), sfreq_hz,
                                        [f"ch{i}" for i in range(n_ch)], n, meta={})
    return night, classify_night(night)


def plain_detector(data_uv: np.ndarray, sfreq_hz: float, mains_hz: float = 50.0) -> list:
    """The standard spike detector: 20-450 Hz band-pass + mains notch, 5 x MAD, 50-ms dead time.

    Returns the onsets (s) per channel.
    """
    sos = signal.butter(4, [20.0, min(450.0, 0.45 * sfreq_hz)], "bandpass", fs=sfreq_hz,
                        output="sos")
    b, a = signal.iirnotch(mains_hz, 30.0, fs=sfreq_hz)
    out = []
    dead = int(0.05 * sfreq_hz)
    for x in data_uv:
        y = signal.lfilter(b, a, signal.sosfilt(sos, x))
        thr = 5 * np.median(np.abs(y)) / 0.6745
        above = np.flatnonzero(np.abs(y) > thr)
        keep, last = [], -dead - 1
        for i in above:  # crossings are few: a plain loop, as the reference detector is
            if i - last > dead:
                keep.append(i)
            last = i if i - last > dead else last
        out.append(np.array(keep) / sfreq_hz)
    return out


def _match(truth_on, truth_end, det_on):
    """One-to-one matches: boolean hit per truth row and used per detection."""
    used = np.zeros(len(det_on), bool)
    hit = np.zeros(len(truth_on), bool)
    for i in np.argsort(truth_on):
        c = np.flatnonzero(~used & (det_on >= truth_on[i] - MATCH_S) & (det_on <= truth_end[i]))
        if len(c):
            used[c[np.argmin(np.abs(det_on[c] - truth_on[i]))]] = True
            hit[i] = True
    return hit, used


def score_detections(truth: np.ndarray, det_on_per_channel: list, noise_rms_uv: float,
                     rest_minutes: float, floor_k: float | None = None) -> dict:
    """F1, precision, recall (of detectable and of all potentials), recall at >= 10 x noise, and
    the detected and true rates per minute of rest, for plain onset lists per channel."""
    k = floor_k if floor_k is not None else default_config().detection.detectable_ptp_k
    tp = fp = fn = 0
    n_all = hit_all = n10 = hit10 = n_true = 0
    hits = []
    for ch, det in enumerate(det_on_per_channel):
        t = truth[(truth["channel"] == ch) & (truth["kind"] == "fasciculation")]
        must = t[t["detail"] == ""]
        optional = t[t["detail"] != ""]
        hit, used = _match(must["onset_s"], must["onset_s"] + must["duration_s"], det)
        _, used_opt = _match(optional["onset_s"], optional["onset_s"] + optional["duration_s"],
                             det[~used])
        detectable = must["ptp_uv"] >= k * noise_rms_uv
        free = np.flatnonzero(~used)[~used_opt]
        # detections matched to sub-floor potentials are neither hits nor false
        tp += int(np.sum(hit & detectable))
        fn += int(np.sum(~hit & detectable))
        fp += len(free)
        n_all += len(must)
        hit_all += int(hit.sum())
        big = must["ptp_uv"] >= 10 * noise_rms_uv
        n10 += int(big.sum())
        hit10 += int(np.sum(hit & big))
        n_true += int(detectable.sum())
        hits.append(hit)
    n_det = tp + fp
    return {
        "tp": tp, "fp": fp, "fn": fn,
        "f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else float("nan"),
        "precision": tp / n_det if n_det else float("nan"),
        "recall": tp / (tp + fn) if tp + fn else float("nan"),
        "recall_all": hit_all / n_all if n_all else float("nan"),
        "recall_10x": hit10 / n10 if n10 else float("nan"),
        "true_rate": n_true / rest_minutes if rest_minutes else float("nan"),
        "false_per_rest_min": fp / rest_minutes if rest_minutes else float("nan"),
        "hits": hits,
    }


def fasciculation_onsets(cn) -> list:
    """Counted fasciculation onsets (doublets excluded) per channel of a classified night."""
    ev = cn.events
    f = ev[(ev["kind"] == "fasciculation") & ~ev["doublet"]]
    return [np.sort(f["onset_s"][f["channel"] == ch]) for ch in range(len(cn.ch_names))]


def missed_called(truth: np.ndarray, hits: list, cn, noise_rms_uv: float, floor_k=None) -> Counter:
    """What calfwatch called each detectable potential it did not count."""
    k = floor_k if floor_k is not None else default_config().detection.detectable_ptp_k
    ev = cn.events
    out: Counter = Counter()
    for ch, hit in enumerate(hits):
        t = truth[(truth["channel"] == ch) & (truth["kind"] == "fasciculation")]
        t = t[t["detail"] == ""]
        for row in t[~hit & (t["ptp_uv"] >= k * noise_rms_uv)]:
            a, b = row["onset_s"] - 0.01, row["onset_s"] + row["duration_s"]
            m = ev[(ev["channel"] == ch) & (ev["onset_s"] <= b)
                   & (ev["onset_s"] + np.maximum(ev["duration_s"], 1e-3) >= a)]
            names = sorted({f"{k}/{d}" if d else str(k) for k, d in zip(m["kind"], m["detail"],
                                                                        strict=True)})
            out[",".join(names) or "nothing"] += 1
    return out


def in_aasm_series(truth: np.ndarray, lm_s=(0.5, 10.0), gap_s=(5.0, 90.0), n_min=4) -> np.ndarray:
    """Truth rows that are leg movements (voluntary or PLM bursts of ``lm_s``) in a series that the
    AASM rule scores as periodic limb movements: at least ``n_min`` of them on a channel, each
    ``gap_s`` after the one before (onset to onset; AASM Manual v2.6). Random movements meet it
    by chance: a voluntary burst in such a series is a PLM by the standard a scorer applies."""
    out = np.zeros(len(truth), bool)
    lm = np.isin(truth["kind"], ["voluntary", "plm"]) & (truth["duration_s"] >= lm_s[0]) & (
        truth["duration_s"] <= lm_s[1])
    for ch in np.unique(truth["channel"]):
        idx = np.flatnonzero(lm & (truth["channel"] == ch))
        idx = idx[np.argsort(truth["onset_s"][idx])]
        gap = np.diff(truth["onset_s"][idx])
        link = (gap >= gap_s[0]) & (gap <= gap_s[1])
        run = np.concatenate([[0], np.cumsum(~link)])
        out[idx] = np.bincount(run)[run] >= n_min
    return out


#: Kinds of muscle activity other than twitches, whose events :func:`unreal_events` checks.
MOVEMENT_KINDS = ("voluntary", "plm", "cramp", "myoclonus")


def unreal_events(truth: np.ndarray, cn, margin_s: float = 0.5) -> int:
    """calfwatch's movements and jerks (:data:`MOVEMENT_KINDS`) that overlap no true event
    other than a twitch on their channel, within ``margin_s`` (a movement reported where the
    scene has none: the other kinds' false detections, which their recall does not show)."""
    ev = cn.events[np.isin(cn.events["kind"], MOVEMENT_KINDS)]
    other = truth[truth["kind"] != "fasciculation"]
    count = 0
    for e in ev:
        mine = other[other["channel"] == e["channel"]]
        count += not np.any((mine["onset_s"] < e["onset_s"] + e["duration_s"] + margin_s)
                            & (mine["onset_s"] + mine["duration_s"] > e["onset_s"] - margin_s))
    return count


def kind_recall(truth: np.ndarray, cn, kind: str, also: dict | None = None) -> tuple[int, int]:
    """Truth events of ``kind`` overlapped by a calfwatch event of that kind on their channel
    (or of ``also[row index]``, a kind accepted for that row as well)."""
    ev = cn.events
    hits = total = 0
    for i in np.flatnonzero(truth["kind"] == kind):
        row = truth[i]
        if kind == "artifact" and row["detail"] not in ("pop", "motion"):
            continue
        total += 1
        ok = [kind] + ([also[i]] if also and i in also else [])
        mine = ev[(ev["channel"] == row["channel"]) & np.isin(ev["kind"], ok)]
        hits += bool(np.any((mine["onset_s"] < row["onset_s"] + row["duration_s"])
                            & (mine["onset_s"] + np.maximum(mine["duration_s"], 1e-3)
                               > row["onset_s"])))
    return hits, total
