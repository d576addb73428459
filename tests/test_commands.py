"""Commands at any moment, silence, and time on the simulated clock."""

from __future__ import annotations

import pytest

from assistant.dialogue import Session, spoken_duration
from assistant.events import Answered, Heard, Listen, SessionEnded, SetVoice, StopSpeaking
from session_helpers import ALL_CLEAR, end_reason, kinds, rules, said, technique_by_foot


def step_span(events, foot, step):
    start = next(e["t"] for e in events if e["kind"] == "step" and (e["foot"], e["step"]) == (foot, step))
    done = next(e for e in events if e["kind"] == "step_done" and (e["foot"], e["step"]) == (foot, step))
    return start, done


def test_pause_freezes_step_time_and_resume_carries_on(simulate):
    events = simulate(ALL_CLEAR + "\nin effleurage +60: hold on\nafter +300: carry on")
    start, done = step_span(events, "right", "effleurage")
    assert done["active_s"] == pytest.approx(165.0)
    # Five minutes of pause are not technique time: the step took that much longer.
    assert done["t"] - start >= 165 + 300 - 1
    assert end_reason(events) == "completed"
    assert technique_by_foot(events)["right"] <= 900


def test_long_pause_gets_gentle_reminders_then_ends(simulate):
    events = simulate(ALL_CLEAR + "\nin toes +40: pause")
    reminders = [e for e in kinds(events, "say") if e["text"].startswith("I am still paused")]
    assert len(reminders) >= 3
    paused_at = next(e["t"] for e in kinds(events, "heard") if e["text"] == "pause")
    assert reminders[0]["t"] - paused_at == pytest.approx(60, abs=1)
    assert end_reason(events) == "no_answer"
    assert kinds(events, "end")[0]["t"] - paused_at >= 900


def test_stop_ends_at_once_from_narration(simulate):
    events = simulate(ALL_CLEAR + "\nin petrissage +5: please stop")
    assert end_reason(events) == "stopped"
    heard = kinds(events, "heard")[-1]["t"]
    assert all(e["t"] <= heard for e in kinds(events, "step"))
    assert "Start me again" in said(events)


@pytest.mark.parametrize("script", [
    "when ready: stop",
    "when ready: yes\nwhen skin.broken: stop",
    "when ready: yes\nwhen skin.broken: yes\nwhen skin.infected: stop now",
    ALL_CLEAR + "\nin lotion +1: stop",
    ALL_CLEAR + "\nin ankle +100: that's enough",
    ALL_CLEAR + "\nin toes +30: pause\nafter +20: stop",
    ALL_CLEAR + "\nin toes +30: ouch\nwhen go_on: stop",
    ALL_CLEAR.replace("when feel: better", "when feel: stop"),
])
def test_stop_works_in_every_phase(simulate, script):
    events = simulate(script)
    assert end_reason(events) == "stopped"
    assert "Stopped." in kinds(events, "say")[-1]["text"]


def test_stop_cuts_speech_first(protocol):
    session = Session(protocol)
    session.start(0.0)
    actions = session.handle(Heard("stop", "stop"), 1.0)
    assert isinstance(actions[0], StopSpeaking)
    assert isinstance(actions[-1], SessionEnded) and actions[-1].reason == "stopped"
    assert session.handle(Heard("yes", "yes"), 2.0) == []


def test_silence_asks_again_twice_then_never_counts_as_clear(simulate):
    events = simulate("when ready: yes")
    asks = [e for e in kinds(events, "ask") if e["topic"] == "skin.broken"]
    assert len(asks) == 3
    assert end_reason(events) == "no_answer"
    assert not kinds(events, "step")
    # About 8 s of silence after the question, then it is asked again.
    says = kinds(events, "say")
    reask = next(e for e in says if e["text"] == "I did not hear you.")
    assert reask["t"] - asks[0]["t"] == pytest.approx(8.0, abs=0.01)


def test_unclear_answer_gets_a_hint_and_never_counts_as_clear(simulate):
    events = simulate("when ready: yes\nwhen skin.broken: maybe a little")
    assert [e["intent"] for e in kinds(events, "heard")][1:] == [None, None, None]
    assert said(events).count("Please say yes, or no.") == 2
    assert end_reason(events) == "no_answer"
    assert not kinds(events, "step")


def test_skip_moves_to_the_next_step_with_time_so_far(simulate):
    events = simulate(ALL_CLEAR + "\nin petrissage +70: skip this step")
    _, done = step_span(events, "right", "petrissage")
    assert 30 < done["active_s"] < 225
    nxt = kinds(events, "step")[3]
    assert (nxt["foot"], nxt["step"]) == ("right", "toes")
    assert end_reason(events) == "completed"


def test_skip_cannot_skip_the_safety_check(simulate):
    events = simulate("when ready: yes\nwhen skin.broken: skip\n")
    assert "cannot skip the safety check" in said(events)
    assert not kinds(events, "step")


def test_repeat_help_and_time_left_during_narration(simulate):
    events = simulate(ALL_CLEAR + "\nin effleurage +50: say that again\nafter +10: help\n"
                      "after +10: how long is left")
    text = said(events)
    assert text.count("Now long, light strokes.") == 3  # both feet + the repeat
    assert "You can say: pause, carry on, stop" in text
    assert "left on this step, and about" in text


def test_repeat_during_a_question_asks_it_again_without_using_up_a_try(simulate):
    script = ALL_CLEAR.replace("when skin.broken: no", "when skin.broken: pardon")
    events = simulate(script + "\nafter +70: no\nwhen skin.broken: no")
    asks = [e["topic"] for e in kinds(events, "ask")]
    # Asked, then repeated on request four more times, none of them counted as a try.
    assert asks.count("skin.broken") >= 5
    assert "I did not hear you." not in said(events)
    assert end_reason(events) == "completed"


def test_endless_commands_instead_of_an_answer_still_end(simulate):
    events = simulate("when ready: yes\nwhen skin.broken: help")
    assert end_reason(events) == "no_answer"
    assert not kinds(events, "step")


def test_voice_changes_are_bounded(protocol):
    session = Session(protocol)
    session.start(0.0)
    rates = []
    for _ in range(5):
        for action in session.handle(Heard("slower", "slower"), 1.0):
            if isinstance(action, SetVoice):
                rates.append(action.rate_wpm)
    assert rates[0] == protocol.voice.rate_wpm - protocol.voice.rate_step
    assert min(rates) == protocol.voice.rate_min
    session = Session(protocol)
    session.start(0.0)
    volumes = []
    for _ in range(5):
        for action in session.handle(Heard("louder", "louder"), 2.0):
            if isinstance(action, SetVoice):
                volumes.append(action.volume)
    assert max(volumes) == protocol.voice.volume_max


def test_slower_makes_speech_take_longer(simulate):
    base = simulate(ALL_CLEAR)
    slow = simulate(ALL_CLEAR + "\nafter +1: slower\nafter +1: slower")
    assert kinds(slow, "end")[0]["t"] > kinds(base, "end")[0]["t"]


def test_resume_or_yes_while_paused(simulate):
    events = simulate(ALL_CLEAR + "\nin effleurage +40: wait a moment\nafter +30: yes")
    assert "Carrying on." in said(events)
    assert end_reason(events) == "completed"


def test_pause_during_a_question_waits_longer(simulate):
    events = simulate("when ready: yes\nafter +35: hold on\n")
    waits = [e for e in kinds(events, "say") if e["text"] == "Take your time. I will wait."]
    assert len(waits) == 1
    nxt = next(e for e in kinds(events, "say") if e["t"] > waits[0]["t"])
    assert nxt["t"] - waits[0]["t"] >= 60


def test_spoken_durations_read_naturally():
    assert spoken_duration(30) == "under a minute"
    assert spoken_duration(60) == "a minute"
    assert spoken_duration(90) == "a minute and a half"
    assert spoken_duration(165) == "3 minutes"
    assert spoken_duration(1440) == "24 minutes"
    assert spoken_duration(150) == "2 and a half minutes"


def test_gentler_adaptation_is_shorter(simulate):
    from assistant.dialogue import Adaptation, Notice

    events = simulate(ALL_CLEAR, Adaptation(duration_scale=0.8, gentle=True,
                                            opening=(Notice("remind.gentle", "monitor.worse"),)))
    per_foot = technique_by_foot(events)
    assert all(s == pytest.approx(720 * 0.8, abs=1) for s in per_foot.values())
    assert rules(events)[0] == "monitor.worse"
    assert rules(events).count("monitor.worse") == 3  # opening, then each foot


def test_an_answer_begun_before_its_question_was_asked_is_not_its_answer(protocol):
    """"No... no": the second "no", begun as the next safety question starts, answered the
    question before; it must not also answer this one, which the user has not heard."""
    session = Session(protocol)
    session.start(0.0)
    session.handle(Heard("yes", "yes", began_at=0.5), 1.0)  # ready: the first question is asked
    actions = session.handle(Heard("no", "no", began_at=5.0), 6.0)
    asked = next(a for a in actions if isinstance(a, Listen) and a.topic)
    # The second "no" began 0.1 s before the next question was asked, and was decided after.
    assert session.handle(Heard("no", "no", began_at=5.9), 6.5) == []
    # Said once the question was heard (or typed, with no time), it counts.
    later = session.handle(Heard("no", "no", began_at=9.0), 10.0)
    assert any(isinstance(a, Answered) and a.topic == asked.topic for a in later)
    typed = session.handle(Heard("no", "no"), 10.1)
    assert any(isinstance(a, Answered) for a in typed)
