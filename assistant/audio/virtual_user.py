"""A test user in the virtual room: runs `footcare run`, talks into its microphone, hears its speaker.

Used by the end-to-end tests and by `scripts/bench_bargein.py`. The user's voice goes
through the same PulseAudio path as a person's would reach the assistant, and the
speaker is watched as a person would hear it. Both streams live in this process, on
one PortAudio clock, so "the user stopped talking" and "the speaker fell silent" are
times on the same clock.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assistant.audio.pulse import VirtualAudio
from assistant.audio.resample import resample
from assistant.recognition.audio import rms

FOOTCARE = [sys.executable, "-c", "import sys; from assistant.cli import main; sys.exit(main(sys.argv[1:]))"]
"""The `footcare` command with this interpreter (`-m assistant.cli` would duplicate its module)."""
SILENCE_RMS = 0.003
"""Below this (about -50 dBFS) the speaker counts as silent."""


@dataclass
class Record:
    """One JSON line the assistant printed, with when it arrived."""

    at: float
    data: dict = field(default_factory=dict)

    @property
    def type(self) -> str:
        return self.data.get("type", "")


class VirtualUser:
    """Start with `start(args)`; `say()`, `wait_for()`, `speaker_silent_since()`; `close()`."""

    def __init__(self, audio: VirtualAudio) -> None:
        self.audio = audio
        os.environ.update({k: v for k, v in audio.user_env().items() if k.startswith("PULSE_")})
        import sounddevice as sd

        sd._terminate()  # PortAudio lists devices once: look again now that the server is set
        sd._initialize()
        self._sd = sd
        self.rate = int(sd.query_devices("pulse")["default_samplerate"])
        self._out_lock = threading.Lock()
        self._to_play: deque[np.ndarray] = deque()
        self._played_until = 0.0
        self.levels: deque[tuple[float, float]] = deque(maxlen=200_000)
        """(stream time, RMS) of the speaker, 10 ms blocks."""
        block = self.rate // 100
        self._out = sd.OutputStream(device="pulse", samplerate=self.rate, channels=1, dtype="float32",
                                    blocksize=block, latency=0.05, callback=self._play_cb)
        self._in = sd.InputStream(device="pulse", samplerate=self.rate, channels=1, dtype="float32",
                                  blocksize=block, latency=0.05, callback=self._listen_cb)
        self._out.start()
        self._in.start()
        self.proc: subprocess.Popen | None = None
        self.records: list[Record] = []
        self._lines: queue.Queue[Record] = queue.Queue()
        self.stderr = ""

    # --- audio ------------------------------------------------------------------------

    def _play_cb(self, outdata, frames, t, status) -> None:
        out = np.zeros(frames, dtype=np.float32)
        filled = 0
        with self._out_lock:
            while filled < frames and self._to_play:
                clip = self._to_play[0]
                n = min(frames - filled, len(clip))
                out[filled : filled + n] = clip[:n]
                filled += n
                if n == len(clip):
                    self._to_play.popleft()
                    self._played_until = float(t.outputBufferDacTime) + filled / self.rate
                else:
                    self._to_play[0] = clip[n:]
        outdata[:, 0] = out

    def _listen_cb(self, indata, frames, t, status) -> None:
        self.levels.append((float(t.inputBufferAdcTime), rms(indata[:, 0])))

    def now(self) -> float:
        """The streams' clock."""
        return float(self._in.time)

    def say(self, samples: np.ndarray, rate: int, gain: float = 1.0, wait: bool = True) -> float:
        """Speak a clip into the microphone; the stream time its last sample is played."""
        clip = resample(samples, rate, self.rate) * gain
        with self._out_lock:
            self._played_until = 0.0
            self._to_play.append(clip.astype(np.float32))
        if not wait:
            return 0.0
        deadline = time.monotonic() + len(clip) / self.rate + 2.0
        while time.monotonic() < deadline:
            with self._out_lock:
                if not self._to_play and self._played_until:
                    return self._played_until
            time.sleep(0.005)
        raise TimeoutError("the user's clip did not play")

    def speaker_level(self, since: float, until: float) -> float:
        """Loudest 10 ms RMS of the speaker between two stream times."""
        values = [rms for t, rms in list(self.levels) if since <= t <= until]
        return max(values, default=0.0)

    def silence_after(self, since: float, hold_s: float = 0.15, timeout_s: float = 3.0) -> float | None:
        """Stream time from which the speaker stays silent for `hold_s`, after `since`."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            start = None
            for t, level in list(self.levels):
                if t < since:
                    continue
                if level < SILENCE_RMS:
                    start = t if start is None else start
                    if t - start >= hold_s:
                        return start
                else:
                    start = None
            time.sleep(0.02)
        return None

    # --- the assistant ----------------------------------------------------------------

    def start(self, args: list[str], cwd: str | None = None) -> None:
        """Start `footcare run --json ARGS` on the virtual devices."""
        env = self.audio.assistant_env()
        cmd = [*FOOTCARE, "run", "--json", "--input", "pulse", "--output", "pulse", *args]
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL, text=True, bufsize=1)
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()

    def _read(self) -> None:
        assert self.proc and self.proc.stdout
        for line in self.proc.stdout:
            try:
                data = json.loads(line)
            except json.JSONDecodeError:
                data = {"type": "text", "text": line.rstrip()}
            self._lines.put(Record(time.monotonic(), data))

    def _read_err(self) -> None:
        assert self.proc and self.proc.stderr
        for line in self.proc.stderr:
            if "ALSA lib" not in line:  # PortAudio's ALSA backend reports recovered underruns there
                self.stderr += line

    def wait_for(self, pred, timeout: float) -> Record | None:
        """The next record (after those already seen) for which `pred` holds, or None."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                rec = self._lines.get(timeout=min(0.1, max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                if self.proc and self.proc.poll() is not None and self._lines.empty():
                    return None
                continue
            self.records.append(rec)
            if pred(rec):
                return rec
        return None

    def of_type(self, *types: str) -> list[dict]:
        return [r.data for r in self.records if r.type in types]

    def close(self, timeout: float = 10.0) -> int | None:
        """Ask the assistant to end (SIGTERM), collect what is left, free the devices."""
        code = None
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.terminate()
            try:
                code = self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                code = self.proc.wait()
            self.wait_for(lambda r: False, 0.3)
        self._out.close()
        self._in.close()
        return code


def speech(text: str, voice: str, rate_wpm: int, folder: Path) -> tuple[np.ndarray, int]:
    """`text` spoken by espeak-ng with `voice` (cached in `folder`), as float32 and its rate."""
    import wave

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{voice.replace('/', '_')}-{rate_wpm}-{'_'.join(text.split())}.wav"
    if not path.exists():
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(rate_wpm), "-w", str(path), text],
                       check=True, capture_output=True)
    with wave.open(str(path)) as w:
        data = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768
        return data, w.getframerate()
