"""Events into the dialogue core and actions out of it.

The core (`assistant.dialogue`) is sans-IO: adapters feed it events together with
the current time, and carry out the actions it returns. Nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, asdict
from typing import Any


# --- events: what happened at the edge -------------------------------------------------


@dataclass(frozen=True)
class Heard:
    """The user said something."""

    text: str
    """What the recogniser (or the keyboard) produced."""
    intent: str | None
    """Intent name from the grammars, or None when it matched nothing."""
    confidence: float = 1.0
    """Recogniser confidence 0..1 (1.0 for typed text)."""
    began_at: float | None = None
    """When the utterance began, on the clock of `handle`'s `now`; None when not known (typed text)."""


@dataclass(frozen=True)
class TimerFired:
    """A timer started with `StartTimer` ran out."""

    name: str


@dataclass(frozen=True)
class SpeechFinished:
    """The speaker went quiet: every queued `Say` was played or cut off."""


Event = Heard | TimerFired | SpeechFinished


# --- actions: what the adapters must do ------------------------------------------------


@dataclass(frozen=True)
class Say:
    """Speak one line, after any line already queued."""

    text: str
    line: str
    """Protocol line id, so a speech cache can render fixed lines ahead."""


@dataclass(frozen=True)
class StopSpeaking:
    """Cut off the current line and drop every queued one (barge-in)."""


@dataclass(frozen=True)
class Listen:
    """Listen with this grammar from now on."""

    grammar: str
    topic: str | None = None
    """Set when an answer to a question on this topic is awaited."""


@dataclass(frozen=True)
class StartTimer:
    """Start (or restart) the named timer; fire `TimerFired(name)` after `seconds`."""

    name: str
    seconds: float


@dataclass(frozen=True)
class CancelTimer:
    """Cancel the named timer if it is running."""

    name: str


@dataclass(frozen=True)
class SetVoice:
    """Change speech rate and volume from now on."""

    rate_wpm: int
    volume: float


# --- notices: what happened inside the session, for logs and memory -------------------


@dataclass(frozen=True)
class StepStarted:
    """A timed step began on a foot."""

    foot: str
    step: str
    planned_s: float


@dataclass(frozen=True)
class StepDone:
    """A step ended (finished, skipped or cut short)."""

    foot: str
    step: str
    active_s: float
    """Seconds of technique time, pauses excluded."""


@dataclass(frozen=True)
class RuleActed:
    """A safety or guidance rule of the protocol acted."""

    rule: str


@dataclass(frozen=True)
class Answered:
    """A check question got a usable answer (or none: `answer` is None)."""

    topic: str
    answer: str | None


@dataclass(frozen=True)
class Reported:
    """The user reported pain or tingling/discomfort during the massage."""

    kind: str
    """`pain` or `tingling`."""
    foot: str | None
    step: str | None


@dataclass(frozen=True)
class SessionEnded:
    """The session is over; nothing more will be said after the queued lines."""

    reason: str
    """`completed`, `stopped`, `pain`, `red_flag` or `no_answer`."""
    feeling: str | None = None
    """How the feet felt afterwards: `better`, `same`, `worse`, or None."""


Action = (
    Say
    | StopSpeaking
    | Listen
    | StartTimer
    | CancelTimer
    | SetVoice
    | StepStarted
    | StepDone
    | RuleActed
    | Answered
    | Reported
    | SessionEnded
)

END_REASONS = ("completed", "stopped", "pain", "red_flag", "no_answer")


def to_dict(item: Event | Action) -> dict[str, Any]:
    """A JSON-ready dict of an event or action, with its type under `type`."""
    return {"type": type(item).__name__, **asdict(item)}
