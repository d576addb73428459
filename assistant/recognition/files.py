"""Recognising whole recordings by streaming them, as the live loop would."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from assistant.recognition.audio import read_wav
from assistant.recognition.types import Hypothesis, Recognizer

CHUNK_S = 0.1


@dataclass(frozen=True)
class FileResult:
    file: str
    hypothesis: Hypothesis | None
    decode_ms: float
    audio_s: float

    def as_json(self) -> dict:
        h = self.hypothesis
        return {"file": self.file, "text": h.text if h else "", "intent": h.intent if h else None,
                "confidence": h.confidence if h else 0.0, "decode_ms": round(self.decode_ms, 1)}


def recognize_pcm(recognizer: Recognizer, pcm: bytes) -> Hypothesis | None:
    """The first phrase heard in `pcm`, fed in 100 ms chunks; None if everything was rejected."""
    recognizer.reset()
    step = int(recognizer.sample_rate * CHUNK_S) * 2
    for i in range(0, len(pcm), step):
        hyp = recognizer.accept(pcm[i:i + step])
        if hyp is not None:
            recognizer.reset()
            return hyp
    finish = getattr(recognizer, "finish", None)
    return finish() if finish else None


def recognize_file(recognizer: Recognizer, path: str | Path) -> FileResult:
    pcm = read_wav(path, recognizer.sample_rate)
    start = time.perf_counter()
    hyp = recognize_pcm(recognizer, pcm)
    ms = (time.perf_counter() - start) * 1000
    return FileResult(str(path), hyp, ms, len(pcm) / 2 / recognizer.sample_rate)
