"""What every recogniser returns and raises; kept apart so engines need not import each other."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Hypothesis:
    """One recognised phrase."""

    text: str
    """The words heard, lower case."""
    intent: str | None
    """Intent name from the grammars; None for clear speech outside the grammar."""
    confidence: float
    """0..1; how sure the engine is that this phrase, and not something else, was said."""
    final: bool
    """False when acted on from a partial result, before the utterance ended."""
    utterance_s: float | None = None
    """Seconds of audio from the start of the utterance to where it was decided (None: not
    known). The live loop tells from it whether the phrase began while we were talking."""


class RecognizerError(Exception):
    """The recogniser cannot run; the message is one sentence that includes the fix."""


class Recognizer(Protocol):
    """A streaming command recogniser for one named grammar at a time."""

    sample_rate: int

    def set_grammar(self, grammar: str) -> None:
        """Listen for the phrases of this grammar (a name from grammars/grammars.yaml)."""

    def accept(self, pcm: bytes) -> Hypothesis | None:
        """Feed 16-bit mono PCM; a Hypothesis as soon as a phrase is certain, else None."""

    def reset(self) -> None:
        """Drop the current utterance."""

    def new_stream(self) -> None:
        """What follows is another recording: drop the utterance and where the stream's speech
        began (a recording may end inside speech, its phrase decided early). An engine may
        also treat what it learnt from earlier recordings as another speaker's."""
