#!/usr/bin/env python3
"""Train the word check's classifier head: assistant/recognition/words/head.npz.

The head tells "stop", "yes" and "no" from anything else, over windows of 8 consecutive speech
embeddings (`SpeechEmbedding`, the runtime front end): three StandardScaler + MLP
(768 -> 128 -> 4) networks, averaged. It learns from
- espeak-ng: the three words, near-miss and everyday words, phrases (clean and in noise);
- the `tune` speakers of speech-commands-dev, each clip six times (clean, 20/10/5 dB noise) and
  four times more sped up or slowed down, all of it counted three times;
- stretches of noise alone and room tone.
Noise is white, pink, brown, espeak-ng babble and the first half of each recording of
shared/data/noise. Per word, the threshold on log(P(word)/P(other)) (best window of a clip) is
the lowest with at most 1% false accepts on the tune speakers' near-miss and unknown words and
none on their silence, from out-of-fold scores (5 folds grouped by speaker). The held-out
speakers never enter training or thresholds; the figures printed at the end are theirs (noise
at 10 dB: the second half of each recording, never trained on).

About 15 minutes on one core: espeak-ng 0.5 min, embeddings 10 min, training 5 min. The
synthetic WAVs and the embeddings are cached in --work (delete it to recompute), so a rerun
only trains.

    nice .venv/bin/python scripts/train_word_check.py [--out PATH] [--work DIR] [--extra-negatives]
                                                      [--speakers tune|all]

`--speakers all` learns the held-out speakers too and measures them out of fold (not the
shipped head: docs/BENCHMARKS.md, Recognition, twenty-second round).

Needs espeak-ng, onnxruntime and scikit-learn (only here: pip install scikit-learn). A port of
the prototype that trained the shipped head (variant E3_synth_real_aug_mlp128_W8_a0.1_realx3),
with its data, seeds and random draws.
"""

from __future__ import annotations

import os

for _threads in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_threads] = "1"  # one core (before numpy loads its BLAS): live audio uses the other

import argparse  # noqa: E402
import hashlib  # noqa: E402
import pickle  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import wave  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import soxr  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.recognition import evaluation as ev  # noqa: E402
from assistant.recognition.audio import SAMPLE_RATE as SR  # noqa: E402
from assistant.recognition.word_check import MODEL_DIR, SpeechEmbedding  # noqa: E402

CLASSES = ("other", *ev.TARGET_WORDS)
WINDOW = 8
"""Embeddings per classifier window."""
WINDOW_S = 0.08 * (WINDOW - 1) + 0.775
"""Seconds of audio one window hears."""
HIDDEN = 128
ALPHA = 0.1
ENSEMBLE = 3
"""Networks averaged (random_state 0, 1, 2)."""
REAL_REPEATS = 3
"""How many times the tune speakers' clips (and their variants) enter the training set."""
FOLDS = 5
FA_BUDGET = 0.01
CLIP_S = 2.6
"""Seconds of padded audio per item (longer for long phrases)."""
HELD_BEFORE_S = 0.8
"""Room tone before a held-out clip."""
TUNE_SNRS = (None, None, 20, 10, 10, 5)
"""The six versions of each tune clip: clean twice, then noise at these SNRs (dB)."""
SPEEDS = (0.85, 0.92, 1.08, 1.17)
REAL_FOLDERS = (*ev.TARGET_WORDS, *ev.NEAR_MISS_WORDS, "_unknown_", "_silence_")

POSITIVES_PER_WORD = 500
VOICES = ("en-us", "en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-029", "en-gb-x-gbclan",
          "en-gb-x-gbcwmd")
# Negatives. The words of the dev set's _unknown_ folder (digits, bed, bird, cat, dog, happy, house,
# marvin, sheila, tree, wow, learn, follow, forward, backward, visual) are deliberately left out, so
# false accepts on unknown words measure generalisation; so are homophones and synonyms (know,
# yeah, yep, nope, nah).
SYNTH_NEAR = ("top step stock shop spot stomp stuff stun stall stoke store slop drop pop sob cop stab "
              "stew stow strap stamp stub stone so go now snow though toe low nose note row sew new "
              "knee gnaw nod noon nor dough show slow grow throw mow guess less yet chess mess yell "
              "jets yeast says ess test desk bless dress press yen yam yolk yard address").split()
COMMON = ("hello the a and what time weather play music light turn please okay cancel pause start "
          "next back volume louder quieter maybe hey hi good morning night call open close set alarm "
          "timer minute water coffee kitchen today tomorrow about there where why how when who help "
          "again more repeat radio news later never always sure fine wait listen computer garden "
          "window table paper rocket banana orange purple yellow little big red blue green sister "
          "mother father friend money phone book door car street city sun rain cold hot warm much "
          "many some any this that these those here it is was").split()
PHRASES = ("what time is it", "turn on the light", "play some music", "good morning", "set a timer",
           "how are you", "not now", "go on", "thank you", "turn it down", "what is the weather",
           "call my sister", "open the door", "I don't know", "see you later", "pass the salt",
           "let me think", "one moment", "hold on", "sounds good", "top of the morning",
           "step by step", "in stock", "go away", "so what", "just a second", "right now",
           "left side")
EXTRA_WORDS = 2000
"""Frequent English words (PocketSphinx's language model) spoken as further negatives."""
EXTRA_TAKES = 2
"""Takes of each of them, each by its own voice."""
EXTRA_SENTENCES = 300
"""Runs of 3-6 of those words, as a television or another person talking."""
LEFT_OUT = frozenset(("backward bed bird cat dog follow forward happy house learn marvin sheila tree "
                      "visual wow zero one two three four five six seven eight nine "
                      "know noh yeah yep yup nope nah").split())
"""The dev set's unknown words (kept unseen, as above) and the targets' homophones and synonyms."""


@dataclass(frozen=True)
class Take:
    """One espeak-ng rendering."""
    path: Path
    label: str
    """A target word, "other", or "babble" (material for babble noise only)."""
    voice: str


@dataclass(frozen=True)
class Item:
    """The embeddings of one padded (and perhaps noisy) clip."""
    emb: np.ndarray
    """(n, 96) float16."""
    span: tuple[float, float]
    """Seconds of the word within the padded audio."""
    label: str
    kind: str
    """target, near, unknown, silence, synthneg or noise."""
    speaker: str
    split: str
    """synth, tune or held."""
    cond: str

    @property
    def y(self) -> int:
        return CLASSES.index(self.label)


# --- espeak-ng

def espeak_variants() -> list[str]:
    """The voice variants of the installed espeak-ng ("+name"), no variant ("") first."""
    version = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True, check=True).stdout
    found = re.search(r"Data at: (.+)", version)
    data_dirs = ([Path(found.group(1).strip())] if found else []) + \
        sorted(Path("/usr/lib").glob("*/espeak-ng-data")) + [Path("/usr/share/espeak-ng-data")]
    for data in data_dirs:
        if (data / "voices" / "!v").is_dir():
            return [""] + sorted("+" + p.name for p in (data / "voices" / "!v").iterdir())
    raise SystemExit("espeak-ng's voice variants (espeak-ng-data/voices/!v) are not found")


def render(text: str, voice: str, rate: int, pitch: int, folder: Path) -> Path | None:
    """A WAV of espeak-ng saying `text` (cached by content), or None if espeak-ng refuses."""
    out = folder / f"{hashlib.sha1(f'{voice}|{rate}|{pitch}|{text}'.encode()).hexdigest()[:16]}.wav"
    if not out.exists():
        done = subprocess.run(["espeak-ng", "-v", voice, "-s", str(rate), "-p", str(pitch), "-w", str(out),
                               text], capture_output=True)
        if done.returncode:
            out.unlink(missing_ok=True)
            return None
    return out


def synthesize(folder: Path) -> list[Take]:
    """Positives, negatives and babble sentences, each by a random voice, variant, rate and pitch."""
    folder.mkdir(parents=True, exist_ok=True)
    rng, variants, takes = random.Random(1), espeak_variants(), []

    def one(label: str, text: str) -> None:
        voice = rng.choice(VOICES) + rng.choice(variants)
        rate, pitch = rng.randint(100, 200), rng.randint(20, 80)
        if path := render(text, voice, rate, pitch, folder):
            takes.append(Take(path, label, voice))

    for word in ev.TARGET_WORDS:
        for _ in range(POSITIVES_PER_WORD):
            one(word, rng.choice([word, word + ".", word + "!", word.capitalize(), word + "?"]))
    for word in SYNTH_NEAR + list(ev.NEAR_MISS_WORDS):
        for _ in range(30):
            one("other", rng.choice([word, word + ".", word + "!", word.capitalize()]))
    for word in COMMON:
        for _ in range(8):
            one("other", word)
    for phrase in PHRASES:
        for _ in range(10):
            one("other", phrase)
    for _ in range(40):
        one("babble", " ".join(rng.sample(COMMON, 12)))
    return takes


def extra_vocabulary() -> list[str]:
    """EXTRA_WORDS frequent words, less LEFT_OUT, near-miss words and any word said like a target
    or beginning as one ("nobody", "stopped"): spoken alone they sound like negatives, but
    in a short answer their start is the target's word."""
    from assistant.recognition.garbage import pronunciations, ranked_words
    from assistant.recognition.sphinx import stock_model_dir

    model = stock_model_dir()
    dict_path = str(model / "cmudict-en-us.dict")
    prons = pronunciations(dict_path)
    targets = [q for w in ev.TARGET_WORDS for q in prons[w]]
    skip = LEFT_OUT | set(ev.TARGET_WORDS) | set(ev.NEAR_MISS_WORDS)
    words = [w for w in ranked_words(dict_path, str(model / "en-us.lm.bin"))
             if w not in skip and not any(p[:len(q)] == q for p in prons[w] for q in targets)]
    return words[:EXTRA_WORDS]


def synthesize_extra(folder: Path) -> list[Take]:
    """The extra negatives: each vocabulary word EXTRA_TAKES times, and sentences of them."""
    folder.mkdir(parents=True, exist_ok=True)
    rng, variants, takes, vocabulary = random.Random(2), espeak_variants(), [], extra_vocabulary()

    def one(text: str) -> None:
        voice = rng.choice(VOICES) + rng.choice(variants)
        if path := render(text, voice, rng.randint(100, 200), rng.randint(20, 80), folder):
            takes.append(Take(path, "other", voice))

    for word in vocabulary:
        for _ in range(EXTRA_TAKES):
            one(word)
    for _ in range(EXTRA_SENTENCES):
        one(" ".join(rng.sample(vocabulary, rng.randint(3, 6))))
    return takes


# --- audio

def read(path: Path) -> np.ndarray:
    """Float samples of a 16-bit mono WAV, exact, at 16 kHz (resampled by soxr if need be).

    Not `audio.read_wav`: its PCM output scales by 32767 and truncates, one step towards zero
    for every sample, which changes the quietest clips (Speech Commands' silence, RMS ~3 steps)
    and so the thresholds."""
    with wave.open(str(path)) as w:
        if w.getsampwidth() != 2 or w.getnchannels() != 1:
            raise SystemExit(f"{path}: not 16-bit mono")
        rate, pcm = w.getframerate(), w.readframes(w.getnframes())
    x = np.frombuffer(pcm, "<i2").astype(np.float32) / 32768
    return x if rate == SR else soxr.resample(x, rate, SR).astype(np.float32)


def fit_len(x: np.ndarray, n: int = SR) -> np.ndarray:
    """Clips are 1 s; shorter ones (Speech Commands has a few) are zero-padded."""
    return x[:n] if len(x) >= n else np.concatenate([x, np.zeros(n - len(x), np.float32)])


def word_span(x: np.ndarray) -> tuple[float, float]:
    """(start, end) s of the loud part of a clip: 20 ms frames within 25 dB of the loudest."""
    n = max(1, (len(x) - 320) // 160 + 1)
    energy = np.array([np.mean(x[i * 160:i * 160 + 320] ** 2) for i in range(n)]) + 1e-12
    loud = np.where(energy > energy.max() * 10 ** -2.5)[0]
    return loud[0] * 0.01, min(len(x) / SR, loud[-1] * 0.01 + 0.02)


def trim(x: np.ndarray) -> np.ndarray:
    """The loud part of a clip and 50 ms either side."""
    start, end = word_span(x)
    return x[max(0, int((start - 0.05) * SR)):min(len(x), int((end + 0.05) * SR))]


def padded(clip: np.ndarray, before: float, rng: np.random.Generator) -> np.ndarray:
    """`clip` in room tone: `before` s ahead, the rest of CLIP_S (or at least 1 s) after."""
    total = max(CLIP_S, len(clip) / SR + 1.0)
    return ev.pad(clip, before, total - before - len(clip) / SR, rng)


def mix_padded(clip: np.ndarray, audio: np.ndarray, noise: np.ndarray, snr_db: float,
               rng: np.random.Generator) -> np.ndarray:
    """Noise over all of `audio`, its gain set from the clip in the project's own padding (0.3 s
    before, 0.5 s after, as `evaluation.pad`), so that an SNR means what it means there."""
    ref = np.concatenate([np.zeros(int(0.3 * SR), np.float32), clip, np.zeros(int(0.5 * SR), np.float32)])
    start = int(rng.integers(0, max(1, len(noise) - len(audio))))
    part = noise[start:start + len(audio)]
    if len(part) < len(audio):
        part = np.resize(part, len(audio))
    gain = np.sqrt(ev.speech_power(ref) / (np.mean(part**2) + 1e-12) / 10 ** (snr_db / 10))
    return audio + gain * part


def colored(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """n samples of white, pink or brown noise of unit RMS."""
    white = rng.normal(size=n)
    if kind == "white":
        return (white / white.std()).astype(np.float32)
    f = np.fft.rfftfreq(n)
    f[0] = f[1]
    y = np.fft.irfft(np.fft.rfft(white) / (np.sqrt(f) if kind == "pink" else f), n)
    return (y / y.std()).astype(np.float32)


def babble(paths: list[Path], rng: np.random.Generator, seconds: int = 60) -> np.ndarray:
    """Five overlapping espeak-ng talkers, unit RMS."""
    out = np.zeros(seconds * SR, np.float32)
    for _ in range(5):
        pos = 0
        while pos < len(out):
            x = read(rng.choice(paths))
            x = x / (np.sqrt(ev.speech_power(x)) + 1e-9)
            m = min(len(x), len(out) - pos)
            out[pos:pos + m] += x[:m]
            pos += m
    return out / out.std()


def recorded_noise(half: int) -> dict[str, np.ndarray]:
    """First (0, for training) or second (1, for measuring) half of each recorded noise."""
    noises = {name: read(ev.NOISE_DIR / f"{name}.wav") for name in ev.noise_names()}
    return {f"real{half + 1}:{name}": x[len(x) // 2:] if half else x[:len(x) // 2] for name, x in noises.items()}


def colored_noises(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {kind: colored(kind, 60 * SR, rng) for kind in ("white", "pink", "brown")}


# --- embeddings

def real_clip(path: Path, folder: str) -> tuple[np.ndarray, dict[str, str], tuple[float, float]]:
    """A dev clip (1 s), its meta and its word's span (all of it for silence)."""
    x, meta = fit_len(read(path)), real_meta(path, folder)
    return x, meta, (0.0, 1.0) if meta["kind"] == "silence" else word_span(x)


def real_meta(path: Path, folder: str) -> dict[str, str]:
    kind = ("target" if folder in ev.TARGET_WORDS else "near" if folder in ev.NEAR_MISS_WORDS
            else "unknown" if folder == "_unknown_" else "silence")
    return dict(label=folder if kind == "target" else "other", kind=kind, speaker=ev.speaker(path))


class Embedder:
    """Pads, mixes and embeds audio into Items, drawing from one seeded random stream."""

    def __init__(self, check: SpeechEmbedding, seed: int) -> None:
        self.check, self.rng, self.items = check, np.random.default_rng(seed), []

    def keep(self, audio: np.ndarray, span: tuple[float, float], **meta) -> None:
        self.items.append(Item(self.check(audio).astype(np.float16), span, **meta))

    def add(self, clip: np.ndarray, before: float, *, span: tuple[float, float] = (0.0, 0.0),
            noise: np.ndarray | None = None, snr: float = 0.0, raw: np.ndarray | None = None, **meta) -> None:
        """`clip` padded (`before` s of room tone first), `noise` over it at `snr` dB; or `raw`
        audio instead (the padding is drawn all the same: the prototype's random stream)."""
        audio = padded(clip, before, self.rng)
        if noise is not None:
            audio = mix_padded(clip, audio, noise, snr, self.rng)
        self.keep(audio if raw is None else raw, (before + span[0], before + span[1]), **meta)


def base_items(check: SpeechEmbedding, takes: list[Take]) -> list[Item]:
    """Held-out and tune clips, noise alone, room tone and espeak-ng speech."""
    print("embedding ...", flush=True)
    e = Embedder(check, 123)
    train_noises = training_noises(e.rng, takes)
    test_noises = recorded_noise(1)
    names = list(train_noises)
    for folder in REAL_FOLDERS:
        for path in ev.clips(folder):
            x, meta, span = real_clip(path, folder)
            if ev.held_out(path):
                e.add(x, HELD_BEFORE_S, span=span, split="held", cond="clean", **meta)
                for name, noise in [*test_noises.items(), *((n, train_noises[n]) for n in names if n.startswith("real1:"))]:
                    e.add(x, HELD_BEFORE_S, span=span, noise=noise, snr=10, split="held",
                          cond="10dB:" + name.split(":")[0], **meta)
                continue
            add_tune_versions(e, x, meta, span, train_noises)
        print(f"  {folder}: {len(e.items)} items", flush=True)

    n, none = int(CLIP_S * SR), np.zeros(0, np.float32)
    noise_meta = dict(label="other", kind="noise", speaker="-")
    for name, noise in test_noises.items():
        for _ in range(20):
            start = int(e.rng.integers(0, len(noise) - n))
            e.add(none, HELD_BEFORE_S, raw=noise[start:start + n], split="held", cond="noise-only", **noise_meta)
    for name, noise in train_noises.items():
        for _ in range(40 if name.startswith("real1") else 50):
            start = int(e.rng.integers(0, len(noise) - n))
            gain = 10 ** e.rng.uniform(-1.5, 0.5) if name.startswith("real1") else 10 ** e.rng.uniform(-3, -1)
            e.add(none, 0.5, raw=(noise[start:start + n] * gain).astype(np.float32), split="synth",
                  cond="noise-only:" + name, **noise_meta)
    for _ in range(20):
        e.add(none, 0.5, split="synth", cond="roomtone", **noise_meta)

    add_takes(e, [t for t in takes if t.label != "babble"], train_noises)
    print(f"  espeak-ng: {len(e.items)} items", flush=True)
    return e.items


def add_tune_versions(e: Embedder, x: np.ndarray, meta: dict, span: tuple[float, float],
                      noises: dict[str, np.ndarray]) -> None:
    """The TUNE_SNRS versions of one real clip that training learns from."""
    names = list(noises)
    for snr in TUNE_SNRS:
        before = e.rng.uniform(0.5, 1.1)
        if snr is None:
            e.add(x, before, span=span, split="tune", cond="clean", **meta)
        else:
            name = e.rng.choice(names)
            e.add(x, before, span=span, noise=noises[name], snr=snr, split="tune", cond=f"{snr}dB:{name}", **meta)


def held_training_items(check: SpeechEmbedding, takes: list[Take]) -> tuple[list[Item], list[Item]]:
    """`--speakers all`: the held-out speakers' clips as training items, as the tune clips are
    (add_tune_versions; variant_items), from their own random streams."""
    e = Embedder(check, 321)
    noises = training_noises(e.rng, takes)
    for folder in REAL_FOLDERS:
        for path in ev.clips(folder):
            if ev.held_out(path):
                add_tune_versions(e, *real_clip(path, folder), noises)
    print(f"  held-out speakers as training items: {len(e.items)}", flush=True)
    return e.items, variant_items(check, held=True)


def training_noises(rng: np.random.Generator, takes: list[Take]) -> dict[str, np.ndarray]:
    """Coloured noise, espeak-ng babble and the first half of each recorded noise."""
    noises = colored_noises(rng)
    noises["babble"] = babble([t.path for t in takes if t.label == "babble"], rng)
    return noises | recorded_noise(0)


def add_takes(e: Embedder, takes: list[Take], noises: dict[str, np.ndarray]) -> None:
    """Each espeak-ng take at a random level, clean and in a random noise at 20, 10 or 5 dB."""
    names = list(noises)
    for take in takes:
        x = trim(read(take.path))
        if len(x) < 1600:
            continue
        x = x / max(1e-6, np.abs(x).max()) * 10 ** e.rng.uniform(-1.5, -0.1)
        meta = dict(span=(0.05, len(x) / SR - 0.05), label=take.label, speaker=take.voice, split="synth",
                    kind="target" if take.label in ev.TARGET_WORDS else "synthneg")
        e.add(x, e.rng.uniform(0.4, 1.0), cond="clean", **meta)
        name = e.rng.choice(names)
        snr = int(e.rng.choice([20, 10, 5]))
        e.add(x, e.rng.uniform(0.4, 1.0), noise=noises[name], snr=snr, cond=f"{snr}dB:{name}", **meta)


def extra_items(check: SpeechEmbedding, takes: list[Take], work: Path) -> list[Item]:
    """The extra negatives (synthesize_extra)."""
    t0 = time.time()
    extra = synthesize_extra(work / "synth-extra")
    print(f"espeak-ng: {len(extra)} extra takes ({time.time() - t0:.0f} s); embedding ...", flush=True)
    e = Embedder(check, 11)
    add_takes(e, extra, training_noises(e.rng, takes))
    print(f"  extra negatives: {len(e.items)} items ({time.time() - t0:.0f} s)", flush=True)
    return e.items


def variant_items(check: SpeechEmbedding, held: bool = False) -> list[Item]:
    """Tune clips only (or held-out ones only), four times each: speed and pitch x0.85..1.17
    (resampled), gain +-5 dB, clean or in noise at 20/10/5 dB."""
    e = Embedder(check, 77 if held else 7)
    noises = colored_noises(e.rng) | recorded_noise(0)
    names = list(noises)
    for folder in REAL_FOLDERS:
        for path in ev.clips(folder):
            if ev.held_out(path) != held:
                continue
            x0, meta = fit_len(read(path)), real_meta(path, folder)
            for speed in SPEEDS:
                x = soxr.resample(x0, SR, SR / speed).astype(np.float32)  # played at SR: speed x `speed`
                x = x * 10 ** e.rng.uniform(-0.5, 0.5)
                span = (0.0, len(x) / SR) if meta["kind"] == "silence" else word_span(x)
                before = e.rng.uniform(0.5, 1.1)
                audio = padded(x, before, e.rng)
                snr, name = e.rng.choice([None, 20, 10, 5]), "clean"
                if snr is not None:
                    name = e.rng.choice(names)
                    audio = mix_padded(x, audio, noises[name], snr, e.rng)
                e.keep(audio, (before + span[0], before + span[1]), split="tune", cond=f"x{speed}:{snr}:{name}", **meta)
    print(f"  variants: {len(e.items)} items", flush=True)
    return e.items


def features(work: Path, extra: bool, all_speakers: bool
             ) -> tuple[list[Item], list[Item], list[Item], tuple[list[Item], list[Item]]]:
    """(base items, variant items, extra negatives if `extra`, the held-out speakers' training
    items if `all_speakers`), computed once and cached in `work`."""
    t0 = time.time()
    takes = synthesize(work / "synth")
    print(f"espeak-ng: {len(takes)} takes ({time.time() - t0:.0f} s)", flush=True)
    check = SpeechEmbedding(MODEL_DIR)
    base, variants = cached(work / "features.pkl", lambda: (base_items(check, takes), variant_items(check)))
    more = cached(work / "extra.pkl", lambda: extra_items(check, takes, work)) if extra else []
    held = cached(work / "features-held.pkl", lambda: held_training_items(check, takes)) if all_speakers else ([], [])
    print(f"features: {time.time() - t0:.0f} s", flush=True)
    return base, variants, more, held


def cached(path: Path, compute):
    """`compute()`, pickled in `path` the first time (delete it to recompute)."""
    if path.exists():
        with open(path, "rb") as f:
            return pickle.load(f)
    value = compute()
    with open(path, "wb") as f:
        pickle.dump(value, f)
    return value


# --- training

def windows(emb: np.ndarray) -> np.ndarray:
    """Every run of WINDOW consecutive embeddings, flattened."""
    return np.stack([emb[j:j + WINDOW].reshape(-1) for j in range(max(1, len(emb) - WINDOW + 1))]
                    ).astype(np.float32)


def train_windows(item: Item, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Up to 4 random windows of a negative; up to 3 windows holding all of a positive's word (or
    its middle WINDOW_S - 0.1 s), else the one centred on it."""
    x = windows(item.emb)
    if item.y == 0:
        k = min(len(x), 4)
        return x[rng.choice(len(x), k, replace=False)], np.zeros(k, int)
    start, end = item.span
    if end - start > WINDOW_S - 0.1:
        mid = (start + end) / 2
        start, end = mid - (WINDOW_S - 0.1) / 2, mid + (WINDOW_S - 0.1) / 2
    starts = 0.08 * np.arange(len(x))
    ok = np.where((starts <= start + 0.02) & (starts + WINDOW_S >= end - 0.02))[0]
    if len(ok) == 0:
        ok = [int(np.argmin(np.abs(starts + WINDOW_S / 2 - (start + end) / 2)))]
    ok = rng.permutation(ok)[:3]
    return x[ok], np.full(len(ok), item.y)


def fit(items: list[Item], rng: np.random.Generator) -> list:
    """The ENSEMBLE networks (scikit-learn pipelines), each trained on the same windows."""
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    assert all(it.split != "held" for it in items), "held-out speakers must never be trained on"
    xs, ys = zip(*(train_windows(it, rng) for it in items))
    x, y = np.concatenate(xs), np.concatenate(ys)
    nets = [make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(HIDDEN,), alpha=ALPHA, max_iter=200,
                                                          early_stopping=True, random_state=seed))
            for seed in range(ENSEMBLE)]
    return [net.fit(x, y) for net in nets]


def scores(nets: list, items: list[Item]) -> np.ndarray:
    """Per item and word: the best window's log(P(word)/P(other))."""
    xs = [windows(it.emb) for it in items]
    bounds = np.cumsum([0] + [len(x) for x in xs])
    p = np.clip(np.mean([net.predict_proba(np.concatenate(xs)) for net in nets], axis=0), 1e-15, 1)
    odds = np.log(p[:, 1:]) - np.log(p[:, :1])
    return np.stack([odds[bounds[i]:bounds[i + 1]].max(axis=0) for i in range(len(items))])


def decide(s: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Class reported per item (1..3), or 0: the word furthest over its threshold, if any."""
    over = s - thresholds[None, :]
    return np.where(over.max(axis=1) > 0, over.argmax(axis=1) + 1, 0)


def out_of_fold_scores(synth: list[Item], tune: list[Item], variants: list[Item],
                       rng: np.random.Generator, also: Sequence[Item] = ()) -> tuple[np.ndarray, np.ndarray]:
    """Scores of each tune clip by networks trained without its speaker; and of each item of
    `also` whose speaker is among the tune clips' (held-out speakers' test conditions, with
    `--speakers all`), by the networks that did not learn that speaker."""
    from sklearn.model_selection import GroupKFold

    s = np.zeros((len(tune), len(CLASSES) - 1))
    s_also = np.full((len(also), len(CLASSES) - 1), np.nan)
    for fold, (train, test) in enumerate(GroupKFold(FOLDS).split(tune, groups=[it.speaker for it in tune])):
        speakers = {tune[i].speaker for i in train}
        real = [tune[i] for i in train] + [it for it in variants if it.speaker in speakers]
        nets = fit(synth + REAL_REPEATS * real, rng)
        s[test] = scores(nets, [tune[i] for i in test])
        tested = {tune[i].speaker for i in test}
        mine = [j for j, it in enumerate(also) if it.speaker in tested]
        if mine:
            s_also[mine] = scores(nets, [also[j] for j in mine])
        print(f"  fold {fold + 1}/{FOLDS}", flush=True)
    return s, s_also


def thresholds(tune: list[Item], s: np.ndarray) -> np.ndarray:
    """Per word: at most FA_BUDGET false accepts on near-miss and unknown words, none on silence."""
    y, kind = np.array([it.y for it in tune]), np.array([it.kind for it in tune])
    speech, silence = (y == 0) & np.isin(kind, ["near", "unknown"]), (y == 0) & (kind == "silence")
    return np.array([max(np.quantile(s[speech, c], 1 - FA_BUDGET), s[silence, c].max() + 1e-3, 0.0)
                     for c in range(s.shape[1])])


def export(nets: list, t: np.ndarray, out: Path) -> None:
    """The head as `WordCheck` loads it (float32 weights)."""
    arrays = {}
    for i, net in enumerate(nets):
        scaler, mlp = net[0], net[-1]
        for key, value in (("mean", scaler.mean_), ("scale", scaler.scale_), ("w1_", mlp.coefs_[0]),
                           ("b1_", mlp.intercepts_[0]), ("w2_", mlp.coefs_[1]), ("b2_", mlp.intercepts_[1])):
            arrays[f"{key}{i}"] = np.asarray(value, np.float32)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "wb") as f:
        np.savez_compressed(f, **arrays, thresholds=t.astype(np.float32), window=np.array(WINDOW),
                            classes=np.array(CLASSES))


def report(held: list[Item], s: np.ndarray, t: np.ndarray) -> None:
    """Recall per word and false accept rates of the held-out speakers, per condition."""
    y, kind, cond = (np.array([getattr(it, k) for it in held]) for k in ("y", "kind", "cond"))
    d = decide(s, t)
    print(f"{'held-out speakers':26s}" + "".join(f"{w:>7s}" for w in ev.TARGET_WORDS)
          + "".join(f"{'FA ' + k:>12s}" for k in ("near", "unknown", "silence")))
    for c, title in (("clean", "clean"), ("10dB:real2", "10 dB, unseen noise half"),
                     ("10dB:real1", "10 dB, trained noise half")):
        sel = cond == c
        recall = [100 * np.mean(d[sel & (y == i)] == i) for i in range(1, len(CLASSES))]
        fa = [100 * np.mean(d[sel & (kind == k)] != 0) for k in ("near", "unknown", "silence")]
        print(f"{title:26s}" + "".join(f"{r:6.1f}%" for r in recall) + "".join(f"{f:11.1f}%" for f in fa))
    sel = cond == "noise-only"
    if sel.any():
        print(f"{'noise alone (unseen half)':26s} FA {100 * np.mean(d[sel] != 0):.1f}% of {sel.sum()}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=MODEL_DIR / "head.npz")
    ap.add_argument("--work", type=Path, default=Path("/tmp/footcare-word-check"),
                    help="cache of synthetic WAVs and embeddings")
    ap.add_argument("--extra-negatives", action="store_true",
                    help="also learn from EXTRA_WORDS frequent words and sentences of them (not the "
                         "shipped head: docs/BENCHMARKS.md, Recognition, fourteenth round)")
    ap.add_argument("--speakers", choices=("tune", "all"), default="tune",
                    help="real speakers to learn from: the tune half (the held-out half then measures "
                         "it), or all of speech-commands-dev (measured out of fold: each held-out "
                         "speaker by the networks of the fold that did not learn them)")
    args = ap.parse_args()
    try:
        import sklearn  # noqa: F401
    except ImportError:
        sys.exit("training the word check needs scikit-learn: pip install scikit-learn")
    t0 = time.time()
    everyone = args.speakers == "all"
    items, variants, extra, held_train = features(args.work, args.extra_negatives, everyone)
    items = items + extra
    synth, tune, held = ([it for it in items if it.split == split] for split in ("synth", "tune", "held"))
    speech_held = [it for it in held if it.speaker != "-"]
    tune, variants = tune + held_train[0], variants + held_train[1]
    print(f"training on {len(synth)} synthetic and {REAL_REPEATS} x {len(tune) + len(variants)} real items ...",
          flush=True)
    rng = np.random.default_rng(0)
    s, s_held = out_of_fold_scores(synth, tune, variants, rng, speech_held if everyone else [])
    t = thresholds(tune, s)
    if everyone:
        mine = np.array([not ev.held_out_speaker(it.speaker) for it in tune])
        t_tune = thresholds([it for it, m in zip(tune, mine) if m], s[mine])
        print(f"held-out speakers out of fold, at thresholds chosen on the tune speakers "
              f"{np.round(t_tune, 3).tolist()} (speech only):")
        report(speech_held, s_held, t_tune)
    nets = fit(synth + REAL_REPEATS * (tune + variants), rng)
    export(nets, t, args.out)
    print(f"wrote {args.out}; thresholds (stop, yes, no) {np.round(t, 3).tolist()}")
    if everyone:
        print("(the held-out speakers were learnt: the figures below are on training speakers, "
              "but for their noise alone and the unseen noise half)")
    report(held, scores(nets, held), t)
    print(f"{time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
