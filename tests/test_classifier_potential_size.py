"""The size compared with the detection floor is the potential's peak-to-peak over its span: at
1 kHz, potentials of >= 10 x the noise whose candidate holds only their largest phase (under the
floor on its own) are counted, at the size they are counted at; a small candidate beside a large
one keeps its own size."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from accuracy_scoring import run_calfwatch

from classifier.config import default_config
from classifier.noise import resting_noise_uv
from classifier.potentials import potential_ptp_uv
from dsp.types import CANDIDATE_DTYPE, SNIPPET_LEN

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from bench_accuracy import ind_scene  # noqa: E402

FS = 1000.0


def test_potentials_whose_candidate_holds_one_phase_are_counted_at_their_whole_size():
    """An independent scene (not calfwatch's simulator) at 1 kHz, 80 per minute."""
    data, fs, truth, noise_uv, _, _ = ind_scene(4.0, 981, rate_per_min=80, sfreq_hz=FS)
    night, cn = run_calfwatch(data, fs)
    k = default_config().detection.detectable_ptp_k
    cand = night.candidates
    floor_uv = k * np.maximum(cand["noise_uv"], resting_noise_uv(night, 0, default_config()))
    ev = cn.events[(cn.events["kind"] == "fasciculation") & ~cn.events["doublet"]]
    big = truth[(truth["kind"] == "fasciculation") & (truth["detail"] == "")
                & (truth["ptp_uv"] >= 10 * noise_uv)]
    one_phase, counted = 0, 0
    for row in big:
        a, z = row["onset_s"] * fs, (row["onset_s"] + row["duration_s"]) * fs
        inside = np.flatnonzero((cand["peak"] >= a) & (cand["peak"] < z))
        if len(inside) == 1 and cand["ptp_uv"][inside[0]] < floor_uv[inside[0]]:
            one_phase += 1
            counted += bool(np.any(np.abs(ev["onset_s"] * fs - cand["onset"][inside[0]]) < 1))
    assert one_phase >= 10  # the scene holds the case (a polyphasic unit at 10-11 x)
    assert counted >= one_phase / 4  # the candidate's own size would count none of them
    # no count below the floor, in the size each event reports
    rows = [int(np.argmin(np.abs(cand["onset"] - on * fs))) for on in ev["onset_s"]]
    assert np.all(ev["peak_to_peak_uv"] >= floor_uv[rows] - 1e-9)


def _candidates(peaks, onsets, offsets, peaks_uv, ptps) -> np.ndarray:
    cand = np.zeros(len(peaks), CANDIDATE_DTYPE)
    cand["peak"], cand["onset"], cand["offset"] = peaks, onsets, offsets
    cand["peak_uv"], cand["ptp_uv"] = peaks_uv, ptps
    return cand


def test_the_span_stops_at_the_potentials_beside_it_and_never_shrinks_the_candidate():
    mid = SNIPPET_LEN // 2
    # a large potential, then 12 ms later a small one; a large one again 10 ms after the small
    cand = _candidates([1000, 1012], [995, 1010], [1006, 1015], [100.0, 6.0], [200.0, 10.0])
    snip = np.zeros((2, SNIPPET_LEN), np.float32)
    snip[0, mid], snip[0, mid + 12] = 100.0, -6.0
    snip[1, mid - 12], snip[1, mid - 8] = 100.0, -90.0  # the large one, before the small one
    snip[1, mid], snip[1, mid + 2] = 6.0, -4.0  # the small one's own phases
    snip[1, mid + 10] = -80.0  # a large one after it (not returned yet in a live view)
    got = potential_ptp_uv(cand, snip, FS, 0.03)
    assert got[0] == 200.0  # its own ptp is larger than what its snippet shows
    assert got[1] == 10.0  # 6 - (-4): the large phases on either side are not its own
    snip[1, mid - 5] = -5.0  # a phase of its own, inside its span
    assert potential_ptp_uv(cand, snip, FS, 0.03)[1] == 11.0
    snip[1, mid + 10] = 0.0
    snip[1, mid + 16] = -6.0  # beyond 15 ms: outside a 30-ms span
    assert potential_ptp_uv(cand, snip, FS, 0.03)[1] == 11.0
    snip[1, mid + 3] = np.nan  # data lost around it changes nothing
    assert potential_ptp_uv(cand, snip, FS, 0.03)[1] == 11.0
    # without the previous candidate (the start of a live window) the larger samples still bound it
    assert potential_ptp_uv(cand[1:], snip[1:], FS, 0.03)[0] == 11.0
