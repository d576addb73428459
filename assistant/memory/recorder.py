"""The observer that writes a session into the history as it happens.

It sees every event fed to the session and every action it returns, keeps the
ones that matter for later (answers, rules, steps, reports, voice, the end), and
writes each at once in its own transaction. A failing disk must never stop a
massage: the first database error is reported once and recording stops.
"""

from __future__ import annotations

import sqlite3
import sys
from datetime import datetime, timedelta
from typing import Any, Callable, TextIO

from ..events import Answered, Reported, RuleActed, SessionEnded, SetVoice, StepDone, StepStarted
from .store import Store


class Recorder:
    """Call it with (session time, event or action); see `Simulation.observers`."""

    def __init__(self, store: Store, session_id: int, started_at: datetime,
                 warn: TextIO | None = None) -> None:
        self.store: Store | None = store
        self.session_id = session_id
        self.started_at = started_at
        self.ended = False
        self._warn = warn or sys.stderr
        self._t0: float | None = None
        self._open_steps: dict[tuple[str, str], int] = {}
        self._writers: dict[type, Callable[[Store, float, Any], None]] = {
            RuleActed: lambda s, t, a: s.add_rule(self.session_id, t, a.rule),
            Answered: lambda s, t, a: s.add_answer(self.session_id, t, a.topic, a.answer),
            Reported: lambda s, t, a: s.add_report(self.session_id, t, a.kind, a.foot, a.step),
            StepStarted: self._step_started,
            StepDone: self._step_done,
            SetVoice: lambda s, t, a: s.set_voice(self.session_id, a.rate_wpm, a.volume),
            SessionEnded: self._ended,
        }

    def __call__(self, t: float, item: Any) -> None:
        if self._t0 is None:
            self._t0 = t  # session time may have any origin (a monotonic clock, say)
        writer = self._writers.get(type(item))
        if writer is None or self.store is None:
            return
        try:
            writer(self.store, round(t - self._t0, 3), item)
        except sqlite3.Error as exc:
            print(f"footcare: the session memory stopped recording ({exc}); "
                  "the session goes on without it.", file=self._warn)
            self.store = None

    def _step_started(self, store: Store, t: float, a: StepStarted) -> None:
        self._open_steps[(a.foot, a.step)] = store.start_step(self.session_id, t, a.foot, a.step, a.planned_s)

    def _step_done(self, store: Store, t: float, a: StepDone) -> None:
        step_id = self._open_steps.pop((a.foot, a.step), None)
        if step_id is not None:
            store.finish_step(step_id, t, a.active_s)

    def _ended(self, store: Store, t: float, a: SessionEnded) -> None:
        store.end_session(self.session_id, self.started_at + timedelta(seconds=t), a.reason, a.feeling)
        self.ended = True

    def abandon(self) -> None:
        """The session will not go on (the program is closing): mark it interrupted now."""
        if self.store is not None and not self.ended:
            try:
                self.store.mark_interrupted(self.session_id)
            except sqlite3.Error:
                pass
        self.store = None
