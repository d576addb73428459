"""Reading recordings as the recognisers want them: 16-bit mono PCM at 16 kHz."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import soxr

SAMPLE_RATE = 16000


class AudioError(Exception):
    """A recording cannot be read; the message says which and why."""


def read_wav(path: str | Path, rate: int = SAMPLE_RATE) -> bytes:
    """The file's audio as 16-bit mono little-endian PCM at `rate`, resampled if needed."""
    try:
        with wave.open(str(path), "rb") as w:
            channels, width, src_rate = w.getnchannels(), w.getsampwidth(), w.getframerate()
            raw = w.readframes(w.getnframes())
    except FileNotFoundError:
        raise AudioError(f"{path}: no such file") from None
    except (wave.Error, EOFError, OSError) as exc:
        raise AudioError(f"{path}: not a readable PCM WAV file ({exc}); convert it with "
                         f"`sox {path} -r 16000 -c 1 -b 16 out.wav`") from None
    if width not in (1, 2, 3, 4) or channels < 1 or src_rate < 1000:
        raise AudioError(f"{path}: unsupported WAV format ({width * 8}-bit, {channels} channels, "
                         f"{src_rate} Hz)")
    samples = _to_float(raw, width).reshape(-1, channels).mean(axis=1)
    if src_rate != rate:
        samples = soxr.resample(samples, src_rate, rate)
    return to_pcm(samples)


def _to_float(raw: bytes, width: int) -> np.ndarray:
    if width == 1:
        return (np.frombuffer(raw, np.uint8).astype(np.float32) - 128) / 128
    if width == 3:
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3)
        ints = (b[:, 0].astype(np.int32) | b[:, 1].astype(np.int32) << 8
                | b[:, 2].astype(np.int32) << 16)
        ints = np.where(ints & 0x800000, ints - 0x1000000, ints)
        return ints.astype(np.float32) / 2**23
    dtype = np.int16 if width == 2 else np.int32
    return np.frombuffer(raw, dtype).astype(np.float32) / float(2 ** (8 * width - 1))


def to_pcm(samples: np.ndarray) -> bytes:
    """Float samples in [-1, 1] as 16-bit little-endian PCM bytes, clipped."""
    return (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes()


def from_pcm(pcm: bytes) -> np.ndarray:
    """16-bit PCM bytes as float samples in [-1, 1]."""
    return np.frombuffer(pcm, "<i2").astype(np.float32) / 32768
