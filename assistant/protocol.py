"""The care protocol: `protocol.yaml` loaded into typed, validated records.

Everything the assistant says or decides comes from that file; this module only
reads it and checks that every id it names exists, so a typo fails at load time,
not in the middle of someone's massage.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from .events import END_REASONS

PROTOCOL_PATH = Path(__file__).with_name("protocol.yaml")

#: `next` values that are not question topics or flow entries.
SPECIAL_NEXT = ("massage", "resume")
#: Conditions a reminder can depend on.
CONDITIONS = ("sensitive", "avoid_area", "gentle")


class ProtocolError(Exception):
    """The protocol file is missing, malformed or inconsistent."""


@dataclass(frozen=True)
class Voice:
    rate_wpm: int
    rate_step: int
    rate_min: int
    rate_max: int
    volume: float
    volume_step: float
    volume_min: float
    volume_max: float
    sentence_pause_s: float


@dataclass(frozen=True)
class Timing:
    answer_timeout_s: float
    max_reasks: int
    max_detours: int
    wait_timeout_s: float
    pause_reminder_s: float
    pause_reminder_every_s: float
    pause_max_s: float
    intro_max_s: float
    cue_interval_s: float
    cue_quiet_before_end_s: float
    time_note_before_end_s: float
    time_note_min_step_s: float
    max_foot_s: float
    min_foot_s: float
    heard_after_ask_s: float = 0.5
    """An answer begun sooner than this after its question was asked was said before it was heard."""


@dataclass(frozen=True)
class Rule:
    id: str
    guide: str
    """What the source guide says."""
    acts: str
    """What the assistant does about it."""


@dataclass(frozen=True)
class Outcome:
    """What follows an answer or a moment of the flow (see the header of protocol.yaml)."""

    say: tuple[str, ...] = ()
    rule: str | None = None
    next: str | None = None
    end: str | None = None
    mark: tuple[str, ...] = ()
    avoid: str | None = None
    skip: str | None = None
    flag: str | None = None
    feeling: str | None = None


@dataclass(frozen=True)
class Question:
    topic: str
    ask: str
    answers: Mapping[str, Outcome]
    grammar: str = "answer"
    hint: str = "hint.yes_no"
    unclear: Outcome | None = None
    """None: the flow's `unclear` outcome (never all clear)."""


@dataclass(frozen=True)
class Reminder:
    when: str
    say: str
    rule: str | None = None


@dataclass(frozen=True)
class Step:
    id: str
    duration_s: float
    intro: str
    cues: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    reminders: tuple[Reminder, ...] = ()
    halfway: str | None = None


@dataclass(frozen=True)
class Protocol:
    voice: Voice
    timing: Timing
    rules: Mapping[str, Rule]
    feet: tuple[str, ...]
    steps: tuple[Step, ...]
    foot_reminders: tuple[Reminder, ...]
    questions: Mapping[str, Question]
    flow: Mapping[str, Outcome]
    lines: Mapping[str, str]
    source: Path = field(default=PROTOCOL_PATH, compare=False)

    def line(self, line_id: str, **values: Any) -> str:
        """The text of a line with its placeholders filled in."""
        return self.lines[line_id].format(**values)

    @property
    def foot_s(self) -> float:
        """Planned technique seconds for one foot."""
        return sum(step.duration_s for step in self.steps)

    def fixed_lines(self) -> dict[str, str]:
        """Lines with no placeholders: the ones a speech cache can render ahead."""
        return {k: v for k, v in self.lines.items() if not placeholders(v)}


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def load_protocol(path: Path | str | None = None) -> Protocol:
    """Read and validate the protocol; raises ProtocolError with a clear message."""
    path = Path(path) if path else PROTOCOL_PATH
    try:
        with open(path, encoding="utf-8") as f:
            raw = yaml.safe_load(f)
        protocol = _build(raw, path)
    except OSError as exc:
        raise ProtocolError(f"cannot read the protocol file {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ProtocolError(f"the protocol file {path} is not valid YAML: {exc}") from exc
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ProtocolError(f"the protocol file {path} is malformed: {exc!r}") from exc
    problems = validate(protocol)
    if problems:
        raise ProtocolError(f"the protocol file {path} is inconsistent: " + "; ".join(problems))
    return protocol


def _outcome(raw: Mapping[str, Any]) -> Outcome:
    return Outcome(
        say=tuple(raw.get("say", ())),
        rule=raw.get("rule"),
        next=raw.get("next"),
        end=raw.get("end"),
        mark=tuple(raw.get("mark", ())),
        avoid=raw.get("avoid"),
        skip=raw.get("skip"),
        flag=raw.get("flag"),
        feeling=raw.get("feeling"),
    )


def _reminders(raw: list[Mapping[str, Any]] | None) -> tuple[Reminder, ...]:
    return tuple(Reminder(when=r["when"], say=r["say"], rule=r.get("rule")) for r in raw or ())


def _build(raw: Mapping[str, Any], path: Path) -> Protocol:
    questions = {
        topic: Question(
            topic=topic,
            ask=q["ask"],
            answers={str(k): _outcome(v) for k, v in q["answers"].items()},
            grammar=q.get("grammar", "answer"),
            hint=q.get("hint", "hint.yes_no"),
            unclear=_outcome(q["unclear"]) if q.get("unclear") else None,
        )
        for topic, q in raw["questions"].items()
    }
    steps = tuple(
        Step(
            id=s["id"],
            duration_s=float(s["duration_s"]),
            intro=s["intro"],
            cues=tuple(s.get("cues", ())),
            rules=tuple(s.get("rules", ())),
            reminders=_reminders(s.get("reminders")),
            halfway=s.get("halfway"),
        )
        for s in raw["steps"]
    )
    return Protocol(
        voice=Voice(**raw["voice"]),
        timing=Timing(**raw["timing"]),
        rules={rid: Rule(id=rid, **r) for rid, r in raw["rules"].items()},
        feet=tuple(raw["feet"]),
        steps=steps,
        foot_reminders=_reminders(raw.get("foot_reminders")),
        questions=questions,
        flow={name: _outcome(o) for name, o in raw["flow"].items()},
        lines={k: " ".join(str(v).split()) for k, v in raw["lines"].items()},
        source=path,
    )


def _outcome_problems(where: str, o: Outcome, p: Protocol) -> list[str]:
    problems = [f"{where} says unknown line {s!r}" for s in o.say if s not in p.lines]
    if o.rule and o.rule not in p.rules:
        problems.append(f"{where} names unknown rule {o.rule!r}")
    if o.end and o.end not in END_REASONS:
        problems.append(f"{where} ends with unknown reason {o.end!r}")
    if o.next and o.next not in p.questions and o.next not in p.flow and o.next not in SPECIAL_NEXT:
        problems.append(f"{where} goes next to unknown {o.next!r}")
    if o.end and o.next:
        problems.append(f"{where} has both `end` and `next`")
    if not o.end and not o.next:
        problems.append(f"{where} has neither `end` nor `next`")
    problems += [f"{where} marks unknown foot {f!r}" for f in o.mark if f not in p.feet]
    return problems


def validate(p: Protocol) -> list[str]:
    """Every cross-reference in the protocol, checked. Empty list: consistent."""
    problems: list[str] = []
    for topic, q in p.questions.items():
        for line in (q.ask, q.hint):
            if line not in p.lines:
                problems.append(f"question {topic} uses unknown line {line!r}")
        for answer, o in q.answers.items():
            problems += _outcome_problems(f"question {topic} answer {answer}", o, p)
        if q.unclear:
            problems += _outcome_problems(f"question {topic} unclear", q.unclear, p)
    for name, o in p.flow.items():
        problems += _outcome_problems(f"flow {name}", o, p)
    for required in ("greeting", "check", "unclear", "closing", "farewell", "stopped",
                     "pain", "tingling", "pain_again", "no_feet", "paused_too_long"):
        if required not in p.flow:
            problems.append(f"flow has no {required!r}")
    reminders = list(p.foot_reminders) + [r for s in p.steps for r in s.reminders]
    for r in reminders:
        if r.when not in CONDITIONS:
            problems.append(f"reminder has unknown condition {r.when!r}")
        if r.say not in p.lines:
            problems.append(f"reminder says unknown line {r.say!r}")
        if r.rule and r.rule not in p.rules:
            problems.append(f"reminder names unknown rule {r.rule!r}")
    for s in p.steps:
        for line in (s.intro, *s.cues, *([s.halfway] if s.halfway else [])):
            if line not in p.lines:
                problems.append(f"step {s.id} uses unknown line {line!r}")
        problems += [f"step {s.id} names unknown rule {r!r}" for r in s.rules if r not in p.rules]
    if not p.timing.min_foot_s <= p.foot_s <= p.timing.max_foot_s:
        problems.append(
            f"a foot is planned for {p.foot_s:.0f} s, outside "
            f"{p.timing.min_foot_s:.0f}-{p.timing.max_foot_s:.0f} s (rule duration.per_foot)"
        )
    return problems
