"""Fixtures for the core tests: the protocol, the grammars, and scripted sessions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from assistant.dialogue import Adaptation
from assistant.intents import Grammars
from assistant.protocol import Protocol, load_protocol
from assistant.script import ScriptedUser, parse_script
from assistant.simulate import Simulation

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def protocol() -> Protocol:
    return load_protocol()


@pytest.fixture(scope="session")
def grammars() -> Grammars:
    return Grammars()


@pytest.fixture
def simulate(protocol: Protocol, grammars: Grammars):
    """simulate(script_text) -> list of event dicts, as `footcare simulate --json` prints."""

    def run(script: str, adaptation: Adaptation | None = None) -> list[dict[str, Any]]:
        sim = Simulation(protocol, grammars, ScriptedUser(parse_script(script)), adaptation)
        sim.run()
        return sim.events

    return run
