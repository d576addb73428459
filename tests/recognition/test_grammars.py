"""The phrase content: one source of truth for the matcher and the recognisers."""

from __future__ import annotations

import pytest
from pocketsphinx import Decoder, get_model_path

from assistant.intents import Grammars
from assistant.recognition.fsg import phrase_priors, trie_transitions, with_garbage
from assistant.recognition.phrases import phrase_set
from assistant.recognition.sphinx import EXTRA_PRONUNCIATIONS

GRAMMARS = Grammars()


@pytest.mark.parametrize("text,grammar,intent", [
    ("please stop", "narration", "stop"),
    ("that hurts", "narration", "pain"),
    ("ouch", "narration", "pain"),
    ("hold on", "narration", "pause"),
    ("wait a moment", "narration", "pause"),
    ("carry on", "narration", "resume"),
    ("yes please", "answer", "yes"),
    ("i don't think so", "answer", "no"),
    ("i'm ready", "ready", "ready"),
    ("much better", "feel", "better"),
    ("about the same", "feel", "same"),
    ("a bit worse", "feel", "worse"),
    ("the left one", "foot", "left"),
])
def test_what_people_really_say_is_understood(text, grammar, intent):
    assert GRAMMARS.match(text, grammar).intent == intent
    assert phrase_set(GRAMMARS, grammar).intent_of(text) == intent


def test_each_state_listens_only_for_its_intents():
    assert phrase_set(GRAMMARS, "narration").intent_of("yes please") is None
    assert phrase_set(GRAMMARS, "answer").intent_of("the left one") is None


@pytest.mark.parametrize("grammar", sorted(GRAMMARS.named))
def test_recogniser_phrases_are_the_matcher_phrases(grammar):
    """Every recogniser phrase is matched by the text matcher to the same intent."""
    phrases = phrase_set(GRAMMARS, grammar)
    for text, intent in list(phrases.by_phrase.items())[::7]:
        assert GRAMMARS.match(text, grammar).intent == intent, text


def test_every_word_can_be_pronounced_by_the_builtin_engine():
    d = Decoder(hmm=get_model_path("en-us/en-us"), dict=get_model_path("en-us/cmudict-en-us.dict"),
                lm=None, loglevel="FATAL")
    words = {w for g in GRAMMARS.named for w in phrase_set(GRAMMARS, g).words}
    missing = sorted(w for w in words if d.lookup_word(w) is None and w not in EXTRA_PRONUNCIATIONS)
    assert not missing


def test_the_grammar_fsg_accepts_exactly_the_phrases():
    d = Decoder(hmm=get_model_path("en-us/en-us"), dict=get_model_path("en-us/cmudict-en-us.dict"),
                lm=None, loglevel="FATAL")
    phrases = phrase_set(GRAMMARS, "answer")
    start, final, transitions = trie_transitions(phrase_priors(phrases.by_phrase))
    transitions = with_garbage(start, final, transitions, ["table", "river"], 0.3)
    fsg = d.create_fsg("t", start, final, transitions)
    for text in ["stop", "stop it", "yes please", "i don't think so", "carry on", "table river"]:
        assert fsg.accept(text), text
    for text in ["stop table", "yes it", "please", "carry", "table river table"]:
        assert not fsg.accept(text), text


def test_priors_give_each_intent_the_same_weight():
    priors = phrase_priors({"a": "x", "b": "x", "c": "x", "d": "y"})
    assert priors["d"] == pytest.approx(0.5)
    assert sum(priors.values()) == pytest.approx(1.0)


def test_a_phrase_that_begins_one_of_another_intent_waits_for_the_end():
    answer = phrase_set(Grammars(), "answer")
    assert "i do" in answer.open_ended and "no" in answer.open_ended  # "i do not think so", "no more"
    assert answer.settled("stop") and answer.settled("yes")  # "stop it" is still stop
    assert not answer.settled("i do") and not answer.settled("banana")
