"""The word check's second opinion on what the built-in engine decided about one utterance.

PocketSphinx barely tells "no" from "go" or "stop" from "up"; the word check (word_check.py)
tells them apart far better. It is asked about utterances one word long, about a word spotted
inside a longer one, and about a longer utterance in which PocketSphinx heard nothing. It may
take its own word where PocketSphinx heard nothing, refuse PocketSphinx's word, or let it stand
(SphinxSettings.word_check and the settings after it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from assistant.intents import SAFETY_COMMANDS
from assistant.recognition.audio import ROOM_TONE_RMS, SAMPLE_RATE, from_pcm, rms
from assistant.recognition.sphinx_settings import SphinxSettings
from assistant.recognition.types import Hypothesis
from assistant.recognition.word_check import WordCheck

WORD_LEAD_S = 0.8
"""The word check hears the utterance from this long before its onset (the detector's onset can
fall inside a soft start) and up to the moment of the decision."""
WORD_QUIET_S = 0.5
"""Faint noise put after the audio the word check judges: an early decision comes at the word's
end, and the check was trained on words with quiet after them."""
WORD_AFTER_S = 0.3
"""A spotted word beginning this long after the utterance's onset has a word before it ("please
stop"): the word check hears the spotted word alone (from WORD_OWN_LEAD_S before it)."""
WORD_OWN_LEAD_S = 0.1
WORD_PEAK_DB = 10.0
"""The loud part of an utterance: its frames within this of its loudest (and WORD_FLOOR_DB above
its quietest fifth). In noise that starts before the word, the detector's utterance can run the
whole recording while the word in it is short."""
WORD_FLOOR_DB = 6.0
WORD_LOUD_AFTER_S = 0.2
"""The loud part must begin this long after the onset to be judged alone: what came before it
was noise, not a first word ("i don't know", loud from its onset, stays a phrase)."""
WORD_AUDIO_S = 3.0
"""Audio kept for the word check: the utterances it judges and WORD_LEAD_S before them."""
STEADY_BELOW = 3.0
"""The word check's margin is taken over several speeds (SphinxSettings.word_check_speeds) from
this far below its floor: over the benchmark's clips, of 79 margins 2 to 3 below it, the median
of one real "no" rose above it."""
STEADY_ABOVE = 3.0
"""...and up to this far above it; a margin further above stands as said. Where the check alone
decided (the 910 dev clips and the benchmark's 1880), the speeds refused other words only from
margins up to 1.3 (the twenty-first round's up to 2.5), but also real words said at 3.7 and 4.2
(a held-out "no" with the cat at 10 dB) (docs/BENCHMARKS.md, Recognition, twenty-fifth round)."""
_QUIET = np.random.default_rng(0).normal(0, ROOM_TONE_RMS, int(WORD_AUDIO_S * SAMPLE_RATE)).astype(np.float32)
"""Faint noise (room tone) where the word check's audio needs padding."""


@dataclass(frozen=True)
class Utterance:
    """What the second opinion sees of the utterance being decided."""

    duration_s: float
    """From the utterance's onset to now."""
    recent: Sequence[bytes]
    """The latest frames fed to the decoders (at most WORD_AUDIO_S), the last one now."""
    frame_s: float
    """The length of one of those frames."""
    speech_like: bool
    """Loud enough and voiced (sphinx.py, MIN_PEAK_RMS and MIN_VOICED_FRAMES)."""
    loud: bool
    """Loud enough (MIN_PEAK_RMS), voiced or not."""

    @property
    def frame_samples(self) -> int:
        return round(self.frame_s * SAMPLE_RATE)

    @property
    def kept_whole(self) -> bool:
        """The audio kept (WORD_AUDIO_S) holds all of the utterance and WORD_LEAD_S before it."""
        return self.duration_s <= WORD_AUDIO_S - WORD_LEAD_S

    def last(self, seconds: float) -> list[bytes]:
        """The latest frames, `seconds` of them (as many as were kept)."""
        n = round(seconds / self.frame_s)
        return list(self.recent)[-n:] if n else []

    def frames(self) -> list[bytes]:
        """The utterance's frames so far (at most WORD_AUDIO_S of them)."""
        return self.last(self.duration_s)


class SecondOpinion:
    """Judges the built-in engine's hypothesis on an utterance with the word check."""

    def __init__(self, check: WordCheck, settings: SphinxSettings,
                 intent_of: Callable[[str], str | None], pronunciation: Callable[[str], list[str]]) -> None:
        self.check = check
        self.settings = settings
        self._intent_of = intent_of
        """The intent of a phrase in the grammar listened for now (None: not one of them)."""
        self._pronunciation = pronunciation

    def judge(self, hyp: Hypothesis | None, final: bool, utt: Utterance,
              word_start_s: float | None = None) -> Hypothesis | None:
        """`hyp` as the word check judges it (see SphinxSettings.word_check), in an utterance short
        enough or a word spotted inside a longer one (`word_check_spotted_in_talk`): a word it
        hears where PocketSphinx heard nothing (a "yes" or "no" at two of three speeds,
        `word_check_speeds`); PocketSphinx's "yes" or "no" only if it hears that word too, and its
        "stop" unless it is far from hearing it (`word_check_stop_floor`); where it refuses one of
        its own words, as where PocketSphinx heard nothing (a real "no" taken for "yes"). A safety
        word it hears wins; any other phrase stands unless the check plainly hears a word of
        another intent (`word_check_overrule`) or it is a lone word like one of the check's that
        the check is far from hearing (`word_check_alternate_floor`). A spotted word that began
        `word_start_s` after the onset, later than WORD_AFTER_S, is heard alone, with quiet
        before it: the check learnt single words ("please stop" scored down to -7.5). A longer
        utterance in which PocketSphinx heard nothing gives only a word the check hears plainly
        (`word_check_long_margin`)."""
        check, settings = self.check, self.settings
        own_word = word_start_s is not None and word_start_s > WORD_AFTER_S
        long_ok = own_word and settings.word_check_spotted_in_talk
        if not (long_ok or self._one_word_long(utt)):
            return self._long_word(utt) if hyp is None and final else hyp
        unvoiced = not utt.speech_like
        if unvoiced and (hyp is not None or settings.word_check_unvoiced_margin is None or not utt.loud):
            return hyp
        if hyp is not None and hyp.text not in check.words and hyp.intent in SAFETY_COMMANDS:
            return hyp  # "that hurts", "wait": never overruled, so not worth the check's time
        audio = self._audio(utt, word_start_s if own_word else None)
        margins = self._margins(audio)
        if not margins:
            return hyp
        best = max(margins, key=margins.get)
        intent = self._intent_of(best)
        own = hyp is not None and hyp.text in check.words
        if own and intent in SAFETY_COMMANDS and margins[best] > 0 and best != hyp.text:
            return self._checked_word(best, margins[best], final, utt)
        kept_above = settings.word_check_stop_floor if own and hyp.intent in SAFETY_COMMANDS else 0.0
        if own and margins[hyp.text] <= kept_above:
            hyp = None  # refused: as where PocketSphinx heard nothing
        if hyp is None:
            floor = settings.word_check_unvoiced_margin if unvoiced else 0.0
            margin = margins[best]
            near_floor = floor - STEADY_BELOW < margin < floor + STEADY_ABOVE
            if near_floor and intent not in SAFETY_COMMANDS:  # "stop" as said
                margin = check.steady_margin(audio, best, margin, floor, settings.word_check_speeds)
            return self._checked_word(best, margin, final, utt) if margin > floor else None
        if own:
            return hyp
        if intent != hyp.intent and margins[best] >= settings.word_check_overrule:
            return self._checked_word(best, margins[best], final, utt)
        return None if self._lone_alternate(hyp, margins) else hyp

    def _long_word(self, utt: Utterance) -> Hypothesis | None:
        """The check's word in a voiced utterance too long to judge otherwise (up to the audio
        kept), heard at `word_check_long_margin` or more over the whole of it; else None."""
        bar = self.settings.word_check_long_margin
        if bar is None or not utt.speech_like or not utt.kept_whole:
            return None
        margins = self._margins(self._audio(utt))
        best = max(margins, key=margins.get, default=None)
        return self._checked_word(best, margins[best], True, utt) if best and margins[best] >= bar else None

    @staticmethod
    def _audio(utt: Utterance, own_start_s: float | None = None) -> np.ndarray:
        """What the check hears: the utterance from WORD_LEAD_S before its onset, or a spotted
        word alone (begun `own_start_s` after the onset) with room tone before it; quiet after."""
        span_s = utt.duration_s + (WORD_LEAD_S if own_start_s is None else WORD_OWN_LEAD_S - own_start_s)
        heard = from_pcm(b"".join(utt.last(span_s)))
        # room tone before the word alone as long as the usual lead; else padding for a stream just begun
        missing = round(span_s / utt.frame_s) * utt.frame_samples - len(heard)
        pad = max(0, missing) if own_start_s is None else round(WORD_LEAD_S * SAMPLE_RATE)
        return np.concatenate([_QUIET[:pad], heard, _QUIET[: round(WORD_QUIET_S * SAMPLE_RATE)]])

    def _margins(self, audio: np.ndarray) -> dict[str, float]:
        """The check's margin for each of its words that is a phrase of the grammar listened for."""
        return {w: m for w, m in self.check.margins(audio).items() if self._intent_of(w)}

    def _lone_alternate(self, hyp: Hypothesis, margins: dict[str, float]) -> bool:
        """`hyp` is a lone word that begins like the check's word of its intent ("nah" and "none"
        like "no", "yup" like "yes") and the check is far from hearing that word
        (`word_check_alternate_floor`). A word of another sound ("okay", "sure") tells the check
        nothing, so it is not judged."""
        if " " in hyp.text:
            return False
        first = self._first_phone(hyp.text)
        words = [w for w in margins if self._intent_of(w) == hyp.intent and self._first_phone(w) == first]
        return bool(words) and max(margins[w] for w in words) < self.settings.word_check_alternate_floor

    def _first_phone(self, word: str) -> str | None:
        return next(iter(self._pronunciation(word)), None)

    def _one_word_long(self, utt: Utterance) -> bool:
        """The utterance, or its loud part, is short enough for the word check (see
        SphinxSettings.word_check_max_s and word_check_loud_s)."""
        if utt.duration_s <= self.settings.word_check_max_s:
            return True
        if not utt.kept_whole:
            return False  # longer than the audio kept for the check
        levels = 20 * np.log10(np.array([rms(from_pcm(f)) for f in utt.frames()]) + 1e-6)
        loud = np.nonzero(levels >= max(levels.max() - WORD_PEAK_DB,
                                        np.percentile(levels, 20) + WORD_FLOOR_DB))[0]
        if not len(loud) or loud[0] * utt.frame_s < WORD_LOUD_AFTER_S:
            return False
        return (loud[-1] - loud[0] + 1) * utt.frame_s <= self.settings.word_check_loud_s

    def _checked_word(self, word: str, margin: float, final: bool, utt: Utterance) -> Hypothesis:
        """The word check's word as the hypothesis, its margin as a 0..1 confidence."""
        confidence = 1.0 / (1.0 + math.exp(-margin))
        return Hypothesis(word, self._intent_of(word), round(confidence, 3), final, utt.duration_s)
