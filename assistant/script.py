"""Scripted users for `footcare simulate --script FILE`.

    # comment
    when TOPIC: PHRASE       from here on, whenever a question on TOPIC is asked, say PHRASE
    in STEP +N: PHRASE       say PHRASE N seconds after STEP next starts (either foot)
    after +N: PHRASE         say PHRASE N seconds after the previous timed line

Timed lines (`in`, `after`) are said one after another, in file order; a `when`
line takes effect once every timed line above it has been said.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path


class ScriptError(Exception):
    """A script line that cannot be understood; the message names the line."""


@dataclass(frozen=True)
class When:
    topic: str
    phrase: str


@dataclass(frozen=True)
class InStep:
    step: str
    seconds: float
    phrase: str


@dataclass(frozen=True)
class After:
    seconds: float
    phrase: str


Line = When | InStep | After

_WHEN = re.compile(r"^when\s+(?P<topic>[\w.\-]+)\s*:\s*(?P<phrase>.+)$", re.I)
_IN = re.compile(r"^in\s+(?P<step>[\w.\-]+)\s*\+\s*(?P<n>\d+(?:\.\d+)?)\s*s?\s*:\s*(?P<phrase>.+)$", re.I)
_AFTER = re.compile(r"^after\s*\+\s*(?P<n>\d+(?:\.\d+)?)\s*s?\s*:\s*(?P<phrase>.+)$", re.I)


def parse_script(text: str, name: str = "script") -> list[Line]:
    """The script's lines, in order; raises ScriptError naming the first bad line."""
    lines: list[Line] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if m := _WHEN.match(line):
            lines.append(When(m["topic"], m["phrase"].strip()))
        elif m := _IN.match(line):
            lines.append(InStep(m["step"], float(m["n"]), m["phrase"].strip()))
        elif m := _AFTER.match(line):
            lines.append(After(float(m["n"]), m["phrase"].strip()))
        else:
            raise ScriptError(
                f"{name}, line {number}: cannot read {line!r}; expected "
                "'when TOPIC: PHRASE', 'in STEP +N: PHRASE' or 'after +N: PHRASE'"
            )
    return lines


def read_script(path: str | Path) -> list[Line]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ScriptError(f"cannot read the script {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ScriptError(f"the script {path} is not text (UTF-8): {exc.reason}") from exc
    return parse_script(text, str(path))


class ScriptedUser:
    """Walks through a script: which answers stand, and which timed line is next."""

    def __init__(self, lines: list[Line]) -> None:
        self._lines = list(lines)
        self._pos = 0
        self.answers: dict[str, str] = {}
        self.last_said_at = 0.0
        self._take_whens()

    def _take_whens(self) -> None:
        while self._pos < len(self._lines) and isinstance(self._lines[self._pos], When):
            line = self._lines[self._pos]
            assert isinstance(line, When)
            self.answers[line.topic] = line.phrase
            self._pos += 1

    @property
    def next_timed(self) -> InStep | After | None:
        if self._pos < len(self._lines):
            line = self._lines[self._pos]
            assert not isinstance(line, When)
            return line
        return None

    def said(self, at: float) -> None:
        """The current timed line was said at `at`: move on to the next."""
        self.last_said_at = at
        self._pos += 1
        self._take_whens()
