"""A second opinion on the short answers and the safety word: "stop", "yes" and "no".

PocketSphinx's acoustic model barely tells "no" from "go" or "stop" from "up" (docs/BENCHMARKS.md,
Recognition). Google's speech embedding, trained on a large amount of speech, tells them apart well:
a small classifier over it, trained on the `tune` speakers and espeak-ng, hears the held-out
speakers' "no" in 89% of clips against PocketSphinx's 60%, with fewer false accepts. The
recogniser asks it about every utterance short enough to be one word.

Needs onnxruntime; without it (or with a model file missing) `load()` returns None and the
recogniser decides alone, as before.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from assistant.audio.resample import resample
from assistant.recognition.audio import SAMPLE_RATE

MODEL_DIR = Path(__file__).resolve().parent / "words"
MEL_WINDOW = 76
"""Mel frames (10 ms) per embedding: 0.775 s of audio."""
MEL_STEP = 8
"""Mel frames between embeddings (80 ms)."""


class SpeechEmbedding:
    """The front end: 16 kHz audio -> mel spectrogram -> one 96-dim embedding per 80 ms (ONNX)."""

    def __init__(self, model_dir: Path = MODEL_DIR) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        options.log_severity_level = 3

        def session(name: str):
            return ort.InferenceSession(str(model_dir / name), sess_options=options,
                                        providers=["CPUExecutionProvider"])

        self._mel, self._embed = session("melspectrogram.onnx"), session("embedding_model.onnx")

    def __call__(self, samples: np.ndarray) -> np.ndarray:
        """Embeddings (n x 96) of `samples` (float -1..1 at 16 kHz), one per 80 ms."""
        pcm = np.clip(np.round(samples * 32768), -32768, 32767).astype(np.float32)[None, :]
        mel = np.squeeze(self._mel.run(None, {"input": pcm})[0]) / 10 + 2
        starts = range(0, len(mel) - MEL_WINDOW + 1, MEL_STEP)
        if not len(starts):
            return np.zeros((0, 96), np.float32)
        batch = np.stack([mel[i : i + MEL_WINDOW] for i in starts])[..., None].astype(np.float32)
        return self._embed.run(None, {"input_1": batch})[0].reshape(len(starts), -1)


class WordCheck:
    """The speech embedding and a classifier head (numpy) over windows of it (head.npz)."""

    def __init__(self, model_dir: Path = MODEL_DIR) -> None:
        self.embeddings = SpeechEmbedding(model_dir)
        head = np.load(model_dir / "head.npz")
        self._nets = [tuple(head[f"{k}{i}"] for k in ("mean", "scale", "w1_", "b1_", "w2_", "b2_"))
                      for i in range(sum(1 for k in head.files if k.startswith("mean")))]
        self.words: tuple[str, ...] = tuple(str(c) for c in head["classes"][1:])
        self._thresholds = head["thresholds"].astype(np.float32)
        self._window = int(head["window"])

    def scores(self, samples: np.ndarray) -> np.ndarray:
        """Per word, the best log odds against "other" over every window of the audio."""
        emb = self.embeddings(samples)
        if not len(emb):
            return np.full(len(self.words), -np.inf, np.float32)
        if len(emb) < self._window:  # shorter than a window: its first embedding stands for what came before
            emb = np.concatenate([np.repeat(emb[:1], self._window - len(emb), axis=0), emb])
        x = np.stack([emb[j : j + self._window].reshape(-1) for j in range(len(emb) - self._window + 1)])
        p = np.mean([_softmax(np.maximum(((x - m) / s) @ w1 + b1, 0) @ w2 + b2)
                     for m, s, w1, b1, w2, b2 in self._nets], axis=0)
        p = np.clip(p, 1e-15, 1.0)
        return (np.log(p[:, 1:]) - np.log(p[:, :1])).max(axis=0)

    def margins(self, samples: np.ndarray) -> dict[str, float]:
        """Per word, how far its score in `samples` (a short utterance with some quiet around it)
        stands above its threshold: above 0 the word is heard."""
        return {w: round(float(m), 3) for w, m in zip(self.words, self.scores(samples) - self._thresholds)}

    def steady_margin(self, samples: np.ndarray, word: str, margin: float, floor: float,
                      speeds: tuple[float, ...]) -> float:
        """`word`'s margin over `samples` as they are (`margin`) and played at each of `speeds`
        (1.08: 8% faster, its pitch with it): their median. A word really said stays heard a
        little faster or slower (the classifier learnt real speakers at 0.85-1.17); a chance
        likeness often does not, and a real word just missed often is heard (docs/BENCHMARKS.md,
        Recognition, twenty-first round). Speeds are tried one at a time, until most margins lie
        on one side of `floor`; the median lies beyond the nearest of those, which is returned."""
        seen, most = [margin], (len(speeds) + 1) // 2 + 1  # a majority of all the margins
        for speed in speeds:
            above, below = [m for m in seen if m > floor], [m for m in seen if m <= floor]
            if len(above) >= most:
                return min(above)
            if len(below) >= most:
                return max(below)
            seen.append(self.margins(resample(samples, SAMPLE_RATE, round(SAMPLE_RATE / speed)))[word])
        return float(np.median(seen))


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def load(model_dir: Path = MODEL_DIR) -> WordCheck | None:
    """The word check, or None (said on stderr) when onnxruntime or a model file is missing: the
    recogniser then decides alone."""
    try:
        return WordCheck(model_dir)
    except ImportError:
        why = "onnxruntime is not installed (`.venv/bin/pip install onnxruntime`)"
    except Exception as err:  # a missing or corrupt model file
        why = f"its models in {model_dir} cannot be loaded ({err}); reinstall footcare with `scripts/setup.sh`"
    print(f"footcare: the word check is off: {why}", file=sys.stderr)
    return None
