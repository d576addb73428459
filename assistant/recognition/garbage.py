"""A garbage model for PocketSphinx: frequent English words that are not phrase words.

A closed grammar turns every sound into its nearest phrase. Giving the search ordinary
words as an alternative lets other speech, and speech-like noise, come out as "garbage"
instead. Words that sound within one phone of a phrase word ("top" for "stop", "go" for
"no") of a one-word phrase are left out: they would steal the commands themselves, and a missed "stop" costs
more than a "top" taken for one.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

_PLAIN = re.compile(r"^[a-z]+$")


@lru_cache(maxsize=2)
def pronunciations(dict_path: str) -> dict[str, list[tuple[str, ...]]]:
    """Every pronunciation of every plain word of the dictionary."""
    out: dict[str, list[tuple[str, ...]]] = {}
    with open(dict_path, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if not parts:
                continue
            word = re.sub(r"\(\d+\)$", "", parts[0])
            out.setdefault(word, []).append(tuple(parts[1:]))
    return out


@lru_cache(maxsize=2)
def ranked_words(dict_path: str, lm_path: str) -> tuple[str, ...]:
    """Plain dictionary words, most frequent first (unigram probability of the LM)."""
    from pocketsphinx import NGramModel

    lm = NGramModel.readfile(lm_path)
    words = [w for w in pronunciations(dict_path) if _PLAIN.match(w) and (len(w) > 1 or w in "ai")]
    return tuple(sorted(words, key=lambda w: lm.prob([w]), reverse=True)[:5000])


def within_one_phone(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Edit distance of two phone strings is at most 1."""
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) <= 1
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


def garbage_words(model_dir: Path, count: int, vocabulary: frozenset[str],
                  protect: frozenset[str]) -> list[str]:
    """The `count` most frequent words that are not phrase words and do not sound within
    one phone of a word in `protect` (the one-word phrases: "stop", "yes", "no"...)."""
    dict_path = str(model_dir / "cmudict-en-us.dict")
    prons = pronunciations(dict_path)
    protected = [p for w in protect for p in prons.get(w, [])]
    out: list[str] = []
    for word in ranked_words(dict_path, str(model_dir / "en-us.lm.bin")):
        if len(out) >= count:
            break
        if word in vocabulary:
            continue
        if any(within_one_phone(p, q) for p in prons[word] for q in protected):
            continue
        out.append(word)
    return out
