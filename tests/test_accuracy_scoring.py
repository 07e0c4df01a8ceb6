"""The accuracy benchmark's scoring helpers (tests/accuracy_scoring.py) on hand-made events."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from accuracy_scoring import TRUTH_DTYPE, unreal_events

from classifier.events import make_events


def _events(rows: list[tuple[str, int, float, float]]) -> np.ndarray:
    ev = make_events(len(rows))
    for i, (kind, channel, onset_s, duration_s) in enumerate(rows):
        ev[i]["kind"], ev[i]["channel"] = kind, channel
        ev[i]["onset_s"], ev[i]["duration_s"] = onset_s, duration_s
    return ev


def test_unreal_events_are_movements_and_jerks_where_the_scene_has_none():
    truth = np.array([(10.0, 2.0, "voluntary", 0, 0.0, ""),
                      (20.0, 0.02, "fasciculation", 0, 80.0, ""),
                      (40.0, 0.1, "myoclonus", 1, 0.0, "")], dtype=TRUTH_DTYPE)
    cn = SimpleNamespace(events=_events([
        ("voluntary", 0, 10.2, 1.5),  # the scene's movement
        ("myoclonus", 0, 12.4, 0.1),  # within half a second of its end: part of it
        ("myoclonus", 0, 20.0, 0.05),  # a twitch taken for a jerk: no movement there
        ("voluntary", 1, 10.5, 1.0),  # the movement was on the other channel
        ("plm", 1, 40.05, 0.6),  # the jerk, called another kind: not unreal
        ("fasciculation", 0, 30.0, 0.02),  # a twitch is no movement
        ("artifact", 0, 50.0, 1.0),  # nor an artifact
    ]))
    assert unreal_events(truth, cn) == 2
    assert unreal_events(truth, cn, margin_s=0.0) == 3  # 12.4 is 0.4 s after the end
