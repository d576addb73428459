"""Syllables of phrases and syllable nuclei of real and synthetic speech (syllables.py)."""

from __future__ import annotations

from assistant.recognition import evaluation as ev
from assistant.recognition.audio import from_pcm, read_wav
from assistant.recognition.garbage import pronunciations
from assistant.recognition.sphinx import stock_model_dir
from assistant.recognition.syllables import nuclei, phrase_syllables

LONG_PHRASES = ("go ahead", "no i don't", "yes i am", "a bit louder", "please go on", "what was that")


def test_a_phrase_has_as_many_syllables_as_vowels():
    prons = pronunciations(str(stock_model_dir() / "cmudict-en-us.dict"))
    count = lambda text: phrase_syllables([list(prons[w][0]) for w in text.split()])  # noqa: E731
    assert [count(t) for t in ("go", "go on", "no i don't", "quieter", "a bit louder")] == [1, 2, 3, 3, 4]


def test_one_real_word_shows_one_nucleus_and_a_phrase_said_fast_more(speech_commands, say):
    words = [p for w in ("go", "on") for p in ev.clips(w)][:60]
    single = [nuclei(from_pcm(read_wav(p))) for p in words]
    assert single.count(1) >= 0.8 * len(single), single
    several = {(text, voice, rate): nuclei(say(text, voice, rate))
               for text in LONG_PHRASES for voice, rate in (("en-us", 200), ("en-gb", 220), ("en+f3", 180))}
    assert all(n >= 2 for n in several.values()), several

