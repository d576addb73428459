"""`footcare history` and `footcare report`: the session memory, read back for people."""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from pathlib import Path

from . import add_db_argument, default_db_path, local_now, open_store
from .history import json_lines, table
from .report import FORMATS, write_report
from .store import Store, StoreError
from .summary import summarise

DEFAULT_REPORT_DAYS = 28


def _user_error(message: str) -> Exception:
    from ..cli import UserError

    return UserError(message)


def _existing_store(db: str | None) -> Store | None:
    """The history, or None when none has been recorded yet (nothing is created)."""
    path = Path(db).expanduser() if db else default_db_path()
    if not path.exists():
        return None
    try:
        return open_store(path)
    except StoreError as exc:
        raise _user_error(f"cannot read the session history: {exc}") from exc


def run_history(args: argparse.Namespace) -> int:
    if args.last is not None and args.last < 1:
        raise _user_error("--last needs a number of sessions, 1 or more")
    store = _existing_store(args.db)
    if store is None:
        print(f"No sessions recorded yet (no history at {args.db or default_db_path()}).", file=sys.stderr)
        return 0
    try:
        sessions = store.sessions(limit=args.last)
    finally:
        store.close()
    if args.json:
        if sessions:
            print(json_lines(sessions))
    elif sessions:
        print(table(sessions, local_now().tzinfo))
    else:
        print("No sessions recorded yet.")
    return 0


def run_report(args: argparse.Namespace) -> int:
    out = Path(args.out).expanduser()
    if out.suffix.lower() not in FORMATS:
        raise _user_error(f"--out {args.out}: name a .md (Markdown) or .html file")
    if args.days < 1:
        raise _user_error("--days needs a number of days, 1 or more")
    from ..protocol import ProtocolError, load_protocol

    try:
        rules = load_protocol().rules
    except ProtocolError as exc:
        raise _user_error(str(exc)) from exc
    store = _existing_store(args.db)
    if store is None:
        raise _user_error(f"no session history at {args.db or default_db_path()} yet: nothing to report")
    now = local_now()
    start = now - timedelta(days=args.days)
    try:
        summary = summarise(store.sessions(since=start), start, now)
    finally:
        store.close()
    try:
        chart = write_report(summary, rules, out, now)
    except OSError as exc:
        raise _user_error(f"cannot write the report {out}: {exc.strerror or exc}") from exc
    print(f"Report written to {out} (chart: {chart}).")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    h = sub.add_parser("history", help="list past sessions",
                       description="List the sessions remembered in the history database.")
    add_db_argument(h)
    h.add_argument("--json", action="store_true", help="one JSON object per session, one per line")
    h.add_argument("--last", type=int, metavar="N", help="only the latest N sessions")
    h.set_defaults(func=run_history)

    r = sub.add_parser("report", help="a one-page summary for a carer or clinician",
                       description="Write a one-page summary of recent sessions, with a chart (PNG).")
    add_db_argument(r)
    r.add_argument("--out", required=True, metavar="FILE",
                   help="the report to write: FILE.md (Markdown) or FILE.html; the chart goes beside it")
    r.add_argument("--days", type=int, default=DEFAULT_REPORT_DAYS, metavar="N",
                   help=f"cover the last N days (default {DEFAULT_REPORT_DAYS})")
    r.set_defaults(func=run_report)
