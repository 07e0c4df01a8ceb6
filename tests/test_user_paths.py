"""What a wearer reads: the morning summary's wording on multi-channel and very short nights."""

from __future__ import annotations

from calfwatch.summary_text import wearer_summary


def _summary(channels: dict[str, tuple[int, float]]) -> dict:
    total = sum(n for n, _ in channels.values())
    rest = sum(m for _, m in channels.values())
    return {
        "fasciculations": total,
        "rest_minutes": rest,
        "fasciculations_per_min_rest": total / rest if rest else None,
        "channels": {name: {"fasciculations": n, "rest_minutes": m,
                            "fasciculations_per_min_rest": n / m if m else None}
                     for name, (n, m) in channels.items()},
        "assessment": {"level": "benign"},
    }


def test_two_channels_say_rest_is_added_up():
    text = wearer_summary(_summary({"calf_1": (11, 10.0), "calf_2": (21, 10.0)}))
    first = text.splitlines()[0]
    assert "32 in 20.0 minutes of rest" in first and "added up over the 2 channels" in first
    assert "calf_1: 11 twitches in 10.0 minutes of rest" in text


def test_one_channel_has_no_pooling_note():
    text = wearer_summary(_summary({"calf": (6, 3.0)}))
    assert "6 in 3.0 minutes of rest = 2.00 per minute of rest." in text
    assert "added up" not in text


def test_rest_under_a_minute_is_in_seconds_not_zero_minutes():
    text = wearer_summary(_summary({"calf_1": (1, 0.0025), "calf_2": (2, 0.5)}))
    assert "0.0 minutes" not in text
    assert "3 in 30 seconds of rest" in text  # 0.5025 min
    assert "calf_1: 1 twitch in 0.1 seconds of rest" in text  # 0.15 s, singular


def test_red_flags_and_not_a_diagnosis_are_always_there():
    text = wearer_summary(_summary({"calf": (0, 0.0)}))
    for words in ("2 weeks or more", "slurred speech", "difficulty swallowing", "seizures",
                  "loss of consciousness", "weakness", "muscle wasting", "does not diagnose"):
        assert words in text


def test_record_final_line_says_why_it_stopped(tmp_path, capsys):
    from calfwatch.cli import main
    from calfwatch.simulator import load_profile, simulate_night
    from firmware_io.emulator import EmulatedDevice

    params = load_profile("quiet", sfreq_hz=2000.0, n_channels=2, duration_s=30.0)
    chunks = simulate_night(params, seed=3).chunks(chunk_s=1.0)
    device = EmulatedDevice("calfwatch", (c.data_uv for c in chunks), 2000.0,
                            str(tmp_path / "ttyEMU"), speed=10.0)
    device.start()
    try:
        rc = main(["record", "--device", "calfwatch", "--port", device.port_path,
                   "--out", str(tmp_path / "rec"), "--duration", "3", "--no-detect",
                   "--clock-speed", "10"])
    finally:
        device.stop()
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("recorded "))
    assert rc == 0 and "stopped at --duration" in line and ", duration)" not in line
