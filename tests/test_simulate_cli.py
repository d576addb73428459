"""`footcare simulate` as a user runs it: the console command, its output and its errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from session_helpers import ALL_CLEAR

FIELDS = {
    "say": {"text", "state"},
    "ask": {"topic"},
    "heard": {"text", "intent"},
    "step": {"foot", "step", "planned_s"},
    "step_done": {"foot", "step", "active_s"},
    "rule": {"id"},
    "end": {"reason"},
}


def footcare(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("footcare")
    return subprocess.run([str(exe), *args], input=stdin, capture_output=True, text=True, timeout=120)


def test_json_lines_follow_the_event_format(tmp_path):
    script = tmp_path / "user.txt"
    script.write_text(ALL_CLEAR + "in effleurage +40: hold on\nafter +30: carry on\n")
    result = footcare("simulate", "--script", str(script), "--json")
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert events and events[-1] == {"t": events[-1]["t"], "kind": "end", "reason": "completed"}
    times = [e["t"] for e in events]
    assert times == sorted(times)
    for e in events:
        assert set(e) == {"t", "kind"} | FIELDS[e["kind"]], e
    heard = {e["text"]: e["intent"] for e in events if e["kind"] == "heard"}
    assert heard["hold on"] == "pause" and heard["carry on"] == "resume"


def test_text_output_is_readable(tmp_path):
    script = tmp_path / "user.txt"
    script.write_text(ALL_CLEAR)
    result = footcare("simulate", "--script", str(script))
    assert result.returncode == 0
    assert "assistant: Hello." in result.stdout
    assert result.stdout.rstrip().endswith("session ended: completed")


@pytest.mark.parametrize("content, message", [
    ("when ready yes\n", "line 1: cannot read 'when ready yes'"),
    (b"\xff\xfe\x00", "is not text"),
])
def test_bad_script_gives_one_clear_line(tmp_path, content, message):
    script = tmp_path / "user.txt"
    if isinstance(content, bytes):
        script.write_bytes(content)
    else:
        script.write_text(content)
    result = footcare("simulate", "--script", str(script))
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_missing_script(tmp_path):
    result = footcare("simulate", "--script", str(tmp_path / "nope.txt"))
    assert result.returncode == 1
    assert "No such file or directory" in result.stderr and "Traceback" not in result.stderr


def test_interactive_session_from_typed_lines():
    typed = "yes please\nno\nno\nno\nno\n\n+120\nhow long is left\nstop\n"
    result = footcare("simulate", stdin=typed)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "you: how long is left   -> time_left" in out
    assert "left on this step" in out
    assert out.rstrip().endswith("session ended: stopped")


def test_interactive_end_of_input_stops_cleanly():
    result = footcare("simulate", stdin="yes\n")
    assert result.returncode == 0
    assert "session ended: stopped" in result.stdout
