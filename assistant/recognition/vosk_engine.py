"""The main engine: Vosk (Kaldi) with a runtime grammar of the phrases.

Rejection, in order: the grammar includes `[unk]` when the model has it, and the phrases
of the intents this state does not listen for, so other words have somewhere to go; a result must be exactly one phrase (Vosk's grammar lets phrases
follow each other, and a run of several is what other speech turns into); every word must
reach a minimum confidence and a plausible duration. Partial results are acted on only
with `[unk]` in the grammar: without it other words cannot show up in the partial text, so
a phrase that stays the best partial guess proves nothing until the utterance ends.
"""

from __future__ import annotations

import json
from pathlib import Path

from assistant.intents import Grammars
from assistant.recognition.phrases import PhraseSet, other_phrases, phrase_set
from assistant.recognition.stability import PartialGate
from assistant.recognition.types import Hypothesis, RecognizerError

SAMPLE_RATE = 16000
UNK = "[unk]"
MIN_WORD_CONF = 0.3
MIN_WORD_S = 0.08
MAX_WORD_S = 1.6


class VoskRecognizer:
    """Streaming phrase recogniser on a Vosk model, one KaldiRecognizer per grammar."""

    sample_rate = SAMPLE_RATE

    def __init__(self, grammars: Grammars | None, model: str | Path) -> None:
        try:
            import vosk
        except ImportError:
            raise RecognizerError("Vosk is not installed; run `.venv/bin/pip install vosk`") from None
        vosk.SetLogLevel(-1)
        self._vosk = vosk
        path = Path(model)
        try:
            self._model = vosk.Model(str(path))
        except Exception:  # vosk raises a bare Exception when the model does not load
            raise RecognizerError(f"the Vosk model in {path} is missing or broken; run "
                                  f"`footcare models download` (or delete {path} and download again)") from None
        self.model_path = path
        self.grammars = grammars or Grammars()
        self.has_unk = self._model.vosk_model_find_word(UNK) >= 0
        self._recognizers: dict[str, tuple[PhraseSet, object]] = {}
        self._gate = PartialGate()
        self._fed_s: dict[str, float] = {}
        """Seconds of audio each grammar's recogniser has had: the clock of its word times,
        and of the partial-result gate (which starts afresh at each grammar switch)."""
        self.phrases: PhraseSet
        for name in self.grammars.named:  # up front: a switch mid-session must be instant
            self._recognizers[name] = self._build(name)
        self.set_grammar("narration")

    def set_grammar(self, grammar: str) -> None:
        if grammar not in self._recognizers:
            self._recognizers[grammar] = self._build(grammar)
        self.phrases, self._rec = self._recognizers[grammar]
        self.reset()

    def accept(self, pcm: bytes) -> Hypothesis | None:
        grammar = self.phrases.grammar
        self._fed_s[grammar] = self._fed_s.get(grammar, 0.0) + len(pcm) / 2 / SAMPLE_RATE
        if self._rec.AcceptWaveform(pcm):
            result = json.loads(self._rec.Result())
            fired = self._gate.fired
            self._gate.reset()
            return None if fired else self._judge(result.get("result", []), final=True)
        partial = json.loads(self._rec.PartialResult())
        text = partial.get("partial", "")
        complete = self.has_unk and self.phrases.settled(text)
        if self._gate.update(text, complete, self._fed_s[grammar]):
            return self._judge(partial.get("partial_result", []), final=False)
        return None

    def finish(self) -> Hypothesis | None:
        """End of the stream: decide on the utterance still open, if any."""
        result = json.loads(self._rec.FinalResult())
        fired = self._gate.fired
        self._gate.reset()
        return None if fired else self._judge(result.get("result", []), final=True)

    def reset(self) -> None:
        self._rec.Reset()
        self._gate.reset()

    def new_stream(self) -> None:
        """A fresh Kaldi recogniser for the grammar (about 1 ms): Reset() keeps the feature
        pipeline, whose adaptation to earlier recordings made a file's result depend on the
        files before it (a Korean "계속 주세요" was heard alone and refused after 140 tests)."""
        grammar = self.phrases.grammar
        self._recognizers[grammar] = self._build(grammar)
        self._fed_s[grammar] = 0.0
        self.set_grammar(grammar)

    def _build(self, grammar: str) -> tuple[PhraseSet, object]:
        """Phrases whose words the model knows, as a Vosk grammar."""
        phrases = phrase_set(self.grammars, grammar)
        known = {p: i for p, i in phrases.by_phrase.items()
                 if all(self._model.vosk_model_find_word(w) >= 0 for w in p.split())}
        if not known:
            raise RecognizerError(f"the Vosk model in {self.model_path} knows none of the words of "
                                  f"grammar {grammar!r}; use an English model (`footcare models download`)")
        others = [p for p in other_phrases(self.grammars, grammar)
                  if all(self._model.vosk_model_find_word(w) >= 0 for w in p.split())]
        vocabulary = list(known) + others + ([UNK] if self.has_unk else [])
        rec = self._vosk.KaldiRecognizer(self._model, SAMPLE_RATE, json.dumps(vocabulary, ensure_ascii=False))
        rec.SetWords(True)
        rec.SetPartialWords(True)
        return PhraseSet(grammar, phrases.intents, known), rec

    def _judge(self, words: list[dict], final: bool) -> Hypothesis | None:
        if not words or any(w["word"] == UNK for w in words):
            return None
        text = " ".join(w["word"] for w in words)
        intent = self.phrases.intent_of(text)
        if intent is None:
            return None
        confidence = min(float(w.get("conf", 0.0)) for w in words)
        durations = [float(w["end"]) - float(w["start"]) for w in words]
        if confidence < MIN_WORD_CONF or not all(MIN_WORD_S <= d <= MAX_WORD_S for d in durations):
            return None
        began = float(words[0]["start"])
        utterance_s = round(max(0.0, self._fed_s.get(self.phrases.grammar, 0.0) - began), 2)
        return Hypothesis(text, intent, round(confidence, 3), final, utterance_s)
