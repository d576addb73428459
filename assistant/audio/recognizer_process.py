"""The recogniser in a process of its own.

A decoder holds Python's GIL while it works; in the same process as the audio
callbacks it starves them, and the result is dropped microphone blocks and speaker
underruns (which also break echo cancellation). In its own process it can take all
the CPU it needs, on another core where there is one, and never stall the sound.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
from dataclasses import dataclass
from typing import Any

MAX_LAG_CHUNKS = 10
"""Chunks (100 ms each) waiting for the recogniser before it skips to the present."""
UNKNOWN_UTTERANCE_FRAMES = 200
"""Where an engine cannot say where an utterance began, take it to have begun 2 s back."""


@dataclass(frozen=True)
class Heard:
    text: str
    intent: str | None
    confidence: float
    frame: int
    """How many 10 ms frames of audio had been sent when this was decided."""
    began_frame: int
    """The frame where the utterance began."""


def _serve(inbox: Any, outbox: Any, engine: str | None, model: str | None) -> None:
    try:
        from assistant.recognition import open_recognizer

        recognizer = open_recognizer(engine=engine, model=model)
    except Exception as exc:  # RecognizerError and the like: the message is the fix
        outbox.put(("error", str(exc)))
        return
    outbox.put(("ready", None))
    position = 0  # bytes of audio received, skipped ones included
    while True:
        kind, payload = inbox.get()
        if kind == "stop":
            return
        if kind == "grammar":
            recognizer.set_grammar(payload)
        elif kind == "audio":
            backlog = inbox.qsize()
            if backlog > MAX_LAG_CHUNKS:
                # A command heard seconds late is worse than one missed: skip ahead.
                position += len(payload)
                dropped = len(payload)
                while True:
                    try:
                        k, p = inbox.get_nowait()
                    except queue.Empty:
                        break
                    if k == "audio":
                        dropped += len(p)
                        position += len(p)
                    elif k == "stop":
                        return
                    elif k == "grammar":
                        recognizer.set_grammar(p)
                recognizer.reset()
                outbox.put(("lagging", dropped / 32000))
                continue
            position += len(payload)
            hyp = recognizer.accept(payload)
            if hyp is not None:
                frame = position // 320
                back = UNKNOWN_UTTERANCE_FRAMES if hyp.utterance_s is None else round(hyp.utterance_s * 100)
                outbox.put(("heard", Heard(hyp.text, hyp.intent, hyp.confidence, frame, max(0, frame - back))))


class RecognizerProcess:
    """Send audio and grammar changes; read results with `poll()`."""

    def __init__(self, engine: str | None = None, model: str | None = None) -> None:
        ctx = mp.get_context("spawn")  # no fork of a process that holds audio streams
        self._inbox = ctx.Queue()
        self._outbox = ctx.Queue()
        self._proc = ctx.Process(target=_serve, args=(self._inbox, self._outbox, engine, model),
                                 name="footcare-recognizer", daemon=True)
        self._proc.start()

    def set_grammar(self, grammar: str) -> None:
        self._inbox.put(("grammar", grammar))

    def accept(self, pcm: bytes) -> None:
        self._inbox.put(("audio", pcm))

    def poll(self, timeout: float) -> tuple[str, Any] | None:
        """The next ("ready"|"heard"|"lagging"|"error", payload), or None."""
        try:
            return self._outbox.get(timeout=timeout)
        except queue.Empty:
            if not self._proc.is_alive():
                return ("error", f"the recogniser stopped (exit code {self._proc.exitcode})")
            return None

    def close(self) -> None:
        try:
            self._inbox.put(("stop", None))
        except (OSError, ValueError):
            pass
        self._proc.join(timeout=2)
        if self._proc.is_alive():
            self._proc.terminate()
            self._proc.join(timeout=2)
