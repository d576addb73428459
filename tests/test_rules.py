"""Each rule of the guide, acting where the guide says and nowhere else."""

from __future__ import annotations

from session_helpers import ALL_CLEAR, end_reason, kinds, rules, said, technique_by_foot

CHECK_RULES = {"skin.broken", "inflammation", "circulation", "sensitive.areas"}
REQUIRED_RULES = CHECK_RULES | {
    "pressure.light", "pain.reduce", "pain.repeated", "duration.per_foot", "frequency",
    "monitor.worse",
}
STEPS = ["lotion", "effleurage", "petrissage", "toes", "ankle"]


def answers(**topics: str) -> str:
    """A script answering every check question with 'no' except the ones given."""
    base = {"ready": "yes", "skin.broken": "no", "inflammation": "no", "circulation": "no",
            "sensitive.areas": "no", "feel": "better"}
    base.update({k.replace("_", "."): v for k, v in topics.items()})
    return "\n".join(f"when {topic}: {phrase}" for topic, phrase in base.items())


def test_protocol_has_every_rule_with_a_stable_id(protocol):
    assert REQUIRED_RULES <= set(protocol.rules)
    for rule in protocol.rules.values():
        assert rule.guide and rule.acts


def test_all_clear_session_runs_every_step_on_both_feet(simulate):
    events = simulate(ALL_CLEAR)
    assert end_reason(events) == "completed"
    steps = [(e["foot"], e["step"]) for e in kinds(events, "step")]
    assert steps == [(f, s) for f in ("right", "left") for s in STEPS]
    done = [(e["foot"], e["step"]) for e in kinds(events, "step_done")]
    assert done == steps
    # No check rule acts when every answer is no.
    assert not CHECK_RULES & set(rules(events))
    assert not {"pain.reduce", "pain.repeated", "monitor.worse"} & set(rules(events))


def test_each_foot_gets_10_to_15_minutes_of_technique(simulate):
    per_foot = technique_by_foot(simulate(ALL_CLEAR))
    assert set(per_foot) == {"right", "left"}
    for seconds in per_foot.values():
        assert 600 <= seconds <= 900


def test_duration_rule_acts_once_per_foot_as_each_foot_starts(simulate):
    events = simulate(ALL_CLEAR)
    assert rules(events).count("duration.per_foot") == 2
    for i, e in enumerate(events):
        if e["kind"] == "rule" and e["id"] == "duration.per_foot":
            nxt = next(x for x in events[i:] if x["kind"] == "step")
            assert nxt["step"] == "lotion"


def test_light_pressure_reminded_at_effleurage_and_kneading(simulate):
    events = simulate(ALL_CLEAR)
    assert rules(events).count("pressure.light") == 4
    text = said(events)
    assert "Never press hard" in text and "never more than medium" in text


def test_frequency_advice_at_the_end(simulate):
    events = simulate(ALL_CLEAR)
    assert rules(events).count("frequency") == 1
    last_step = max(i for i, e in enumerate(events) if e["kind"] == "step_done")
    freq = next(i for i, e in enumerate(events) if e["kind"] == "rule" and e["id"] == "frequency")
    assert freq > last_step
    text = said(events)
    assert "once a day" in text and "before bed" in text.lower() and "two or three times a week" in text


def test_skin_broken_infected_means_no_massage(simulate):
    events = simulate(answers(skin_broken="yes", skin_infected="yes"))
    assert end_reason(events) == "red_flag"
    assert "skin.broken" in rules(events)
    assert not kinds(events, "step")
    assert "doctor or nurse" in said(events)


def test_skin_broken_avoidable_keeps_away_on_that_foot_only(simulate):
    events = simulate(answers(skin_broken="yes", skin_infected="no", skin_where="right",
                              skin_avoid="yes"))
    assert end_reason(events) == "completed"
    feet = {e["foot"] for e in kinds(events, "step")}
    assert feet == {"right", "left"}
    # The reminder comes when the right foot starts, not the left.
    reminders = [i for i, e in enumerate(events) if e["kind"] == "say" and "sore spot" in e["text"]]
    assert len(reminders) == 1
    first_left = next(i for i, e in enumerate(events) if e["kind"] == "step" and e["foot"] == "left")
    assert reminders[0] < first_left


def test_skin_broken_unavoidable_skips_that_foot(simulate):
    events = simulate(answers(skin_broken="yes", skin_infected="no", skin_where="the left one",
                              skin_avoid="no"))
    assert end_reason(events) == "completed"
    assert {e["foot"] for e in kinds(events, "step")} == {"right"}
    assert "left foot out" in said(events)


def test_skin_broken_on_both_feet_unavoidable_means_no_massage(simulate):
    events = simulate(answers(skin_broken="yes", skin_infected="no", skin_where="both",
                              skin_avoid="no"))
    assert end_reason(events) == "red_flag"
    assert not kinds(events, "step")


def test_skin_broken_with_no_further_answer_is_never_all_clear(simulate):
    events = simulate(answers(skin_broken="yes"))
    assert "skin.broken" in rules(events)
    assert end_reason(events) == "no_answer"
    assert not kinds(events, "step")


def test_inflammation_means_no_massage_and_a_provider(simulate):
    events = simulate(answers(inflammation="yes"))
    assert end_reason(events) == "red_flag"
    assert rules(events) == ["inflammation"]
    assert not kinds(events, "step")
    assert "blood clot" in said(events) and "doctor or nurse" in said(events)


def test_circulation_means_no_massage_and_a_provider(simulate):
    events = simulate(answers(circulation="yes it is"))
    assert end_reason(events) == "red_flag"
    assert rules(events) == ["circulation"]
    assert not kinds(events, "step")


def test_sensitive_areas_reminded_where_pressure_is_applied(simulate):
    events = simulate(answers(sensitive_areas="yes"))
    assert end_reason(events) == "completed"
    acting = [i for i, e in enumerate(events) if e["kind"] == "rule" and e["id"] == "sensitive.areas"]
    # Once at the answer, then at kneading and toes of each foot.
    assert len(acting) == 5
    for i in acting[1:]:
        step = next(e for e in reversed(events[:i]) if e["kind"] == "step")
        assert step["step"] in ("petrissage", "toes")


def test_pain_eases_off_and_offers_to_go_on(simulate):
    events = simulate(answers() + "\nin petrissage +60: ouch\nwhen go_on: yes please")
    assert "pain.reduce" in rules(events)
    assert "pain.repeated" not in rules(events)
    assert end_reason(events) == "completed"
    assert "Ease off now" in said(events)
    assert [e["topic"] for e in kinds(events, "ask")].count("go_on") == 1


def test_pain_not_going_on_ends_for_today(simulate):
    events = simulate(answers() + "\nin toes +20: that hurts\nwhen go_on: no")
    assert end_reason(events) == "pain"
    assert rules(events).count("pain.reduce") == 1
    last_step = kinds(events, "step")[-1]
    assert (last_step["foot"], last_step["step"]) == ("right", "toes")


def test_second_pain_report_stops_for_today(simulate):
    events = simulate(answers() + "\nin effleurage +30: ouch\nwhen go_on: yes\n"
                      "in petrissage +60: it's tingling")
    assert rules(events).count("pain.reduce") == 1
    assert rules(events).count("pain.repeated") == 1
    assert end_reason(events) == "pain"
    # The interrupted step is closed, with its time so far.
    done = kinds(events, "step_done")[-1]
    assert done["step"] == "petrissage" and 0 < done["active_s"] < 225


def test_worse_after_the_session_acts_monitor_worse(simulate):
    events = simulate(answers(feel="worse"))
    assert "monitor.worse" in rules(events)
    assert "lighter touch and a shorter time" in said(events)
    better = simulate(answers(feel="better"))
    assert "monitor.worse" not in rules(better)


def test_i_dont_know_is_never_taken_for_no(simulate):
    """'I don't know' holds "no" inside it: it is its own answer, asked again, never all-clear."""
    events = simulate(answers(inflammation="i don't know"))
    heard = [e for e in kinds(events, "heard") if e.get("text") == "i don't know"]
    assert heard and all(e["intent"] == "unsure" for e in heard)
    assert not kinds(events, "step")
    assert end_reason(events) != "completed"
    assert "ask someone to look" in said(events)
