#!/usr/bin/env python3
"""Recognition benchmark: recall per intent, false accepts, real-time factor, peak memory.

Real speakers (../shared/data/speech-commands-dev: stop, yes, no) clean and at 10 and 0 dB
SNR with each noise of ../shared/data/noise; espeak-ng voices at several rates; false
accepts on near-miss words, other words, silence and noise, and on plain talk (stretches of
the guide without a command word, as a television or a visitor nearby). Speakers are split in two
halves by id: `tune` (used to choose thresholds, see --sweep) and `held-out` (never used
for tuning); both are reported.

    .venv/bin/python scripts/bench_recognition.py --engine pocketsphinx [--per-class 40] [--markdown]
    .venv/bin/python scripts/bench_recognition.py --sweep    # threshold trade-off, final results only
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy, as the `footcare` command does

import argparse
import json
import platform
import random
import resource
import statistics
from dataclasses import replace
import sys
import tempfile
import time
from collections import defaultdict
from multiprocessing import Pool
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.intents import SAFETY_COMMANDS, Grammars  # noqa: E402
from assistant.recognition import open_recognizer  # noqa: E402
from assistant.recognition import evaluation as ev  # noqa: E402
from assistant.recognition.audio import from_pcm, read_wav  # noqa: E402
from assistant.recognition.files import recognize_pcm  # noqa: E402

VOICES = ("en-us", "en-gb", "en+f3", "en-us+m3", "en-gb-x-rp+f2")
RATES = (120, 160)
NOISE_ONLY_S = 1.5

_worker: dict = {}


def items(args: argparse.Namespace, rng: random.Random) -> list[dict]:
    """Every clip to decode: (condition, kind, label, split, source)."""
    out: list[dict] = []
    groups: dict[str, list[Path]] = {w: ev.clips(w) for w in ev.TARGET_WORDS}
    groups["_near_"] = [p for w in ev.NEAR_MISS_WORDS for p in ev.clips(w)]
    groups["_unknown_"] = ev.clips("_unknown_")
    groups["_silence_"] = ev.clips("_silence_")
    conditions = ["clean"] + [f"{snr}dB:{n}" for snr in args.snr for n in ev.noise_names()]
    for cond in conditions:
        for label, paths in groups.items():
            if label == "_silence_" and cond != "clean":
                continue
            chosen = paths if cond == "clean" and not args.per_class_clean else paths
            limit = args.per_class_clean if cond == "clean" else args.per_class
            if limit and len(chosen) > limit:
                chosen = rng.sample(chosen, limit)
            for p in chosen:
                split = "held-out" if ev.held_out(p) else "tune"
                out.append({"cond": cond, "kind": "real", "label": label, "split": split, "src": str(p)})
        if cond != "clean":
            for k in range(args.noise_only):
                out.append({"cond": cond.split(":")[1] + " only", "kind": "noise", "label": "_noise_",
                            "split": "-", "src": f"noise:{cond.split(':')[1]}:{k}"})
    if args.espeak:
        grammars = Grammars()
        phrases = grammars.phrases(args.grammar)
        for intent, sentences in phrases.items():
            picks = rng.sample(sentences, min(args.espeak, len(sentences)))
            for text in picks:
                voice, rate = rng.choice(VOICES), rng.choice(RATES)
                for cond in ("clean", f"10dB:{rng.choice(ev.noise_names())}"):
                    out.append({"cond": "espeak " + cond.split(":")[0], "kind": "espeak", "label": intent,
                                "split": "-", "src": f"{voice}|{rate}|{text}", "noise": cond})
    for text in ev.plain_talk(args.talk):
        for voice, rate in ev.TALK_VOICES:
            out.append({"cond": "plain talk", "kind": "talk", "label": "_talk_", "split": "-",
                        "src": f"{voice}|{rate}|{text}", "noise": "clean"})
    # noise-only conditions were added once per SNR; keep one set per noise
    seen, unique = set(), []
    for it in out:
        key = (it["cond"], it["src"])
        if key not in seen:
            seen.add(key)
            unique.append(it)
    return unique


def audio_of(item: dict, tmp: Path, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if item["kind"] == "noise":
        _, name, _ = item["src"].split(":")
        noise = ev.load_noise(name)
        start = int(rng.integers(0, len(noise) - int(NOISE_ONLY_S * 16000)))
        return noise[start:start + int(NOISE_ONLY_S * 16000)]
    if item["kind"] in ("espeak", "talk"):
        voice, rate, text = item["src"].split("|")
        x = ev.pad(from_pcm(read_wav(ev.synthesize(text, voice, int(rate), tmp))), rng=rng)
        cond = item["noise"]
    else:
        x = ev.pad(from_pcm(read_wav(item["src"])), rng=rng)
        cond = item["cond"]
    if cond == "clean":
        return x
    snr, name = cond.split(":")
    return ev.mix(x, ev.load_noise(name), float(snr.removesuffix("dB")), rng)


def init(engine: str | None, grammar: str, sweep: bool, tmp: str, overrides: dict, stream: bool) -> None:
    if engine == "pocketsphinx":
        from assistant.recognition.sphinx import SphinxRecognizer, SphinxSettings

        settings = replace(SphinxSettings(batch=not stream), **overrides)
        if sweep:
            settings = replace(settings, threshold=-1e9, partials=False)
        rec = SphinxRecognizer(settings=settings)
    else:
        rec = open_recognizer(engine, whole_utterances=not stream)
    rec.set_grammar(grammar)
    _worker.update(rec=rec, tmp=Path(tmp))


def decode(job: tuple[int, dict]) -> dict:
    seed, item = job
    rec = _worker["rec"]
    x = audio_of(item, _worker["tmp"], seed)
    t0 = time.process_time()
    hyp = recognize_pcm(rec, ev.pcm(x))
    cpu = time.process_time() - t0
    return {**item, "intent": hyp.intent if hyp else None, "text": hyp.text if hyp else "",
            "ratio": getattr(rec, "last_ratio", None) if hyp else None,
            "rtf": cpu / (len(x) / 16000), "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def summarise(results: list[dict], accept=lambda r: r["intent"] is not None) -> dict:
    """{(cond, split): {label: (rate, n)}}: recall for targets, false-accept rate otherwise."""
    cells: dict = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for r in results:
        ok = accept(r)
        hit = ok and r["intent"] == r["label"] if not r["label"].startswith("_") else ok
        cell = cells[(r["cond"], r["split"])][r["label"]]
        cell[0] += int(bool(hit))
        cell[1] += 1
    return {k: {lab: (h / n, n) for lab, (h, n) in v.items()} for k, v in cells.items()}


def table(summary: dict, labels: list[str]) -> str:
    head = "| condition | speakers | " + " | ".join(labels) + " |"
    lines = [head, "|" + "---|" * (len(labels) + 2)]
    for (cond, split), cell in sorted(summary.items(), key=lambda kv: (kv[0][0] != "clean", kv[0])):
        vals = [f"{cell[lab][0] * 100:.0f}% ({cell[lab][1]})" if lab in cell else "" for lab in labels]
        if any(vals):
            lines.append(f"| {cond} | {split} | " + " | ".join(vals) + " |")
    return "\n".join(lines)


def machine() -> str:
    cpu = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name")), "?")
    return f"{cpu}, nproc={os.cpu_count()}, Python {platform.python_version()}"


def sweep_report(results: list[dict], thresholds: list[float]) -> str:
    lines = ["| threshold | split | stop | yes | no | near-miss FA | unknown FA | silence FA | noise FA |",
             "|---|---|---|---|---|---|---|---|---|"]
    for t in thresholds:
        acc = lambda r, t=t: r["intent"] is not None and r["ratio"] is not None and r["ratio"] >= t  # noqa: E731
        for split in ("tune", "held-out"):
            sub = [r for r in results if r["split"] in (split, "-") and r["cond"] in ("clean",) or
                   (r["label"] == "_noise_" and split == "tune")]
            sub = [r for r in sub if r["split"] in (split, "-")]
            s = summarise(sub, acc)
            merged: dict = defaultdict(lambda: [0.0, 0])
            for cell in s.values():
                for lab, (rate, n) in cell.items():
                    merged[lab][0] += rate * n
                    merged[lab][1] += n
            f = lambda lab: f"{merged[lab][0] / merged[lab][1] * 100:.1f}%" if merged[lab][1] else "-"  # noqa: E731
            lines.append(f"| {t:g} | {split} | {f('stop')} | {f('yes')} | {f('no')} | {f('_near_')} | "
                         f"{f('_unknown_')} | {f('_silence_')} | {f('_noise_')} |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--engine", choices=("vosk", "pocketsphinx"))
    ap.add_argument("--grammar", default="answer", help="grammar to listen with (default: answer: yes, no, commands)")
    ap.add_argument("--snr", type=int, nargs="*", default=[10, 0])
    ap.add_argument("--per-class", type=int, default=30, help="clips per class and noisy condition (0: all)")
    ap.add_argument("--per-class-clean", type=int, default=0, help="clips per class, clean (0: all)")
    ap.add_argument("--noise-only", type=int, default=10, help="noise-only clips per noise")
    ap.add_argument("--espeak", type=int, default=3, help="espeak phrases per intent (0: none)")
    ap.add_argument("--talk", type=int, default=27,
                    help="ten-word stretches of plain talk from the guide, each in two voices (0: none)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--sweep", action="store_true", help="final results only, report recall/FA per threshold")
    ap.add_argument("--thresholds", type=lambda v: [float(x) for x in v.split(",")],
                    default=[-1e9, -20, -15, -12, -10, -8, -6, -4], help="comma-separated, for --sweep")
    ap.add_argument("--save", help="write every result as JSON lines here")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--whole", action="store_true",
                    help="decode each utterance whole with batch CMN (`footcare recognize "
                         "--whole-utterances`) instead of streaming as the live loop does")
    ap.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                    help="PocketSphinx settings to try, e.g. garbage_weight=0.3")
    args = ap.parse_args()
    if not ev.SPEECH_COMMANDS.is_dir():
        print(f"bench: no dev data in {ev.SPEECH_COMMANDS}", file=sys.stderr)
        return 1
    if args.sweep:
        args.snr, args.espeak, args.talk = [], 0, 0
    overrides = {k: (int(v) if v.lstrip("-").isdigit() else float(v))
                 for k, v in (kv.split("=", 1) for kv in args.set)}
    rng = random.Random(args.seed)
    jobs = list(enumerate(items(args, rng)))
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.time()
        with Pool(args.jobs, init, (args.engine, args.grammar, args.sweep, tmp, overrides, not args.whole)) as pool:
            results = pool.map(decode, jobs, chunksize=8)
        wall = time.time() - t0
    if args.save:
        with open(args.save, "w") as f:
            f.writelines(json.dumps(r) + "\n" for r in results)
    engine = args.engine or "default"
    mode = "whole utterances" if args.whole else "streaming"
    print(f"### {engine} engine ({mode}) {' '.join(args.set)}, grammar `{args.grammar}` ({len(results)} clips, {wall:.0f} s wall, {args.jobs} jobs)\n")
    print(f"Machine: {machine()}\n")
    if args.sweep:
        print(sweep_report(results, args.thresholds))
        return 0
    s = summarise(results)
    print("Recall (correct intent), real speakers:\n")
    print(table({k: v for k, v in s.items() if k[1] != "-"}, list(ev.TARGET_WORDS)))
    print("\nFalse accepts (any intent), real speakers and noise:\n")
    print(table({k: v for k, v in s.items() if "espeak" not in k[0]},
                ["_near_", "_unknown_", "_silence_", "_noise_", "_talk_"]))
    talk = [r for r in results if r["kind"] == "talk"]
    if talk:
        taken = [r for r in talk if r["intent"] is not None]
        safety = sum(r["intent"] in SAFETY_COMMANDS for r in taken)
        print(f"\nPlain talk (ten-word stretches of the guide without a command word, espeak-ng "
              f"{', '.join(f'{v} {w} wpm' for v, w in ev.TALK_VOICES)}): {len(taken)} of {len(talk)} takes "
              f"gave a command, {safety} of them a safety one ({', '.join(sorted(r['text'] for r in taken))})")
    esp = {k: v for k, v in s.items() if "espeak" in k[0]}
    if esp:
        labels = sorted({lab for v in esp.values() for lab in v})
        print(f"\nRecall per intent, espeak-ng voices {', '.join(VOICES)} at {RATES} wpm:\n")
        print(table(esp, labels))
    rtf = [r["rtf"] for r in results]
    print(f"\nReal-time factor (CPU time / audio time, one core): median {statistics.median(rtf):.3f}, "
          f"90th percentile {sorted(rtf)[int(0.9 * len(rtf))]:.3f}")
    print(f"Peak memory (max RSS of a worker): {max(r['maxrss_mb'] for r in results):.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
