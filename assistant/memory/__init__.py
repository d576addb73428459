"""Session memory: an adapter at the edge of the sans-IO core.

The front ends (`footcare run`, `footcare simulate`) use only this:

    memory = open_memory(args.db)                 # never raises
    adaptation = memory.adaptation(protocol)      # before building the Session
    observer = memory.begin("run", adaptation)    # observer(t, event_or_action)
    ...                                           # feed it every event and action
    memory.close()                                # marks an unfinished session interrupted

Wall-clock time enters only here (`clock`, injectable for tests); a memory that
cannot be used says so once on stderr and then records nothing.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, TextIO

from ..dialogue import Adaptation
from ..protocol import Protocol
from .policy import Policy, adapt, load_policy
from .recorder import Recorder
from .store import Store, StoreError

DB_ENV = "FOOTCARE_DB"
HISTORY_LENGTH = 50
"""Sessions read for adapting: far more than any lookback needs."""

Observer = Callable[[float, Any], None]
Clock = Callable[[], datetime]


def default_db_path() -> Path:
    """$FOOTCARE_DB, else $XDG_DATA_HOME/footcare/history.db, else ~/.local/share/footcare/history.db."""
    if os.environ.get(DB_ENV):
        return Path(os.environ[DB_ENV]).expanduser()
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "footcare" / "history.db"


def add_db_argument(parser: argparse.ArgumentParser, help: str | None = None) -> None:
    """Add `--db PATH` to a subcommand."""
    parser.add_argument(
        "--db", metavar="PATH",
        help=help or f"the session history database (default: ${DB_ENV} or {default_db_path()})",
    )


def local_now() -> datetime:
    return datetime.now(timezone.utc).astimezone()


def _nothing(t: float, item: Any) -> None:
    """The observer of a memory that records nothing."""


class Memory:
    """Past sessions in, an adaptation out; this session recorded as it happens."""

    def __init__(self, store: Store | None, clock: Clock = local_now, policy: Policy | None = None,
                 warn: TextIO | None = None) -> None:
        self.store = store
        self.clock = clock
        self._policy = policy
        self._warn = warn
        self._adaptation = Adaptation()
        self._recorder: Recorder | None = None

    @property
    def enabled(self) -> bool:
        return self.store is not None

    def adaptation(self, protocol: Protocol, now: datetime | None = None) -> Adaptation:
        """How this session should go, given the past ones (no memory: the plain session)."""
        if self.store is None:
            return Adaptation()
        now = now or self.clock()
        if now.tzinfo is None:
            now = now.astimezone()  # a naive time is the device's local time
        if self._policy is None:
            self._policy = load_policy(protocol.source)
        try:
            history = self.store.sessions(limit=HISTORY_LENGTH)
        except sqlite3.Error as exc:
            self._give_up(exc)
            return Adaptation()
        self._adaptation = adapt(history, now, protocol, self._policy)
        return self._adaptation

    def begin(self, mode: str, adaptation: Adaptation | None = None) -> Observer:
        """Record a new session; returns the observer to feed every event and action."""
        self._finish_recording()
        if self.store is None:
            return _nothing
        adaptation = adaptation or self._adaptation
        started = self.clock()
        try:
            session_id = self.store.start_session(
                started, mode, adaptation.duration_scale, adaptation.gentle,
                adaptation.rate_wpm, adaptation.volume,
            )
        except sqlite3.Error as exc:
            self._give_up(exc)
            return _nothing
        self._recorder = Recorder(self.store, session_id, started, warn=self._warn)
        return self._recorder

    def _give_up(self, exc: Exception) -> None:
        """A database error mid-way: say so once, and carry on without memory."""
        print(f"footcare: the session memory stopped working ({exc}); "
              "the session goes on without it.", file=self._warn or sys.stderr)
        self.close()

    def _finish_recording(self) -> None:
        if self._recorder is not None:
            self._recorder.abandon()
            self._recorder = None

    def close(self) -> None:
        """Mark an unfinished session interrupted and let go of the database."""
        self._finish_recording()
        if self.store is not None:
            self.store.close()
            self.store = None

    def __enter__(self) -> "Memory":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def no_memory() -> Memory:
    """A memory that remembers nothing (the user asked for none)."""
    return Memory(None)


def open_store(path: str | Path | None) -> Store:
    """The history database, upgraded and with dead sessions marked interrupted; raises StoreError."""
    store = Store.open(path or default_db_path())
    try:
        store.recover()
    except sqlite3.Error as exc:
        store.close()
        raise StoreError(f"cannot update {store.path}: {exc}") from exc
    return store


def open_memory(path: str | Path | None, clock: Clock = local_now, warn: TextIO | None = None) -> Memory:
    """The session memory at `path` (None: the default place). Never raises.

    A damaged, newer or unwritable database gives one clear message on `warn`
    (stderr) and a memory that records nothing and touches nothing on disk.
    """
    warn = warn or sys.stderr
    try:
        store = open_store(path)
    except StoreError as exc:
        print(f"footcare: cannot use the session memory: {exc}. "
              "This session runs without memory; nothing was changed.", file=warn)
        return Memory(None, clock, warn=warn)
    return Memory(store, clock, warn=warn)


__all__ = [
    "DB_ENV", "Memory", "Store", "StoreError", "add_db_argument", "default_db_path",
    "local_now", "no_memory", "open_memory", "open_store",
]
