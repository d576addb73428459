"""A process killed mid-session leaves a consistent history, and the next start says so."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from assistant.memory import open_memory
from assistant.protocol import load_protocol
from .memory_helpers import ALL_CLEAR, REPO

# Runs sessions back to back, recording each; from the third on, each event is slowed
# down so that the kill lands while a session is going on.
CHILD = """
import sys, time
from assistant.intents import Grammars
from assistant.memory import open_memory
from assistant.protocol import load_protocol
from assistant.script import ScriptedUser, read_script
from assistant.simulate import Simulation

db, script, slow = sys.argv[1], sys.argv[2], float(sys.argv[3])
protocol, grammars = load_protocol(), Grammars()
memory = open_memory(db)
for n in range(1, 1000):
    adaptation = memory.adaptation(protocol)
    record = memory.begin("simulate", adaptation)
    def observer(t, item, record=record, n=n):
        record(t, item)
        if n >= 3 and slow:
            time.sleep(slow)
    print("started", n, flush=True)
    sim = Simulation(protocol, grammars, ScriptedUser(read_script(script)), adaptation,
                     observers=(observer,))
    sim.run()
    print("ended", n, flush=True)
"""


def _run_and_kill(db, slow: float, delay: float) -> list[str]:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db), str(ALL_CLEAR), str(slow)],
        cwd=REPO, stdout=subprocess.PIPE, text=True,
    )
    said: list[str] = []
    try:
        assert child.stdout is not None
        for line in child.stdout:
            said.append(line.strip())
            if line.strip() == "started 3":
                break
        time.sleep(delay)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=10)  # reaped: its pid no longer names a live process
    assert child.returncode == -signal.SIGKILL
    assert "started 3" in said, said
    return said


@pytest.mark.parametrize("slow, delay", [(0.0, 0.0), (0.002, 0.05), (0.004, 0.4)])
def test_killed_mid_session(tmp_path, slow, delay):
    db = tmp_path / "history.db"
    _run_and_kill(db, slow, delay)

    raw = sqlite3.connect(db)
    assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    statuses = [row[0] for row in raw.execute("SELECT status FROM sessions ORDER BY id")]
    raw.close()
    assert len(statuses) >= 3
    running = [i for i, s in enumerate(statuses) if s == "running"]
    if slow:
        assert running == [len(statuses) - 1], statuses  # killed in the middle of the last one
    else:
        assert running in ([], [len(statuses) - 1]), statuses  # no slowing: it may fall between
    assert set(statuses[:-1]) == {"ended"}

    memory = open_memory(db)
    sessions = memory.store.sessions()
    adaptation = memory.adaptation(load_protocol())
    memory.close()

    *earlier, last = sessions
    for s in earlier:  # every finished session intact
        assert (s.status, s.end_reason, s.feeling) == ("ended", "completed", "better")
        assert len(s.steps) == 10 and all(step.active_s == step.planned_s for step in s.steps)
        assert len(s.answers) == 6
    if running:
        assert last.status == "interrupted"
        assert last.ended_at is not None and last.ended_at >= last.started_at
        assert adaptation.opening[0].line == "memory.interrupted"
        assert last.end_reason is None and last.feeling is None
        if delay >= 0.4:  # some hundred events in: what it got through was written as it happened
            assert last.answers and last.rules
    else:
        assert "memory.interrupted" not in [n.line for n in adaptation.opening]
