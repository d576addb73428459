"""Rendered sentences kept on disk, so the fixed lines of the protocol play at once.

Keyed by text, voice and rate: a change of wording or of rate renders anew, nothing
stale is ever played. `footcare prepare` fills it ahead for every fixed line.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from assistant.speech.tts import Renderer, Voice, read_wav, sentences, write_wav

CACHE_ENV = "FOOTCARE_SPEECH_CACHE"
_FORMAT = "2"  # bump when rendering changes in a way the key does not show


def default_cache_dir() -> Path:
    """$FOOTCARE_SPEECH_CACHE, else the user cache dir (XDG)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "footcare" / "speech"


def is_fixed(text: str) -> bool:
    """A line with no {placeholders}: the same every session, worth rendering ahead."""
    return "{" not in text


class SpeechCache:
    """Sentence audio by (text, voice, rate), rendered on a miss and kept."""

    def __init__(self, renderer: Renderer, directory: Path | None = None) -> None:
        self.renderer = renderer
        self.directory = directory or default_cache_dir()
        self.directory.mkdir(parents=True, exist_ok=True)

    def _path(self, text: str, voice: Voice) -> Path:
        key = f"{_FORMAT}\0{voice.voice}\0{voice.rate_wpm}\0{text}".encode()
        return self.directory / f"{hashlib.sha256(key).hexdigest()[:32]}.wav"

    def has(self, text: str, voice: Voice) -> bool:
        return self._path(text, voice).exists()

    def sentence(self, text: str, voice: Voice) -> np.ndarray:
        """The audio of one sentence, from disk or rendered now and stored."""
        path = self._path(text, voice)
        if path.exists():
            try:
                return read_wav(path)
            except (OSError, EOFError, ValueError):
                path.unlink(missing_ok=True)  # a torn file from a crash: render again
        samples = self.renderer.render(text, voice)
        write_wav(path, samples)
        return samples

    def prepare(self, lines: Iterable[str], voice: Voice) -> tuple[int, int]:
        """Render every sentence of the fixed lines; returns (rendered now, already there)."""
        rendered = present = 0
        for line in lines:
            if not is_fixed(line):
                continue
            for s in sentences(line):
                if self.has(s, voice):
                    present += 1
                else:
                    self.sentence(s, voice)
                    rendered += 1
        return rendered, present
