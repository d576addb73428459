"""`footcare simulate`: a whole session in text, on a simulated clock.

A discrete-event loop drives the same `Session` the voice uses: timers jump
straight to when they fire, speaking takes the time the words would take at the
current rate, and typed or scripted phrases go through the same hassil grammars
the recogniser listens with.
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import json
import re
import sys
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, TextIO

from .dialogue import Adaptation, Session
from .events import (
    Action,
    Event,
    Heard,
    Listen,
    RuleActed,
    Say,
    SessionEnded,
    SetVoice,
    SpeechFinished,
    StartTimer,
    CancelTimer,
    StepDone,
    StepStarted,
    StopSpeaking,
    TimerFired,
)
from .intents import Grammars
from .memory import add_db_argument
from .protocol import Protocol
from .script import After, InStep, ScriptedUser

#: The scripted user answers this long after a question ends.
REACTION_S = 1.0
#: A simulation that runs past this has a bug; it stops with a message instead of hanging.
MAX_SESSION_S = 4 * 3600.0

Observer = Callable[[float, "Event | Action"], None]


def speech_seconds(text: str, rate_wpm: int, sentence_pause_s: float) -> float:
    """How long a line takes to say: its words at the rate, plus a pause per sentence."""
    words = len(text.split())
    sentences = max(1, len(re.findall(r"[.!?](?:\s|$)", text)))
    return words * 60.0 / rate_wpm + sentences * sentence_pause_s


@dataclass(order=True)
class _Pending:
    t: float
    seq: int
    kind: str = field(compare=False)
    payload: Any = field(compare=False, default=None)


class Simulation:
    """Runs one session against a simulated clock, a simulated speaker and a user."""

    def __init__(
        self,
        protocol: Protocol,
        grammars: Grammars,
        user: ScriptedUser | None = None,
        adaptation: Adaptation | None = None,
        emit: Callable[[dict[str, Any]], None] | None = None,
        observers: tuple[Observer, ...] = (),
    ) -> None:
        self.protocol = protocol
        self.grammars = grammars
        self.session = Session(protocol, adaptation)
        self.user = user
        self.emit = emit or (lambda event: None)
        self.observers = observers
        self.now = 0.0
        self.grammar = "narration"
        self.rate_wpm = protocol.voice.rate_wpm
        self.events: list[dict[str, Any]] = []
        self._queue: list[_Pending] = []
        self._seq = itertools.count()
        self._timer_gen: dict[str, int] = {}
        self._speech: deque[tuple[str, Any]] = deque()
        self._speaking: Say | None = None
        self._speech_gen = 0
        self._owes_finished = False
        self._ended: SessionEnded | None = None
        self._reported_end = False

    # --- the loop ---------------------------------------------------------------------

    def start(self) -> None:
        self._observe(None)
        self._act(self.session.start(self.now))
        self._schedule_after_line()

    @property
    def finished(self) -> bool:
        return self._reported_end

    @property
    def speaker_idle(self) -> bool:
        return self._speaking is None and not self._speech

    def next_time(self) -> float | None:
        return self._queue[0].t if self._queue else None

    def step(self) -> bool:
        """Process the next pending event; False when nothing is left."""
        if not self._queue or self.finished:
            return False
        item = heapq.heappop(self._queue)
        if item.t > MAX_SESSION_S:
            raise RuntimeError(f"the simulated session did not end within {MAX_SESSION_S:.0f} s")
        self.now = max(self.now, item.t)
        getattr(self, f"_on_{item.kind}")(item.payload)
        return True

    def run(self) -> None:
        self.start()
        while self.step():
            pass

    def hear(self, phrase: str) -> None:
        """The user says `phrase` now (typed or scripted)."""
        match = self.grammars.match(phrase, self.grammar)
        intent = match.intent if match else None
        self._record("heard", text=phrase, intent=intent)
        self._feed(Heard(phrase, intent))

    # --- internals --------------------------------------------------------------------

    def _push(self, at: float, kind: str, payload: Any = None) -> None:
        heapq.heappush(self._queue, _Pending(at, next(self._seq), kind, payload))

    def _record(self, kind: str, **fields: Any) -> None:
        event = {"t": round(self.now, 2), "kind": kind, **fields}
        self.events.append(event)
        self.emit(event)

    def _observe(self, item: Event | Action | None) -> None:
        if item is not None:
            for observer in self.observers:
                observer(self.now, item)

    def _feed(self, event: Event) -> None:
        if self.session.ended:
            return
        self._observe(event)
        self._act(self.session.handle(event, self.now))

    def _act(self, actions: list[Action]) -> None:
        for action in actions:
            self._observe(action)
            self._do(action)
        self._kick_speaker()

    def _do(self, action: Action) -> None:
        if isinstance(action, Say):
            self._speech.append(("say", (action, self.session.state)))
        elif isinstance(action, StopSpeaking):
            if self._speaking or self._speech:
                self._owes_finished = True
            self._speech.clear()
            self._speaking = None
            self._speech_gen += 1
        elif isinstance(action, Listen):
            self.grammar = action.grammar
            if action.topic:
                self._speech.append(("ask", action.topic))
        elif isinstance(action, StartTimer):
            gen = self._timer_gen.get(action.name, 0) + 1
            self._timer_gen[action.name] = gen
            self._push(self.now + action.seconds, "timer", (action.name, gen))
        elif isinstance(action, CancelTimer):
            self._timer_gen[action.name] = self._timer_gen.get(action.name, 0) + 1
        elif isinstance(action, SetVoice):
            self.rate_wpm = action.rate_wpm
        elif isinstance(action, StepStarted):
            self._record("step", foot=action.foot, step=action.step, planned_s=action.planned_s)
            nxt = self.user.next_timed if self.user else None
            if isinstance(nxt, InStep) and nxt.step == action.step:
                self._push(self.now + nxt.seconds, "line", nxt)
        elif isinstance(action, StepDone):
            self._record("step_done", foot=action.foot, step=action.step, active_s=action.active_s)
        elif isinstance(action, RuleActed):
            self._record("rule", id=action.rule)
        elif isinstance(action, SessionEnded):
            self._ended = action

    def _kick_speaker(self) -> None:
        """Start the next queued line; tell the session when the speaker goes idle."""
        while self._speaking is None and self._speech:
            kind, payload = self._speech.popleft()
            if kind == "ask":
                self._record("ask", topic=payload)
                phrase = self.user.answers.get(payload) if self.user else None
                if phrase is not None:
                    self._push(self.now + REACTION_S, "answer", phrase)
                continue
            say, state = payload
            self._speaking = say
            self._record("say", text=say.text, state=state)
            seconds = speech_seconds(say.text, self.rate_wpm, self.protocol.voice.sentence_pause_s)
            self._push(self.now + seconds, "spoken", self._speech_gen)
            self._owes_finished = True
        if self._speaking is None and not self._speech:
            if self._owes_finished:
                self._owes_finished = False
                self._push(self.now, "speech_finished")
            elif self._ended and not self._reported_end:
                self._reported_end = True
                self._record("end", reason=self._ended.reason)

    def _schedule_after_line(self) -> None:
        nxt = self.user.next_timed if self.user else None
        if isinstance(nxt, After):
            self._push(self.user.last_said_at + nxt.seconds, "line", nxt)  # type: ignore[union-attr]

    # --- handlers for queued items ------------------------------------------------------

    def _on_timer(self, payload: tuple[str, int]) -> None:
        name, gen = payload
        if self._timer_gen.get(name) == gen:
            self._feed(TimerFired(name))

    def _on_spoken(self, gen: int) -> None:
        if gen == self._speech_gen and self._speaking is not None:
            self._speaking = None
            self._kick_speaker()

    def _on_speech_finished(self, _: Any) -> None:
        self._feed(SpeechFinished())
        self._kick_speaker()

    def _on_answer(self, phrase: str) -> None:
        self.hear(phrase)

    def _on_line(self, line: InStep | After) -> None:
        assert self.user is not None
        if self.user.next_timed is not line:
            return
        self.user.said(self.now)
        self.hear(line.phrase)
        self._schedule_after_line()


# --- command line ---------------------------------------------------------------------


def console_line(event: dict[str, Any]) -> str:
    """One event as the console shows it (`simulate` and `run`): "[mm:ss.ss] assistant: ..."."""
    t, kind = event["t"], event["kind"]
    stamp = f"[{int(t // 60):02d}:{t % 60:05.2f}]"
    if kind == "say":
        body = f"assistant: {event['text']}"
    elif kind == "heard":
        body = f"you: {event['text']}   -> {event['intent'] or 'not understood'}"
    elif kind == "ask":
        body = f"(waiting for an answer: {event['topic']})"
    elif kind == "step":
        body = f"-- {event['foot']} foot: {event['step']} ({event['planned_s']:.0f} s planned)"
    elif kind == "step_done":
        body = f"-- done: {event['foot']} {event['step']} ({event['active_s']:.0f} s)"
    elif kind == "rule":
        body = f"(rule {event['id']})"
    else:
        body = f"== session ended: {event['reason']}"
    return f"{stamp} {body}"


def _text_printer(out: TextIO) -> Callable[[dict[str, Any]], None]:
    def show(event: dict[str, Any]) -> None:
        print(console_line(event), file=out, flush=True)

    return show


def _json_printer(out: TextIO) -> Callable[[dict[str, Any]], None]:
    def show(event: dict[str, Any]) -> None:
        print(json.dumps(event), file=out, flush=True)

    return show


def run_interactive(sim: Simulation, read: Callable[[str], str] = input) -> None:
    """Type what the user says whenever the assistant is quiet.

    Enter alone stays silent until the next thing happens; `+N` stays silent for
    N seconds; `quit` ends.
    """
    print("Type what you would say. Enter alone = stay silent; +N = wait N seconds; quit = end.")
    sim.start()
    while not sim.finished:
        while sim.next_time() is not None and not sim.finished and (
            not sim.speaker_idle or sim.next_time() <= sim.now  # type: ignore[operator]
        ):
            sim.step()
        if sim.finished:
            break
        try:
            typed = read(f"[{sim.now:7.1f}s {sim.session.state}] you> ").strip()
        except EOFError:
            typed = "quit"
        if typed.lower() in ("quit", "exit"):
            sim.hear("stop")
            while sim.step():
                pass
            break
        if m := re.fullmatch(r"\+\s*(\d+(?:\.\d+)?)", typed):
            until = sim.now + float(m[1])
            while sim.next_time() is not None and sim.next_time() <= until and not sim.finished:  # type: ignore[operator]
                sim.step()
            sim.now = max(sim.now, until)
        elif typed:
            sim.hear(typed)
        else:
            sim.step()


def run_simulate(args: argparse.Namespace) -> int:
    from .cli import UserError
    from .intents import GrammarError
    from .memory import no_memory, open_memory
    from .protocol import ProtocolError, load_protocol
    from .script import ScriptError, read_script

    try:
        protocol = load_protocol(args.protocol)
        grammars = Grammars()
        user = ScriptedUser(read_script(args.script)) if args.script else None
    except (ProtocolError, GrammarError, ScriptError) as exc:
        raise UserError(str(exc)) from exc
    printer = _json_printer(sys.stdout) if args.json else _text_printer(sys.stdout)
    # Simulated sessions are remembered only when asked to, so trying things out
    # never fills the user's own history.
    memory = open_memory(args.db) if args.db else no_memory()
    try:
        try:
            adaptation = memory.adaptation(protocol)
        except ProtocolError as exc:
            raise UserError(str(exc)) from exc
        sim = Simulation(protocol, grammars, user=user, adaptation=adaptation, emit=printer,
                         observers=(memory.begin("simulate", adaptation),))
        if user is not None:
            sim.run()
        else:
            run_interactive(sim)
    finally:
        memory.close()
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "simulate",
        help="a whole session in text, on a simulated clock",
        description="Run a session in text on a simulated clock. Interactive unless --script.",
    )
    p.add_argument("--script", metavar="FILE", help="play a scripted user (see README)")
    p.add_argument("--json", action="store_true", help="print one JSON object per event")
    p.add_argument("--protocol", metavar="FILE", help="another protocol file (default: built in)")
    add_db_argument(p, help="remember the session in this history database, and adapt to it"
                            " (default: simulated sessions are not remembered)")
    p.set_defaults(func=run_simulate)
