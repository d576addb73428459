"""Past sessions as plain records: what the history, the report and the policy read.

Derived facts (minutes massaged, whether a session was a difficult one) are
computed here once, so the table, the report and the adaptation cannot disagree.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

SAFETY_RULES = ("skin.broken", "inflammation", "circulation")
"""Rules whose acting in a check ends or limits a session for a medical reason."""


@dataclass(frozen=True)
class StepRecord:
    foot: str
    step: str
    planned_s: float
    started_t: float
    ended_t: float | None
    active_s: float | None


@dataclass(frozen=True)
class ReportRecord:
    t: float
    kind: str
    foot: str | None
    step: str | None


@dataclass(frozen=True)
class SessionRecord:
    id: int
    started_at: datetime
    ended_at: datetime | None
    status: str
    """`running`, `ended` or `interrupted` (the process stopped before the session did)."""
    mode: str
    end_reason: str | None
    feeling: str | None
    duration_scale: float
    gentle: bool
    rate_wpm: int | None
    volume: float | None
    answers: dict[str, str | None] = field(default_factory=dict)
    rules: tuple[tuple[float, str], ...] = ()
    steps: tuple[StepRecord, ...] = ()
    reports: tuple[ReportRecord, ...] = ()

    @property
    def interrupted(self) -> bool:
        return self.status == "interrupted"

    @property
    def massaged(self) -> bool:
        """Whether any technique step started: only then can it tell how massage suits the feet."""
        return bool(self.steps)

    @property
    def planned_s(self) -> float:
        return sum(s.planned_s for s in self.steps)

    @property
    def active_s(self) -> float:
        return sum(s.active_s or 0.0 for s in self.steps)

    def count(self, kind: str) -> int:
        return sum(1 for r in self.reports if r.kind == kind)

    @property
    def red_flag(self) -> str | None:
        """The safety rule that stopped the session, if a red flag did."""
        if self.end_reason != "red_flag":
            return None
        acted = [rule for _, rule in self.rules if rule in SAFETY_RULES]
        return acted[-1] if acted else "skin.broken"

    @property
    def duration(self) -> timedelta | None:
        return self.ended_at - self.started_at if self.ended_at else None

    def to_json(self) -> dict[str, Any]:
        """One JSON-ready object: everything recorded, plus the derived totals."""
        return {
            "id": self.id,
            "started_at": self.started_at.isoformat(),
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "status": self.status,
            "mode": self.mode,
            "end_reason": self.end_reason,
            "feeling": self.feeling,
            "duration_scale": self.duration_scale,
            "gentle": self.gentle,
            "rate_wpm": self.rate_wpm,
            "volume": self.volume,
            "planned_s": round(self.planned_s, 1),
            "active_s": round(self.active_s, 1),
            "red_flag": self.red_flag,
            "answers": dict(self.answers),
            "rules": [{"t": t, "rule": rule} for t, rule in self.rules],
            "steps": [asdict(s) for s in self.steps],
            "reports": [asdict(r) for r in self.reports],
        }
