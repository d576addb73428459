"""The Vosk engine on a real Vosk model (Korean, from PyPI), spoken by espeak-ng -v ko."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.recognition import RecognizerError
from assistant.recognition import evaluation as ev
from assistant.recognition.files import recognize_pcm
from assistant.recognition.vosk_engine import VoskRecognizer

pytestmark = pytest.mark.slow

VOICES = [("ko", 130), ("ko", 170), ("ko+f3", 150)]


def heard(recognizer, x: np.ndarray):
    return recognize_pcm(recognizer, ev.pcm(x))


COMMANDS = [("멈춰", "stop"), ("정지", "stop"), ("계속", "resume"), ("아파", "pain"), ("도와줘", "help")]


def test_commands_are_recognised(korean, say):
    """Every command in several voices and rates: nearly all heard, none as another intent."""
    korean.set_grammar("narration")
    results = []
    for text, intent in COMMANDS:
        for voice, rate in VOICES:
            hyp = heard(korean, say(text, voice, rate))
            results.append((text, voice, rate, intent, hyp.intent if hyp else None))
    right = [r for r in results if r[3] == r[4]]
    wrong = [r for r in results if r[4] not in (None, r[3])]
    assert len(right) >= 0.75 * len(results), results
    assert not wrong, wrong


@pytest.mark.parametrize("text,intent", [("정지 주세요", "stop"), ("계속 주세요", "resume")])
def test_a_two_word_phrase_is_one_command(korean, say, text, intent):
    """Heard whole, never as its first word alone (measured: 16 of 16 takes of "정지 주세요",
    14 of 16 of "계속 주세요"; espeak-ng's slow plain "ko" voice reads its first syllable as 예)."""
    korean.set_grammar("narration")
    takes = [(voice, rate) for voice in ("ko", "ko+f3") for rate in (110, 130, 150, 170)]
    hyps = [heard(korean, say(text, voice, rate)) for voice, rate in takes]
    assert all(h is None or (h.text, h.intent) == (text, intent) for h in hyps), hyps
    assert sum(h is not None for h in hyps) >= 0.75 * len(takes), hyps


def test_each_recording_is_heard_as_if_it_came_first(korean, say):
    """Kaldi's Reset() keeps the feature pipeline, which adapts to what it has heard: without a
    fresh recogniser per recording, a file's result hung on the files before it."""
    take = say("계속 주세요", "ko", 130)
    korean.set_grammar("narration")
    first = heard(korean, take)
    for text, _ in COMMANDS:
        for voice, rate in VOICES:
            heard(korean, say(text, voice, rate))
    assert heard(korean, take) == first


def test_grammar_switching_changes_what_is_heard(korean, say):
    yes = say("네", "ko", 140)
    korean.set_grammar("answer")
    hyp = heard(korean, yes)
    assert hyp is not None and hyp.intent == "yes"
    korean.set_grammar("narration")  # no yes/no here: the answer must not become a command
    assert heard(korean, yes) is None
    korean.set_grammar("answer")
    assert heard(korean, say("아니요", "ko", 140)).intent == "no"


@pytest.mark.parametrize("text", ["안녕하세요 오늘 날씨가 좋네요", "학교에 가는 길에 사과를 샀어요", "바나나 세 개 주세요"])
def test_other_speech_is_rejected(korean, say, text):
    korean.set_grammar("answer")
    assert heard(korean, say(text, "ko", 150)) is None


def test_silence_and_noise_are_rejected(korean, quiet_and_noise):
    korean.set_grammar("answer")
    for name, x in quiet_and_noise:
        assert heard(korean, x) is None, name


def test_streaming_acts_before_the_stream_ends(korean, say, stream):
    """A command followed by a long stretch of room tone is reported as soon as it is certain."""
    korean.set_grammar("narration")
    hyp, at_s = stream(korean, np.concatenate([say("멈춰", "ko", 150), ev.pad(np.zeros(16000 * 4, np.float32))]))
    assert hyp is not None and hyp.intent == "stop", hyp
    assert at_s < 3.0, f"heard only after {at_s:.1f} s of a 5 s stream"


def test_each_command_says_where_it_began_also_after_a_grammar_switch(korean, say):
    """Word times of a Vosk recogniser run on over its whole life; the hypothesis turns them
    into seconds since the utterance began, for whichever grammar is listening."""
    gap = ev.pad(np.zeros(16000 * 2, np.float32))
    for grammar in ("narration", "answer", "narration"):
        korean.set_grammar(grammar)
        word = say("멈춰", "ko", 150)
        pcm = ev.pcm(np.concatenate([gap, word, gap]))
        onset = len(gap) / 16000 + 0.3  # `say` leads with 0.3 s of room tone
        hyp = None
        for i in range(0, len(pcm), 3200):
            if hyp := korean.accept(pcm[i:i + 3200]):
                began = (i + 3200) / 32000 - hyp.utterance_s
                break
        assert hyp is not None and hyp.intent == "stop", (grammar, hyp)
        assert abs(began - onset) < 0.3, (grammar, began, onset)


def test_a_missing_model_says_how_to_fix_it(tmp_path: Path, korean_grammars):
    with pytest.raises(RecognizerError, match="footcare models download"):
        VoskRecognizer(korean_grammars, tmp_path / "nowhere")


def test_a_broken_model_says_how_to_fix_it(tmp_path: Path, korean_grammars, korean_model):
    broken = tmp_path / "vosk-model-small-en-us-0.15"
    (broken / "am").mkdir(parents=True)
    (broken / "conf").mkdir()
    (broken / "am" / "final.mdl").write_bytes(b"not a model")
    (broken / "conf" / "model.conf").write_text((korean_model / "conf" / "model.conf").read_text())
    with pytest.raises(RecognizerError, match="missing or broken"):
        VoskRecognizer(korean_grammars, broken)
