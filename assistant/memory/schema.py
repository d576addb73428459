"""The history database's schema, as numbered migrations.

A database's version is SQLite's `user_version`. Migrations are append-only: a
released one is never edited, because databases on people's devices were made
with it. Version 1 is the first schema that shipped; each later entry upgrades
from the one before, inside the same transaction as the new version number, so an
upgrade either happens whole or not at all.
"""

from __future__ import annotations

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: sessions with what was asked, what acted, the steps and the reports.
    (
        """CREATE TABLE sessions (
            id INTEGER PRIMARY KEY,
            started_at TEXT NOT NULL,      -- ISO 8601, UTC
            ended_at TEXT,                 -- NULL while running (or if it never ended)
            end_reason TEXT,               -- completed, stopped, pain, red_flag, no_answer
            feeling TEXT                   -- better, same, worse, or NULL
        )""",
        """CREATE TABLE answers (
            session_id INTEGER NOT NULL REFERENCES sessions(id),
            t REAL NOT NULL,               -- seconds since the session started
            topic TEXT NOT NULL,
            answer TEXT                    -- NULL: no usable answer
        )""",
        """CREATE TABLE rules (
            session_id INTEGER NOT NULL REFERENCES sessions(id),
            t REAL NOT NULL,
            rule TEXT NOT NULL
        )""",
        """CREATE TABLE steps (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions(id),
            foot TEXT NOT NULL,
            step TEXT NOT NULL,
            planned_s REAL NOT NULL,
            started_t REAL NOT NULL,
            ended_t REAL,                  -- NULL: the step never finished
            active_s REAL                  -- technique seconds, pauses excluded
        )""",
        """CREATE TABLE reports (
            session_id INTEGER NOT NULL REFERENCES sessions(id),
            t REAL NOT NULL,
            kind TEXT NOT NULL,            -- pain or tingling
            foot TEXT,
            step TEXT
        )""",
        "CREATE INDEX answers_session ON answers(session_id)",
        "CREATE INDEX rules_session ON rules(session_id)",
        "CREATE INDEX steps_session ON steps(session_id)",
        "CREATE INDEX reports_session ON reports(session_id)",
    ),
    # 2: a status that survives a killed process, who ran it, and how it was adapted.
    (
        "ALTER TABLE sessions ADD COLUMN status TEXT NOT NULL DEFAULT 'running'",
        "ALTER TABLE sessions ADD COLUMN mode TEXT NOT NULL DEFAULT 'run'",
        "ALTER TABLE sessions ADD COLUMN pid INTEGER",
        "ALTER TABLE sessions ADD COLUMN boot_id TEXT",
        "ALTER TABLE sessions ADD COLUMN duration_scale REAL NOT NULL DEFAULT 1.0",
        "ALTER TABLE sessions ADD COLUMN gentle INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE sessions ADD COLUMN rate_wpm INTEGER",
        "ALTER TABLE sessions ADD COLUMN volume REAL",
        # Version 1 had no status: a session that never got an end was cut off.
        "UPDATE sessions SET status = CASE WHEN end_reason IS NULL THEN 'interrupted' ELSE 'ended' END",
        "CREATE INDEX sessions_status ON sessions(status)",
    ),
)

VERSION = len(MIGRATIONS)
"""The schema version this code writes."""
