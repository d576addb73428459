"""Past sessions summed up for people: the words and numbers the table and the report share.

Pure and local-time aware: a carer reads dates in their own time zone, so every
date here is turned to the zone of the `now` it is given.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Sequence

from .records import SessionRecord

ENDINGS = {
    "completed": "finished",
    "stopped": "stopped by the user",
    "pain": "stopped: pain",
    "red_flag": "not done: safety check",
    "no_answer": "stopped: no answer",
}
FEELINGS = ("better", "same", "worse")


def ending(session: SessionRecord) -> str:
    """How a session ended, in plain words."""
    if session.status == "interrupted":
        return "cut off (device stopped)"
    if session.status == "running":
        return "still running"
    return ENDINGS.get(session.end_reason or "", session.end_reason or "unknown")


def minutes(seconds: float) -> float:
    return round(seconds / 60.0, 1)


def when(moment: datetime, tz: object) -> str:
    """'Tue 24 Nov 2026, 09:15' in the reader's zone."""
    return moment.astimezone(tz).strftime("%a %d %b %Y, %H:%M")  # type: ignore[arg-type]


@dataclass(frozen=True)
class Week:
    start: date
    """The Monday the week starts on."""
    sessions: int
    minutes: float
    reports: int
    worse: int


@dataclass(frozen=True)
class Summary:
    start: datetime
    end: datetime
    sessions: tuple[SessionRecord, ...]
    weeks: tuple[Week, ...]

    @property
    def days(self) -> int:
        return max(1, round((self.end - self.start) / timedelta(days=1)))

    @property
    def per_week(self) -> float:
        return round(len(self.sessions) * 7 / self.days, 1)

    @property
    def massaged(self) -> list[SessionRecord]:
        return [s for s in self.sessions if s.massaged]

    @property
    def total_minutes(self) -> float:
        return minutes(sum(s.active_s for s in self.sessions))

    @property
    def mean_minutes(self) -> float:
        done = self.massaged
        return minutes(sum(s.active_s for s in done) / len(done)) if done else 0.0

    def reports(self, kind: str) -> int:
        return sum(s.count(kind) for s in self.sessions)

    @property
    def red_flags(self) -> list[SessionRecord]:
        return [s for s in self.sessions if s.red_flag]

    @property
    def endings(self) -> Counter[str]:
        return Counter(ending(s) for s in self.sessions)

    @property
    def feelings(self) -> Counter[str]:
        return Counter(s.feeling or "not said" for s in self.massaged)

    @property
    def gentler(self) -> int:
        return sum(1 for s in self.sessions if s.gentle)


def summarise(sessions: Sequence[SessionRecord], start: datetime, end: datetime) -> Summary:
    """The sessions started in [start, end), with week-by-week totals (weeks start on Monday)."""
    tz = end.tzinfo
    chosen = tuple(s for s in sessions if start <= s.started_at < end)
    first = start.astimezone(tz).date()
    monday = first - timedelta(days=first.weekday())
    weeks: list[Week] = []
    while monday <= end.astimezone(tz).date():
        inside = [s for s in chosen
                  if monday <= s.started_at.astimezone(tz).date() < monday + timedelta(days=7)]
        weeks.append(Week(
            start=monday,
            sessions=len(inside),
            minutes=minutes(sum(s.active_s for s in inside)),
            reports=sum(len(s.reports) for s in inside),
            worse=sum(1 for s in inside if s.feeling == "worse"),
        ))
        monday += timedelta(days=7)
    return Summary(start=start, end=end, sessions=chosen, weeks=tuple(weeks))
