"""What can be said: hassil templates in `grammars/`, grouped into named grammars.

One source of truth: the text matcher (typed phrases, recogniser output) and the
recognisers' phrase lists both come from here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import yaml
from hassil import Intents, recognize_all, sample_intents

GRAMMARS_ENV = "FOOTCARE_GRAMMARS"
DEFAULT_GRAMMARS_DIR = Path(__file__).resolve().parent.parent / "grammars"
INTENT_FILES = ("commands.yaml", "answers.yaml")
COMMANDS_FILE = "commands.yaml"
SAFETY_COMMANDS = frozenset({"stop", "pause", "pain", "tingling"})
"""Commands that make a session safer. They act the moment they are heard, also while the
assistant talks (the only ones that do, so its own voice coming back can never answer a
question), and a recogniser need not wait for a better reading of them."""


class GrammarError(Exception):
    """The grammar files are missing or malformed."""


@dataclass(frozen=True)
class Match:
    """A phrase matched to an intent."""

    intent: str
    text: str


def grammars_dir() -> Path:
    """Where the templates live: $FOOTCARE_GRAMMARS or the project's `grammars/`."""
    return Path(os.environ.get(GRAMMARS_ENV, DEFAULT_GRAMMARS_DIR))


class Grammars:
    """The intents and the named grammars built from them."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or grammars_dir()
        try:
            with open(self.directory / COMMANDS_FILE, encoding="utf-8") as f:
                self.commands: tuple[str, ...] = tuple(yaml.safe_load(f)["intents"])
            self.intents = Intents.from_files(self.directory / name for name in INTENT_FILES)
            with open(self.directory / "grammars.yaml", encoding="utf-8") as f:
                named = yaml.safe_load(f)
        except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
            raise GrammarError(f"cannot read the grammars in {self.directory}: {exc}") from exc
        self.named: dict[str, tuple[str, ...]] = {
            name: tuple(self._expand(items)) for name, items in named.items()
        }
        unknown = {i for names in self.named.values() for i in names} - set(self.intents.intents)
        if unknown:
            raise GrammarError(f"grammars.yaml names intents with no templates: {sorted(unknown)}")

    def _expand(self, items: list[str]) -> list[str]:
        out: list[str] = []
        for item in items:
            out.extend(self.commands if item == "+commands" else [item])
        return out

    def intent_names(self, grammar: str) -> tuple[str, ...]:
        """Intents a grammar listens for, answers before commands."""
        try:
            return self.named[grammar]
        except KeyError:
            raise GrammarError(f"no grammar named {grammar!r}") from None

    def match(self, text: str, grammar: str) -> Match | None:
        """The intent `text` says in `grammar`, or None. Earlier intents win ties."""
        allowed = self.intent_names(grammar)
        found = {r.intent.name for r in recognize_all(text, self.intents)}
        for name in allowed:
            if name in found:
                return Match(name, text)
        return None

    def phrases(self, grammar: str) -> dict[str, list[str]]:
        """Every sentence each intent of `grammar` accepts, for recogniser phrase lists."""
        allowed = set(self.intent_names(grammar))
        return {
            name: sentences
            for name, sentences in self._all_phrases.items()
            if name in allowed
        }

    @cached_property
    def _all_phrases(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for intent, sentence in sample_intents(self.intents):
            text = " ".join(sentence.lower().split())
            bucket = out.setdefault(intent, [])
            if text not in bucket:
                bucket.append(text)
        return out
