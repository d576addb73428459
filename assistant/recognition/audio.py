"""Reading recordings as the recognisers want them: 16-bit mono PCM at 16 kHz."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from assistant.audio.resample import resample

SAMPLE_RATE = 16000
ROOM_TONE_RMS = 3e-4
"""Faint white noise (-70 dBFS): the quietest a real room and microphone ever are."""


class AudioError(Exception):
    """A recording cannot be read; the message says which and why."""


def read_wav(path: str | Path, rate: int = SAMPLE_RATE) -> bytes:
    """The file's audio as 16-bit mono little-endian PCM at `rate`, resampled if needed.

    Reads integer PCM (8/16/24/32-bit) and 32/64-bit float WAVs, plain or
    WAVE_FORMAT_EXTENSIBLE (what sox and many recorders write).
    """
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise AudioError(f"{path}: no such file") from None
    except OSError as exc:
        raise AudioError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        fmt, channels, src_rate, width, raw = _parse_riff(data)
    except (ValueError, IndexError, struct.error) as exc:
        raise AudioError(f"{path}: not a readable PCM WAV file ({exc}); convert it with "
                         f"`sox {path} -r 16000 -c 1 -b 16 out.wav`") from None
    if channels < 1 or src_rate < 1000 or (fmt == _PCM and width not in (1, 2, 3, 4)) \
            or (fmt == _FLOAT and width not in (4, 8)):
        raise AudioError(f"{path}: unsupported WAV format ({width * 8}-bit, {channels} channels, "
                         f"{src_rate} Hz); convert it with `sox {path} -r 16000 -c 1 -b 16 out.wav`")
    raw = raw[: len(raw) - len(raw) % (width * channels)]
    if fmt == _FLOAT:
        samples = np.frombuffer(raw, "<f4" if width == 4 else "<f8").astype(np.float32)
    else:
        samples = _to_float(raw, width)
    samples = samples.reshape(-1, channels).mean(axis=1)
    if src_rate != rate and len(samples):
        samples = resample(samples, src_rate, rate)
    return to_pcm(samples)


_PCM, _FLOAT, _EXTENSIBLE = 1, 3, 0xFFFE


def _parse_riff(data: bytes) -> tuple[int, int, int, int, bytes]:
    """(format, channels, rate, bytes per sample, sample bytes) of a RIFF/WAVE file."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("no RIFF/WAVE header")
    pos, fmt_chunk, raw = 12, None, None
    while pos + 8 <= len(data):
        cid, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        body = data[pos + 8:pos + 8 + size]
        if cid == b"fmt ":
            fmt_chunk = body
        elif cid == b"data":
            raw = body
        pos += 8 + size + (size & 1)
    if fmt_chunk is None or raw is None:
        raise ValueError("no fmt or data chunk")
    fmt, channels, rate = struct.unpack("<HHI", fmt_chunk[:8])
    bits = struct.unpack("<H", fmt_chunk[14:16])[0]
    if fmt == _EXTENSIBLE:
        fmt = struct.unpack("<H", fmt_chunk[24:26])[0]
    if fmt not in (_PCM, _FLOAT):
        raise ValueError(f"compressed audio (format {fmt:#x})")
    return fmt, channels, rate, (bits + 7) // 8, raw


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


def rms(samples: np.ndarray) -> float:
    """Root mean square level of float (or int16) samples; 0 for none."""
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if len(samples) else 0.0


PITCH_HZ = (60, 400)
"""Range of voice pitch that `periodicity` looks for."""


def periodicity(frame: np.ndarray, rate: int = SAMPLE_RATE) -> float:
    """How periodic a frame of ~30 ms is at a voice pitch: the highest normalised autocorrelation
    (unbiased, so about 0..1) over the lags of PITCH_HZ. A vowel reaches 0.7-0.9; hiss, a
    running tap and clatter stay under 0.5."""
    n = len(frame)
    lo, hi = rate // PITCH_HZ[1], min(rate // PITCH_HZ[0], n - 1)
    x = frame - frame.mean()
    energy = float(x @ x)
    if energy < 1e-9 or hi <= lo:
        return 0.0
    spectrum = np.fft.rfft(x, 2 * n)
    ac = np.fft.irfft(spectrum * spectrum.conj())[:hi]
    lags = np.arange(lo, hi)
    return float((ac[lo:hi] / ac[0] * n / (n - lags)).max())


class RoomTone:
    """Fills digital silence (a closed echo gate, a muted or virtual input) with faint room tone.

    Exact zeros are not a sound any microphone makes. PocketSphinx's running cepstral mean,
    fed a few such frames at the edge of an utterance, is thrown so far that the next phrases
    are misheard ("carry on" as "pins and needles", tests/recognition). Frames of 10 ms with
    nothing above one step of the 16-bit scale are filled; anything else passes unchanged.
    (Vosk needs none: Kaldi dithers its input itself.)
    """

    FRAME = SAMPLE_RATE // 100

    def __init__(self, seed: int = 0) -> None:
        self._rng = np.random.default_rng(seed)

    def __call__(self, pcm: bytes) -> bytes:
        x = np.frombuffer(pcm, "<i2").astype(np.int32)
        if len(x) == 0:
            return pcm
        starts = np.arange(0, len(x), self.FRAME)
        silent = np.maximum.reduceat(np.abs(x), starts) <= 1
        if not silent.any():
            return pcm
        mask = np.repeat(silent, np.diff(np.append(starts, len(x))))
        tone = self._rng.normal(0.0, ROOM_TONE_RMS * 32768, int(mask.sum()))
        x[mask] += np.round(tone).astype(np.int32)
        return np.clip(x, -32768, 32767).astype("<i2").tobytes()
