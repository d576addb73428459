"""After a barge-in the speaker answers once the user has finished talking, not over them."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from assistant.speech.speaker import AFTER_CUT_S, TURN_GAP_S, TURN_WAIT_MAX_S, Speaker
from assistant.speech.tts import TTS_RATE, Voice


class RecordingPlayer:
    """The player's side the speaker uses: clips are noted with when they were queued. As the
    real one, it is not idle for a moment after a cut (its fade-out is still to be written)."""

    rate = TTS_RATE
    FADE_S = 0.02

    def __init__(self) -> None:
        self.played: list[tuple[float, str]] = []
        self._cut_at = -1.0
        self._lock = threading.Lock()

    @property
    def idle(self) -> bool:
        with self._lock:
            return not self.played and time.monotonic() - self._cut_at > self.FADE_S

    def play(self, samples: np.ndarray, text: str = "") -> None:
        with self._lock:
            self.played.append((time.monotonic(), text))

    def cut(self) -> None:
        with self._lock:
            self.played.clear()
            self._cut_at = time.monotonic()

    def set_volume(self, volume: float) -> None:
        pass


class SilentCache:
    def sentence(self, text: str, voice: Voice) -> np.ndarray:
        return np.zeros(TTS_RATE // 10, dtype=np.float32)


def first_words_after_cut(talking_for_s: float) -> float:
    """Seconds from a cut to the next line's first sentence, the user talking `talking_for_s`
    from the cut on."""
    player = RecordingPlayer()
    cut = [0.0]
    speaker = Speaker(player, SilentCache(), Voice(), on_finished=lambda: None,
                      user_talking=lambda: time.monotonic() - cut[0] < talking_for_s)
    try:
        speaker.say("You can say stop at any time. I will stop at once.")
        time.sleep(0.1)
        cut[0] = time.monotonic()
        speaker.stop()
        speaker.say("Stopped. Rest your feet.")
        deadline = time.monotonic() + TURN_WAIT_MAX_S + 2.0
        while not player.played and time.monotonic() < deadline:
            time.sleep(0.005)
        assert player.played, "the reply never played"
        at, text = player.played[0]
        assert text == "Stopped."
        return at - cut[0]
    finally:
        speaker.close()


def test_a_reply_waits_until_the_user_has_finished_talking():
    assert first_words_after_cut(0.8) >= 0.8 + TURN_GAP_S - 0.02  # the speaker looks every 10 ms


@pytest.mark.parametrize("talking_for_s", [0.0, 0.1])
def test_a_reply_comes_after_a_moment_of_quiet_when_the_user_has_finished(talking_for_s):
    """Also when the player is still writing its fade-out as the reply is ready: the reply is
    the first words after a cut, not a sentence that follows another."""
    waited = first_words_after_cut(talking_for_s)
    assert AFTER_CUT_S <= waited < Voice().sentence_pause_s + AFTER_CUT_S


def test_a_room_that_always_sounds_like_talking_delays_the_reply_only_so_long():
    assert TURN_WAIT_MAX_S <= first_words_after_cut(60.0) < TURN_WAIT_MAX_S + 1.0
