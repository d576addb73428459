"""Whether the person is talking, from the echo-cancelled microphone.

After a barge-in the assistant answers once the person has finished ("stop now", "wait a
moment please"): a reply begun while they still talk is masked by their own voice, and the
speaker sounds as if it never stopped (docs/BENCHMARKS.md, Barge-in, fourteenth round).
PocketSphinx's voice activity detector decides, with the recogniser's settings: the talking
ends about a window (VAD_WINDOW_S) after the voice.
"""

from __future__ import annotations

from assistant.recognition.sphinx import VAD_RATIO, VAD_WINDOW_S


class UserVoice:
    """Feed 16 kHz 16-bit mono PCM with `feed`; `talking` is whether it holds a voice now."""

    def __init__(self, sample_rate: int = 16000) -> None:
        try:
            from pocketsphinx import Endpointer
        except ImportError:  # without it the assistant answers after a fixed pause, as before
            self._vad = None
        else:
            self._vad = Endpointer(window=VAD_WINDOW_S, ratio=VAD_RATIO, sample_rate=sample_rate)
        self._pending = b""
        self.talking = False

    def feed(self, pcm: bytes) -> None:
        if self._vad is None:
            return
        data = self._pending + pcm
        size = self._vad.frame_bytes
        n = len(data) - len(data) % size
        for i in range(0, n, size):
            self._vad.process(data[i : i + size])
        self._pending = data[n:]
        self.talking = bool(self._vad.in_speech)
