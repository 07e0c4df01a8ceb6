"""Placing LSL samples on the timeline by their time stamps (no LSL library needed)."""

from __future__ import annotations

import numpy as np
import pytest

from acquisition.lsl_source import INVALID_REASON, PullPlacer, StampPlacer, uv_factors

SFREQ = 2000.0


def _feed(placer: StampPlacer, stamps: np.ndarray, chunk_n: int):
    """Every piece over all chunks, with sample indices into ``stamps``."""
    pieces = []
    for start in range(0, len(stamps), chunk_n):
        for i_from, i_to, first, lost in placer.place(stamps[start:start + chunk_n]):
            pieces.append((start + i_from, start + i_to, first, lost))
    return pieces


def test_regular_stamps_make_one_run():
    stamps = 1000.0 + np.arange(20_000) / SFREQ
    placer = StampPlacer(SFREQ, 0.05)
    pieces = _feed(placer, stamps, 137)
    assert all(lost == 0 for *_, lost in pieces)
    assert [p[2] for p in pieces] == [p[0] for p in pieces]  # sample k at timeline k
    assert placer.next_sample == 20_000


@pytest.mark.parametrize("gap_at, gap_n, chunk_n", [(5_000, 500, 137), (5_000, 101, 5_000),
                                                    (7_123, 4_000, 1_000)])
def test_a_gap_is_placed_and_counted_exactly(gap_at, gap_n, chunk_n):
    """Samples not sent leave their stamps out: the timeline keeps their room, counted lost,
    whether the gap falls inside a chunk or between two."""
    index = np.concatenate([np.arange(gap_at), np.arange(gap_at + gap_n, 20_000)])
    stamps = 50.0 + index / SFREQ
    placer = StampPlacer(SFREQ, 0.02)
    pieces = _feed(placer, stamps, chunk_n)
    assert sum(lost for *_, lost in pieces) == gap_n
    placed = np.concatenate([np.arange(first, first + i_to - i_from)
                             for i_from, i_to, first, _ in pieces])
    np.testing.assert_array_equal(placed, index)


def test_jitter_and_drift_are_not_gaps():
    """Chunks stamped at arrival with up to 30 ms of jitter, from a device 0.1 % slower than its
    nominal rate, over an hour: no gap, every sample in order."""
    rng = np.random.default_rng(1)
    n, chunk_n = int(3600 * SFREQ), 200
    true_t = np.arange(n) / (SFREQ * (1 - 1e-3))
    jitter = np.repeat(rng.uniform(0.0, 0.03, n // chunk_n), chunk_n)
    placer = StampPlacer(SFREQ, 0.05)
    pieces = _feed(placer, true_t + jitter, chunk_n)
    assert sum(lost for *_, lost in pieces) == 0
    assert placer.next_sample == n


def _chunks(pulls: list[np.ndarray], n_channels: int = 2):
    """Every chunk a :class:`PullPlacer` makes of ``pulls`` (samples x channels each, stamped
    one after another at ``SFREQ``), its held samples released at the end; and the counters."""
    counters = {"samples_received": 0, "samples_lost": {}, "gaps": 0}
    placer = PullPlacer(SFREQ, 0.05, np.ones((n_channels, 1)), counters)
    out, k = [], 0
    for pull in pulls:
        out += list(placer.place(pull, 10.0 + (k + np.arange(len(pull))) / SFREQ))
        k += len(pull)
    return out + list(placer.release()), counters


@pytest.mark.parametrize("cuts", [(), (250,), (210, 260, 261), (200,), (300,)])
def test_a_dropout_delivered_over_several_pulls_is_one_gap(cuts):
    """NaN over samples 200-299 on one channel: one gap of 100 samples at 200, however the
    sender's pulls cut it (inside it, at its first or past its last sample)."""
    data = np.ones((1000, 2))
    data[200:300, 1] = np.nan
    chunks, counters = _chunks(np.split(data, cuts))
    gaps = [(c.start_sample, c.n_samples) for c in chunks if c.gap]
    assert gaps == [(200, 100)]
    assert counters["samples_lost"] == {INVALID_REASON: 100} and counters["gaps"] == 1
    starts = np.cumsum([0] + [c.n_samples for c in chunks])
    assert [c.start_sample for c in chunks] == starts[:-1].tolist()  # no hole, no overlap
    assert starts[-1] == 1000


def test_two_dropouts_with_samples_between_stay_two_gaps():
    data = np.ones((600, 1))
    data[100:150], data[151:200] = np.nan, np.inf
    chunks, _ = _chunks(np.split(data, [140, 175]), n_channels=1)
    assert [(c.start_sample, c.n_samples) for c in chunks if c.gap] == [(100, 50), (151, 49)]


def test_units_to_uv():
    np.testing.assert_array_equal(uv_factors(["microvolts", "mV", "volts", ""], "s").ravel(),
                                  [1.0, 1e3, 1e6, 1.0])
    with pytest.raises(OSError, match="s: channel unit 'counts' is not a voltage"):
        uv_factors(["counts"], "s")


def test_without_pylsl_lsl_is_refused_in_one_line(monkeypatch, tmp_path, capsys):
    """No pylsl: --device lsl and --lsl fail before any file is made, saying what to install;
    devices still lists the rest."""
    import sys

    from calfwatch.cli import main

    monkeypatch.setitem(sys.modules, "pylsl", None)  # import pylsl raises ImportError
    want = "calfwatch: error: Lab Streaming Layer needs pylsl: pip install 'calfwatch[lsl]'"
    assert main(["record", "--device", "lsl", "--port", "x", "--out", str(tmp_path / "a")]) == 1
    assert capsys.readouterr().err.strip().splitlines() == [want]
    assert not (tmp_path / "a").exists()
    assert main(["devices"]) == 0
    assert "LSL streams: not looked for (Lab Streaming Layer needs pylsl" in capsys.readouterr().out
