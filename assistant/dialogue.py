"""The dialogue core: one guided session as a sans-IO state machine.

Everything that affects the session's states and transitions lives in this file.
Adapters hand it events with the current time (`start`, `handle`) and carry out
the actions it returns. There is no audio, thread or clock in here, so a whole
30-minute session runs in milliseconds under test.

Safety is structural: the only way into `massaging` is `begin_massage`, guarded by
`check_passed`; a red flag or a stop ends the session, and an ended session
answers nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from transitions import Machine

from .events import (
    Action,
    Answered,
    CancelTimer,
    Event,
    Heard,
    Listen,
    Reported,
    RuleActed,
    Say,
    SessionEnded,
    SetVoice,
    SpeechFinished,
    StartTimer,
    StepDone,
    StepStarted,
    StopSpeaking,
    TimerFired,
)
from .intents import SAFETY_COMMANDS
from .protocol import Outcome, Protocol, Question, Reminder, Step

STATES = ["idle", "greeting", "checking", "massaging", "paused", "pain_offer", "closing", "ended"]

TRANSITIONS: list[dict[str, Any]] = [
    {"trigger": "greet", "source": "idle", "dest": "greeting"},
    {"trigger": "begin_check", "source": "greeting", "dest": "checking"},
    {"trigger": "begin_massage", "source": "checking", "dest": "massaging", "conditions": "check_passed"},
    {"trigger": "pause", "source": "massaging", "dest": "paused"},
    {"trigger": "hurt", "source": ["massaging", "paused"], "dest": "pain_offer"},
    {"trigger": "resume", "source": ["paused", "pain_offer"], "dest": "massaging"},
    {"trigger": "close", "source": "massaging", "dest": "closing"},
    {"trigger": "finish", "source": "*", "dest": "ended"},
]

#: Commands that cut off the assistant's speech at once (barge-in).
INTERRUPTING = SAFETY_COMMANDS | {"repeat", "help", "skip", "time_left"}
VOICE_COMMANDS = {"slower", "faster", "louder", "quieter"}

STEP_TIMER = "step"
ANSWER_TIMER = "answer"
PAUSE_TIMER = "pause"


@dataclass(frozen=True)
class Notice:
    """A line said at the start of a session, and the rule it carries out (if any)."""

    line: str
    rule: str | None = None
    values: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Adaptation:
    """How the memory of past sessions shapes this one."""

    duration_scale: float = 1.0
    """Technique steps last this fraction of their planned time (<= 1: gentler, shorter)."""
    gentle: bool = False
    """Remind the user to keep an extra light touch on each foot."""
    opening: tuple[Notice, ...] = ()
    """Said after the greeting, before the first question."""
    rate_wpm: int | None = None
    volume: float | None = None


@dataclass
class Segment:
    """One step on one foot, as planned for this session."""

    foot: str
    step: Step
    planned_s: float


def spoken_duration(seconds: float) -> str:
    """A duration the way a person says it: 'a minute and a half', '12 minutes'."""
    if seconds < 50:
        return "under a minute"
    halves = round(seconds / 30)
    minutes, half = divmod(halves, 2)
    if minutes == 1 and not half:
        return "a minute"
    if minutes == 1:
        return "a minute and a half"
    return f"{minutes} and a half minutes" if half else f"{minutes} minutes"


class Session:
    """One guided session. Feed it events; do what it returns."""

    state: str
    # Triggers that `transitions` adds from TRANSITIONS; each returns whether it fired.
    greet: Callable[[], bool]
    begin_check: Callable[[], bool]
    begin_massage: Callable[[], bool]
    pause: Callable[[], bool]
    hurt: Callable[[], bool]
    resume: Callable[[], bool]
    close: Callable[[], bool]
    finish: Callable[[], bool]

    def __init__(self, protocol: Protocol, adaptation: Adaptation | None = None) -> None:
        self.protocol = protocol
        self.adaptation = adaptation or Adaptation()
        self.machine = Machine(
            model=self,
            states=STATES,
            transitions=TRANSITIONS,
            initial="idle",
            auto_transitions=False,
        )
        voice = protocol.voice
        self.rate_wpm = self.adaptation.rate_wpm or voice.rate_wpm
        self.volume = self.adaptation.volume if self.adaptation.volume is not None else voice.volume
        self.end_reason: str | None = None
        self.feeling: str | None = None
        # check results
        self._check_complete = False
        self._red_flag = False
        self._marked: tuple[str, ...] = ()
        self._avoid_feet: set[str] = set()
        self._skip_feet: set[str] = set()
        self._flags: set[str] = set()
        # question being asked
        self._question: Question | None = None
        self._asked_at = 0.0
        """When the question under way was first asked (re-asking it does not move this)."""
        self._reasks = 0
        self._detours = 0
        self._answer_timer_due = False
        # massage plan and clock
        self._plan: list[Segment] = []
        self._index = -1
        self._active_before = 0.0
        self._running_since: float | None = None
        self._points: list[tuple[float, str]] = []
        self._paused_since: float | None = None
        self._segment_open = False
        self._intro_pending = False
        self._reports = 0
        self._last_instruction: str | None = None
        self._out: list[Action] = []
        self._now = 0.0

    # --- public API -----------------------------------------------------------------

    @property
    def ended(self) -> bool:
        return self.state == "ended"

    def start(self, now: float) -> list[Action]:
        """Begin the session: greet, say the opening notices, ask whether to start."""
        self._now = now
        self.greet()
        self._emit(SetVoice(self.rate_wpm, self.volume))
        self._apply(self.protocol.flow["greeting"], before_next=self._opening)
        return self._flush()

    def handle(self, event: Event, now: float) -> list[Action]:
        """React to one event that happened at `now` (seconds, any fixed origin)."""
        self._now = now
        if self.ended:
            return []
        if isinstance(event, Heard):
            self._on_heard(event)
        elif isinstance(event, TimerFired):
            self._on_timer(event.name)
        elif isinstance(event, SpeechFinished):
            self._on_speech_finished()
        return self._flush()

    @property
    def planned_total_s(self) -> float:
        """Technique seconds planned for the whole session (both feet)."""
        return sum(seg.planned_s for seg in self._make_plan())

    # --- guards used by the transition table ------------------------------------------

    def check_passed(self) -> bool:
        return self._check_complete and not self._red_flag

    # --- output helpers ----------------------------------------------------------------

    def _emit(self, action: Action) -> None:
        self._out.append(action)

    def _flush(self) -> list[Action]:
        out, self._out = self._out, []
        return out

    def _say(self, line: str, **values: Any) -> None:
        self._emit(Say(self.protocol.line(line, **values), line))

    def _rule(self, rule: str | None) -> None:
        if rule:
            self._emit(RuleActed(rule))

    def _opening(self) -> None:
        for notice in self.adaptation.opening:
            self._rule(notice.rule)
            self._say(notice.line, **notice.values)

    @property
    def _segment(self) -> Segment | None:
        """The step under way (or held), if the massage has one."""
        return self._plan[self._index] if 0 <= self._index < len(self._plan) else None

    def _values(self) -> dict[str, Any]:
        """Placeholders any line may use."""
        seg = self._segment
        if seg is None:
            return {"total": spoken_duration(self.planned_total_s)}
        remaining_step = max(0.0, seg.planned_s - self._active(self._now))
        later = sum(s.planned_s for s in self._plan[self._index + 1:])
        return {
            "foot": seg.foot,
            "step": spoken_duration(remaining_step),
            "duration": spoken_duration(seg.planned_s),
            "total": spoken_duration(remaining_step + later),
        }

    # --- outcomes: the protocol's decisions, carried out --------------------------------

    def _apply(self, outcome: Outcome, before_next: Callable[[], None] | None = None) -> None:
        self._rule(outcome.rule)
        if outcome.mark:
            self._marked = outcome.mark
        if outcome.avoid == "marked":
            self._avoid_feet.update(self._marked)
        if outcome.skip == "marked":
            self._skip_feet.update(self._marked)
        if outcome.flag:
            self._flags.add(outcome.flag)
        if outcome.feeling:
            self.feeling = outcome.feeling
        values = self._values()
        for line in outcome.say:
            self._say(line, **values)
        if before_next:
            before_next()
        if outcome.end:
            if outcome.end == "red_flag":
                self._red_flag = True
            self._end(outcome.end)
        elif outcome.next:
            self._go(outcome.next)

    def _go(self, target: str) -> None:
        if target in self.protocol.questions:
            self._ask(self.protocol.questions[target], fresh=True)
        elif target == "check":
            self.begin_check()
            self._apply(self.protocol.flow["check"])
        elif target == "all_clear":
            self._check_complete = True
            self._apply(self.protocol.flow["all_clear"])
        elif target == "massage":
            self._start_massage()
        elif target == "resume":
            self._question = None
            self._resume()
        else:
            self._apply(self.protocol.flow[target])

    def _end(self, reason: str) -> None:
        self._question = None
        for timer in (STEP_TIMER, ANSWER_TIMER, PAUSE_TIMER):
            self._emit(CancelTimer(timer))
        if self._segment_open:
            self._finish_segment()
        self.end_reason = reason
        self.finish()
        self._emit(SessionEnded(reason, self.feeling))

    # --- questions ---------------------------------------------------------------------

    def _ask(self, question: Question, fresh: bool = False, prefix: str | None = None) -> None:
        if fresh:
            self._reasks = 0
            self._detours = 0
            self._asked_at = self._now
        self._question = question
        self._emit(CancelTimer(ANSWER_TIMER))
        if prefix:
            self._say(prefix)
        self._say(question.ask)
        self._emit(Listen(question.grammar, question.topic))
        self._answer_timer_due = True

    def _reask(self, prefix: str) -> None:
        """Silence or an unclear answer: ask again, at most `max_reasks` times."""
        question = self._question
        assert question is not None
        self._reasks += 1
        if self._reasks > self.protocol.timing.max_reasks:
            self._emit(Answered(question.topic, None))
            self._question = None
            self._apply(question.unclear or self.protocol.flow["unclear"])
        else:
            self._ask(question, prefix=prefix)

    def _answer(self, intent: str) -> None:
        question = self._question
        assert question is not None
        self._question = None
        self._emit(CancelTimer(ANSWER_TIMER))
        self._emit(Answered(question.topic, intent))
        self._apply(question.answers[intent])

    def _on_speech_finished(self) -> None:
        if self._intro_pending and self.state == "massaging":
            self._start_clock()
        if self._question and self._answer_timer_due:
            self._answer_timer_due = False
            self._emit(StartTimer(ANSWER_TIMER, self.protocol.timing.answer_timeout_s))

    # --- hearing -----------------------------------------------------------------------

    def _on_heard(self, heard: Heard) -> None:
        intent = heard.intent
        answers = self._question is not None and intent in self._question.answers
        if answers and self._said_before_asked(heard):
            return
        if intent in INTERRUPTING or answers:
            self._emit(StopSpeaking())
        if answers:
            self._answer(intent)
            return
        handler = getattr(self, f"_cmd_{intent}", None) if intent else None
        if handler:
            handler()
        elif self._question:
            self._reask(self._question.hint)
        elif self.state == "paused" and intent in ("yes", "ready"):
            self._cmd_resume()
        # Anything else during narration is ignored: noise must not change the session.

    def _said_before_asked(self, heard: Heard) -> bool:
        """Whether an answer was begun before its question could be heard: a second "no" said
        as the next question begins answers the one before, not this one (a false all-clear)."""
        return heard.began_at is not None and heard.began_at < self._asked_at + self.protocol.timing.heard_after_ask_s

    def _after_command(self) -> None:
        """A command answered during a question: ask the question again.

        It does not use up a try, unless commands keep coming instead of an answer
        (a TV, say): past `max_detours` each one counts as an unclear answer.
        """
        if self._question:
            self._detours += 1
            if self._detours > self.protocol.timing.max_detours:
                self._reask(self._question.hint)
            else:
                self._ask(self._question)

    def _cmd_unsure(self) -> None:
        """"I don't know" to a question: ask again with a way to find out; it never counts as no."""
        if self._question:
            self._reask("unsure.question")

    def _cmd_stop(self) -> None:
        self._apply(self.protocol.flow["stopped"])

    def _cmd_pause(self) -> None:
        if self.state == "massaging":
            self._pause()
        elif self._question:
            self._say("wait.question")
            self._emit(Listen(self._question.grammar, self._question.topic))
            self._answer_timer_due = False
            self._emit(StartTimer(ANSWER_TIMER, self.protocol.timing.wait_timeout_s))

    def _cmd_resume(self) -> None:
        if self.state == "paused":
            self._say("pause.resumed")
            self._resume()
        else:
            self._after_command()

    def _cmd_pain(self, kind: str = "pain") -> None:
        if self.state in ("massaging", "paused", "pain_offer"):
            seg = self._segment
            self._emit(Reported(kind, seg.foot if seg else None, seg.step.id if seg else None))
            self._reports += 1
            if self._reports >= 2:
                self._apply(self.protocol.flow["pain_again"])
                return
            self._hold()
            self.hurt()
            self._apply(self.protocol.flow[kind])
        elif self.state == "closing" and self._question and "worse" in self._question.answers:
            self._answer("worse")
        else:
            self._say("pain.before")
            self._after_command()

    def _cmd_tingling(self) -> None:
        self._cmd_pain("tingling")

    def _cmd_repeat(self) -> None:
        if self._question:
            self._after_command()
        elif self.state == "paused":
            self._say("pause.paused")
        elif self._last_instruction:
            self._say(self._last_instruction, **self._values())

    def _cmd_help(self) -> None:
        self._say("help.commands")
        self._after_command()

    def _cmd_skip(self) -> None:
        if self.state in ("massaging", "paused"):
            self._say("skip.step")
            if self.state == "paused":
                self._resume(quiet=True)
            self._next_segment()
        elif self.state == "closing":
            self._question = None
            self._emit(CancelTimer(ANSWER_TIMER))
            self._go("farewell")
        elif self.state in ("greeting", "checking"):
            self._say("skip.check")
            self._after_command()
        else:
            self._after_command()

    def _cmd_time_left(self) -> None:
        if self.state in ("massaging", "paused", "pain_offer"):
            self._say("time.massage", **self._values())
        elif self.state == "closing":
            self._say("time.closing")
        else:
            self._say("time.before", **self._values())
        self._after_command()

    def _set_voice(self, rate: int, volume: float, line: str) -> None:
        v = self.protocol.voice
        rate = min(max(rate, v.rate_min), v.rate_max)
        volume = round(min(max(volume, v.volume_min), v.volume_max), 2)
        if (rate, volume) == (self.rate_wpm, self.volume):
            line = "voice.limit"
        self.rate_wpm, self.volume = rate, volume
        self._emit(SetVoice(rate, volume))
        self._say(line)
        self._after_command()

    def _cmd_slower(self) -> None:
        self._set_voice(self.rate_wpm - self.protocol.voice.rate_step, self.volume, "voice.slower")

    def _cmd_faster(self) -> None:
        self._set_voice(self.rate_wpm + self.protocol.voice.rate_step, self.volume, "voice.faster")

    def _cmd_louder(self) -> None:
        self._set_voice(self.rate_wpm, self.volume + self.protocol.voice.volume_step, "voice.louder")

    def _cmd_quieter(self) -> None:
        self._set_voice(self.rate_wpm, self.volume - self.protocol.voice.volume_step, "voice.quieter")

    # --- timers ------------------------------------------------------------------------

    def _on_timer(self, name: str) -> None:
        if name == ANSWER_TIMER and self._question:
            self._reask("reask.silence")
        elif name == STEP_TIMER and self.state == "massaging":
            if self._intro_pending:
                self._start_clock()  # the instruction took too long to play: start anyway
            else:
                self._advance_step()
        elif name == PAUSE_TIMER and self.state == "paused" and self._paused_since is not None:
            timing = self.protocol.timing
            if self._now - self._paused_since >= timing.pause_max_s:
                self._apply(self.protocol.flow["paused_too_long"])
            else:
                self._say("pause.reminder")
                self._emit(StartTimer(PAUSE_TIMER, timing.pause_reminder_every_s))

    # --- the massage -------------------------------------------------------------------

    def _make_plan(self) -> list[Segment]:
        scale = self.adaptation.duration_scale
        cap = self.protocol.timing.max_foot_s
        plan: list[Segment] = []
        for foot in self.protocol.feet:
            if foot in self._skip_feet:
                continue
            foot_s = self.protocol.foot_s * scale
            factor = scale * min(1.0, cap / foot_s) if foot_s else 0.0
            plan += [Segment(foot, s, round(s.duration_s * factor, 1)) for s in self.protocol.steps]
        return plan

    def _start_massage(self) -> None:
        self._plan = self._make_plan()
        if not self._plan:
            self._apply(self.protocol.flow["no_feet"])
            return
        if not self.begin_massage():
            # Unreachable by the protocol's flow; kept so no path can start a technique.
            self._apply(self.protocol.flow["unclear"])
            return
        self._emit(Listen("narration"))
        for foot in self._skip_feet:
            self._say("foot.skipped", foot=foot)
        self._index = -1
        self._next_segment()

    def _conditions(self, foot: str) -> set[str]:
        held = set(self._flags)
        if foot in self._avoid_feet:
            held.add("avoid_area")
        if self.adaptation.gentle:
            held.add("gentle")
        return held

    def _remind(self, reminders: tuple[Reminder, ...], foot: str) -> None:
        held = self._conditions(foot)
        for r in reminders:
            if r.when in held:
                self._rule(r.rule)
                self._say(r.say)

    def _next_segment(self) -> None:
        """Close the current step (if any) and start the next, or close the session."""
        previous = self._plan[self._index] if self._index >= 0 else None
        if previous:
            self._finish_segment()
        self._index += 1
        if self._index >= len(self._plan):
            if previous:
                self._say("foot.done", foot=previous.foot)
            self.close()
            self._apply(self.protocol.flow["closing"])
            return
        seg = self._plan[self._index]
        if previous and previous.foot != seg.foot:
            self._say("foot.done", foot=previous.foot)
        if not previous or previous.foot != seg.foot:
            foot_s = sum(s.planned_s for s in self._plan if s.foot == seg.foot)
            self._rule("duration.per_foot")
            self._say("foot.first" if not previous else "foot.next",
                      foot=seg.foot, duration=spoken_duration(foot_s))
            self._remind(self.protocol.foot_reminders, seg.foot)
        self._active_before = 0.0
        self._running_since = None
        self._segment_open = True
        self._emit(StepStarted(seg.foot, seg.step.id, seg.planned_s))
        for rule in seg.step.rules:
            self._rule(rule)
        self._remind(seg.step.reminders, seg.foot)
        self._last_instruction = seg.step.intro
        self._say(seg.step.intro, **self._values())
        self._points = self._schedule(seg)
        # Technique time starts once the instruction has been heard (SpeechFinished).
        self._intro_pending = True
        self._emit(StartTimer(STEP_TIMER, self.protocol.timing.intro_max_s))

    def _start_clock(self) -> None:
        self._intro_pending = False
        self._running_since = self._now
        self._arm_step_timer()

    def _schedule(self, seg: Segment) -> list[tuple[float, str]]:
        """(active seconds, what) for the cues, notes and end of one step."""
        t = self.protocol.timing
        planned = seg.planned_s
        points: list[tuple[float, str]] = [(planned, "end")]
        special: list[float] = []
        if seg.step.halfway:
            points.append((planned / 2, seg.step.halfway))
            special.append(planned / 2)
        if planned >= t.time_note_min_step_s:
            points.append((planned - t.time_note_before_end_s, "step.one_minute"))
            special.append(planned - t.time_note_before_end_s)
        cues = seg.step.cues
        k = 1
        while cues and k * t.cue_interval_s < planned - t.cue_quiet_before_end_s:
            at = k * t.cue_interval_s
            if all(abs(at - s) >= t.cue_interval_s / 2 for s in special):
                points.append((at, cues[(k - 1) % len(cues)]))
            k += 1
        return sorted(points)

    def _active(self, now: float) -> float:
        running = now - self._running_since if self._running_since is not None else 0.0
        return self._active_before + running

    def _arm_step_timer(self) -> None:
        if self._points:
            delay = max(0.0, self._points[0][0] - self._active(self._now))
            self._emit(StartTimer(STEP_TIMER, delay))

    def _advance_step(self) -> None:
        active = self._active(self._now)
        while self._points and self._points[0][0] <= active + 1e-6:
            _, what = self._points.pop(0)
            if what == "end":
                self._say("step.done")
                self._next_segment()
                return
            self._say(what)
        self._arm_step_timer()

    def _hold(self) -> None:
        """Freeze the step clock (pause or pain)."""
        if self._running_since is not None:
            self._active_before = self._active(self._now)
            self._running_since = None
        self._emit(CancelTimer(STEP_TIMER))

    def _pause(self) -> None:
        self._hold()
        self.pause()
        self._paused_since = self._now
        self._emit(Listen("paused"))
        self._say("pause.paused")
        self._emit(StartTimer(PAUSE_TIMER, self.protocol.timing.pause_reminder_s))

    def _resume(self, quiet: bool = False) -> None:
        self._paused_since = None
        self._emit(CancelTimer(PAUSE_TIMER))
        self.resume()
        self._emit(Listen("narration"))
        self._intro_pending = False
        self._running_since = self._now
        if not quiet:
            self._arm_step_timer()

    def _finish_segment(self) -> None:
        seg = self._plan[self._index]
        active = min(self._active(self._now), seg.planned_s)
        self._running_since = None
        self._paused_since = None
        self._active_before = 0.0
        self._segment_open = False
        self._intro_pending = False
        self._emit(CancelTimer(STEP_TIMER))
        self._emit(StepDone(seg.foot, seg.step.id, round(active, 3)))
