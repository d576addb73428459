#!/usr/bin/env python3
"""Adapt the built-in engine's acoustic model to real speakers (MAP adaptation, sphinxtrain).

PocketSphinx's English model was trained on read speech from good microphones; people talking
to a small speaker in a room sound otherwise. This re-estimates the model's Gaussians, mixture
weights and transitions on the `tune` half of the speakers of `../shared/data/speech-commands-dev`
(one word a clip, every word folder but `_silence_`), the half never used for measuring
(`assistant/recognition/evaluation.py`, `held_out`), and writes the four adapted files into
`assistant/recognition/adapted/`, which the built-in engine's spotter loads over the stock ones
(`SphinxSettings.adapted_spotter`).
The other half of the speakers measures it (docs/BENCHMARKS.md, Recognition).

Needs the Debian packages sphinxtrain, sphinxbase-utils (sphinx_fe) and pocketsphinx
(pocketsphinx_mdef_convert); not needed to run footcare, which ships the result.

    .venv/bin/python scripts/adapt_sphinx.py [--out DIR]
"""

from __future__ import annotations

import argparse
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant.recognition.evaluation import SPEECH_COMMANDS, held_out, speaker  # noqa: E402
from assistant.recognition.garbage import pronunciations  # noqa: E402
from assistant.recognition.sphinx import ADAPTED_DIR, ADAPTED_FILES, stock_model_dir  # noqa: E402

SPHINXTRAIN = Path("/usr/lib/sphinxtrain")
TOOLS = {"sphinx_fe": "sphinxbase-utils", "pocketsphinx_mdef_convert": "pocketsphinx",
         str(SPHINXTRAIN / "bw"): "sphinxtrain", str(SPHINXTRAIN / "map_adapt"): "sphinxtrain",
         str(SPHINXTRAIN / "mk_s2sendump"): "sphinxtrain"}


def training_set(dictionary: Path) -> list[tuple[str, str]]:
    """(file id under SPEECH_COMMANDS without .wav, word) of every tune-half clip whose word
    the dictionary knows."""
    known = pronunciations(str(dictionary))
    out = []
    for folder in sorted(p for p in SPEECH_COMMANDS.iterdir() if p.is_dir() and p.name != "_silence_"):
        for wav in sorted(folder.glob("*.wav")):
            word = wav.name.split("_")[0] if folder.name == "_unknown_" else folder.name
            if not held_out(wav) and word in known:
                out.append((f"{folder.name}/{wav.stem}", word))
    return out


def sendump_to_mixw(sendump: Path, mixw: Path) -> None:
    """Expand the quantised mixture weights PocketSphinx ships (sendump) into the s3 float
    file that bw and map_adapt read (sphinxtrain does not ship this direction)."""
    data = sendump.read_bytes()
    pos = 0

    def string() -> str | None:
        nonlocal pos
        (n,) = struct.unpack_from("<I", data, pos)
        pos += 4
        if n == 0:
            return None
        text = data[pos : pos + n - 1].decode()
        pos += n
        return text

    string()  # title
    shift, features = 10, 0
    while (line := string()) is not None:
        key, _, value = line.partition(" ")
        if key == "mixw_shift":
            shift = int(value)
        elif key == "feature_count":
            features = int(value)
        elif key == "cluster_count" and int(value) != 0:
            raise SystemExit("adapt: a clustered sendump is not supported")
    codewords, senones = struct.unpack_from("<II", data, pos)
    pos += 8
    q = np.frombuffer(data, np.uint8, features * codewords * senones, pos).reshape(features, codewords, senones)
    weights = np.power(1.0001, -(q.astype(np.float64) * (1 << shift)))
    weights = np.transpose(weights, (2, 0, 1))  # senone, feature, codeword
    weights = (weights / weights.sum(axis=2, keepdims=True)).astype("<f4")
    with open(mixw, "wb") as f:
        f.write(b"s3\nversion 1.0\nendhdr\n")
        f.write(struct.pack("<IIIII", 0x11223344, senones, features, codewords, weights.size))
        f.write(weights.tobytes())


def run(*args: str, log: Path) -> None:
    with open(log, "ab") as f:
        done = subprocess.run(list(args), stdout=f, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        raise SystemExit(f"adapt: {Path(args[0]).name} failed (see {log})")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=ADAPTED_DIR, help=f"where the adapted files go (default {ADAPTED_DIR})")
    args = ap.parse_args()
    missing = sorted({pkg for tool, pkg in TOOLS.items() if shutil.which(tool) is None})
    if missing:
        print(f"adapt: install the Debian packages {' '.join(missing)} first", file=sys.stderr)
        return 1
    if not SPEECH_COMMANDS.is_dir():
        print(f"adapt: no dev data in {SPEECH_COMMANDS}", file=sys.stderr)
        return 1
    stock = stock_model_dir()
    hmm, dictionary = stock / "en-us", stock / "cmudict-en-us.dict"
    with tempfile.TemporaryDirectory(prefix="adapt-") as tmp:
        work = Path(tmp)
        log = work / "log.txt"
        model = work / "model"
        shutil.copytree(hmm, model)
        run("pocketsphinx_mdef_convert", "-text", str(hmm / "mdef"), str(model / "mdef.txt"), log=log)
        sendump_to_mixw(hmm / "sendump", model / "mixture_weights")
        clips = training_set(dictionary)
        (work / "train.fileids").write_text("".join(f"{fid}\n" for fid, _ in clips))
        (work / "train.transcription").write_text(
            "".join(f"<s> {word} </s> ({fid.split('/')[1]})\n" for fid, word in clips))
        for folder in {fid.split("/")[0] for fid, _ in clips}:
            (work / "feat" / folder).mkdir(parents=True, exist_ok=True)
        run("sphinx_fe", "-argfile", str(hmm / "feat.params"), "-samprate", "16000", "-c", str(work / "train.fileids"),
            "-di", str(SPEECH_COMMANDS), "-do", str(work / "feat"), "-ei", "wav", "-eo", "mfc", "-mswav", "yes", log=log)
        (work / "acc").mkdir()
        run(str(SPHINXTRAIN / "bw"), "-hmmdir", str(model), "-moddeffn", str(model / "mdef.txt"), "-ts2cbfn", ".ptm.",
            "-feat", "1s_c_d_dd", "-svspec", "0-12/13-25/26-38", "-cmn", "batch", "-agc", "none",
            "-dictfn", str(dictionary), "-fdictfn", str(hmm / "noisedict"), "-ctlfn", str(work / "train.fileids"),
            "-lsnfn", str(work / "train.transcription"), "-cepdir", str(work / "feat"), "-accumdir", str(work / "acc"),
            log=log)
        out = work / "adapted"
        out.mkdir()
        run(str(SPHINXTRAIN / "map_adapt"), "-moddeffn", str(model / "mdef.txt"), "-ts2cbfn", ".ptm.",
            "-meanfn", str(model / "means"), "-varfn", str(model / "variances"),
            "-mixwfn", str(model / "mixture_weights"), "-tmatfn", str(model / "transition_matrices"),
            "-accumdir", str(work / "acc"), "-mapmeanfn", str(out / "means"), "-mapvarfn", str(out / "variances"),
            "-mapmixwfn", str(out / "mixture_weights"), "-maptmatfn", str(out / "transition_matrices"), log=log)
        run(str(SPHINXTRAIN / "mk_s2sendump"), "-pocketsphinx", "yes", "-moddeffn", str(model / "mdef.txt"),
            "-mixwfn", str(out / "mixture_weights"), "-sendumpfn", str(out / "sendump"), log=log)
        skipped = log.read_text(errors="replace").count(" ignored")
        args.out.mkdir(parents=True, exist_ok=True)
        for name in ADAPTED_FILES:
            shutil.copyfile(out / name, args.out / name)
    speakers = {speaker(SPEECH_COMMANDS / f"{fid}.wav") for fid, _ in clips}
    print(f"adapt: {len(clips)} clips of {len(speakers)} speakers ({skipped} not aligned); "
          f"wrote {', '.join(ADAPTED_FILES)} to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
