"""Lines in, sound out: renders each `Say` sentence by sentence and plays it.

Rendering runs on its own thread so that a cut (barge-in) never waits for espeak-ng,
and it tells its owner once each time it falls quiet after speaking, which is when the
dialogue must get `SpeechFinished`.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from assistant.audio.resample import resample
from assistant.speech.cache import SpeechCache
from assistant.speech.player import Player
from assistant.speech.tts import TTS_RATE, Voice, sentences


AFTER_CUT_S = 0.3
"""Quiet after a cut before the next line, at least: the user hears that we stopped."""
TURN_GAP_S = 0.15
"""After the user stopped talking, this long before the next line. The detector already holds
its "talking" for 0.3-0.4 s after the voice (assistant/audio/user_voice.py), so a reply comes
about half a second after the user's last word: a turn's gap for an older listener."""
TURN_WAIT_MAX_S = 2.0
"""After a cut the next line waits for the user to finish talking, but no longer than this
from the cut (a noisy room may sound like talking all the time)."""


class Speaker:
    """Queues lines, renders them (cache first) and plays them; `stop()` cuts at once, and the
    next line starts when the user has finished talking (`user_talking`)."""

    def __init__(self, player: Player, cache: SpeechCache, voice: Voice, on_finished: Callable[[], None],
                 user_talking: Callable[[], bool] = lambda: False) -> None:
        self.player = player
        self.cache = cache
        self.voice = voice
        self._on_finished = on_finished
        self._jobs: queue.Queue[tuple[str, int, str] | None] = queue.Queue()
        self._generation = 0
        self._unrendered = 0  # lines queued but not yet handed to the player
        self._busy = False
        self._turn_after: int | None = None
        """The generation whose first sentence waits for the user's turn to end (see stop)."""
        self._cut_at = 0.0
        self._user_talking = user_talking
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="speaker", daemon=True)
        self._thread.start()

    def say(self, text: str) -> None:
        with self._lock:
            self._unrendered += 1
            self._busy = True
            self._jobs.put(("say", self._generation, text))

    def stop(self) -> None:
        """Cut the line playing and drop the queued ones."""
        with self._lock:
            self._generation += 1
            self.player.cut()
            self._turn_after = self._generation
            self._cut_at = time.monotonic()
        self._jobs.put(("check", self._generation, ""))

    def set_voice(self, rate_wpm: int, volume: float) -> None:
        """Rate from the next sentence rendered on; volume at once."""
        self.voice = replace(self.voice, rate_wpm=int(rate_wpm))
        self.player.set_volume(volume)

    def player_idle(self) -> None:
        """From the player when its queue ran dry (called on the audio thread: no work here)."""
        self._jobs.put(("check", -1, ""))

    @property
    def busy(self) -> bool:
        return self._busy

    def close(self) -> None:
        self._jobs.put(None)
        self._thread.join(timeout=2)

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            kind, generation, text = job
            if kind == "say":
                self._render(text, generation)
                with self._lock:
                    self._unrendered -= 1
            self._check_finished()

    def _render(self, text: str, generation: int) -> None:
        pause = np.zeros(int(self.voice.sentence_pause_s * self.player.rate), dtype=np.float32)
        for sentence in sentences(text):
            if generation != self._generation:
                return
            clip = resample(self.cache.sentence(sentence, self.voice), TTS_RATE, self.player.rate)
            if self._turn_after == generation:  # the first words after a cut
                self._await_turn(generation)
                with self._lock:
                    if self._turn_after == generation:
                        self._turn_after = None
            elif not self.player.idle:  # a pause between sentences, none before the first or after the last
                clip = np.concatenate([pause, clip])
            with self._lock:
                if generation != self._generation:
                    return
                self.player.play(clip, sentence)

    def _await_turn(self, generation: int) -> None:
        """After a cut: until AFTER_CUT_S has passed and the user has not talked for TURN_GAP_S,
        at most TURN_WAIT_MAX_S from the cut, or until another cut."""
        last_voice = self._cut_at
        while generation == self._generation:
            now = time.monotonic()
            if self._user_talking():
                last_voice = now
            waited = now - self._cut_at
            if waited >= TURN_WAIT_MAX_S or (waited >= AFTER_CUT_S and now - last_voice >= TURN_GAP_S):
                return
            time.sleep(0.01)

    def _check_finished(self) -> None:
        with self._lock:
            quiet = self._busy and self._unrendered == 0 and self.player.idle
            if quiet:
                self._busy = False
        if quiet:
            self._on_finished()
