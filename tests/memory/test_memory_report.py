"""What a carer reads: the history table and the one-page report with its chart."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from assistant.cli import main
from assistant.memory import open_memory
from assistant.memory.history import table
from assistant.memory.policy import load_policy
from assistant.memory.report import write_report
from assistant.memory.summary import summarise
from .memory_helpers import CHECK_NO, PAIN_WORSE

RED_FLAG = "when ready: yes\nwhen skin.broken: no\nwhen inflammation: yes\n"
BETTER = CHECK_NO + "when feel: better\n"
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def sessions(db, clock, session):
    """Four sessions over a week: pain and worse, gentler and better, a red flag, better."""
    start = clock.now
    with open_memory(db, clock=clock) as memory:
        for days, script in ((0, PAIN_WORSE.read_text()), (1, BETTER), (3, RED_FLAG), (6, BETTER)):
            clock.now = start + timedelta(days=days)
            session(memory, script)
        records = memory.store.sessions()
    clock.now = start + timedelta(days=7)
    return records


def test_the_history_table_has_a_row_per_session(sessions, clock):
    lines = table(sessions, clock.now.tzinfo).splitlines()
    assert lines[0].split()[:3] == ["#", "started", "mode"]
    assert len(lines) == 2 + 4
    assert "Mon 02 Mar 2026, 20:00" in lines[2] and "worse" in lines[2]
    assert f"gentler, {load_policy().gentle_scale:.0%} time" in lines[3] and "better" in lines[3]
    assert "not done: safety check" in lines[4]


@pytest.mark.parametrize("suffix", [".md", ".html"])
def test_the_report_reads_plainly_and_has_a_chart(sessions, clock, protocol, tmp_path, suffix):
    out = tmp_path / f"report{suffix}"
    summary = summarise(sessions, clock.now - timedelta(days=14), clock.now)
    chart = write_report(summary, protocol.rules, out, clock.now)
    text = out.read_text()

    assert chart == tmp_path / "report-chart.png" and chart.read_bytes().startswith(PNG)
    assert "report-chart.png" in text
    for heading in ("Foot massage report", "In short", "Week by week", "Red flags", "Sessions, latest first"):
        assert heading in text
    assert "Sessions: 4 (3 finished, 1 not done: safety check), about 2.0 a week." in text
    assert "Pain reported during massage: 1 time; tingling or discomfort: 0 times." in text
    assert "How the feet felt afterwards: better 2, worse 1." in text
    assert "Sessions made gentler and shorter after pain or feeling worse: 1." in text
    assert protocol.rules["inflammation"].guide in text
    assert "Thu 05 Mar 2026, 20:00" in text  # the red flag's day


def test_report_and_history_from_the_command_line(tmp_path, capsys):
    db = str(tmp_path / "h.db")
    assert main(["simulate", "--script", str(PAIN_WORSE), "--db", db]) == 0
    assert main(["history", "--db", db]) == 0
    assert main(["report", "--db", db, "--out", str(tmp_path / "r.html")]) == 0
    out = capsys.readouterr().out
    assert "finished" in out and re.search(r"\b(\d+\.\d) of \1 min\b", out)
    assert "Report written to" in out
    assert (tmp_path / "r-chart.png").read_bytes().startswith(PNG)
    assert "<h2>Red flags</h2>" in (tmp_path / "r.html").read_text()
