"""NaN samples are lost time in every format, by one rule: where any analysed channel holds NaN
(a channel marked bad does not count). A CSV, an OpenSignals text file and a Raw given to
``calfwatch.analyze`` list the span in ``gaps_s`` as a FIF and an array do, and place no event
in it.
"""

from __future__ import annotations

import mne
import numpy as np
import pytest
from dsp_signals import scene

import calfwatch
from acquisition.reader import open_recording

FS = 2000.0
NAN_FROM_S, NAN_S = 12.0, 1.5


def _emg_uv(seconds: float = 30.0) -> np.ndarray:
    """Two channels of calf EMG with potentials everywhere, NaN on the second only in the span."""
    x_uv = np.array([scene(seconds, FS, rate_per_min=60.0, ptp_uv=(80.0, 250.0), noise_uv=3.0,
                           seed=21 + ch)[0] for ch in range(2)])
    a = int(round(NAN_FROM_S * FS))
    x_uv[1, a : a + int(round(NAN_S * FS))] = np.nan
    return x_uv


def _csv(path, x_uv: np.ndarray):
    t_s = np.arange(x_uv.shape[1]) / FS
    rows = [f"{t:.4f},{a:.3f},{b:.3f}" for t, a, b in zip(t_s, *x_uv, strict=True)]
    path.write_text("time,calf_uV,soleus_uV\n" + "\n".join(rows) + "\n")
    return path


def _lost(raw) -> list[tuple[float, float]]:
    return [(round(float(a["onset"] - raw.first_time), 6), round(float(a["duration"]), 6))
            for a in raw.annotations if a["description"] == "BAD_ACQ_SKIP"]


def _gaps_and_events(night) -> tuple[list, list]:
    ev = night.events
    inside = [(float(o), str(k)) for o, d, k in zip(ev["onset_s"], ev["duration_s"], ev["kind"],
                                                      strict=True)
              if o < NAN_FROM_S + NAN_S and o + d > NAN_FROM_S]
    return night.summary["recording"]["gaps_s"], inside


def test_a_csv_nan_span_on_one_channel_is_lost_time_as_in_an_array(tmp_path):
    x_uv = _emg_uv()
    path = _csv(tmp_path / "night.csv", x_uv)
    assert _lost(open_recording(path)) == [(NAN_FROM_S, NAN_S)]
    gaps, inside = _gaps_and_events(calfwatch.analyze(path, mains_hz=50, verbose="WARNING"))
    array_gaps, _ = _gaps_and_events(calfwatch.analyze((x_uv, FS), mains_hz=50,
                                                       verbose="WARNING"))
    assert gaps == array_gaps == [[NAN_FROM_S, NAN_S]]
    assert inside == []


def test_an_opensignals_nan_cell_is_lost_time(tmp_path):
    counts = np.random.default_rng(4).integers(400, 624, (4000, 2)).astype(float)
    counts[1000:1200, 0] = np.nan
    body = "\n".join(f"{a:g}\t{b:g}" for a, b in counts)
    path = tmp_path / "os.txt"
    path.write_text("# Sampling Rate (Hz):= 1000.00\n# Resolution:= 10\n"
                    f"# Labels:= A1\tA2\n{body}\n")
    assert _lost(open_recording(path)) == [(1.0, 0.2)]


@pytest.mark.parametrize("bad", [False, True])
def test_a_raw_given_to_analyze_has_its_nan_spans_lost_unless_on_a_bad_channel(bad):
    x_uv = _emg_uv()
    raw = mne.io.RawArray(x_uv * 1e-6, mne.create_info(["calf", "soleus"], FS, "emg"),
                          verbose="error")
    raw.info["bads"] = ["soleus"] if bad else []
    gaps, inside = _gaps_and_events(calfwatch.analyze(raw, mains_hz=50, verbose="WARNING"))
    assert gaps == ([] if bad else [[NAN_FROM_S, NAN_S]])
    assert bad or inside == []
    assert len(raw.annotations) == 0  # the caller's Raw is left as it was
