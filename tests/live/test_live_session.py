"""A whole spoken session through real (virtual) sound devices."""

from __future__ import annotations

import subprocess
import time

import pytest

pytestmark = [pytest.mark.audio, pytest.mark.slow]

READY = ("yes", "go ahead", "yes please", "okay")
NO = ("no", "nope", "nah", "not really", "none", "nothing", "not at all", "no thank you", "i don't think so")
PAUSE = ("wait", "pause", "hold on", "just a moment")
RESUME = ("carry on", "resume", "continue", "go on")
PAIN = ("that hurts", "ouch", "it hurts", "that's painful")
STOP = ("stop", "please stop", "stop now", "that's enough")


def is_(record_type, /, **fields):
    """A record of this type with these fields (a field may itself be called `kind`)."""
    return lambda r: r.type == record_type and all(r.data.get(k) == v for k, v in fields.items())


TURN_GAP_S = 0.4
"""A person answers a moment after the question ends (in conversation about 0.2 s; older
people take longer), and our last word is still sounding for about 0.1 s after the speaker's
`SpeechFinished`. Answered at once instead, the answer overlaps the tail of our voice: it is
refused as said over our voice (in 6 of 10 runs), and once the blend was heard as "stop"
(docs/BENCHMARKS.md, Barge-in, twelfth round)."""


def answer(user, topic: str, grammar: str, phrases: tuple[str, ...], intents: tuple[str, ...]) -> None:
    rec = user.wait_for(is_("Listen", topic=topic), 60)
    assert rec is not None, f"never asked {topic}: {[r.data for r in user.records[-8:]]}\n{user.stderr}"
    user.wait_quiet(60)
    time.sleep(TURN_GAP_S)
    user.command(grammar, phrases, lambda r: is_("Answered", topic=topic)(r) and r.data["answer"] in intents, timeout=4)


def test_full_session_check_pause_resume_pain_stop(user, short_protocol, speech_cache):
    user.start(["--protocol", str(short_protocol), "--cache", str(speech_cache)])

    # The check, answered by voice.
    answer(user, "ready", "ready", READY, ("yes", "ready"))  # "go ahead" says ready
    for topic in ("skin.broken", "inflammation", "circulation", "sensitive.areas"):
        answer(user, topic, "answer", NO, ("no",))

    # Pause during narration: the speaker falls silent at once, then resume.
    assert user.wait_for(is_("StepStarted"), 30)
    assert user.wait_for(is_("Say"), 10)
    time.sleep(1.5)  # well into the instruction
    user.command("narration", PAUSE, is_("Heard", intent="pause"), timeout=3)
    end = user.now()
    assert user.wait_for(is_("StopSpeaking"), 1)
    silent = user.silence_after(end - 0.5, hold_s=0.25)
    assert silent is not None and silent - end < 1.0, "the speaker went on talking after 'pause'"
    paused = user.wait_for(is_("Say", line="pause.paused"), 5)
    assert paused is not None, [r.data for r in user.records[-8:]]
    # Its end, heard at the speaker: the first 0.8 s of quiet (sentences are 0.6 s apart) from
    # a second into it; not the quiet right after the cut, which the speaker also reports.
    into_line = user.now() - (time.monotonic() - paused.at) + 1.0
    assert user.silence_after(into_line, hold_s=0.8, timeout_s=20) is not None, "'Paused...' never ended"
    user.command("paused", RESUME, is_("Heard", intent="resume"), timeout=4)

    # "That hurts" during narration: reported, the assistant eases off.
    assert user.wait_for(is_("Say"), 20)
    time.sleep(1.0)
    user.command("narration", PAIN, is_("Reported", kind="pain"), timeout=3)

    # "Stop" ends the session.
    user.wait_quiet(30)
    user.command("answer", STOP, is_("SessionEnded", reason="stopped"), timeout=4)
    try:
        code = user.proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"`footcare run` went on after the session ended: "
                             f"{[r.data for r in user.records[-10:]]}\n{user.stderr}") from None
    assert code == 0, user.stderr
    assert user.stray_heard() == [], "the assistant heard commands nobody said"
