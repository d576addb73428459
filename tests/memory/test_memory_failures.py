"""A database that cannot be used: one clear message, the session still runs, nothing is changed."""

from __future__ import annotations

import io
import json
import os
import sqlite3
from pathlib import Path

import pytest

from assistant.cli import main
from assistant.memory import open_memory
from assistant.memory.schema import VERSION
from .memory_helpers import ALL_CLEAR


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def _run_without_memory(path: Path, session) -> str:
    """Open the memory at `path`, run a whole session with it; returns what was printed."""
    warn = io.StringIO()
    memory = open_memory(path, warn=warn)
    assert not memory.enabled
    sim = session(memory, ALL_CLEAR.read_text())
    memory.close()
    assert sim.events[-1] == {"t": sim.events[-1]["t"], "kind": "end", "reason": "completed"}
    return warn.getvalue()


def _sqlite_header_then_garbage() -> bytes:
    return b"SQLite format 3\x00" + os.urandom(8192)


@pytest.mark.parametrize("content", [os.urandom(4096), _sqlite_header_then_garbage()],
                         ids=["random bytes", "sqlite header, then garbage"])
def test_a_corrupt_file_is_reported_and_left_byte_for_byte(tmp_path, session, content):
    path = tmp_path / "history.db"
    path.write_bytes(content)
    message = _run_without_memory(path, session)
    assert message.count("\n") == 1
    assert str(path) in message and "runs without memory" in message
    assert _files(tmp_path) == {"history.db": content}  # no -wal, no -shm, nothing rewritten


def test_an_unwritable_place_is_reported_and_the_session_runs(tmp_path, session):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be")
    message = _run_without_memory(blocker / "footcare" / "history.db", session)
    assert "cannot create the folder" in message and str(blocker) in message
    assert _files(tmp_path) == {"not-a-folder": b"a file where a folder should be"}


def test_a_database_from_a_newer_version_is_left_alone(tmp_path, session):
    path = tmp_path / "history.db"
    raw = sqlite3.connect(path)
    raw.execute("CREATE TABLE sessions (id INTEGER PRIMARY KEY)")
    raw.execute(f"PRAGMA user_version = {VERSION + 1}")
    raw.commit()
    raw.close()
    before = _files(tmp_path)
    message = _run_without_memory(path, session)
    assert "newer version of footcare" in message
    assert _files(tmp_path) == before


def test_a_folder_in_place_of_the_file_is_reported(tmp_path, session):
    (tmp_path / "history.db").mkdir()
    assert "is not a file" in _run_without_memory(tmp_path / "history.db", session)


def test_losing_the_database_mid_session_stops_recording_not_the_session(db, session, capsys):
    memory = open_memory(db)
    observe = memory.begin("simulate")
    memory.store.conn.close()  # as if the disk went away
    from assistant.events import RuleActed

    observe(0.0, RuleActed("frequency"))
    observe(1.0, RuleActed("frequency"))
    err = capsys.readouterr().err
    assert err.count("stopped recording") == 1 and "goes on without it" in err


def test_history_and_report_on_a_corrupt_file_give_a_message_not_a_traceback(tmp_path, capsys):
    path = tmp_path / "history.db"
    path.write_bytes(b"not a database at all" * 100)
    assert main(["history", "--db", str(path)]) == 1
    assert main(["report", "--db", str(path), "--out", str(tmp_path / "r.md")]) == 1
    err = capsys.readouterr().err
    assert err.count("footcare: cannot read the session history:") == 2 and "Traceback" not in err
    assert _files(tmp_path) == {"history.db": b"not a database at all" * 100}


def test_history_with_no_database_says_so_and_creates_nothing(tmp_path, capsys):
    assert main(["history", "--db", str(tmp_path / "none.db")]) == 0
    assert "No sessions recorded yet" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("argv, expected", [
    (["report", "--out", "r.pdf"], "name a .md (Markdown) or .html file"),
    (["report", "--out", "r.md", "--days", "0"], "--days needs a number of days"),
    (["history", "--last", "0"], "--last needs a number of sessions"),
])
def test_bad_options_give_a_clear_message(tmp_path, capsys, argv, expected):
    assert main(argv + ["--db", str(tmp_path / "h.db")]) == 1
    assert expected in capsys.readouterr().err


def test_simulate_with_a_corrupt_db_runs_the_session_and_says_why(tmp_path, capsys):
    path = tmp_path / "history.db"
    content = os.urandom(2048)
    path.write_bytes(content)
    assert main(["simulate", "--script", str(ALL_CLEAR), "--db", str(path), "--json"]) == 0
    captured = capsys.readouterr()
    last = json.loads(captured.out.splitlines()[-1])
    assert (last["kind"], last["reason"]) == ("end", "completed")
    assert "cannot use the session memory" in captured.err and "Traceback" not in captured.err
    assert path.read_bytes() == content
