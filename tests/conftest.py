"""Shared helpers: run scripted sessions on the simulated clock."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from assistant.dialogue import Adaptation
from assistant.intents import Grammars
from assistant.protocol import Protocol, load_protocol
from assistant.script import ScriptedUser, parse_script
from assistant.simulate import Simulation

REPO = Path(__file__).resolve().parent.parent
ALL_CLEAR = """
when ready: yes
when skin.broken: no
when inflammation: no
when circulation: no
when sensitive.areas: no
when feel: better
"""


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


def kinds(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in events if e["kind"] == kind]


def rules(events: list[dict[str, Any]]) -> list[str]:
    return [e["id"] for e in kinds(events, "rule")]


def end_reason(events: list[dict[str, Any]]) -> str:
    ends = kinds(events, "end")
    assert len(ends) == 1 and events[-1]["kind"] == "end", "exactly one end event, last"
    return ends[0]["reason"]


def technique_by_foot(events: list[dict[str, Any]]) -> dict[str, float]:
    total: dict[str, float] = defaultdict(float)
    for e in kinds(events, "step_done"):
        total[e["foot"]] += e["active_s"]
    return dict(total)


def said(events: list[dict[str, Any]]) -> str:
    return " ".join(e["text"] for e in kinds(events, "say"))
