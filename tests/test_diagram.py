"""The documented state diagram is the one the code's transition table draws."""

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "diagram.py"


def test_committed_diagram_matches_the_transition_table():
    spec = importlib.util.spec_from_file_location("diagram", SCRIPT)
    diagram = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(diagram)
    assert diagram.OUT.read_text(encoding="utf-8") == diagram.render(), \
        "docs/DIALOGUE.md is out of date: run scripts/diagram.py"
