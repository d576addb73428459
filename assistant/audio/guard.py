"""The last line of defence against obeying our own voice.

Echo cancellation removes most of the assistant's voice from the microphone, but not
all of it, least of all in the first seconds before the filter has learnt the room.
So a command is not taken while the assistant is, or was a moment ago, saying those
very words ("Say stop, pause, or that hurts"), also when the recogniser wrapped filler
words around them ("i want to stop now"). The window is short: a real "stop"
later in the line, or after it, still counts.
"""

from __future__ import annotations

import re
import threading
from collections import deque
from dataclasses import dataclass

WINDOW_S = 2.5
"""How far back a played sentence can still be the source of what was heard."""
FILLER = frozenset("i i'd i'm want to like let's now please just it that this the a me my is so oh".split())
"""Words a recogniser wraps around a command word it half-heard ("i want to stop now" from
an echo of "say stop"): they do not make a phrase our user's rather than our own."""


@dataclass(frozen=True)
class Played:
    start: float
    end: float
    words: tuple[str, ...]


def words(text: str) -> tuple[str, ...]:
    return tuple(re.findall(r"[a-z']+", text.lower()))


def contains(haystack: tuple[str, ...], needle: tuple[str, ...]) -> bool:
    """`needle` as consecutive words of `haystack`."""
    n = len(needle)
    return n > 0 and any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


class SelfEchoGuard:
    """Remembers what was played when, and says whether a phrase heard is our own."""

    def __init__(self, window_s: float = WINDOW_S) -> None:
        self.window_s = window_s
        self._played: deque[Played] = deque(maxlen=64)
        self._lock = threading.Lock()

    def played(self, text: str, start: float, duration: float) -> None:
        """A clip started reaching the speaker at `start` (the player's clock)."""
        with self._lock:
            self._played.append(Played(start, start + duration, words(text)))

    def cut(self, now: float) -> None:
        """The speaker was cut: what was queued to play after `now` is never heard."""
        with self._lock:
            self._played = deque(
                (Played(p.start, min(p.end, now), p.words) for p in self._played if p.start < now),
                maxlen=64,
            )

    def recent(self, now: float) -> str:
        """The words played in the last `window_s` seconds, for the log."""
        with self._lock:
            return " / ".join(" ".join(p.words) for p in self._played
                              if p.end >= now - self.window_s and p.start <= now)

    def is_own(self, heard: str, now: float) -> bool:
        """True if the phrase, or every word of it but the fillers, was being played in the
        last `window_s` seconds."""
        said = words(heard)
        core = frozenset(said) - FILLER
        with self._lock:
            return any(
                p.end >= now - self.window_s and p.start <= now
                and (contains(p.words, said) or bool(core) and core <= set(p.words))
                for p in self._played
            )
