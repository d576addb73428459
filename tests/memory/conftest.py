"""Fixtures for the session memory: tmp databases, a settable clock, whole simulated sessions.

`protocol` and `grammars` come from tests/conftest.py.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from assistant.dialogue import Adaptation
from assistant.intents import Grammars
from assistant.memory import Memory
from assistant.protocol import Protocol
from assistant.script import ScriptedUser, parse_script
from assistant.simulate import Simulation
from .memory_helpers import Clock


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "data" / "history.db"


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 3, 2, 20, 0, tzinfo=timezone.utc))


@pytest.fixture
def session(protocol: Protocol, grammars: Grammars):
    """Run one whole scripted session with a memory; returns the Simulation."""

    def run(memory: Memory, script: str, mode: str = "simulate") -> Simulation:
        adaptation: Adaptation = memory.adaptation(protocol)
        sim = Simulation(protocol, grammars, ScriptedUser(parse_script(script)), adaptation,
                         observers=(memory.begin(mode, adaptation),))
        sim.run()
        return sim

    return run
