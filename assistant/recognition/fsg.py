"""Phrase lists as weighted finite-state grammars (a word trie), for PocketSphinx.

A trie shares the decoding work of phrases that begin alike ("stop", "stop it",
"stop now"...), which keeps a grammar of ~1000 phrases cheap enough for a Raspberry Pi.
Each intent gets the same prior, split evenly over its phrases, so an intent with many
phrasings is not favoured over one with few.
"""

from __future__ import annotations

from collections import defaultdict

Transition = tuple[int, int, float] | tuple[int, int, float, str]


def phrase_priors(by_phrase: dict[str, str]) -> dict[str, float]:
    """Prior of each phrase: intents equally likely, phrasings of one intent too."""
    per_intent: dict[str, int] = defaultdict(int)
    for intent in by_phrase.values():
        per_intent[intent] += 1
    n = len(per_intent)
    return {p: 1.0 / n / per_intent[i] for p, i in by_phrase.items()}


def trie_transitions(priors: dict[str, float]) -> tuple[int, int, list[Transition]]:
    """(start, final, transitions) of a word trie with pushed weights; last words go straight to final."""
    children: dict[int, dict[str, int]] = defaultdict(dict)
    mass: dict[int, float] = defaultdict(float)
    ends: dict[tuple[int, str], float] = defaultdict(float)
    next_state = 2  # 0 start, 1 final
    for phrase, prior in priors.items():
        words = phrase.split()
        state = 0
        mass[0] += prior
        for word in words[:-1]:
            nxt = children[state].get(word)
            if nxt is None:
                nxt = children[state][word] = next_state
                next_state += 1
            mass[nxt] += prior
            state = nxt
        ends[state, words[-1]] += prior
    transitions: list[Transition] = []
    for state, kids in children.items():
        for word, nxt in kids.items():
            transitions.append((state, nxt, mass[nxt] / mass[state], word))
    for (state, word), p in ends.items():
        transitions.append((state, 1, p / mass[state], word))
    return 0, 1, transitions


def with_garbage(start: int, final: int, transitions: list[Transition], words: list[str],
                 weight: float, second: float = 0.3, second_words: int = 30) -> list[Transition]:
    """Add one or two garbage words as an alternative to the phrases.

    `weight` is the prior of the garbage branch against all phrases together, `second` the
    probability of a second garbage word, drawn from the `second_words` most frequent. There is no open loop: with a loop every word end
    re-enters every garbage word, which made decoding several times slower than real time.
    """
    if not words or weight <= 0:
        return transitions
    middle = 1 + max(max(t[0], t[1]) for t in transitions)
    out: list[Transition] = [(a, b, p * (1 - weight), *rest) if a == start else (a, b, p, *rest)
                             for a, b, p, *rest in transitions]
    share = 1.0 / len(words)
    for w in words:
        out.append((start, final, weight * (1 - second) * share, w))
        if second > 0:
            out.append((start, middle, weight * second * share, w))
    for w in words[:second_words] if second > 0 else []:
        out.append((middle, final, 1.0 / min(second_words, len(words)), w))
    return out
