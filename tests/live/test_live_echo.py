"""The assistant's own voice fed back into its microphone never acts as a command."""

from __future__ import annotations

import wave

import numpy as np
import pytest

pytestmark = [pytest.mark.audio, pytest.mark.slow]

ECHO_VOLUME = 1.0
"""The echo as loud at the microphone as the speaker's signal: a speaker a few cm away."""
SLIP_BEFORE_FRAMES, SLIP_AFTER_FRAMES = 50, 150
"""Output frames (10 ms) around a reported slip of the echo path left out of the measurement:
the slip is dated to its earliest possible frame and caught 0.3-1 s later (measured: the
leaks in the recordings of this test lasted under a second)."""


def test_own_voice_never_obeyed(audio, user, speech_cache):
    audio.loopback(volume=ECHO_VOLUME)
    # Nobody answers: greeting ("Say stop, pause, or that hurts..."), the question, two
    # re-asks, and the goodbye all go round the loop, then the session ends by itself.
    user.start(["--cache", str(speech_cache)])  # records what the recogniser hears
    ended = user.wait_for(lambda r: r.type == "SessionEnded", 120)
    assert ended is not None, f"the session did not end: {[r.data for r in user.records[-6:]]}\n{user.stderr}"
    assert user.proc.wait(timeout=30) == 0
    assert ended.data["reason"] == "no_answer", [r.data for r in user.records if r.type in ("Heard", "ignored")]
    assert user.of_type("Heard") == [], "the assistant obeyed its own voice"

    # The canceller, not luck: what the recogniser heard is far below what was played.
    played = np.array([rms for _, rms in user.levels])
    talking = played[played > 0.01]
    with wave.open(str(user.heard_wav)) as w:
        heard = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768
    frames = np.sqrt(np.mean(heard[: len(heard) // 160 * 160].reshape(-1, 160) ** 2, axis=1))
    # A slip of the echo path (a sound system that loses or inserts samples unannounced) lets
    # our voice through until the canceller catches it, within about a second, and the live loop
    # refuses safety words decided then ("echo slipped"). Those seconds are the slip catcher's
    # (tests/live/test_echo_canceller.py); the rest is the canceller's.
    kept = np.ones(len(frames), bool)
    kept[: 10 * 100] = False  # the first 10 s, in which the filter learns the room
    slips = [n["frame"] for n in user.of_type("echo slip")]
    for frame in slips:
        kept[max(0, frame - SLIP_BEFORE_FRAMES) : frame + SLIP_AFTER_FRAMES] = False
    said = [r.data["text"] for r in user.records if r.type == "Say"]
    assert len(said) == 7, f"the nobody-answers session says seven lines, not: {said}"
    # About 20 s of it is loud (1986-2049 frames over 10 ms measured; fewer where a loaded
    # machine drops input blocks): 15 s of our voice is plenty to judge the canceller by.
    assert len(talking) > 1500, f"the test user heard only {len(talking) / 100:.1f} s of our voice"
    assert np.mean(kept[10 * 100 :]) > 0.8, f"echo slips at frames {slips} leave too little to judge"
    heard_frames = frames[kept & (frames > 0)]
    attenuation_db = 20 * np.log10(np.mean(talking) / (np.mean(heard_frames) + 1e-9))
    assert attenuation_db > 20, (
        f"echo only {attenuation_db:.1f} dB down after cancellation (slips at {slips})\n{user.stderr}")
