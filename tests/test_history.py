"""The SQLite history store on a real file: permissions, idempotence, night dates, symptoms, schema."""

from __future__ import annotations

import os
import sqlite3
import stat
from datetime import date

import pytest
from history_helpers import evening, make_summary

from calfwatch import history as history_mod
from calfwatch.history import SCHEMA_VERSION, HistoryError, HistoryStore, default_path
from classifier.assessment import assess


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def open_umask():
    """A umask that would leave files world-readable, to show the store sets its modes itself."""
    old = os.umask(0)
    yield
    os.umask(old)


def test_new_file_is_0600_in_a_new_0700_directory(tmp_path, open_umask):
    path = tmp_path / "a" / "b" / "history.sqlite"
    with HistoryStore(path) as store:
        store.add_night("p1", "left", make_summary(evening(0), 2.0))
        store.add_symptom("p1", "weakness")
    assert _mode(path) == 0o600
    assert _mode(tmp_path / "a") == 0o700 and _mode(tmp_path / "a" / "b") == 0o700
    for leftover in path.parent.iterdir():  # no journal or side file readable by others
        assert _mode(leftover) & 0o077 == 0, leftover


def test_file_is_0600_before_sqlite_writes_anything(tmp_path, open_umask, monkeypatch):
    seen = {}
    real_connect = sqlite3.connect

    def connect(path, *args, **kwargs):
        seen["mode"], seen["size"] = _mode(path), os.path.getsize(path)
        return real_connect(path, *args, **kwargs)

    monkeypatch.setattr(history_mod.sqlite3, "connect", connect)
    HistoryStore(tmp_path / "h.sqlite").close()
    assert seen == {"mode": 0o600, "size": 0}


def test_existing_file_with_wide_permissions_is_tightened(tmp_path):
    path = tmp_path / "h.sqlite"
    HistoryStore(path).close()
    os.chmod(path, 0o644)
    HistoryStore(path).close()
    assert _mode(path) == 0o600


def test_default_path_follows_calfwatch_home(tmp_path, monkeypatch):
    monkeypatch.setenv("CALFWATCH_HOME", str(tmp_path / "home"))
    assert default_path() == tmp_path / "home" / "history.sqlite"
    with HistoryStore() as store:
        assert store.path == tmp_path / "home" / "history.sqlite"
    monkeypatch.delenv("CALFWATCH_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    assert default_path() == tmp_path / "user" / ".local" / "share" / "calfwatch" / "history.sqlite"


def test_re_adding_the_same_recording_replaces_it(tmp_path):
    start = evening(2)
    with HistoryStore(tmp_path / "h.sqlite") as store:
        first = store.add_night("p1", "left", make_summary(start, 2.0))
        again = store.add_night("p1", "left", make_summary(start, 4.0))
        other_side = store.add_night("p1", "right", make_summary(start, 4.0))
        nights = store.nights("p1")
    assert first == again != other_side
    assert len(nights) == 2
    left = next(n for n in nights if n.side == "left")
    assert left.rate_per_min_rest == 4.0 and left.fasciculations == 1440


def test_nights_keep_key_numbers_and_the_whole_summary(tmp_path):
    summary = make_summary(evening(0, hour=1, minute=30), 2.5, rest_minutes=300.0,
                           median_ptp_uv=91.0, polyphasic_fraction=0.15, plm_index_per_h=7.5)
    with HistoryStore(tmp_path / "h.sqlite") as store:
        store.add_night("p1", "right", summary)
        (night,) = store.nights("p1")
    assert night.summary == summary
    assert night.night_date == date(2026, 3, 1)  # started 01:30 on 2 March: the night of 1 March
    assert (night.rest_minutes, night.fasciculations, night.rate_per_min_rest) == (300.0, 750, 2.5)
    assert (night.median_ptp_uv, night.polyphasic_fraction, night.plm_index_per_h) == \
        (91.0, 0.15, 7.5)
    point = night.to_point()
    assert (point.night_date, point.side, point.rate_per_min_rest) == (date(2026, 3, 1), "right",
                                                                      2.5)


def test_nights_are_per_subject_and_side_oldest_first(tmp_path):
    with HistoryStore(tmp_path / "h.sqlite") as store:
        for day in (3, 1, 2):
            store.add_night("p1", "left", make_summary(evening(day), float(day)))
        store.add_night("p1", "right", make_summary(evening(0), 9.0))
        store.add_night("p2", "left", make_summary(evening(0), 5.0))
        store.add_symptom("p3", "seizures")
        assert [n.rate_per_min_rest for n in store.nights("p1", side="left")] == [1.0, 2.0, 3.0]
        assert [n.side for n in store.nights("p1")] == ["right", "left", "left", "left"]
        assert store.nights("nobody") == []
        assert store.subjects() == ["p1", "p2", "p3"]


@pytest.mark.parametrize("subject, side", [("", "left"), ("p1", "middle"), ("a\nb", "left")])
def test_bad_subject_or_side_is_an_error(tmp_path, subject, side):
    with HistoryStore(tmp_path / "h.sqlite") as store, pytest.raises(ValueError):
        store.add_night(subject, side, make_summary(evening(0), 1.0))


def test_symptoms_add_once_clear_and_come_back(tmp_path):
    with HistoryStore(tmp_path / "h.sqlite") as store:
        store.add_symptom("p1", "Weakness", when_utc="2026-03-01T08:00:00+00:00")
        store.add_symptom("p1", "weakness", when_utc="2026-03-02T08:00:00+00:00")
        store.add_symptom("p1", "slurred speech", when_utc="2026-03-03T08:00:00+00:00")
        listed = store.symptoms("p1")
        assert [(s.symptom, s.first_reported_utc) for s in listed] == [
            ("weakness", "2026-03-01T08:00:00+00:00"),
            ("slurred-speech", "2026-03-03T08:00:00+00:00")]
        assert store.clear_symptoms("p1", "weakness") == 1
        assert [s.symptom for s in store.symptoms("p1")] == ["slurred-speech"]
        assert store.clear_symptoms("p1") == 1
        assert store.symptoms("p1") == []
        store.add_symptom("p1", "weakness")
        assert [s.symptom for s in store.symptoms("p1")] == ["weakness"]
        with pytest.raises(ValueError, match="valid: slurred-speech"):
            store.add_symptom("p1", "headache")


def test_data_survives_reopening(tmp_path):
    path = tmp_path / "h.sqlite"
    with HistoryStore(path) as store:
        store.add_night("p1", "left", make_summary(evening(0), 2.0))
        store.add_symptom("p1", "seizures")
    with HistoryStore(path) as store:
        assert len(store.nights("p1")) == 1 and store.symptoms("p1")[0].symptom == "seizures"
        assert store.schema_version == SCHEMA_VERSION
        result = assess(store.nights("p1"), store.symptoms("p1"))
    assert result.level == "see-doctor" and [r.observed for r in result.reasons] == ["seizures"]


def test_not_a_database_is_a_one_line_error_naming_the_file(tmp_path):
    path = tmp_path / "h.sqlite"
    path.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(HistoryError, match=str(path)) as info:
        HistoryStore(path)
    assert "\n" not in str(info.value)


def test_foreign_sqlite_file_is_refused(tmp_path):
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (x)")
    with pytest.raises(HistoryError, match="not a calfwatch history"):
        HistoryStore(path)


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "h.sqlite"
    HistoryStore(path).close()
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(HistoryError, match="newer"):
        HistoryStore(path)


def test_a_directory_in_place_of_the_file_is_an_error(tmp_path):
    (tmp_path / "h.sqlite").mkdir()
    with pytest.raises(HistoryError, match="h.sqlite"):
        HistoryStore(tmp_path / "h.sqlite")


def test_stored_night_date_follows_the_configured_cutoff(tmp_path, monkeypatch):
    morning = evening(0, hour=8)  # 08:00 the morning after DAY0
    with HistoryStore(tmp_path / "h.sqlite") as store:
        store.add_night("p1", "left", make_summary(morning, 1.0))
    user = tmp_path / "early.toml"
    user.write_text("[persistence.night_date_cutoff_hour]\nvalue = 6\n")
    monkeypatch.setenv("CALFWATCH_CONFIG", str(user))
    with HistoryStore(tmp_path / "h6.sqlite") as store:
        store.add_night("p1", "left", make_summary(morning, 1.0))
    with HistoryStore(tmp_path / "h.sqlite") as noon, HistoryStore(tmp_path / "h6.sqlite") as six:
        (by_noon,), (by_six,) = noon.nights("p1"), six.nights("p1")
    assert by_noon.night_date.toordinal() == morning.date().toordinal() - 1  # before noon
    assert by_six.night_date == morning.date()  # after a 06:00 cutoff: a night of its own date
