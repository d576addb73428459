"""The phrase lists a recogniser listens for, built from the hassil templates.

Engines never read the templates themselves: they get word sequences and the intent of
each from here, so the matcher and the recognisers cannot drift apart.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property

from assistant.intents import Grammars


@dataclass(frozen=True)
class PhraseSet:
    """Every phrase of one named grammar, with the intent each one says."""

    grammar: str
    intents: tuple[str, ...]
    by_phrase: dict[str, str]
    """Phrase text (lower case, single spaces) -> intent. Earlier intents win ties."""

    @cached_property
    def words(self) -> frozenset[str]:
        return frozenset(w for phrase in self.by_phrase for w in phrase.split())

    def intent_of(self, text: str) -> str | None:
        """The intent of an exact phrase of this grammar, else None."""
        return self.by_phrase.get(_normal(text))

    @cached_property
    def open_ended(self) -> frozenset[str]:
        """Phrases that begin a longer phrase of another intent: "i do" (yes) begins
        "i do not think so" (no), "no" begins "no more" (stop)."""
        continued: dict[str, set[str]] = defaultdict(set)  # word prefix -> intents going on from it
        for phrase, intent in self.by_phrase.items():
            words = phrase.split()
            for n in range(1, len(words)):
                continued[" ".join(words[:n])].add(intent)
        return frozenset(p for p, i in self.by_phrase.items() if continued.get(p, set()) - {i})

    def settled(self, text: str) -> bool:
        """A phrase a partial result may act on before the utterance ends: whatever still
        comes cannot turn it into another intent ("stop" may become "stop it", still stop)."""
        return self.intent_of(text) is not None and _normal(text) not in self.open_ended


def _normal(text: str) -> str:
    """Lower case, single spaces: how phrases are kept."""
    return " ".join(text.lower().split())


def phrase_set(grammars: Grammars, grammar: str) -> PhraseSet:
    """The phrases of `grammar`; a phrase shared by two intents goes to the earlier one."""
    intents = grammars.intent_names(grammar)
    lists = grammars.phrases(grammar)
    by_phrase: dict[str, str] = {}
    for intent in intents:
        for phrase in lists.get(intent, []):
            by_phrase.setdefault(phrase, intent)
    return PhraseSet(grammar, intents, by_phrase)


def other_phrases(grammars: Grammars, grammar: str) -> dict[str, str]:
    """Phrases of intents that `grammar` does not listen for, with their intents.

    Recognisers listen for these too and drop them: "yes" said during narration should be
    heard as "yes" and ignored, not forced onto the nearest command ("stop").
    """
    own = set(grammars.intent_names(grammar))
    out: dict[str, str] = {}
    for name in grammars.named:
        for intent, phrases in grammars.phrases(name).items():
            if intent not in own:
                for phrase in phrases:
                    out.setdefault(phrase, intent)
    mine = phrase_set(grammars, grammar).by_phrase
    return {p: i for p, i in out.items() if p not in mine}
