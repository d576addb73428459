"""Safety invariants of the dialogue core, for every input sequence hypothesis can find.

- no technique before a completed all-clear check;
- after any red flag, no technique in that session;
- stop ends narration from every state;
- no foot gets more than 15 minutes of technique time.
"""

from __future__ import annotations

from collections import defaultdict

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.dialogue import ANSWER_TIMER, PAUSE_TIMER, STEP_TIMER, Session
from assistant.events import (
    Answered,
    CancelTimer,
    Heard,
    RuleActed,
    Say,
    SessionEnded,
    SpeechFinished,
    StartTimer,
    StepDone,
    StepStarted,
    TimerFired,
)
from assistant.protocol import load_protocol

PROTOCOL = load_protocol()
INTENTS = [
    "yes", "no", "ready", "better", "same", "worse", "right", "left", "both",
    "stop", "pause", "resume", "pain", "tingling", "repeat", "help", "skip",
    "slower", "faster", "louder", "quieter", "time_left", None,
]
RED_FLAG_RULES = {"inflammation", "circulation"}
ALL_CLEAR_TOPICS = {"skin.broken": "no", "inflammation": "no", "circulation": "no",
                    "sensitive.areas": "no"}

# pain and tingling twice as often: a second report ends the session, and a census over 300
# random runs saw that end too rarely (0 in one CI run, 1 in one of 12 random seeds).
heard = st.builds(lambda i: ("heard", i), st.sampled_from(INTENTS + ["pain", "tingling"]))
timer = st.builds(lambda n: ("timer", n), st.sampled_from([STEP_TIMER, ANSWER_TIMER, PAUSE_TIMER]))
finished = st.just(("speech", None))
# "answer": the k-th valid answer to whatever question is being asked (state-aware, so
# sessions get past the check); "clear": the all-clear answer. Mixed with anything at all.
answer = st.builds(lambda k: ("answer", k), st.integers(min_value=0, max_value=5))
clear = st.just(("clear", None))
# "due": the earliest pending timer fires, as it would if the user said nothing.
due = st.just(("due", None))
move = st.one_of(heard, timer, finished, answer, clear, clear, clear, *[due] * 8, finished)
biased = st.lists(st.tuples(move, st.floats(min_value=0, max_value=120)), min_size=40, max_size=300)
CLEAR_ANSWER = {"ready": "yes", "go_on": "yes", "feel": "better", "skin.where": "right"}


class Run:
    """Drives a session and keeps what the invariants need."""

    def __init__(self) -> None:
        self.session = Session(PROTOCOL)
        self.now = 0.0
        self.timers: dict[str, float] = {}
        self.actions = list(self.session.start(self.now))

    def feed(self, kind: str, value: object, dt: float) -> list:
        self.now += dt
        question = self.session._question
        if kind in ("answer", "clear"):
            if question is None:
                kind, value = "speech", None
            elif kind == "clear":
                kind, value = "heard", CLEAR_ANSWER.get(question.topic, "no")
            else:
                options = sorted(question.answers)
                kind, value = "heard", options[int(value) % len(options)]  # type: ignore[call-overload]
        if kind == "due":
            if not self.timers:
                return []
            kind, value = "timer", min(self.timers, key=self.timers.__getitem__)
        if kind == "heard":
            event = Heard(str(value), value)  # type: ignore[arg-type]
        elif kind == "timer":
            # A well-behaved adapter fires a timer only at or after its due time.
            due = self.timers.pop(str(value), None)
            if due is None:
                return []
            self.now = max(self.now, due)
            event = TimerFired(str(value))
        else:
            event = SpeechFinished()
        out = self.session.handle(event, self.now)
        for action in out:
            if isinstance(action, StartTimer):
                self.timers[action.name] = self.now + action.seconds
            elif isinstance(action, CancelTimer):
                self.timers.pop(action.name, None)
        self.actions += out
        return out


def check_invariants(actions: list) -> None:
    clear_topics: dict[str, str | None] = {}
    red_flag = False
    ended = False
    per_foot: dict[str, float] = defaultdict(float)
    for action in actions:
        assert not ended, f"{action} after the session ended"
        if isinstance(action, Answered):
            clear_topics[action.topic] = action.answer
        if isinstance(action, RuleActed) and action.rule in RED_FLAG_RULES:
            red_flag = True
        if isinstance(action, StepStarted):
            assert not red_flag, "technique after a red flag"
            answered = {t: clear_topics.get(t) for t in ALL_CLEAR_TOPICS}
            # Every safety question answered; "yes" only where the protocol allows going on.
            assert all(a is not None for a in answered.values()), f"technique before the check: {answered}"
            assert answered["inflammation"] == "no" and answered["circulation"] == "no"
        if isinstance(action, StepDone):
            per_foot[action.foot] += action.active_s
            assert per_foot[action.foot] <= PROTOCOL.timing.max_foot_s + 1e-6
        if isinstance(action, SessionEnded):
            red_flag = red_flag or action.reason == "red_flag"
            ended = True


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(biased)
def test_invariants_hold_for_any_event_sequence(sequence):
    run = Run()
    for (kind, value), dt in sequence:
        run.feed(kind, value, dt)
    check_invariants(run.actions)


@settings(max_examples=200, deadline=None)
@given(biased, st.floats(min_value=0, max_value=100))
def test_stop_ends_everything_from_any_state(sequence, dt):
    run = Run()
    for (kind, value), step_dt in sequence:
        run.feed(kind, value, step_dt)
    was_ended = run.session.ended
    out = run.feed("heard", "stop", dt)
    assert run.session.ended
    if not was_ended:
        assert isinstance(out[-1], SessionEnded) and out[-1].reason == "stopped"
        assert not any(isinstance(a, StepStarted) for a in out)
    # Nothing at all is said or started after the end, whatever comes next.
    for kind, value in [("heard", "resume"), ("timer", STEP_TIMER), ("speech", None), ("heard", "yes")]:
        assert run.feed(kind, value, 1.0) == []


def _all_clear_run() -> Run:
    run = Run()
    run.feed("heard", "yes", 1.0)
    for _ in ALL_CLEAR_TOPICS:
        run.feed("heard", "no", 1.0)
    assert run.session.state == "massaging"
    return run


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["pause", "resume", "skip", "repeat", "slower",
                                           "time_left", "help", None]),
                          st.floats(min_value=0, max_value=200)), max_size=60))
def test_commands_during_the_massage_never_exceed_15_minutes_a_foot(commands):
    run = _all_clear_run()
    for intent, dt in commands:
        run.feed("heard", intent, dt)
        run.feed("speech", None, 0.5)
        for name in list(run.timers):
            run.feed("timer", name, 0.0)
    # Let the session run to its end with no more commands.
    for _ in range(2000):
        run.feed("speech", None, 0.0)  # the speaker falls quiet; a question's wait starts
        if run.session.ended or not run.timers:
            break
        run.feed("due", None, 0.0)
    check_invariants(run.actions)
    assert run.session.ended


def test_red_flag_answer_ends_before_any_technique():
    for topic in ("inflammation", "circulation"):
        run = Run()
        run.feed("heard", "yes", 1.0)
        for t in ["skin.broken", "inflammation", "circulation"]:
            run.feed("heard", "yes" if t == topic else "no", 1.0)
            if run.session.ended:
                break
        assert run.session.end_reason == "red_flag"
        assert not any(isinstance(a, StepStarted) for a in run.actions)
        assert any(isinstance(a, Say) and "doctor or nurse" in a.text for a in run.actions)


def test_random_sequences_reach_every_part_of_the_session():
    """The generator is strong enough: its runs get into each part the invariants guard."""
    reached: dict[str, int] = defaultdict(int)

    @settings(max_examples=300, deadline=None, database=None, derandomize=True)
    @given(biased)
    def census(sequence):
        run = Run()
        states = set()
        for (kind, value), dt in sequence:
            run.feed(kind, value, dt)
            states.add(run.session.state)
        reached["massage"] += "massaging" in states
        reached["paused"] += "paused" in states
        reached["pain_offer"] += "pain_offer" in states
        reached["left"] += any(isinstance(a, StepStarted) and a.foot == "left" for a in run.actions)
        reached[str(run.session.end_reason)] += 1

    census()
    assert reached["massage"] >= 60, reached
    assert reached["left"] >= 15, reached
    # A full completed session is rare in random runs (seeds differ between machines); the
    # run to the end is checked by test_commands_during_the_massage_never_exceed_15_minutes_a_foot.
    for part in ("paused", "pain_offer", "red_flag", "stopped", "pain"):
        assert reached[part] >= 3, (part, reached)
