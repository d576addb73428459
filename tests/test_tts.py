"""Rendering: a line is never lost or swapped when espeak-ng writes it late or from two threads."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from assistant.speech.tts import TTS_RATE, Renderer, SpeechError, Voice, _wait_for_wav, read_wav, write_wav


def test_a_file_written_after_the_engine_returned_is_waited_for(tmp_path):
    path = tmp_path / "line.wav"
    tone = np.sin(np.arange(TTS_RATE // 2) / 5).astype(np.float32) * 0.5
    late = threading.Timer(0.2, write_wav, (path, tone))
    late.start()
    samples = _wait_for_wav(path, 3.0)
    late.join()
    assert samples is not None and len(samples) == len(tone)


def test_a_file_cut_short_is_not_taken_for_the_line(tmp_path):
    path = tmp_path / "line.wav"
    write_wav(path, np.zeros(TTS_RATE, np.float32))
    path.write_bytes(path.read_bytes()[: 44 + TTS_RATE])  # half its samples: still being written
    with pytest.raises(EOFError):
        read_wav(path)
    assert _wait_for_wav(path, 0.1) is None


def test_a_file_never_written_gives_up_in_time(tmp_path):
    started = time.monotonic()
    assert _wait_for_wav(tmp_path / "line.wav", 0.3) is None
    assert time.monotonic() - started < 2.0


def test_lines_rendered_from_two_threads_are_each_their_own():
    try:
        renderers = [Renderer(), Renderer()]
    except SpeechError as exc:
        pytest.skip(str(exc))
    short, long = "Stop.", "Now glide your hands slowly from your toes up to your ankle."
    alone = {text: len(renderers[0].render(text, Voice())) for text in (short, long)}
    got: dict[str, list[int]] = {short: [], long: []}

    def render(renderer: Renderer, text: str) -> None:
        for _ in range(3):
            got[text].append(len(renderer.render(text, Voice())))

    threads = [threading.Thread(target=render, args=(r, t), daemon=True) for r, t in zip(renderers, (short, long))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads), "two renders at once hung the engine"
    # espeak-ng's length varies by a few samples from one render to the next; a lost line is
    # empty and a swapped one is eight times shorter or longer.
    for text, lengths in got.items():
        assert len(lengths) == 3 and all(abs(n - alone[text]) < 0.05 * alone[text] for n in lengths), (text, lengths)
