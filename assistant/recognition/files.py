"""Recognising whole recordings by streaming them, as the live loop would."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.recognition.audio import from_pcm, read_wav, to_pcm
from assistant.recognition.types import Hypothesis, Recognizer

CHUNK_S = 0.1
LEAD_S, TAIL_S = 0.3, 0.5
QUIET_DBFS = -30.0
"""A recording whose loud part (LOUD_PERCENTILE of its 30 ms frames) is quieter than this is
raised to it: PocketSphinx and the word check lose words far below the level they learnt."""
LOUD_PERCENTILE = 99
MAX_RAISE_DB = 30.0
PEAK_DBFS = -1.0
"""Raising never takes a sample above this (no clipping)."""


def raised_if_quiet(pcm: bytes, rate: int) -> bytes:
    """`pcm`, made louder when its loud part is below QUIET_DBFS (by at most MAX_RAISE_DB)."""
    x = from_pcm(pcm)
    n = int(0.03 * rate)
    if len(x) < n:
        return pcm
    frames = x[: len(x) // n * n].reshape(-1, n).astype(np.float64)
    loud = 10 * np.log10(np.percentile(np.mean(frames ** 2, axis=1), LOUD_PERCENTILE) + 1e-12)
    peak = 20 * np.log10(float(np.max(np.abs(x))) + 1e-12)
    gain_db = min(QUIET_DBFS - loud, MAX_RAISE_DB, PEAK_DBFS - peak)
    return to_pcm(x * 10 ** (gain_db / 20)) if gain_db > 0 else pcm


def with_room_tone(pcm: bytes, rate: int) -> bytes:
    """`pcm` with faint noise before and after (digital silence upsets feature normalisation)."""
    rng = np.random.default_rng(0)
    quiet = lambda s: to_pcm(rng.normal(0, 3e-4, int(s * rate)))  # noqa: E731
    return quiet(LEAD_S) + pcm + quiet(TAIL_S)


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
    recognizer.new_stream()
    step = int(recognizer.sample_rate * CHUNK_S) * 2
    for i in range(0, len(pcm), step):
        hyp = recognizer.accept(pcm[i:i + step])
        if hyp is not None:
            recognizer.reset()
            return hyp
    finish = getattr(recognizer, "finish", None)
    return finish() if finish else None


def recognize_file(recognizer: Recognizer, path: str | Path) -> FileResult:
    """Recognise a recording of one utterance, with room tone around it as a live stream has,
    so that speech starting at the first sample is not cut by the voice activity detector."""
    rate = recognizer.sample_rate
    pcm = with_room_tone(raised_if_quiet(read_wav(path, rate), rate), rate)
    start = time.perf_counter()
    hyp = recognize_pcm(recognizer, pcm)
    ms = (time.perf_counter() - start) * 1000
    return FileResult(str(path), hyp, ms, len(pcm) / 2 / recognizer.sample_rate)
