"""The spotting decision without audio: which phrases go to which search, which word counts."""

from __future__ import annotations

from assistant.recognition.spotting import SEARCH_FLOOR, Arbiter, Spotted, ThresholdRule, plan

PHONES = {"stop": 4, "please": 4, "no": 2, "more": 2, "aye": 1, "ow": 1, "yes": 3, "sure": 2,
          "not": 3, "carry": 4, "on": 2, "go": 2}


def phones(word: str) -> int:
    return PHONES[word]


OWN = {"stop": "stop", "please stop": "stop", "no more": "stop", "no": "no", "yes": "yes",
       "aye": "yes", "not sure": "unsure", "ow ow": "pain"}
OTHERS = {"carry on": "resume", "sure": "yes"}


def test_one_word_phrases_are_spotted_and_longer_ones_left_to_the_grammar():
    split = plan(OWN, OTHERS, phones)
    spotted = {k.text: k for k in split.keyphrases}
    assert set(spotted) == {"stop", "no", "yes", "sure"}  # "aye" is one phone: never spotted
    assert spotted["stop"].listening and not spotted["sure"].listening
    assert split.grammar_owned == {"please stop", "no more", "not sure", "carry on"}  # "ow ow": too few phones
    assert split.phrases["carry on"] == "resume"
    assert "stop /1e-40/" in split.kws_file_text().splitlines()


def test_a_word_inside_a_phrase_of_another_intent_waits_for_the_end():
    split = plan(OWN, OTHERS, phones)
    assert split.waits == {"no", "sure"}  # "no more" is stop, "not sure" is unsure; "stop" acts at once


def test_short_words_need_a_larger_margin_and_overrides_win():
    rule = ThresholdRule(offset=400, per_phone=-50, overrides={"stop": -350})
    assert rule.threshold("no", 2) == 400
    assert rule.threshold("please", 4) == 300
    assert rule.threshold("stop", 4) == -350
    assert rule.threshold("supercalifragilistic", 60) == SEARCH_FLOOR


def _arbiter() -> Arbiter:
    rule = ThresholdRule(overrides={"stop": -350, "yes": 50, "no": 300})
    return Arbiter(plan(OWN, OTHERS, phones, rule), hold_frames=30)


def test_a_word_acts_once_it_has_held_and_only_once():
    arb = _arbiter()
    seen = [Spotted("stop", 40, -100)]
    assert arb.update(seen, 50) is None  # not held long enough yet
    assert arb.update(seen, 70).text == "stop"
    assert arb.update(seen + [Spotted("yes", 80, 900)], 120) is None
    assert arb.close(seen, 130) is None


def test_a_safety_command_acts_at_once_and_other_words_still_hold():
    arb = Arbiter(plan(OWN, OTHERS, phones, ThresholdRule(overrides={"stop": -350, "yes": 50})),
                  hold_frames=30, urgent=frozenset({"stop"}))
    assert arb.update([Spotted("yes", 40, 400)], 41) is None  # "yes" waits for a better reading
    arb.reset()
    assert arb.update([Spotted("stop", 40, -100)], 41).text == "stop"


def test_below_its_threshold_a_word_does_not_count_but_can_support_the_grammar():
    arb = _arbiter()
    assert arb.close([Spotted("no", 10, 250)], 100) is None
    assert arb.supports("no", slack=100) and not arb.supports("no", slack=10)
    assert not arb.supports("yes", slack=1000)  # never spotted at all


def test_the_word_furthest_above_its_threshold_wins():
    arb = _arbiter()
    won = arb.close([Spotted("yes", 20, 100), Spotted("stop", 22, -200)], 40)
    assert won.text == "stop"  # 150 above its threshold against 50


def test_another_states_word_wins_like_any_other_and_is_dropped():
    arb = _arbiter()
    assert arb.close([Spotted("sure", 20, 900), Spotted("yes", 20, 60)], 40) is None


def test_a_waiting_word_is_decided_only_at_the_end():
    arb = _arbiter()
    assert arb.update([Spotted("no", 10, 500)], 200) is None  # could still be "no more"
    assert arb.close([Spotted("no", 10, 500)], 210).intent == "no"
