"""An output stream that plays queued clips and can be cut off within one block.

The stream runs all the time, writing silence when there is nothing to say: the
first word needs no device start-up, cutting is just dropping the queue, and the
echo canceller gets a continuous record of what the speaker played, with times.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from assistant.audio.devices import Device, open_stream

FADE_S = 0.005
"""A cut fades out over this long instead of clicking."""


@dataclass
class Clip:
    samples: np.ndarray
    """float32 mono at the device rate."""
    text: str
    """What is being said, for the self-echo guard."""


Tap = Callable[[np.ndarray, float], None]
"""Receives every block written to the speaker and the time it reaches the speaker."""


class Player:
    """Plays clips in order on one output device; `cut()` silences it at once."""

    def __init__(self, device: Device, latency: float | str = "low") -> None:
        self.rate = device.sample_rate
        self.device = device
        self.on_idle: Callable[[], None] | None = None
        """Called (on the audio thread) when the last queued clip has been written or cut."""
        self.tap: Tap | None = None
        self.on_clip: Callable[[str, float, float], None] | None = None
        """Called with (text, time it reaches the speaker, seconds) as each clip starts."""
        self._lock = threading.Lock()
        self._queue: deque[Clip] = deque()
        self._current: Clip | None = None
        self._pos = 0
        self._fade: np.ndarray | None = None
        self._was_playing = False
        self._gain = 1.0
        self._target_gain = 1.0
        self._stream = open_stream("output", device, latency, self._callback)

    @property
    def latency_s(self) -> float:
        return float(self._stream.latency)

    def now(self) -> float:
        """The stream's clock, the one `tap` and `on_clip` times are on."""
        return float(self._stream.time)

    def start(self) -> None:
        self._stream.start()

    def close(self) -> None:
        self._stream.stop()
        self._stream.close()

    def play(self, samples: np.ndarray, text: str = "") -> None:
        """Queue a clip (float32 mono at `self.rate`) after what is queued."""
        with self._lock:
            self._queue.append(Clip(np.asarray(samples, dtype=np.float32), text))

    def cut(self) -> None:
        """Stop the clip playing now (a 5 ms fade) and drop the queue."""
        with self._lock:
            if self._current is not None:
                rest = self._current.samples[self._pos : self._pos + int(self.rate * FADE_S)]
                self._fade = rest * np.linspace(1.0, 0.0, len(rest), dtype=np.float32)
            self._current = None
            self._queue.clear()

    def set_volume(self, volume: float) -> None:
        """Gain 0..1 from now on, ramped over one block."""
        self._target_gain = float(min(max(volume, 0.0), 1.0))

    @property
    def idle(self) -> bool:
        with self._lock:
            return self._current is None and not self._queue and self._fade is None

    def _callback(self, outdata: np.ndarray, frames: int, time, status) -> None:
        out = np.zeros(frames, dtype=np.float32)
        started: list[tuple[str, float, float]] = []
        with self._lock:
            filled = 0
            if self._fade is not None:
                n = min(frames, len(self._fade))
                out[:n] = self._fade[:n]
                self._fade = None
                filled = n
            while filled < frames:
                if self._current is None:
                    if not self._queue:
                        break
                    self._current, self._pos = self._queue.popleft(), 0
                    started.append((self._current.text, filled / self.rate, len(self._current.samples) / self.rate))
                take = self._current.samples[self._pos : self._pos + frames - filled]
                out[filled : filled + len(take)] = take
                filled += len(take)
                self._pos += len(take)
                if self._pos >= len(self._current.samples):
                    self._current = None
            playing = filled > 0
            now_idle = self._current is None and not self._queue
        gain = np.linspace(self._gain, self._target_gain, frames, dtype=np.float32)
        self._gain = self._target_gain
        out *= gain
        outdata[:, 0] = out
        dac = float(time.outputBufferDacTime)
        if self.tap is not None:
            self.tap(out, dac)
        if self.on_clip is not None:
            for text, offset, duration in started:
                self.on_clip(text, dac + offset, duration)
        if playing:
            self._was_playing = True
        if self._was_playing and now_idle:
            self._was_playing = False
            if self.on_idle is not None:
                self.on_idle()
