"""Reading the events of a simulated session (as `footcare simulate --json` prints them)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

#: Every check question answered "no": the whole routine with no commands.
ALL_CLEAR = (Path(__file__).parent / "scripts" / "all_clear.txt").read_text(encoding="utf-8")


def kinds(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in events if e["kind"] == kind]


def rules(events: list[dict[str, Any]]) -> list[str]:
    return [e["id"] for e in kinds(events, "rule")]


def end_reason(events: list[dict[str, Any]]) -> str:
    ends = kinds(events, "end")
    assert len(ends) == 1 and events[-1]["kind"] == "end", "exactly one end event, last"
    return ends[0]["reason"]


def technique_by_foot(events: list[dict[str, Any]]) -> dict[str, float]:
    total: dict[str, float] = defaultdict(float)
    for e in kinds(events, "step_done"):
        total[e["foot"]] += e["active_s"]
    return dict(total)


def said(events: list[dict[str, Any]]) -> str:
    return " ".join(e["text"] for e in kinds(events, "say"))
