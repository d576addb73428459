"""The history database: opened carefully, upgraded in place, written one fact at a time.

Opening never writes until the file has proved to be a sound footcare database:
a damaged file or one from a newer version is left byte for byte as it was. The
database runs in WAL mode and every write is its own transaction, so a process
killed at any moment leaves every earlier fact intact; a session that was never
ended is marked `interrupted` the next time the database is opened.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

from .records import ReportRecord, SessionRecord, StepRecord
from .schema import MIGRATIONS, VERSION

SQLITE_HEADER = b"SQLite format 3\x00"
BOOT_ID_PATH = Path("/proc/sys/kernel/random/boot_id")


class StoreError(Exception):
    """The database cannot be used; the message says why, in words for the user."""


def utc(moment: datetime) -> datetime:
    """An aware UTC datetime (naive ones are taken as UTC)."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _iso(moment: datetime) -> str:
    return utc(moment).isoformat(timespec="milliseconds")


def _parse(text: str | None) -> datetime | None:
    return utc(datetime.fromisoformat(text)) if text else None


def boot_id() -> str | None:
    """This boot's id: a pid from an earlier boot says nothing about a live process."""
    try:
        return BOOT_ID_PATH.read_text().strip() or None
    except OSError:
        return None


def _process_alive(pid: int | None, boot: str | None) -> bool:
    if pid is None or boot != boot_id():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _check_file(path: Path) -> None:
    """Refuse, without opening it in SQLite, anything that is not a database file."""
    if not path.exists():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the folder {path.parent}: {exc.strerror or exc}") from exc
        try:  # health notes: readable by this user only (SQLite gives its -wal and -shm the same)
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            pass
        except OSError as exc:
            raise StoreError(f"cannot create {path}: {exc.strerror or exc}") from exc
        return
    if not path.is_file():
        raise StoreError(f"{path} is not a file")
    try:
        with open(path, "rb") as f:
            head = f.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if head and head != SQLITE_HEADER:
        raise StoreError(f"{path} is not a footcare history database, or it is damaged")


class Store:
    """An open, current-version history database."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path

    @classmethod
    def open(cls, path: Path | str) -> "Store":
        """Open (creating or upgrading) the database; raises StoreError, never writes to a bad file."""
        path = Path(path).expanduser()
        _check_file(path)
        try:
            conn = sqlite3.connect(str(path), timeout=5.0, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open {path}: {exc}") from exc
        try:
            cls._prepare(conn, path)
        except sqlite3.Error as exc:
            conn.close()
            raise StoreError(f"cannot use {path}: {exc}") from exc
        except StoreError:
            conn.close()
            raise
        return cls(conn, path)

    @staticmethod
    def _prepare(conn: sqlite3.Connection, path: Path) -> None:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > VERSION:
            raise StoreError(f"{path} was written by a newer version of footcare (schema {version})")
        problems = [row[0] for row in conn.execute("PRAGMA quick_check")]
        if problems != ["ok"]:
            raise StoreError(f"{path} is damaged ({problems[0]})")
        if conn.execute("PRAGMA journal_mode=WAL").fetchone()[0].lower() != "wal":
            raise StoreError(f"cannot switch {path} to write-ahead logging")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        migrate(conn)

    def close(self) -> None:
        self.conn.close()

    # --- writing: one statement, one transaction -----------------------------------------

    def start_session(
        self, started_at: datetime, mode: str, duration_scale: float, gentle: bool,
        rate_wpm: int | None, volume: float | None,
    ) -> int:
        cur = self.conn.execute(
            "INSERT INTO sessions (started_at, status, mode, pid, boot_id, duration_scale, gentle,"
            " rate_wpm, volume) VALUES (?, 'running', ?, ?, ?, ?, ?, ?, ?)",
            (_iso(started_at), mode, os.getpid(), boot_id(), duration_scale, int(gentle),
             rate_wpm, volume),
        )
        return int(cur.lastrowid or 0)

    def add_rule(self, session: int, t: float, rule: str) -> None:
        self.conn.execute("INSERT INTO rules VALUES (?, ?, ?)", (session, t, rule))

    def add_answer(self, session: int, t: float, topic: str, answer: str | None) -> None:
        self.conn.execute("INSERT INTO answers VALUES (?, ?, ?, ?)", (session, t, topic, answer))

    def add_report(self, session: int, t: float, kind: str, foot: str | None, step: str | None) -> None:
        self.conn.execute("INSERT INTO reports VALUES (?, ?, ?, ?, ?)", (session, t, kind, foot, step))

    def start_step(self, session: int, t: float, foot: str, step: str, planned_s: float) -> int:
        cur = self.conn.execute(
            "INSERT INTO steps (session_id, foot, step, planned_s, started_t) VALUES (?, ?, ?, ?, ?)",
            (session, foot, step, planned_s, t),
        )
        return int(cur.lastrowid or 0)

    def finish_step(self, step_id: int, t: float, active_s: float) -> None:
        self.conn.execute("UPDATE steps SET ended_t = ?, active_s = ? WHERE id = ?", (t, active_s, step_id))

    def set_voice(self, session: int, rate_wpm: int, volume: float) -> None:
        self.conn.execute("UPDATE sessions SET rate_wpm = ?, volume = ? WHERE id = ?",
                          (rate_wpm, volume, session))

    def end_session(self, session: int, ended_at: datetime, reason: str, feeling: str | None) -> None:
        self.conn.execute(
            "UPDATE sessions SET status = 'ended', ended_at = ?, end_reason = ?, feeling = ? WHERE id = ?",
            (_iso(ended_at), reason, feeling, session),
        )

    def mark_interrupted(self, session: int) -> None:
        """The session will never end: close it at its last recorded moment."""
        row = self.conn.execute(
            "SELECT started_at, max(coalesce((SELECT max(t) FROM rules WHERE session_id = :s), 0),"
            " coalesce((SELECT max(t) FROM answers WHERE session_id = :s), 0),"
            " coalesce((SELECT max(coalesce(ended_t, started_t)) FROM steps WHERE session_id = :s), 0),"
            " coalesce((SELECT max(t) FROM reports WHERE session_id = :s), 0))"
            " FROM sessions WHERE id = :s", {"s": session},
        ).fetchone()
        started = _parse(row[0]) if row else None
        if started is None:
            return
        ended = started + timedelta(seconds=row[1])
        self.conn.execute(
            "UPDATE sessions SET status = 'interrupted', ended_at = ? WHERE id = ? AND status = 'running'",
            (_iso(ended), session),
        )

    def recover(self) -> list[int]:
        """Mark sessions whose process is gone as interrupted; returns their ids."""
        rows = self.conn.execute("SELECT id, pid, boot_id FROM sessions WHERE status = 'running'").fetchall()
        dead = [sid for sid, pid, boot in rows if not _process_alive(pid, boot)]
        for sid in dead:
            self.mark_interrupted(sid)
        return dead

    # --- reading -------------------------------------------------------------------------

    def sessions(self, since: datetime | None = None, limit: int | None = None) -> list[SessionRecord]:
        """Sessions, oldest first: all of them, those started since `since`, or the last `limit`."""
        query = "SELECT * FROM sessions"
        params: list[object] = []
        if since is not None:
            query += " WHERE started_at >= ?"
            params.append(_iso(since))
        query += " ORDER BY started_at DESC, id DESC"
        if limit is not None:
            query += " LIMIT ?"
            params.append(limit)
        cur = self.conn.execute(query, params)
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, row)) for row in cur.fetchall()]
        return [self._record(row) for row in reversed(rows)]

    def _children(self, table: str, columns: str, session: int) -> list[tuple]:
        return self.conn.execute(
            f"SELECT {columns} FROM {table} WHERE session_id = ? ORDER BY rowid", (session,)
        ).fetchall()

    def _record(self, row: dict) -> SessionRecord:
        sid = row["id"]
        return SessionRecord(
            id=sid,
            started_at=_parse(row["started_at"]),  # type: ignore[arg-type]
            ended_at=_parse(row["ended_at"]),
            status=row["status"],
            mode=row["mode"],
            end_reason=row["end_reason"],
            feeling=row["feeling"],
            duration_scale=row["duration_scale"],
            gentle=bool(row["gentle"]),
            rate_wpm=row["rate_wpm"],
            volume=row["volume"],
            answers={topic: answer for topic, answer in self._children("answers", "topic, answer", sid)},
            rules=tuple(self._children("rules", "t, rule", sid)),
            steps=tuple(StepRecord(*r) for r in self._children(
                "steps", "foot, step, planned_s, started_t, ended_t, active_s", sid)),
            reports=tuple(ReportRecord(*r) for r in self._children("reports", "t, kind, foot, step", sid)),
        )


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema up to VERSION, one version per transaction; returns the old version."""
    old = conn.execute("PRAGMA user_version").fetchone()[0]
    for version in range(old + 1, VERSION + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            if conn.execute("PRAGMA user_version").fetchone()[0] >= version:
                conn.execute("COMMIT")  # another process upgraded it meanwhile
                continue
            for statement in MIGRATIONS[version - 1]:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return old
