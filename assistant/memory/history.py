"""`footcare history`: past sessions as a table to read, or as JSON lines for tools."""

from __future__ import annotations

import json
from datetime import tzinfo
from typing import Sequence

from .records import SessionRecord
from .summary import ending, minutes, when

COLUMNS = ("#", "started", "mode", "how it ended", "massage", "pain", "tingling", "feet after", "adapted")


def _row(s: SessionRecord, tz: tzinfo | None) -> tuple[str, ...]:
    adapted = f"gentler, {s.duration_scale:.0%} time" if s.gentle else "-"
    return (
        str(s.id),
        when(s.started_at, tz),
        s.mode,
        ending(s),
        f"{minutes(s.active_s):.1f} of {minutes(s.planned_s):.1f} min" if s.massaged else "-",
        str(s.count("pain")),
        str(s.count("tingling")),
        s.feeling or "-",
        adapted,
    )


def table(sessions: Sequence[SessionRecord], tz: tzinfo | None = None) -> str:
    """An aligned plain-text table, oldest session first."""
    rows = [COLUMNS] + [_row(s, tz) for s in sessions]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def json_lines(sessions: Sequence[SessionRecord]) -> str:
    """One JSON object per session, one per line."""
    return "\n".join(json.dumps(s.to_json()) for s in sessions)
