"""The database itself: where it lives, WAL, upgrading from version 1, and recovery."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import datetime, timezone

from assistant.memory import default_db_path, open_memory
from assistant.memory.schema import VERSION
from assistant.memory.store import Store

# Version 1 exactly as it first shipped (assistant/memory/schema.py, MIGRATIONS[0]); kept
# here verbatim so that editing the migration cannot make this test pass by itself.
V1 = """
CREATE TABLE sessions (id INTEGER PRIMARY KEY, started_at TEXT NOT NULL, ended_at TEXT,
                       end_reason TEXT, feeling TEXT);
CREATE TABLE answers (session_id INTEGER NOT NULL REFERENCES sessions(id), t REAL NOT NULL,
                      topic TEXT NOT NULL, answer TEXT);
CREATE TABLE rules (session_id INTEGER NOT NULL REFERENCES sessions(id), t REAL NOT NULL,
                    rule TEXT NOT NULL);
CREATE TABLE steps (id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL REFERENCES sessions(id),
                    foot TEXT NOT NULL, step TEXT NOT NULL, planned_s REAL NOT NULL,
                    started_t REAL NOT NULL, ended_t REAL, active_s REAL);
CREATE TABLE reports (session_id INTEGER NOT NULL REFERENCES sessions(id), t REAL NOT NULL,
                      kind TEXT NOT NULL, foot TEXT, step TEXT);
CREATE INDEX answers_session ON answers(session_id);
CREATE INDEX rules_session ON rules(session_id);
CREATE INDEX steps_session ON steps(session_id);
CREATE INDEX reports_session ON reports(session_id);
PRAGMA user_version = 1;
INSERT INTO sessions VALUES (1, '2026-01-05T21:00:00.000+00:00', '2026-01-05T21:26:00.000+00:00',
                             'completed', 'worse');
INSERT INTO answers VALUES (1, 20.0, 'skin.broken', 'no');
INSERT INTO rules VALUES (1, 70.0, 'duration.per_foot');
INSERT INTO steps VALUES (1, 1, 'right', 'lotion', 45.0, 70.0, 115.0, 45.0);
INSERT INTO reports VALUES (1, 150.0, 'pain', 'right', 'effleurage');
INSERT INTO sessions VALUES (2, '2026-01-06T21:00:00.000+00:00', NULL, NULL, NULL);
INSERT INTO steps VALUES (2, 2, 'right', 'lotion', 45.0, 60.0, NULL, NULL);
"""


def test_a_new_database_is_created_in_wal_mode_at_the_current_version(db):
    memory = open_memory(db)
    assert memory.enabled and db.is_file()
    memory.close()
    assert db.stat().st_mode & 0o077 == 0  # health notes: this user only
    raw = sqlite3.connect(db)
    assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert raw.execute("PRAGMA user_version").fetchone() == (VERSION,)
    assert VERSION >= 2


def test_a_version_1_database_is_upgraded_and_keeps_its_data(db, protocol):
    db.parent.mkdir()
    raw = sqlite3.connect(db)
    raw.executescript(V1)
    raw.close()

    memory = open_memory(db)
    first, second = memory.store.sessions()
    adaptation = memory.adaptation(protocol, datetime(2026, 1, 7, 9, tzinfo=timezone.utc))
    memory.close()

    assert (first.status, first.end_reason, first.feeling) == ("ended", "completed", "worse")
    assert first.answers == {"skin.broken": "no"} and first.rules == ((70.0, "duration.per_foot"),)
    assert [(r.kind, r.foot, r.step) for r in first.reports] == [("pain", "right", "effleurage")]
    assert first.steps[0].active_s == 45.0 and first.mode == "run" and first.duration_scale == 1.0
    # Version 1 had no status: a session with no end was cut off.
    assert second.status == "interrupted" and second.steps[0].ended_t is None
    assert [n.line for n in adaptation.opening] == [
        "memory.interrupted", "memory.since.yesterday", "memory.gentler.both"]
    raw = sqlite3.connect(db)
    assert raw.execute("PRAGMA user_version").fetchone() == (VERSION,)
    assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_the_default_place_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("FOOTCARE_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_db_path() == tmp_path / "xdg" / "footcare" / "history.db"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_db_path() == tmp_path / "home" / ".local" / "share" / "footcare" / "history.db"
    monkeypatch.setenv("FOOTCARE_DB", str(tmp_path / "x.db"))
    assert default_db_path() == tmp_path / "x.db"


def _running_session(db, pid: int | None) -> int:
    store = Store.open(db)
    sid = store.start_session(datetime.now(timezone.utc), "run", 1.0, False, None, None)
    store.conn.execute("UPDATE sessions SET pid = ? WHERE id = ?", (pid, sid))
    store.close()
    return sid


def test_recovery_leaves_a_live_session_alone_and_closes_a_dead_one(db):
    live = _running_session(db, os.getpid())
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead = _running_session(db, int(gone.stdout))
    store = Store.open(db)
    assert store.recover() == [dead]
    statuses = {s.id: s.status for s in store.sessions()}
    store.close()
    assert statuses == {live: "running", dead: "interrupted"}


def test_a_session_from_an_earlier_boot_is_dead_even_if_its_pid_is_taken_now(db):
    sid = _running_session(db, os.getpid())
    store = Store.open(db)
    store.conn.execute("UPDATE sessions SET boot_id = 'an-earlier-boot' WHERE id = ?", (sid,))
    assert store.recover() == [sid]
    store.close()
