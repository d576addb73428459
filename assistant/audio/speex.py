"""Acoustic echo cancellation with libspeexdsp, through ctypes.

ctypes rather than a PyPI binding: the bindings on PyPI are source-only and need a
compiler, while Debian and Raspberry Pi OS ship `libspeexdsp1` ready to load.
"""

from __future__ import annotations

import ctypes
import ctypes.util

import numpy as np

_ECHO_SET_SAMPLING_RATE = 24


class SpeexUnavailable(Exception):
    """libspeexdsp cannot be loaded (Debian package `libspeexdsp1`)."""


def _load() -> ctypes.CDLL:
    name = ctypes.util.find_library("speexdsp") or "libspeexdsp.so.1"
    try:
        lib = ctypes.CDLL(name)
    except OSError as exc:
        raise SpeexUnavailable(f"cannot load libspeexdsp ({exc}); install libspeexdsp1") from exc
    lib.speex_echo_state_init.restype = ctypes.c_void_p
    lib.speex_echo_state_init.argtypes = [ctypes.c_int, ctypes.c_int]
    lib.speex_echo_state_destroy.argtypes = [ctypes.c_void_p]
    lib.speex_echo_ctl.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
    lib.speex_echo_cancellation.argtypes = [ctypes.c_void_p] + [ctypes.c_void_p] * 3
    return lib


class SpeexEchoCanceller:
    """Removes the loudspeaker's signal from the microphone's, frame by frame (int16).

    The adaptive filter models the path speaker -> room -> microphone up to `tail_ms`; what
    it leaves is hushed downstream (echo.py's gate). speexdsp's preprocessor is not used: its
    residual echo suppression acts only inside its noise suppressor (with denoising off its
    gains are 1 and it only delays the output by a frame), and with it on it neither kept
    the leak of a slipped echo path out nor helped recognition (docs/BENCHMARKS.md).
    """

    def __init__(self, sample_rate: int = 16000, frame: int = 160, tail_ms: int = 200) -> None:
        self._lib = _load()
        self.frame = frame
        self._echo = self._lib.speex_echo_state_init(frame, sample_rate * tail_ms // 1000)
        rate = ctypes.c_int(sample_rate)
        self._lib.speex_echo_ctl(self._echo, _ECHO_SET_SAMPLING_RATE, ctypes.byref(rate))

    def process(self, mic: np.ndarray, played: np.ndarray) -> np.ndarray:
        """One frame of microphone minus echo; `played` is what the speaker played then."""
        mic = np.ascontiguousarray(mic, dtype=np.int16)
        played = np.ascontiguousarray(played, dtype=np.int16)
        out = np.empty(self.frame, dtype=np.int16)
        self._lib.speex_echo_cancellation(self._echo, mic.ctypes.data, played.ctypes.data, out.ctypes.data)
        return out

    def close(self) -> None:
        if self._echo:
            self._lib.speex_echo_state_destroy(self._echo)
            self._echo = None

    def __del__(self) -> None:
        self.close()
