"""Audio for measuring recognition: espeak-ng voices, real dev speakers, noise at a set SNR.

Shared by `scripts/bench_recognition.py` and the tests so both measure the same thing.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
from pathlib import Path

import numpy as np

from assistant.recognition.audio import ROOM_TONE_RMS, SAMPLE_RATE, from_pcm, read_wav, to_pcm

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
SPEECH_COMMANDS = SHARED_DATA / "speech-commands-dev"
NOISE_DIR = SHARED_DATA / "noise"
GUIDE_DIR = SHARED_DATA.parent / "source"
TARGET_WORDS = ("stop", "yes", "no")
NEAR_MISS_WORDS = ("go", "off", "on", "up", "down", "left", "right")
COMMAND_WORD = re.compile(r"\b(stop\w*|pause|wait|hold|pain\w*|hurt\w*|help|skip|repeat|slower|faster|louder|"
                          r"quieter|yes|no|continue|enough|ouch|tingl\w*|uncomfortable|discomfort)\b", re.I)
"""Words of the commands and answers: plain talk is made of the guide's sentences without them."""
TALK_VOICES = (("en-us", 150), ("en-gb-x-rp+f2", 140))
"""(espeak-ng voice, words per minute) reading plain talk."""


def speaker(path: Path) -> str:
    """Speech Commands file names start with the speaker id."""
    return path.name.split("_nohash_")[0].split("_")[-1]


def held_out(path: Path) -> bool:
    """A stable half of the speakers, never used for tuning."""
    return held_out_speaker(speaker(path))


def held_out_speaker(speaker_id: str) -> bool:
    """The speaker is of the held-out half (see `held_out`)."""
    return hashlib.sha1(speaker_id.encode()).digest()[0] % 2 == 1


def clips(word: str) -> list[Path]:
    """Dev clips of one word folder (`_unknown_`, `_silence_` included)."""
    return sorted((SPEECH_COMMANDS / word).glob("*.wav"))


def synthesize(text: str, voice: str, rate: int, folder: Path) -> Path:
    """Speak `text` with espeak-ng into a WAV in `folder` (cached by content)."""
    key = hashlib.sha1(f"{voice}|{rate}|{text}".encode()).hexdigest()[:16]
    out = folder / f"{key}.wav"
    if not out.exists():
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(rate), "-w", str(out), text],
                       check=True, capture_output=True)
    return out


def plain_talk(stretches: int, words: int = 10) -> list[str]:
    """The first `stretches` runs of `words` words from the guide's sentences that hold no command
    word: what a television or a visitor might say nearby. Empty without the guide."""
    guide = next(GUIDE_DIR.glob("*.txt"), None)
    if guide is None:
        return []
    sentences = re.split(r"(?<=[.!?])\s+", guide.read_text().replace("\n", " "))
    talk = " ".join(s for s in sentences if not COMMAND_WORD.search(s)).split()
    return [" ".join(talk[i:i + words]) for i in range(0, min(len(talk), stretches * words), words)]


def load_noise(name: str) -> np.ndarray:
    return from_pcm(read_wav(NOISE_DIR / f"{name}.wav"))


def noise_names() -> list[str]:
    return sorted(p.stem for p in NOISE_DIR.glob("*.wav"))


def speech_power(x: np.ndarray) -> float:
    """Mean power of the louder half of 20 ms frames: the speech, not the pauses around it."""
    n = len(x) // 320
    if n == 0:
        return float(np.mean(x**2) + 1e-12)
    frames = (x[: n * 320].reshape(n, 320) ** 2).mean(axis=1)
    loud = np.sort(frames)[n // 2:]
    return float(loud.mean() + 1e-12)


def mix(speech: np.ndarray, noise: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """Speech plus a random stretch of `noise` scaled to `snr_db` (speech power over noise power)."""
    start = int(rng.integers(0, max(1, len(noise) - len(speech))))
    part = noise[start:start + len(speech)]
    if len(part) < len(speech):
        part = np.resize(part, len(speech))
    gain = np.sqrt(speech_power(speech) / (np.mean(part**2) + 1e-12) / 10 ** (snr_db / 10))
    return speech + gain * part


def pad(x: np.ndarray, before_s: float = 0.3, after_s: float = 0.5,
        rng: np.random.Generator | None = None) -> np.ndarray:
    """Surround a clip with quiet room tone (dither), as a live stream would have."""
    rng = rng or np.random.default_rng(0)
    quiet = lambda s: rng.normal(0, ROOM_TONE_RMS, int(s * SAMPLE_RATE)).astype(np.float32)  # noqa: E731
    return np.concatenate([quiet(before_s), x, quiet(after_s)])


def pcm(x: np.ndarray) -> bytes:
    return to_pcm(x)
