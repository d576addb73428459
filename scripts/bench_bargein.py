#!/usr/bin/env python3
"""Barge-in, self-echo, first word and cost of `footcare run`, through real (virtual) sound devices.

A private PulseAudio with null sinks stands in for the room (assistant/audio/pulse.py);
the assistant's speaker is looped back into its microphone at full level, as a speaker
a few centimetres from the microphone would be.

Phase 1, barge-in: `trials` sessions; in each, a test user (espeak-ng, a voice unlike
the assistant's) says "stop" while the assistant talks. Measured: end of the spoken
"stop" to silence at the speaker, both on the test user's PortAudio clock. The first
sound of each session, from process start, gives `first_word_ms` (warm cache).

Phase 2, self-echo: sessions that nobody answers, until `self_echo_minutes` of the
assistant's own talk have gone round the loop: a greeting made of the protocol's step
instructions and cues with command words written in between ("you can say stop at any
time", "say pause...", "that hurts"), the question, its re-asks and the goodbye. Every
command it hears is a false command. CPU and peak memory of the assistant (and its
recogniser process) are sampled here, start-up included.

With --json the last line of output is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import signal
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from assistant.audio.pulse import VirtualAudio  # noqa: E402
from assistant.audio.virtual_user import FOOTCARE, SILENCE_RMS, VirtualUser, speech  # noqa: E402
from assistant.protocol import PROTOCOL_PATH  # noqa: E402

HUMAN_STOPS = REPO.parent / "shared" / "data" / "speech-commands-dev" / "stop"
TAKES = {
    "stop": (("stop", "en-us+klatt2", 115), ("please stop", "en-us+klatt2", 115), ("stop", "en-us+klatt3", 115),
             ("that's enough", "en-us+klatt3", 115), ("stop", "en-us+m2", 115), ("stop now", "en-us+f1", 115)),
    "pause": (("wait", "en-us+m2", 115), ("wait", "en-us+m2", 140), ("pause", "en-us+klatt2", 115),
              ("hold on", "en-us+f1", 115), ("wait", "en-us+klatt2", 115)),
}
LONG_GREETING = (
    "Hello and welcome to this gentle foot massage which takes about twenty minutes and in which I will guide "
    "you step by step through light strokes and gentle kneading of the sole and the toes and the ankle so "
    "please sit back and relax and listen to my voice and follow along at your own pace while I explain "
    "what we are going to do together today and how long each part will take and what you should feel"
)
COMMAND_CUES = (
    "You can say stop at any time and I will stop at once.",
    "Say pause if you need a break and say carry on when you are ready.",
    "If it hurts say that hurts and I will help you ease off.",
    "Say wait or hold on and I will wait for you.",
    "Say slower or louder if you cannot follow me.",
    "When you want to go on just say resume or continue.",
)


def bench_protocol(folder: Path, greeting: str, name: str) -> Path:
    """The real protocol with another greeting, and a short wait for an answer nobody gives."""
    data = yaml.safe_load(PROTOCOL_PATH.read_text())
    data["lines"]["greet.hello"] = greeting
    data["timing"]["answer_timeout_s"] = 2
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def narration_text() -> str:
    """The protocol's own step instructions and cues, with command words written in between."""
    data = yaml.safe_load(PROTOCOL_PATH.read_text())
    ids = [i for step in data["steps"] for i in (step["intro"], *step.get("cues", []))]
    parts = []
    for n, line_id in enumerate(ids):
        parts.append(data["lines"][line_id].replace("{duration}", "three minutes"))
        parts.append(COMMAND_CUES[n % len(COMMAND_CUES)])
    return " ".join(parts)


def first_sound(user: VirtualUser, since: float, timeout: float = 10.0) -> float | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for t, rms in list(user.levels):
            if t > since and rms > 10 * SILENCE_RMS:
                return t
        time.sleep(0.02)
    return None


def pick_takes(folder: Path, command: str) -> list[tuple[np.ndarray, int, str]]:
    """Renderings of the command the recogniser understands on a clean file (it is not under test here)."""
    from assistant.recognition import open_recognizer
    from assistant.audio.resample import resample

    rec = open_recognizer()
    rec.set_grammar("narration")

    def understood(samples: np.ndarray, sr: int) -> bool:
        pcm = (resample(np.concatenate([np.zeros(sr // 2), samples * 0.9, np.zeros(sr)]), sr, 16000) * 32767)
        pcm = pcm.astype("<i2").tobytes()
        rec.reset()
        hyp = None
        for i in range(0, len(pcm), 3200):
            hyp = hyp or rec.accept(pcm[i : i + 3200])
        return hyp is not None and hyp.intent == command

    usable = []
    for phrase, voice, rate in TAKES[command]:
        samples, sr = speech(phrase, voice, rate, folder)
        if understood(samples, sr):
            usable.append((trim(samples, sr), sr, f"{phrase}/{voice}/{rate}"))
    for path in sorted(HUMAN_STOPS.glob("*.wav"))[:40] if command == "stop" else []:  # real people, where present
        samples, sr = read_clip(path)
        if understood(samples, sr):
            usable.append((trim(samples, sr), sr, f"stop/{path.name}"))
    phrase, voice, rate = TAKES[command][0]
    return usable or [(*speech(phrase, voice, rate, folder), f"{phrase}/{voice}/{rate}")]


def trim(samples: np.ndarray, rate: int) -> np.ndarray:
    """The clip from the start to the end of the word (the first and last 10 ms within 30 dB of
    its loudest), so that the clip played begins and ends with the spoken "stop" (Speech
    Commands clips are 1 s with the word anywhere in them)."""
    hop = rate // 100
    frames = np.sqrt(np.mean(samples[: len(samples) // hop * hop].reshape(-1, hop) ** 2, axis=1))
    loud = np.flatnonzero(frames > frames.max() * 10 ** (-30 / 20))
    return samples[int(loud[0]) * hop : (int(loud[-1]) + 1) * hop]


def read_clip(path: Path) -> tuple[np.ndarray, int]:
    import wave

    with wave.open(str(path)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768, w.getframerate()


def bargein_trial(audio: VirtualAudio, protocol: Path, cache: Path, take, rng: random.Random, command: str) -> dict:
    user = VirtualUser(audio)
    try:
        spawn = user.now()
        user.start(["--protocol", str(protocol), "--cache", str(cache)])
        first = first_sound(user, spawn)
        result: dict = {"first_word_ms": None if first is None else (first - spawn) * 1000}
        if first is None:
            result["error"] = f"no sound: {user.stderr[-300:]}"
            return result
        time.sleep(rng.uniform(6.0, 10.0))  # into the line, the canceller has learnt the room
        samples, sr, label = take
        end = user.say(samples, sr, gain=0.9)
        begin = end - len(samples) / sr
        result["take"] = label
        # said while the assistant talked: judged as the word began (a quick cut silences it before the end)
        result["talking_at_stop"] = user.speaker_level(begin - 0.15, begin) > 10 * SILENCE_RMS
        heard = user.wait_for(lambda r: r.type == "Heard", 4.0)
        silent = user.silence_after(end - 0.15, hold_s=0.2, timeout_s=1.5)
        result["heard"] = heard is not None and heard.data.get("intent") == command
        result["ignored"] = evidence(user.of_type("ignored"))
        result["over_our_voice"] = evidence(user.of_type("over our voice"))
        result["echo_slips"] = len(user.of_type("echo slip"))
        if result["heard"] and silent is not None:
            result["bargein_ms"] = (silent - end) * 1000
        return result
    finally:
        user.close(timeout=5)


EVIDENCE = ("text", "why", "confidence", "near_frames", "frames", "playing", "likeness")


def evidence(notices: list[dict]) -> list[dict]:
    """What the assistant logged about phrases heard over its voice: why it took or refused each,
    how sure the recogniser was, and how many frames stood above the echo."""
    return [{k: n[k] for k in EVIDENCE if k in n} for n in notices]


def proc_tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                todo += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                pass
    return pids


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / 100.0  # utime + stime, in clock ticks
        except (OSError, IndexError):
            pass
    return total


def rss_mb(pids: list[int]) -> float:
    total = 0.0
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            pass
    return total


def self_echo_session(audio: VirtualAudio, protocol: Path, cache: Path) -> dict:
    """One session nobody answers: its narration, question and re-asks all go round the loop."""
    user = VirtualUser(audio)
    try:
        user.start(["--protocol", str(protocol), "--cache", str(cache)])
        t0, s0 = time.monotonic(), user.now()
        cpu = peak = 0.0
        while user.proc.poll() is None and time.monotonic() - t0 < 600:
            pids = proc_tree(user.proc.pid)
            cpu = max(cpu, cpu_seconds(pids))  # the last reading before it exits
            peak = max(peak, rss_mb(pids))
            user.wait_for(lambda r: False, 1.0)
        wall, s1 = time.monotonic() - t0, user.now()
        talking = sum(1 for t, rms in list(user.levels) if s0 <= t <= s1 and rms > 10 * SILENCE_RMS) / 100
    finally:
        user.close(timeout=5)
    return {"wall": wall, "talk": speaking_seconds(user), "voiced": talking, "cpu": cpu, "peak": peak,
            "heard": user.of_type("Heard"), "ignored": user.of_type("ignored"),
            "over_our_voice": user.of_type("over our voice"), "slips": len(user.of_type("echo slip")),
            "ended": [r.get("reason") for r in user.of_type("SessionEnded")]}


def speaking_seconds(user: VirtualUser) -> float:
    """Time the assistant was speaking: from a line's start to its SpeechFinished, or to the
    cut when it stopped (a false "stop" ends a session mid-line)."""
    total, since = 0.0, None
    for r in user.records:
        if r.type == "Say" and since is None:
            since = r.data["t"]
        elif r.type in ("SpeechFinished", "StopSpeaking") and since is not None:
            total, since = total + r.data["t"] - since, None
    if since is not None and user.records:
        total += user.records[-1].data.get("t", since) - since
    return total


def self_echo_run(audio: VirtualAudio, protocol: Path, cache: Path, minutes: float, log) -> dict:
    """Sessions until `minutes` of the assistant's own talk have gone round the loop."""
    sessions = []
    while sum(s["talk"] for s in sessions) < minutes * 60:
        sessions.append(self_echo_session(audio, protocol, cache))
        s = sessions[-1]
        if s["talk"] < 1 and not s["heard"]:
            raise SystemExit(f"the assistant did not talk: {s}")
        log(f"self-echo session {len(sessions)}: {s['wall']:.0f} s, talking {s['talk']:.0f} s, "
            f"heard {[h.get('text') for h in s['heard']]}, ended {s['ended']}, {s['slips']} echo slips; "
            f"over our voice {evidence(s['over_our_voice'])}; ignored {evidence(s['ignored'])}")
    heard = [h for s in sessions for h in s["heard"]]
    ignored = [i for s in sessions for i in s["ignored"]]
    wall = sum(s["wall"] for s in sessions)
    return {
        "self_echo_false_commands": len(heard),
        "self_echo_minutes": round(sum(s["talk"] for s in sessions) / 60, 2),
        "self_echo_voiced_minutes": round(sum(s["voiced"] for s in sessions) / 60, 2),
        "self_echo_wall_minutes": round(wall / 60, 2),
        "self_echo_sessions": len(sessions),
        "self_echo_slips": sum(s["slips"] for s in sessions),
        "self_echo_heard": [h.get("text") for h in heard],
        "self_echo_ignored": {why: sum(1 for i in ignored if i.get("why") == why)
                              for why in sorted({str(i.get("why")) for i in ignored})},
        "cpu_percent": round(sum(s["cpu"] for s in sessions) / wall * 100, 1),
        "peak_rss_mb": round(max(s["peak"] for s in sessions), 1),
    }


def percentile(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trials", type=int, default=30,
                    help="barge-in trials said while the assistant talks (default 30; at most twice as many are run)")
    ap.add_argument("--self-echo-minutes", type=float, default=10.0, help="narration fed back (default 10)")
    ap.add_argument("--echo-volume", type=float, default=1.0, help="loopback level, 1.0 = as loud as played")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--command", choices=sorted(TAKES), default="stop", help="what the user says (default stop)")
    ap.add_argument("--json", action="store_true", help="last line: one JSON object")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the private PulseAudio is stopped too
    log = (lambda *a: print(*a, file=sys.stderr, flush=True)) if args.json else print

    with tempfile.TemporaryDirectory(prefix="footcare-bench-") as tmp, VirtualAudio() as audio:
        folder = Path(tmp)
        cache = folder / "cache"
        greeting = bench_protocol(folder, LONG_GREETING, "bargein")
        narration = bench_protocol(folder, narration_text(), "self-echo")
        import subprocess

        for protocol in (greeting, narration):  # warm cache: first word as after `footcare prepare`
            subprocess.run([*FOOTCARE, "prepare", "--protocol", str(protocol), "--cache", str(cache)],
                           check=True, capture_output=True)
        if args.echo_volume > 0:
            audio.loopback(volume=args.echo_volume)
        takes = pick_takes(folder / "voice", args.command)
        log(f"{args.command} takes: {[t[2] for t in takes]}")

        trials: list[dict] = []
        valid: list[dict] = []  # the trials where the assistant was talking as the user began
        while len(valid) < args.trials and len(trials) < 2 * args.trials:
            r = bargein_trial(audio, greeting, cache, takes[len(trials) % len(takes)], rng, args.command)
            trials.append(r)
            valid += [r] if r.get("talking_at_stop") else []
            log(f"trial {len(trials)}: {r}")
        latencies = [r["bargein_ms"] for r in valid if "bargein_ms" in r]
        first_words = [r["first_word_ms"] for r in trials if r.get("first_word_ms") is not None]

        echo = self_echo_run(audio, narration, cache, args.self_echo_minutes, log) if args.self_echo_minutes > 0 else {}
        log(f"self-echo: {echo}")

    result = {
        "command": args.command,
        "trials": len(valid),
        "bargein_heard": len(latencies),
        "bargein_missed": len(valid) - len(latencies),
        "bargein_ms_p50": percentile(latencies, 50),
        "bargein_ms_p95": percentile(latencies, 95),
        "bargein_ms_max": max(latencies, default=None),
        "first_word_ms": percentile(first_words, 50),
        "first_word_ms_p95": percentile(first_words, 95),
        **echo,
        "echo_volume": args.echo_volume,
        "machine": f"{platform.machine()} {platform.processor() or ''} {os_cpus()} cpus".strip(),
    }
    for key, value in result.items():
        if isinstance(value, float):
            result[key] = round(value, 1)
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))
    return 0


def os_cpus() -> int:
    import os

    return os.cpu_count() or 0


if __name__ == "__main__":
    sys.exit(main())
