"""A garbage model for PocketSphinx: the most frequent English words that are not phrases.

A closed grammar turns every sound into its nearest phrase. Giving the search a loop of
ordinary words as an alternative lets other speech, and speech-like noise, come out as
"garbage" instead. Its weight against the phrases sets the trade-off between missed
commands and false accepts (measured in docs/BENCHMARKS.md).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

_PLAIN = re.compile(r"^[a-z]+$")


@lru_cache(maxsize=4)
def frequent_words(dict_path: str, lm_path: str, count: int) -> tuple[str, ...]:
    """The `count` words of the dictionary with the highest unigram probability."""
    from pocketsphinx import NGramModel

    lm = NGramModel.readfile(lm_path)
    words = []
    with open(dict_path, encoding="utf-8") as f:
        for line in f:
            word = line.split(" ", 1)[0]
            if _PLAIN.match(word) and len(word) > 1 or word in ("a", "i"):
                words.append(word)
    ranked = sorted(set(words), key=lambda w: lm.prob([w]), reverse=True)
    return tuple(ranked[:count])


def garbage_words(model_dir: Path, count: int, exclude: frozenset[str]) -> list[str]:
    """Frequent words for the garbage loop, without the grammar's own words."""
    found = frequent_words(str(model_dir / "cmudict-en-us.dict"), str(model_dir / "en-us.lm.bin"),
                           count + len(exclude))
    return [w for w in found if w not in exclude][:count]
