"""`footcare run` on virtual devices: first word, clean ends, clear errors."""

from __future__ import annotations

import json
import signal
import subprocess
import time

import pytest

from assistant.audio.virtual_user import FOOTCARE, SILENCE_RMS

pytestmark = [pytest.mark.audio]


def test_first_word_is_quick_and_heard(user, speech_cache):
    start = user.now()
    user.start(["--cache", str(speech_cache)])
    deadline = time.monotonic() + 10
    first = None
    while first is None and time.monotonic() < deadline:
        first = next((t for t, rms in list(user.levels) if t > start and rms > 10 * SILENCE_RMS), None)
        time.sleep(0.05)
    assert first is not None, f"nothing was heard from the speaker: {user.stderr}"
    assert first - start < 3.0, f"first word after {first - start:.2f} s"


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_ends_cleanly_and_at_once(user, speech_cache, private_history, sig, code, monkeypatch):
    monkeypatch.setenv("PYTHONFAULTHANDLER", "1")
    user.start(["--cache", str(speech_cache)])
    assert user.wait_for(lambda r: r.type == "Say", 10)
    time.sleep(1.0)
    sent = time.monotonic()
    user.proc.send_signal(sig)
    try:
        assert user.proc.wait(timeout=5) == code
    except subprocess.TimeoutExpired:
        user.proc.send_signal(signal.SIGABRT)  # PYTHONFAULTHANDLER: every thread's stack to stderr
        user.proc.wait(timeout=5)
        time.sleep(0.5)
        pytest.fail(f"still running 5 s after {sig.name}:\n{user.stderr}")
    assert time.monotonic() - sent < 3.0
    assert "Traceback" not in user.stderr
    # The cut-off session is in the history, marked interrupted, not lost.
    listed = subprocess.run([*FOOTCARE, "history", "--json", "--db", str(private_history)],
                            capture_output=True, text=True, timeout=30)
    sessions = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [(s["mode"], s["status"]) for s in sessions] == [("run", "interrupted")], listed


def test_missing_device_says_so_and_points_to_simulate(audio):
    out = subprocess.run([*FOOTCARE, "run", "--output", "no-such-speaker"],
                         env=audio.assistant_env(), capture_output=True, text=True, timeout=30)
    assert out.returncode == 1
    assert "no speaker matches 'no-such-speaker'" in out.stderr
    assert "footcare simulate" in out.stderr
    assert "Traceback" not in out.stderr


def test_devices_lists_the_virtual_devices(audio):
    out = subprocess.run([*FOOTCARE, "devices"], env=audio.assistant_env(),
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and "pulse" in out.stdout
