"""A BITalino night recorded by OpenSignals, with samples lost over Bluetooth, analysed at its
true times: the samples after a drop keep their time, the drop is lost time (``gaps_s``), and a
note says so. The file is written as OpenSignals writes it (JSON header, ``nSeq`` column counting
modulo 16, 10-bit counts of the EMG sensor), from a simulated night; the drop takes out rows, as a
lost packet does."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from analyze_cli import run_analyze

from acquisition._text_formats import BITALINO_EMG_GAIN, BITALINO_VCC_V
from calfwatch.outputs import read_events_tsv
from calfwatch.simulator import load_profile, simulate_night

FS = 1000.0
BITS = 10
DROP_AT_S, DROP_SAMPLES = 90.0, 11  # fewer than 16: the sequence number tells the loss exactly
SETTLE_S = 2.0  # the chain restarts its filters after a gap


def _write(path: Path, counts: np.ndarray, seq: np.ndarray) -> Path:
    device = {"sensor": ["EMG"], "column": ["nSeq", "I1", "I2", "O1", "O2", "A1"],
              "label": ["A1"], "resolution": [4, 1, 1, 1, 1, BITS], "sampling rate": FS,
              "date": "2026-3-1", "time": "23:05:09.250"}
    body = "\n".join(f"{s}\t0\t0\t0\t0\t{c}" for s, c in zip(seq, counts, strict=True))
    path.write_text("# OpenSignals Text File Format\n"
                    f"# {json.dumps({'00:07:80:00:00:01': device})}\n# EndOfHeader\n{body}\n")
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    night = simulate_night(load_profile("benign-night", duration_s=180, n_channels=1,
                                        sfreq_hz=FS, fasc_rate_per_min=40.0), seed=5)
    volts = night.data_uv()[0] * 1e-6
    counts = np.clip(np.round((volts * BITALINO_EMG_GAIN / BITALINO_VCC_V + 0.5) * 2**BITS),
                     0, 2**BITS - 1).astype(int)
    seq = np.arange(counts.size) % 16
    keep = np.ones(counts.size, bool)
    cut = int(DROP_AT_S * FS)
    keep[cut : cut + DROP_SAMPLES] = False
    d = tmp_path_factory.mktemp("opensignals")
    return {"whole": _write(d / "whole.txt", counts, seq),
            "dropped": _write(d / "dropped.txt", counts[keep], seq[keep])}


def test_events_after_a_drop_keep_their_time(files, tmp_path):
    runs = {name: run_analyze(files[name], tmp_path / name) for name in files}
    for proc in runs.values():
        assert proc.returncode in (0, 4), proc.stderr
    assert runs["dropped"].stderr.strip().splitlines() == [
        f"calfwatch: note: {files['dropped']}: samples lost at 1 sequence-number jump(s), the "
        f"first at {DROP_AT_S:g} s: lost time from there, each gap the fewest samples the 4-bit "
        "number allows (it may be longer by a multiple of 16)"]
    doc = json.loads((tmp_path / "dropped" / "summary.json").read_text())
    assert doc["recording"]["gaps_s"] == [[DROP_AT_S, DROP_SAMPLES / FS]]
    whole = read_events_tsv(tmp_path / "whole" / "events.tsv")
    dropped = read_events_tsv(tmp_path / "dropped" / "events.tsv")
    before = [(e["onset"], e["kind"]) for e in whole if e["onset"] < DROP_AT_S - 1]
    after = [(e["onset"], e["kind"]) for e in whole if e["onset"] > DROP_AT_S + SETTLE_S]
    assert len(before) >= 10 and len(after) >= 10
    assert [(e["onset"], e["kind"]) for e in dropped if e["onset"] < DROP_AT_S - 1] == before
    assert [(e["onset"], e["kind"]) for e in dropped if e["onset"] > DROP_AT_S + SETTLE_S] \
        == after
