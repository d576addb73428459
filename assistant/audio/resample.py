"""Streaming resampling (soxr) of float32 mono blocks, for devices at any rate."""

from __future__ import annotations

import numpy as np
import soxr


class Resampler:
    """Converts a stream of blocks from one rate to another, keeping filter state."""

    def __init__(self, in_rate: int, out_rate: int) -> None:
        self.in_rate, self.out_rate = in_rate, out_rate
        self._stream = None if in_rate == out_rate else soxr.ResampleStream(in_rate, out_rate, 1, dtype="float32", quality="HQ")

    def __call__(self, block: np.ndarray) -> np.ndarray:
        block = np.ascontiguousarray(block, dtype=np.float32)
        if self._stream is None:
            return block
        return self._stream.resample_chunk(block)


def resample(samples: np.ndarray, in_rate: int, out_rate: int) -> np.ndarray:
    """A whole clip at another rate."""
    if in_rate == out_rate:
        return np.asarray(samples, dtype=np.float32)
    return soxr.resample(np.asarray(samples, dtype=np.float32), in_rate, out_rate, quality="HQ").astype(np.float32)
