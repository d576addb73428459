"""How past sessions shape the next one (rules `frequency` and `monitor.worse`).

Pure: records and a time in, an `Adaptation` out. The numbers are policy and live
in protocol.yaml's `memory:` section, next to the rules they carry out, so a nurse
can review them without reading Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Sequence

import yaml

from ..dialogue import Adaptation, Notice
from ..protocol import PROTOCOL_PATH, Protocol, ProtocolError
from .records import SessionRecord


@dataclass(frozen=True)
class Policy:
    gentle_scale: float
    """Each difficult session in a row multiplies the planned time by this ..."""
    min_scale: float
    """... down to this fraction at the least."""
    break_after: int
    """This many difficult sessions in a row: advise a break and a provider."""
    lookback_days: float
    """Only sessions this recent count towards a run of difficult ones."""
    difficult_reports: tuple[str, ...]
    """Report kinds that make a session difficult (as does feeling worse after it)."""
    long_gap_days: int
    """A gap at least this long is 'a while'."""


def load_policy(path: Path | str | None = None) -> Policy:
    """The `memory:` section of the protocol file (the built-in one if that file has none)."""
    path = Path(path) if path else PROTOCOL_PATH
    try:
        with open(path, encoding="utf-8") as f:
            raw: Any = (yaml.safe_load(f) or {}).get("memory")
        if raw is None and path != PROTOCOL_PATH:
            return load_policy(PROTOCOL_PATH)
        policy = Policy(
            gentle_scale=float(raw["gentle_scale"]),
            min_scale=float(raw["min_scale"]),
            break_after=int(raw["break_after"]),
            lookback_days=float(raw["lookback_days"]),
            difficult_reports=tuple(raw["difficult_reports"]),
            long_gap_days=int(raw["long_gap_days"]),
        )
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ProtocolError(f"the `memory:` section of {path} is missing or malformed: {exc!r}") from exc
    if not 0 < policy.min_scale <= policy.gentle_scale <= 1 or policy.break_after < 1:
        raise ProtocolError(f"the `memory:` section of {path} needs 0 < min_scale <= gentle_scale <= 1"
                            " and break_after >= 1")
    return policy


def difficulty(session: SessionRecord, policy: Policy) -> str | None:
    """Why a session was difficult: `pain`, `worse`, `both`, or None."""
    hurt = any(r.kind in policy.difficult_reports for r in session.reports)
    worse = session.feeling == "worse"
    if hurt and worse:
        return "both"
    return "pain" if hurt else "worse" if worse else None


def difficult_run(history: Sequence[SessionRecord], now: datetime, policy: Policy) -> list[str]:
    """Reasons of the latest run of difficult sessions, newest first.

    Sessions with no massage (a red flag, a 'no' to starting), and cut-off ones with
    no report, say nothing about how massage suits the feet: they neither count nor
    break the run.
    """
    since = now - timedelta(days=policy.lookback_days)
    run: list[str] = []
    for session in reversed(history):
        if session.started_at < since:
            break
        if not session.massaged:
            continue
        why = difficulty(session, policy)
        if why is None and session.interrupted:
            continue
        if why is None:
            break
        run.append(why)
    return run


def since_notice(last: SessionRecord, now: datetime, policy: Policy) -> Notice:
    """How long since the last session, with the guide's advice on frequency."""
    days = (now.date() - last.started_at.astimezone(now.tzinfo).date()).days
    if days <= 0:
        return Notice("memory.since.today", "frequency")
    if days == 1:
        return Notice("memory.since.yesterday", "frequency")
    if days < policy.long_gap_days:
        return Notice("memory.since.days", "frequency", {"days": days})
    return Notice("memory.since.long", "frequency")


def adapt(history: Sequence[SessionRecord], now: datetime, protocol: Protocol, policy: Policy) -> Adaptation:
    """The adaptation for a session starting at `now` (aware), given past sessions oldest first."""
    if not history:
        return Adaptation()
    last = history[-1]
    opening: list[Notice] = []
    if last.interrupted:
        opening.append(Notice("memory.interrupted"))
    last_massage = next((s for s in reversed(history) if s.massaged), None)
    if last_massage:
        opening.append(since_notice(last_massage, now, policy))
    if last.red_flag:
        # A recollection, not the rule acting: today's check applies the rule again.
        opening.append(Notice(f"memory.red_flag.{last.red_flag}"))
    run = difficult_run(history, now, policy)
    if len(run) >= policy.break_after:
        opening.append(Notice("memory.take_break", "monitor.worse"))
    elif run:
        opening.append(Notice(f"memory.gentler.{run[0]}", "monitor.worse"))
    scale = max(policy.min_scale, policy.gentle_scale ** len(run))
    rate, volume = _voice(history, protocol)
    return Adaptation(duration_scale=scale, gentle=bool(run), opening=tuple(opening),
                      rate_wpm=rate, volume=volume)


def _voice(history: Sequence[SessionRecord], protocol: Protocol) -> tuple[int | None, float | None]:
    """The rate and volume the user last listened at, if still within the voice's limits."""
    v = protocol.voice
    for session in reversed(history):
        if session.rate_wpm is not None and session.volume is not None:
            rate_ok = v.rate_min <= session.rate_wpm <= v.rate_max
            volume_ok = v.volume_min <= session.volume <= v.volume_max
            return (session.rate_wpm if rate_ok else None, session.volume if volume_ok else None)
    return None, None
