"""Deciding on a partial result: act as soon as a phrase is complete and has held.

Partial results flicker while a word is still being spoken ("stop" may become "stop it"
or, for "stopwatch", fall apart). A complete phrase that stays the best guess for a short
hold time is acted on before the end of the utterance; everything else waits for the end.
"""

from __future__ import annotations

HOLD_S = 0.3


class PartialGate:
    """Tracks how long the partial text has been the same complete phrase."""

    def __init__(self, hold_s: float = HOLD_S) -> None:
        self.hold_s = hold_s
        self.reset()

    def reset(self) -> None:
        self._text = ""
        self._since = 0.0
        self.fired = False

    def update(self, text: str, complete: bool, now_s: float) -> bool:
        """True once `text` has been the same complete phrase for `hold_s` seconds of audio."""
        if self.fired:
            return False
        if text != self._text:
            self._text, self._since = text, now_s
        if complete and text and now_s - self._since >= self.hold_s:
            self.fired = True
            return True
        return False
