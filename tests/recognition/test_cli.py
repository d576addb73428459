"""`footcare recognize` and `footcare models` from the outside."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.recognition import evaluation as ev

REPO = Path(__file__).resolve().parents[2]


def footcare(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "import sys; from assistant.cli import main; sys.exit(main())", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120, env=env)


@pytest.mark.slow
def test_recognize_json_gives_one_line_per_file_in_order(tmp_path, voice_dir):
    files = [ev.synthesize("please stop", "en-us", 140, voice_dir), ev.synthesize("carry on", "en-us", 130, voice_dir)]
    silence = tmp_path / "silence.wav"
    subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", str(silence), "trim", "0", "1.0"], check=True)
    files.append(silence)
    out = footcare("recognize", "--engine", "pocketsphinx", "--json", *map(str, files))
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert [d["file"] for d in lines] == [str(f) for f in files]
    assert all(set(d) == {"file", "text", "intent", "confidence", "decode_ms"} for d in lines)
    assert [d["intent"] for d in lines] == ["stop", "resume", None]
    # a safety command acts on its word the moment it is spotted, before "please stop" is complete
    assert lines[0]["text"] == "stop" and 0 < lines[0]["confidence"] <= 1 and lines[0]["decode_ms"] > 0
    assert lines[1]["text"] == "carry on"


def test_recognize_reports_unreadable_files_without_a_traceback(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"garbage")
    out = footcare("recognize", "--engine", "pocketsphinx", str(bad))
    assert out.returncode == 1
    assert "Traceback" not in out.stderr + out.stdout
    assert "not a readable PCM WAV" in out.stdout + out.stderr


def test_unknown_grammar_is_one_clear_message(tmp_path):
    out = footcare("recognize", "--grammar", "nonsense", str(tmp_path / "x.wav"))
    assert out.returncode == 1
    assert out.stderr.strip().startswith("footcare: no grammar named 'nonsense'")
    assert "Traceback" not in out.stderr


def test_vosk_without_a_model_is_one_clear_message(tmp_path):
    import os

    env = {**os.environ, "FOOTCARE_VOSK_MODEL": str(tmp_path)}
    out = footcare("recognize", "--engine", "vosk", str(tmp_path / "x.wav"), env=env)
    assert out.returncode == 1
    assert "footcare models download" in out.stderr and "Traceback" not in out.stderr


def test_models_status_names_the_engine():
    out = footcare("models", "status")
    assert out.returncode == 0
    assert out.stdout.startswith("engine: ")
