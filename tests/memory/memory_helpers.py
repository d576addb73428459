"""Shared helpers for the memory tests (imported by the tests and by conftest.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from assistant.simulate import Simulation

HERE = Path(__file__).parent
REPO = HERE.parent.parent
ALL_CLEAR = REPO / "tests" / "scripts" / "all_clear.txt"
PAIN_WORSE = HERE / "scripts" / "pain_worse.txt"

CHECK_NO = """
when ready: yes
when skin.broken: no
when inflammation: no
when circulation: no
when sensitive.areas: no
"""


class Clock:
    """Wall-clock time for the memory, moved by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def rules_of(sim: Simulation) -> list[str]:
    return [e["id"] for e in sim.events if e["kind"] == "rule"]


def planned_of(sim: Simulation) -> list[float]:
    return [e["planned_s"] for e in sim.events if e["kind"] == "step"]
