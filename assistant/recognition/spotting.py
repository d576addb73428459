"""Keyword spotting for the built-in engine's one-word phrases, beside its grammar.

PocketSphinx's keyphrase search runs every word against a free phone loop and reports each
place where a word comes close to the loop's score, with the margin (word score minus loop
score). On real speakers it hears "stop", "yes" and "no" far better than a grammar with
garbage words, which turns "top" into "stop" (docs/BENCHMARKS.md). It almost never reports
a phrase of several words, so those stay with the grammar. Each utterance gets one decision:

1. A phrase of several words that the grammar heard ("carry on", "not sure", "please stop")
   counts when it leads the grammar's n-best list: if another reading of the utterance
   ("go" for "go on") is among the first few, the grammar abstains. A phrase of another
   state is heard and dropped.
2. Otherwise the spotter decides: of the words spotted in the utterance, the one furthest
   above its own threshold wins. A short word beats the loop by chance far more often than
   a long one, so `margin >= offset + per_phone * (phones - 2)`, with measured overrides
   for the words that matter most ("stop", "yes", "no").
3. When no word passes its threshold, a phrase of this state the grammar heard ("nah")
   still counts if a word of its intent was spotted within `slack` of its threshold: two
   searches agreeing is evidence.

One-phone words ("aye", "ow") are not spotted (any vowel matches them), and phrases of
fewer than three phones ("ow ow") are not taken from the grammar. Because the grammar's
verdict on a lone word does not count, its garbage words may be any frequent words,
"top" and "go" too. Streaming: a spotted word acts once it has held for `hold_frames`
(a word of an `urgent` intent, a safety command, at once: waiting for a better reading of
"stop" costs more than acting on it), except a word inside a longer phrase of another intent ("no" in "no more", "sure" in
"not sure"), which waits for the end of the utterance; phrases of several words are
decided at the end, where the n-best list is known.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Mapping

SEARCH_THRESHOLD = 1e-40
"""What the search itself reports: below every threshold used to decide."""
SEARCH_FLOOR = math.floor(math.log(SEARCH_THRESHOLD) / math.log(1.0001) / 1024)
"""SEARCH_THRESHOLD in scaled log units (log base 1.0001, divided by 1024, as PocketSphinx keeps them)."""


@dataclass(frozen=True)
class ThresholdRule:
    """Minimum margin over the phone loop, per word (scaled log units)."""

    offset: float = 400.0
    """Margin a two-phone word needs."""
    per_phone: float = -50.0
    """Change per further phone: long words rarely match by chance."""
    overrides: dict[str, float] = field(default_factory=lambda: {"stop": -350.0, "yes": 50.0, "no": 300.0})
    """Measured on the `tune` speakers of the dev set (docs/BENCHMARKS.md)."""
    min_phones: int = 2
    min_grammar_phones: int = 3
    """Phrases the grammar decides need this many phones: "ow ow" matches any two vowels."""

    def threshold(self, word: str, phones: int) -> float:
        if word in self.overrides:
            return self.overrides[word]
        return max(SEARCH_FLOOR, self.offset + self.per_phone * (phones - 2))


@dataclass(frozen=True)
class Keyphrase:
    text: str
    intent: str
    listening: bool
    """False for another state's word: spotted only so that it is not mistaken for ours."""
    threshold: float


@dataclass(frozen=True)
class SpottingPlan:
    """Which phrases of one grammar the spotter decides, and which the grammar decides."""

    keyphrases: tuple[Keyphrase, ...]
    grammar_owned: frozenset[str]
    """Phrases of several words (this state's and the others'): the grammar decides these."""
    waits: frozenset[str]
    """Spotted words inside a phrase of several words of another intent."""
    phrases: Mapping[str, str]
    """Every phrase, this state's and the others', with its intent."""

    def kws_file_text(self) -> str:
        """PocketSphinx's keyphrase list: one `word /threshold/` per line, all permissive."""
        return "".join(f"{k.text} /{SEARCH_THRESHOLD:.0e}/\n" for k in self.keyphrases)


def plan(own: Mapping[str, str], others: Mapping[str, str], phones: Callable[[str], int],
         rule: ThresholdRule = ThresholdRule()) -> SpottingPlan:
    """Split the phrases of a grammar (`own`) and of the other states (`others`) between
    the spotter (one-word phrases) and the grammar (phrases of several words)."""
    spotted: dict[str, Keyphrase] = {}
    for table, listening in ((own, True), (others, False)):
        for text, intent in table.items():
            n = phones(text) if " " not in text else 0
            if n >= rule.min_phones and text not in spotted:
                spotted[text] = Keyphrase(text, intent, listening, rule.threshold(text, n))
    every = {**others, **own}
    owned = frozenset(p for p in every if " " in p and sum(phones(w) for w in p.split()) >= rule.min_grammar_phones)
    waits = frozenset(w for p in owned for w in p.split()
                      if w in spotted and w != p and spotted[w].intent != every[p])
    return SpottingPlan(tuple(spotted.values()), owned, waits, every)


@dataclass(frozen=True)
class Spotted:
    """One report of the search: a word, the frame it ended on and its margin."""

    text: str
    end_frame: int
    margin: float


class Arbiter:
    """Decides among the words spotted in one utterance (see the module docstring)."""

    def __init__(self, spotting: SpottingPlan, hold_frames: int = 30, urgent: frozenset[str] = frozenset()) -> None:
        self.by_text = {k.text: k for k in spotting.keyphrases}
        self.waits = spotting.waits
        self.hold_frames = hold_frames
        self.urgent = urgent
        self.reset()

    def reset(self) -> None:
        self.best: tuple[float, Spotted] | None = None
        self.decided = False
        self.intent_excess: dict[str, float] = {}
        """Best excess over its threshold of any word of each intent, also below it."""

    def update(self, spotted: list[Spotted], frame: int) -> Keyphrase | None:
        """Everything spotted so far in this utterance, at `frame`: a word to act on now, if any."""
        if self.decided:
            return None
        self.observe(spotted)
        if self.best is None:
            return None
        s = self.best[1]
        hold = 0 if self.by_text[s.text].intent in self.urgent else self.hold_frames
        if s.text in self.waits or frame - s.end_frame < hold:
            return None
        return self._decide()

    def observe(self, spotted: list[Spotted]) -> None:
        """Take in what was spotted so far, without deciding."""
        for s in spotted:
            k = self.by_text.get(s.text)
            if k is None:
                continue
            excess = s.margin - k.threshold
            self.intent_excess[k.intent] = max(excess, self.intent_excess.get(k.intent, excess))
            if excess >= 0 and (self.best is None or excess > self.best[0]):
                self.best = (excess, s)

    def close(self, spotted: list[Spotted], frame: int) -> Keyphrase | None:
        """End of the utterance: the best word spotted, if this state listens for it."""
        if self.decided:
            return None
        found = self.update(spotted, frame)
        if self.decided or self.best is None:
            return found
        return self._decide()

    def supports(self, intent: str, slack: float) -> bool:
        """A word of `intent` came within `slack` of its threshold: enough to confirm the grammar."""
        return self.intent_excess.get(intent, -math.inf) >= -slack

    @property
    def excess(self) -> float:
        """How far the best word is above its threshold (0 when none is)."""
        return self.best[0] if self.best else 0.0

    def _decide(self) -> Keyphrase | None:
        self.decided = True
        word = self.by_text[self.best[1].text]
        return word if word.listening else None
