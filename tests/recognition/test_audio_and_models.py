"""Reading recordings and fetching models: bad input gives one clear message."""

from __future__ import annotations

import hashlib
import wave
import zipfile
from pathlib import Path

import numpy as np
import pytest

from assistant.recognition import RecognizerError, open_recognizer
from assistant.recognition.audio import ROOM_TONE_RMS, AudioError, RoomTone, from_pcm, periodicity, read_wav, to_pcm
from assistant.recognition.files import MAX_RAISE_DB, PEAK_DBFS, QUIET_DBFS, raised_if_quiet
from assistant.recognition.models import ModelArchive, ModelError, download, find_vosk_model


def write_wav(path: Path, samples: np.ndarray, rate: int, channels: int = 1) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((samples * 32767).astype("<i2").tobytes())
    return path


def test_any_rate_and_stereo_become_16k_mono(tmp_path):
    t = np.arange(44100) / 44100
    tone = np.sin(2 * np.pi * 440 * t) * 0.5
    stereo = np.stack([tone, tone], axis=1).ravel()
    pcm = read_wav(write_wav(tmp_path / "a.wav", stereo, 44100, channels=2))
    x = np.frombuffer(pcm, "<i2") / 32768
    assert abs(len(x) - 16000) <= 2
    spectrum = np.abs(np.fft.rfft(x))
    assert abs(np.argmax(spectrum) * 16000 / len(x) - 440) < 3  # same pitch after resampling


@pytest.mark.parametrize("content", [b"", b"RIFF\x00\x00\x00\x00WAVEjunk", b"hello, not audio"])
def test_corrupt_files_give_a_clear_error(tmp_path, content):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(content)
    with pytest.raises(AudioError, match="not a readable PCM WAV"):
        read_wav(bad)


def test_missing_file_gives_a_clear_error(tmp_path):
    with pytest.raises(AudioError, match="no such file"):
        read_wav(tmp_path / "nope.wav")


def test_digital_silence_becomes_faint_room_tone_and_sound_passes_unchanged():
    rng = np.random.default_rng(5)
    speech = to_pcm(0.1 * rng.standard_normal(1600).astype(np.float32))
    gated = bytes(3200 + 150)  # 0.1 s and a bit of exact zeros, not a whole number of frames
    out = RoomTone()(speech + gated)
    assert out[:3200] == speech
    tone = from_pcm(out[3200:])
    assert len(tone) == 1675 and 0.5 * ROOM_TONE_RMS < float(np.std(tone)) < 2 * ROOM_TONE_RMS


def level_db(samples: np.ndarray) -> float:
    return 20 * float(np.log10(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))))


def test_a_quiet_recording_is_raised_and_a_normal_one_is_left_alone():
    rng = np.random.default_rng(6)
    word = np.sin(np.arange(8000) * 2 * np.pi * 220 / 16000) * np.hanning(8000)
    lead = 1e-4 * rng.standard_normal(8000)
    quiet = np.concatenate([lead, 0.002 * word, lead])  # loud part near -57 dBFS
    raised = from_pcm(raised_if_quiet(to_pcm(quiet), 16000))
    assert abs(level_db(raised[10000:14000]) - QUIET_DBFS) < 3  # the loud part now near -30 dBFS
    normal = to_pcm(np.concatenate([lead, 0.3 * word, lead]))
    assert raised_if_quiet(normal, 16000) == normal
    near_silence = to_pcm(1e-4 * rng.standard_normal(16000))  # never raised by more than MAX_RAISE_DB
    assert level_db(from_pcm(raised_if_quiet(near_silence, 16000))) < level_db(from_pcm(near_silence)) + MAX_RAISE_DB + 0.5
    click = np.concatenate([lead, 0.001 * word, lead])
    click[100] = 0.05  # one loud sample: raised only until it reaches PEAK_DBFS
    out = from_pcm(raised_if_quiet(to_pcm(click), 16000))
    assert 20 * np.log10(np.max(np.abs(out))) <= PEAK_DBFS + 0.1
    assert raised_if_quiet(b"", 16000) == b""


def fake_model_zip(tmp_path: Path, name: str, evil: bool = False) -> Path:
    z = tmp_path / f"{name}.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr(f"{name}/am/final.mdl", b"model")
        zf.writestr(f"{name}/conf/model.conf", b"--x=1")
        if evil:
            zf.writestr("../escape.txt", b"x")
    return z


def archive_for(z: Path, name: str) -> ModelArchive:
    return ModelArchive(name, z.as_uri(), hashlib.sha256(z.read_bytes()).hexdigest(), z.stat().st_size)


def test_a_voice_is_periodic_and_hiss_is_not():
    t = np.arange(480) / 16000
    rng = np.random.default_rng(0)
    for pitch in (80, 150, 300):  # a low man's voice to a child's: harmonics as a vowel has
        vowel = sum(np.sin(2 * np.pi * pitch * k * t) / k for k in range(1, 6))
        assert periodicity(vowel.astype(np.float32)) > 0.8, pitch
        assert periodicity((vowel + rng.normal(0, 0.5, 480)).astype(np.float32)) > 0.5, pitch
    hiss = rng.normal(0, 0.1, 480).astype(np.float32)
    assert periodicity(hiss) < 0.4
    assert periodicity(np.zeros(480, np.float32)) == 0.0


def test_download_checks_the_checksum_and_unpacks_in_place(tmp_path):
    z = fake_model_zip(tmp_path, "vosk-model-test-en-us")
    dest = tmp_path / "models"
    path = download(archive_for(z, "vosk-model-test-en-us"), dest, progress=False)
    assert (path / "am" / "final.mdl").read_bytes() == b"model"
    assert [p.name for p in dest.iterdir()] == ["vosk-model-test-en-us"]  # no leftovers


def test_a_corrupt_download_leaves_nothing_behind(tmp_path):
    z = fake_model_zip(tmp_path, "vosk-model-test-en-us")
    wrong = ModelArchive("vosk-model-test-en-us", z.as_uri(), "0" * 64, 1)
    dest = tmp_path / "models"
    with pytest.raises(ModelError, match="corrupt"):
        download(wrong, dest, progress=False)
    assert list(dest.iterdir()) == []


def test_an_archive_escaping_its_folder_is_refused(tmp_path):
    z = fake_model_zip(tmp_path, "vosk-model-test-en-us", evil=True)
    with pytest.raises(ModelError, match="unsafe path"):
        download(archive_for(z, "vosk-model-test-en-us"), tmp_path / "models", progress=False)
    assert not (tmp_path / "escape.txt").exists()


def test_no_internet_gives_a_clear_error(tmp_path):
    missing = ModelArchive("vosk-model-x", (tmp_path / "absent.zip").as_uri(), "0" * 64, 1)
    with pytest.raises(ModelError, match="cannot download"):
        download(missing, tmp_path / "models", progress=False)


def test_model_from_environment_must_be_a_model(tmp_path, monkeypatch):
    monkeypatch.setenv("FOOTCARE_VOSK_MODEL", str(tmp_path))
    with pytest.raises(ModelError, match="not a Vosk model folder"):
        find_vosk_model()
    with pytest.raises(RecognizerError, match="footcare models download"):
        open_recognizer()


def test_asking_for_vosk_without_a_model_says_how_to_get_one(monkeypatch, tmp_path):
    monkeypatch.delenv("FOOTCARE_VOSK_MODEL", raising=False)
    monkeypatch.setattr("assistant.recognition.models.MODELS_DIR", tmp_path)
    monkeypatch.setattr("assistant.recognition.models.vosk_cache_dirs", lambda: [])
    with pytest.raises(RecognizerError, match="footcare models download"):
        open_recognizer("vosk")


def test_unknown_engine_is_refused():
    with pytest.raises(RecognizerError, match="unknown engine"):
        open_recognizer("whisper")
