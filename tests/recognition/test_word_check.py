"""The word check: Google's speech embedding and our classifier over it (word_check.py)."""

from __future__ import annotations

import shutil

import numpy as np

from assistant.audio.resample import resample
from assistant.recognition import evaluation as ev
from assistant.recognition import word_check
from assistant.recognition.audio import SAMPLE_RATE, from_pcm
from assistant.recognition.files import read_wav, recognize_pcm


def test_it_hears_held_out_speakers_words_and_not_others(speech_commands):
    check = word_check.load()
    rng = np.random.default_rng(3)
    heard = {}
    for word in ("stop", "yes", "no", "go", "off"):
        clips = [p for p in ev.clips(word) if ev.held_out(p)][:10]
        margins = [check.margins(ev.pad(from_pcm(read_wav(p)), 0.8, 0.8, rng=rng)) for p in clips]
        heard[word] = [max(m, key=m.get) if max(m.values()) > 0 else None for m in margins]
    for word in ("stop", "yes", "no"):
        assert heard[word].count(word) >= 8, heard
    assert sum(h is not None for h in heard["go"] + heard["off"]) <= 2, heard


def test_a_steady_margin_is_the_median_over_the_speeds(speech_commands):
    """As said only, it is the plain margin; with two speeds, the middle one of the three."""
    check = word_check.load()
    x = ev.pad(from_pcm(read_wav(speech_commands / "no" / "3d86b69a_nohash_3.wav")), 0.8, 0.8,
               rng=np.random.default_rng(1))
    plain = check.margins(x)["no"]
    assert check.steady_margin(x, "no", ()) == plain
    slower, faster = (check.margins(resample(x, SAMPLE_RATE, round(SAMPLE_RATE / s)))["no"] for s in (0.92, 1.08))
    assert check.steady_margin(x, "no", (0.92, 1.08)) == round(sorted([plain, slower, faster])[1], 3)
    assert len({plain, slower, faster}) == 3  # the speeds change what the check hears


def test_a_missing_or_broken_model_turns_it_off_with_a_message(tmp_path, capsys):
    from assistant.recognition.sphinx import SphinxRecognizer

    for name in ("melspectrogram.onnx", "head.npz"):
        shutil.copy(word_check.MODEL_DIR / name, tmp_path / name)
    assert word_check.load(tmp_path) is None  # no embedding model
    assert "word check is off" in capsys.readouterr().err
    (tmp_path / "embedding_model.onnx").write_bytes(b"not a model")
    assert word_check.load(tmp_path) is None
    err = capsys.readouterr().err
    assert "cannot be loaded" in err and "setup.sh" in err


def test_without_it_the_recogniser_decides_alone(monkeypatch, say):
    import assistant.recognition.sphinx as engine

    monkeypatch.setattr(engine.word_check, "load", lambda: None)
    recognizer = engine.SphinxRecognizer()
    recognizer.set_grammar("answer")
    hyp = recognize_pcm(recognizer, ev.pcm(say("yes", "en-us", 140)))
    assert hyp is not None and hyp.intent == "yes"
