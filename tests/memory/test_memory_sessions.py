"""Whole simulated sessions with a memory: what is recorded, and how the next session adapts."""

from __future__ import annotations

import json

import pytest

from assistant.cli import main
from assistant.dialogue import Session
from assistant.memory import Memory, open_memory
from assistant.memory.policy import load_policy
from .memory_helpers import ALL_CLEAR, CHECK_NO, PAIN_WORSE, planned_of, rules_of

FEEL_BETTER = CHECK_NO + "when feel: better\n"
FEEL_WORSE = CHECK_NO + "when feel: worse\n"
POLICY = load_policy()


def test_a_session_is_recorded_with_answers_rules_steps_reports_and_feeling(db, clock, session):
    memory = open_memory(db, clock=clock)
    sim = session(memory, PAIN_WORSE.read_text())
    [rec] = memory.store.sessions()
    memory.close()

    assert (rec.status, rec.end_reason, rec.feeling, rec.mode) == ("ended", "completed", "worse", "simulate")
    assert rec.answers == {"ready": "yes", "skin.broken": "no", "inflammation": "no", "circulation": "no",
                           "sensitive.areas": "no", "go_on": "yes", "feel": "worse"}
    assert [r for _, r in rec.rules] == rules_of(sim)
    assert [(s.foot, s.step) for s in rec.steps] == [
        (foot, step) for foot in ("right", "left")
        for step in ("lotion", "effleurage", "petrissage", "toes", "ankle")]
    assert all(s.active_s == s.planned_s and s.ended_t > s.started_t for s in rec.steps)
    [report] = rec.reports
    assert (report.kind, report.foot, report.step) == ("pain", "right", "effleurage")
    effleurage = rec.steps[1]
    assert report.t - effleurage.started_t == 30.0
    end_t = sim.events[-1]["t"]
    assert abs((rec.ended_at - rec.started_at).total_seconds() - end_t) < 60
    assert rec.started_at == clock.now


def test_after_pain_and_worse_the_next_session_is_gentler_and_shorter_and_says_why(db, clock, session):
    with open_memory(db, clock=clock) as memory:
        first = session(memory, PAIN_WORSE.read_text())
    clock.advance(days=1)
    with open_memory(db, clock=clock) as memory:
        second = session(memory, ALL_CLEAR.read_text())

    assert rules_of(first)[0] == "duration.per_foot"  # nothing remembered yet: no opening notice
    assert rules_of(second)[:2] == ["frequency", "monitor.worse"]
    said = [e["text"] for e in second.events if e["kind"] == "say"]
    assert "Your last massage was yesterday. Once a day is a good routine." in said
    assert any(text.startswith("Last time, the massage hurt, and your feet felt worse") for text in said)
    assert "Today, keep your touch extra light." in said
    assert sum(planned_of(second)) == pytest.approx(POLICY.gentle_scale * sum(planned_of(first)))
    assert all(b < a for a, b in zip(planned_of(first), planned_of(second)))


def test_a_good_session_brings_back_the_usual_plan(db, clock, session, protocol):
    with open_memory(db, clock=clock) as memory:
        session(memory, FEEL_WORSE)
        clock.advance(days=1)
        session(memory, FEEL_BETTER)
        clock.advance(days=2)
        third = session(memory, FEEL_BETTER)
    assert "monitor.worse" not in rules_of(third)
    assert rules_of(third)[0] == "frequency"
    assert sum(planned_of(third)) == Session(protocol).planned_total_s


def test_worse_again_and_again_advises_a_break_and_a_provider(db, clock, session, protocol):
    with open_memory(db, clock=clock) as memory:
        for _ in range(3):
            session(memory, FEEL_WORSE)
            clock.advance(days=1)
        fourth = session(memory, FEEL_WORSE)
    said = [e["text"] for e in fourth.events if e["kind"] == "say"]
    assert any("stop the massages for a while, and talk to your doctor or nurse" in t for t in said)
    assert rules_of(fourth)[:2] == ["frequency", "monitor.worse"]
    assert sum(planned_of(fourth)) == pytest.approx(POLICY.min_scale * Session(protocol).planned_total_s)


def test_the_voice_the_user_chose_is_remembered(db, clock, session, protocol):
    with open_memory(db, clock=clock) as memory:
        session(memory, FEEL_BETTER + "in lotion +5: slower\nafter +5: louder\n")
        clock.advance(hours=20)
        adaptation = memory.adaptation(protocol)
    assert adaptation.rate_wpm == protocol.voice.rate_wpm - protocol.voice.rate_step
    assert adaptation.volume == round(protocol.voice.volume + protocol.voice.volume_step, 2)


def test_a_session_closed_before_its_end_is_interrupted_and_the_next_start_says_so(db, clock, protocol):
    memory = open_memory(db, clock=clock)
    observer = memory.begin("run", memory.adaptation(protocol))
    observer(0.0, object())
    memory.close()  # e.g. Ctrl-C
    clock.advance(minutes=5)
    with open_memory(db, clock=clock) as memory:
        [rec] = memory.store.sessions()
        adaptation = memory.adaptation(protocol)
    assert rec.status == "interrupted"
    # Cut off before any massage: it says so, and no "you already had a massage today".
    assert [n.line for n in adaptation.opening] == ["memory.interrupted"]


def test_no_memory_means_the_plain_session(session, protocol):
    memory = Memory(None)
    sim = session(memory, ALL_CLEAR.read_text())
    assert rules_of(sim)[0] == "duration.per_foot"
    assert sum(planned_of(sim)) == Session(protocol).planned_total_s


def test_two_scripted_sessions_with_db_are_listed_by_history_json(tmp_path, capsys):
    """The issue's 'done when', through the command line."""
    db = str(tmp_path / "h.db")
    assert main(["simulate", "--script", str(PAIN_WORSE), "--db", db, "--json"]) == 0
    assert main(["simulate", "--script", str(ALL_CLEAR), "--db", db, "--json"]) == 0
    out = capsys.readouterr().out.splitlines()
    events = [json.loads(line) for line in out]
    split = next(i for i, e in enumerate(events) if e["kind"] == "end") + 1
    first, second = events[:split], events[split:]
    rules2 = [e["id"] for e in second if e["kind"] == "rule"]
    assert "monitor.worse" in rules2
    planned1 = sum(e["planned_s"] for e in first if e["kind"] == "step")
    planned2 = sum(e["planned_s"] for e in second if e["kind"] == "step")
    assert planned2 < planned1

    assert main(["history", "--db", db, "--json"]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [s["id"] for s in listed] == [1, 2]
    assert listed[0]["feeling"] == "worse" and listed[0]["reports"][0]["kind"] == "pain"
    assert listed[1]["gentle"] is True and listed[1]["duration_scale"] == 0.8
    assert "monitor.worse" in [r["rule"] for r in listed[1]["rules"]]
    assert listed[1]["planned_s"] == planned2 < listed[0]["planned_s"] == planned1
    assert listed[0]["started_at"] <= listed[1]["started_at"]
