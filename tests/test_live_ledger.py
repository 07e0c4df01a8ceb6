"""LiveLedger: each live event is new once; early calls are confirmed silently, revised or withdrawn."""

from __future__ import annotations

from calfwatch.engine.live_ledger import LiveLedger


def _row(sample: int, kind: str = "fasciculation", channel: str = "calf", detail: str = "",
         sfreq_hz: float = 1000.0, duration_s: float = 0.01) -> dict:
    return {"sample": sample, "channel": channel, "kind": kind, "detail": detail,
            "onset_s": sample / sfreq_hz, "duration_s": duration_s}


def test_a_provisional_event_confirmed_is_not_given_again():
    ledger = LiveLedger()
    assert [r["live"] for r in ledger.provisional([_row(1000)])] == ["provisional"]
    assert ledger.provisional([_row(1000)]) == []
    assert ledger.settle([_row(1000)], settled_until_s=2.0) == []
    assert ledger.settle([_row(1000)], settled_until_s=3.0) == []


def test_a_provisional_event_of_another_kind_once_settled_is_revised():
    ledger = LiveLedger()
    ledger.provisional([_row(1000)])
    out = ledger.settle([_row(1000, kind="myoclonus")], settled_until_s=2.0)
    assert [(r["live"], r["kind"]) for r in out] == [("revised", "myoclonus")]
    doublet = ledger.provisional([_row(1500)]) and ledger.settle(
        [_row(1500, detail="doublet")], settled_until_s=2.0)
    assert [(r["live"], r["detail"]) for r in doublet] == [("revised", "doublet")]


def test_a_provisional_event_gone_once_settled_is_withdrawn_once():
    ledger = LiveLedger()
    ledger.provisional([_row(1000), _row(1200)])
    out = ledger.settle([_row(1200)], settled_until_s=1.1)  # 1000 ended at 1.01 s, 1200 not yet
    assert [(r["live"], r["sample"]) for r in out] == [("withdrawn", 1000)]
    ledger = LiveLedger()
    ledger.provisional([_row(1000)])
    assert ledger.settle([], settled_until_s=1.0) == []  # not settled yet: ends at 1.01 s
    out = ledger.settle([], settled_until_s=1.02)
    assert [(r["live"], r["sample"]) for r in out] == [("withdrawn", 1000)]
    assert ledger.settle([], settled_until_s=5.0) == []


def test_settled_events_are_given_once_and_forgotten_out_of_the_window():
    ledger = LiveLedger()
    out = ledger.settle([_row(1000, kind="voluntary"), _row(1000, channel="other")], 2.0)
    assert [(r["live"], r["channel"]) for r in out] == [("settled", "calf"), ("settled", "other")]
    assert ledger.settle([_row(1000, kind="voluntary")], 3.0) == []
    ledger.forget_before(1001)
    assert [r["live"] for r in ledger.settle([_row(1000, kind="voluntary")], 3.0)] == ["settled"]


def test_an_early_movement_that_went_on_is_revised_with_its_length():
    ledger = LiveLedger()
    ledger.provisional([_row(1000, kind="voluntary", duration_s=0.6)])
    assert ledger.settle([_row(1000, kind="voluntary", duration_s=0.62)], 5.0) == []
    ledger = LiveLedger()
    ledger.provisional([_row(1000, kind="voluntary", duration_s=0.6)])
    out = ledger.settle([_row(1000, kind="voluntary", duration_s=1.4)], 5.0)
    assert [(r["live"], r["duration_s"]) for r in out] == [("revised", 1.4)]


def test_a_movement_whose_edge_moved_by_a_frame_is_the_same_movement():
    ledger = LiveLedger(span_kinds=("voluntary",))
    first = ledger.settle([_row(54850, kind="voluntary", duration_s=1.2)], 60.0)
    assert [r["live"] for r in first] == ["settled"]
    assert ledger.settle([_row(54900, kind="voluntary", duration_s=1.15)], 62.0) == []
    # fasciculations are matched by onset only: two potentials 30 ms apart are two events
    ledger = LiveLedger(span_kinds=("voluntary",))
    out = ledger.provisional([_row(1000, duration_s=0.02), _row(1030, duration_s=0.02)])
    assert len(out) == 2
