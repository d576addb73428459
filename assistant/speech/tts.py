"""Rendering text to audio with pyttsx3's espeak-ng driver.

Lines are split into sentences and each sentence is rendered on its own: the first
sentence can play while the next renders, sentences can be cached one by one, and a
clear pause is put between them (older listeners follow better with it).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import tempfile
import threading
import time
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

TTS_RATE = 22050
"""espeak-ng's own output rate."""

MAX_CHARS = 160
WRITE_WAIT_S = 5.0
"""How long to wait for espeak-ng's callback to write a rendered line after pyttsx3 returns."""
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+")


class SpeechError(Exception):
    """The speech engine cannot run (espeak-ng missing)."""


@dataclass(frozen=True)
class Voice:
    """How lines sound: espeak-ng voice, words a minute, and the pause between sentences."""

    voice: str = "gmw/en"
    rate_wpm: int = 150
    sentence_pause_s: float = 0.45


def sentences(text: str) -> list[str]:
    """The sentences of a line, in order, without empty ones."""
    return [s.strip() for s in _SENTENCE_END.split(text.strip()) if s.strip()]


_ENGINE_LOCK = threading.Lock()
"""pyttsx3 gives every Renderer of a process the same engine, and espeak-ng is not reentrant."""


class Renderer:
    """The process's pyttsx3 engine, used from one thread at a time."""

    def __init__(self) -> None:
        try:
            import pyttsx3

            self._engine = pyttsx3.init("espeak")
        except Exception as exc:  # pyttsx3 raises bare errors when libespeak-ng is absent
            raise SpeechError(f"cannot start espeak-ng through pyttsx3 ({exc}); install espeak-ng") from exc

    def render(self, text: str, voice: Voice) -> np.ndarray:
        """One sentence as float32 mono samples at TTS_RATE.

        pyttsx3's espeak driver loses long multi-clause texts (its synthesis ends after
        the call returns), so long sentences are rendered in parts split at a comma.
        """
        if len(text) > MAX_CHARS:
            parts = _split(text)
            if len(parts) > 1:
                gap = np.zeros(int(0.12 * TTS_RATE), dtype=np.float32)
                pieces = [self.render(p, voice) for p in parts]
                return np.concatenate([x for p in pieces for x in (p, gap)][:-1])
        for _ in range(2):
            samples = self._render_once(text, voice)
            if len(samples):
                return samples
        raise SpeechError(f"espeak-ng rendered nothing for {text!r}")

    def _render_once(self, text: str, voice: Voice) -> np.ndarray:
        with _ENGINE_LOCK, tempfile.TemporaryDirectory(prefix="footcare-tts-") as tmp:
            path = Path(tmp) / "line.wav"
            self._engine.setProperty("voice", voice.voice)
            self._engine.setProperty("rate", voice.rate_wpm)
            self._engine.setProperty("volume", 1.0)
            # pyttsx3 prints "Audio saved to ..." on stdout: keep our stdout clean.
            with contextlib.redirect_stdout(io.StringIO()):
                self._engine.save_to_file(text, str(path))
                self._engine.runAndWait()
                # The driver's loop can end before its synthesis does (the file is written by
                # espeak-ng's callback): wait for the file, or a late write lands in a
                # directory already removed, or in the next line's file.
                samples = _wait_for_wav(path, WRITE_WAIT_S)
            return trim(samples) if samples is not None else np.zeros(0, dtype=np.float32)


def _wait_for_wav(path: Path, timeout_s: float) -> np.ndarray | None:
    """The samples of a WAV file once it is whole, or None if it is not within `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return read_wav(path)
        except (OSError, EOFError, wave.Error):
            pass  # not there yet, or not all written
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.01)


def trim(samples: np.ndarray, keep_s: float = 0.03, floor: float = 0.003) -> np.ndarray:
    """Without espeak-ng's leading and trailing silence: pauses are ours to set."""
    loud = np.flatnonzero(np.abs(samples) > floor)
    if len(loud) == 0:
        return samples
    keep = int(keep_s * TTS_RATE)
    return samples[max(0, loud[0] - keep) : loud[-1] + keep]


def _split(text: str) -> list[str]:
    """Halves at the comma (else the space) nearest the middle."""
    mid = len(text) // 2
    cuts = [i for i, c in enumerate(text) if c == ","] or [i for i, c in enumerate(text) if c == " "]
    if not cuts:
        return [text]
    i = min(cuts, key=lambda k: abs(k - mid))
    return [p for p in (text[: i + 1].strip(), text[i + 1 :].strip()) if p]


def read_wav(path: str | os.PathLike) -> np.ndarray:
    """A mono 16-bit WAV as float32 in -1..1 (the rate must be TTS_RATE); EOFError when the file
    holds fewer samples than its header says (still being written, or torn)."""
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2 or w.getnchannels() != 1:
            raise SpeechError(f"{path}: expected 16-bit mono audio")
        expected = w.getnframes()
        data = np.frombuffer(w.readframes(expected), dtype="<i2")
    if len(data) < expected:
        raise EOFError(f"{path}: {len(data)} of {expected} samples")
    return data.astype(np.float32) / 32768.0


def write_wav(path: str | os.PathLike, samples: np.ndarray, rate: int = TTS_RATE) -> None:
    """Float32 samples to a 16-bit mono WAV, written atomically."""
    path = Path(path)
    tmp = path.with_suffix(".tmp")
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(tmp), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    os.replace(tmp, path)
