"""Which phrases heard while the assistant talks are taken (no audio needed).

The cases are phrases logged by `scripts/bench_bargein.py` (docs/BENCHMARKS.md): users'
"stop"s said over the narration, and phrases the recogniser found in the assistant's own voice
fed back to its microphone.
"""

from __future__ import annotations

import pytest

from assistant.live import over_our_voice_refusal


def refusal(intent, confidence, likeness, residue_only=False, slipped=False):
    return over_our_voice_refusal(intent, confidence, likeness, residue_only, slipped)


@pytest.mark.parametrize("confidence, likeness", [
    (0.517, 0.474), (0.552, 0.458), (0.666, 0.523), (0.584, 0.579),  # refused as unsure before round 11
    (0.994, 0.026), (0.611, -0.122), (0.857, 0.628),
])
def test_users_stops_over_our_voice_are_taken(confidence, likeness):
    assert refusal("stop", confidence, likeness) is None


@pytest.mark.parametrize("confidence, likeness", [(0.692, 0.834), (0.813, 0.948), (0.662, 0.745), (0.506, 0.755)])
def test_our_own_voice_is_refused_however_sure(confidence, likeness):
    assert refusal("stop", confidence, likeness) == "moves with our voice"


def test_only_safety_commands_cut_in():
    assert refusal("no", 0.99, 0.1) == "not stop, pause or pain, while speaking"
    assert refusal("resume", 0.99, 0.1) == "not stop, pause or pain, while speaking"
    assert refusal("pain", 0.9, 0.2) is None


def test_a_word_that_partly_moves_with_our_voice_must_be_sure():
    assert refusal("stop", 0.65, 0.65) == "unsure, over our voice"
    assert refusal("stop", 0.72, 0.65) is None
    assert refusal("stop", 0.6, None) == "unsure, over our voice"  # likeness not known
    assert refusal("stop", 0.45, 0.5) == "unsure, over our voice"


@pytest.mark.parametrize("confidence, likeness", [(0.482, 0.153), (0.482, 0.345), (0.319, 0.426)])
def test_a_word_plainly_not_our_voice_needs_no_floor(confidence, likeness):
    """The three "pause"s a CI run refused over the narration (its session test failed)."""
    assert refusal("pause", confidence, likeness) is None


def test_our_own_voice_at_low_confidence_stays_refused():
    """Phrases found in our own voice at low confidence (self-echo sessions of the bench)."""
    assert refusal("stop", 0.226, 0.766) == "moves with our voice"
    assert refusal("stop", 0.3, 0.61) == "unsure, over our voice"  # the least-like phrase of our voice logged


def test_residue_and_slips_refuse_even_a_sure_word():
    assert refusal("stop", 0.95, 0.2, residue_only=True) == "echo residue"
    assert refusal("stop", 0.95, 0.2, slipped=True) == "echo slipped"
