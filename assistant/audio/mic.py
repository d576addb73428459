"""The microphone as a queue of (block, capture time) at the device's own rate."""

from __future__ import annotations

import queue

import numpy as np

from assistant.audio.devices import Device, open_stream


class Microphone:
    """An input stream whose callback only copies; the listener thread does the work."""

    def __init__(self, device: Device, latency: float | str = "low") -> None:
        self.rate = device.sample_rate
        self.device = device
        self.blocks: queue.Queue[tuple[np.ndarray, float]] = queue.Queue(maxsize=1000)
        self.overflows = 0
        self._stream = open_stream("input", device, latency, self._callback)

    def _callback(self, indata: np.ndarray, frames: int, time, status) -> None:
        if status.input_overflow:
            self.overflows += 1
        try:
            self.blocks.put_nowait((indata[:, 0].copy(), float(time.inputBufferAdcTime)))
        except queue.Full:  # the listener fell far behind: drop rather than grow
            self.overflows += 1

    def start(self) -> None:
        self._stream.start()

    def close(self) -> None:
        self._stream.stop()
        self._stream.close()
