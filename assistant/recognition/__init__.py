"""Voice input: streaming command recognition against the named grammars.

Two engines share one interface: Vosk (main engine, needs a downloaded English model) and
PocketSphinx (built in, works with no internet). `open_recognizer` picks Vosk when an
English Vosk model is installed, PocketSphinx otherwise.
"""

from __future__ import annotations

from pathlib import Path

from assistant.intents import Grammars
from assistant.recognition.models import ModelError, find_vosk_model
from assistant.recognition.types import Hypothesis, Recognizer, RecognizerError

ENGINES = ("vosk", "pocketsphinx")

__all__ = ["ENGINES", "Hypothesis", "Recognizer", "RecognizerError", "open_recognizer"]


def open_recognizer(engine: str | None = None, model: str | Path | None = None,
                    grammars: Grammars | None = None, *, whole_utterances: bool = False) -> Recognizer:
    """A ready recogniser listening with the `narration` grammar.

    engine None: Vosk if an English model is found (option, $FOOTCARE_VOSK_MODEL, models/,
    vosk's cache), else PocketSphinx. whole_utterances: for recordings, where no phrase has
    to act before its utterance ends: PocketSphinx then decodes each utterance in one pass
    with batch cepstral mean normalisation (higher recall, more false accepts, no partials).
    """
    if engine not in (None, *ENGINES):
        raise RecognizerError(f"unknown engine {engine!r}; use one of: {', '.join(ENGINES)}")
    grammars = grammars or Grammars()
    if engine in (None, "vosk"):
        try:
            found = find_vosk_model(model if engine == "vosk" else None)
        except ModelError as exc:
            raise RecognizerError(str(exc)) from None
        if found is not None:
            from assistant.recognition.vosk_engine import VoskRecognizer

            return VoskRecognizer(grammars, found)
        if engine == "vosk":
            raise RecognizerError("no English Vosk model is installed; run `footcare models download` "
                                  "or pass --model PATH (or use --engine pocketsphinx)")
    from assistant.recognition.sphinx import SphinxRecognizer, SphinxSettings

    return SphinxRecognizer(grammars, model if engine == "pocketsphinx" else None,
                            SphinxSettings(batch=whole_utterances))
