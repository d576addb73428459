"""A private PulseAudio server with virtual devices, for end-to-end tests and benchmarks.

Two null sinks stand in for the room: whatever is played into `mic` is what the
assistant's microphone (`mic.monitor`) hears; the assistant plays into `spk`, and
`spk.monitor` is what a listener hears. A loopback from `spk.monitor` into `mic`
puts the assistant's own voice back into its microphone, like a speaker beside it.

The server has its own socket in a temporary folder, so it works as root, on a
machine with no sound hardware, and beside any PulseAudio already running.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

MIC_SINK = "mic"
SPEAKER_SINK = "spk"


class PulseError(Exception):
    """PulseAudio is missing or would not start; the message says which."""


def available() -> bool:
    return shutil.which("pulseaudio") is not None and shutil.which("pactl") is not None


class VirtualAudio:
    """Start with `start()` (or `with`); `env` is what a process needs to use it."""

    def __init__(self, rate: int = 48000) -> None:
        self.rate = rate
        self._dir = Path(tempfile.mkdtemp(prefix="footcare-pulse-"))
        self.socket = self._dir / "native"
        self._proc: subprocess.Popen | None = None

    @property
    def server(self) -> str:
        return f"unix:{self.socket}"

    def env(self, sink: str = SPEAKER_SINK, source: str = f"{MIC_SINK}.monitor") -> dict[str, str]:
        """Environment for a process that plays into `sink` and records from `source`."""
        env = dict(os.environ)
        env.update(PULSE_SERVER=self.server, PULSE_SINK=sink, PULSE_SOURCE=source,
                   PULSE_RUNTIME_PATH=str(self._dir), PULSE_STATE_PATH=str(self._dir))
        return env

    def assistant_env(self) -> dict[str, str]:
        """The assistant: speaks into `spk`, hears `mic`."""
        return self.env(SPEAKER_SINK, f"{MIC_SINK}.monitor")

    def user_env(self) -> dict[str, str]:
        """The test user: speaks into `mic`, hears `spk`."""
        return self.env(MIC_SINK, f"{SPEAKER_SINK}.monitor")

    def start(self) -> "VirtualAudio":
        if not available():
            raise PulseError("PulseAudio is not installed (Debian: pulseaudio pulseaudio-utils)")
        args = [
            "pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=no",
            "--disable-shm=yes", "--log-target=stderr", "--log-level=error",
            "-L", f"module-native-protocol-unix socket={self.socket} auth-anonymous=1",
            "-L", f"module-null-sink sink_name={MIC_SINK} rate={self.rate} channels=1",
            "-L", f"module-null-sink sink_name={SPEAKER_SINK} rate={self.rate} channels=1",
        ]
        self._log = open(self._dir / "pulseaudio.log", "wb")
        self._proc = subprocess.Popen(args, env=self.env(), stdout=self._log, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise PulseError(f"pulseaudio exited: {self._read_log()}")
            if self.socket.exists() and self.pactl("info", check=False).returncode == 0:
                return self
            time.sleep(0.05)
        self.stop()
        raise PulseError(f"pulseaudio did not start within 10 s: {self._read_log()}")

    def _read_log(self) -> str:
        try:
            return (self._dir / "pulseaudio.log").read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def pactl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(["pactl", *args], env=self.env(), capture_output=True, text=True,
                              check=check, timeout=10)

    def loopback(self, volume: float = 1.0, latency_ms: int = 40) -> int:
        """Route the speaker back into the microphone at `volume` (1.0 = unchanged level).

        Fixed rate (adjust_time=0): the loop is a plain delay and gain, like a room,
        not a resampler that keeps changing its ratio. And enough latency that it never runs
        dry: at 20 ms, on 2 cores beside a running assistant, the loopback underran about six
        times a minute (PulseAudio's debug log: "Underrun detected"), and each time the echo
        came back a few milliseconds later for good. No room does that; it was most of the
        echo "slips" the canceller had to catch. At 40 ms: none in 3 minutes. (At 60 ms the
        test user's own stream underran instead, hundreds of times a minute.)
        """
        out = self.pactl("load-module", "module-loopback", f"source={SPEAKER_SINK}.monitor",
                         f"sink={MIC_SINK}", f"latency_msec={latency_ms}", "adjust_time=0",
                         "source_dont_move=true", "sink_dont_move=true")
        module = int(out.stdout.strip())
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            current = None
            for line in self.pactl("list", "sink-inputs").stdout.splitlines():
                line = line.strip()
                if line.startswith("Sink Input #"):
                    current = line.split("#")[1]
                elif line == f"Owner Module: {module}" and current is not None:
                    self.pactl("set-sink-input-volume", current, f"{int(volume * 65536)}")
                    return module
            time.sleep(0.05)
        raise PulseError("the loopback did not appear")

    def unload(self, module: int) -> None:
        self.pactl("unload-module", str(module), check=False)

    def play(self, wav: str | os.PathLike, sink: str = MIC_SINK) -> None:
        """Play a WAV file into a sink and wait until it has been played."""
        subprocess.run(["paplay", f"--device={sink}", str(wav)], env=self.env(), check=True, timeout=60)

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> "VirtualAudio":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
