"""The live session: microphone -> recogniser -> dialogue -> speech, full duplex.

Threads: the audio callbacks only copy; one thread cancels our own echo (it must keep
pace with the microphone) and sends the clean audio to the recogniser, which runs in a
process of its own; another thread turns its results into events; the speaker thread
renders lines; this thread owns the dialogue and its timers. Everything that goes into the session and everything that comes out
passes through `_feed` and `_act`, where observers (the log, the memory recorder) see
it with the time, so a new consumer is one more observer.
"""

from __future__ import annotations

import queue
import threading
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass

from assistant.audio.echo import EchoSuppressor, ReferenceBuffer
from assistant.audio.guard import SelfEchoGuard
from assistant.audio.mic import Microphone
from assistant.audio.recognizer_process import RecognizerProcess
from assistant.audio.user_voice import UserVoice
from assistant.dialogue import Adaptation, Session
from assistant.events import (
    Action,
    CancelTimer,
    Event,
    Heard,
    Listen,
    Say,
    SessionEnded,
    SetVoice,
    SpeechFinished,
    StartTimer,
    StopSpeaking,
    TimerFired,
)
from assistant.intents import SAFETY_COMMANDS
from assistant.protocol import Protocol
from assistant.speech.cache import SpeechCache
from assistant.speech.player import Player
from assistant.speech.speaker import Speaker
from assistant.speech.tts import Voice

Observer = Callable[[float, "Event | Action"], None]
"""Called with (seconds since the session started, event or action)."""
Notice = Callable[[float, str, dict], None]
"""Called with (seconds, kind, fields) for what is not an event or action (ignored echo...)."""

CHUNK_FRAMES = 5
"""10 ms frames sent to the recogniser at a time."""
QUIET_AFTER_SPEECH_S = 1.5
"""Without echo cancellation (so no record of what was played when): while we speak and this
long after, what is heard may be our own voice."""
OVER_OUR_VOICE_MIN_CONFIDENCE = 0.7
"""A command heard over our own voice must be at least this sure, unless its sound plainly does
not move with ours (below). The keyword spotter found "stop" in our voice leaking through the
canceller at 0.52-0.69 (scripts/bench_bargein.py)."""
WORD_FRAMES = 50
"""The last half second before a decision: the word, whose sound is compared with what we played."""
OUR_VOICE_LIKENESS = 0.7
"""A word whose band levels move with what we played this closely (`EchoSuppressor.echo_likeness`)
is our own voice leaking through the canceller, however sure the recogniser is. Measured
(docs/BENCHMARKS.md): 0.69-0.97 on the phrases found in our own voice, at most 0.61 on users'
"stop"s (23 of 26 below 0.45, median 0.26); over the five runs of the eleventh round, users'
"stop"s at most 0.70 and the safety words found in our own voice 0.705 and up."""
UNLIKE_OUR_VOICE = 0.6
UNLIKE_MIN_CONFIDENCE = 0.5
"""A word moving with our voice less than UNLIKE_OUR_VOICE is a person talking over us: this
confidence is enough. Measured over five barge-in runs (docs/BENCHMARKS.md, eleventh round):
users' "stop"s refused by the floor above had likeness 0.46-0.70 (11 of 13 below 0.6); every
phrase found in our own voice at a confidence of 0.5-0.7 had 0.745 or more."""
PLAINLY_NOT_OUR_VOICE = 0.45
"""A word moving with our voice less than this is taken as surely as when we are quiet: no
confidence floor. Measured (docs/BENCHMARKS.md, twelfth round): over six barge-in runs' 70
minutes of our own voice fed back, no phrase found in it moved with it less than 0.61 (no safety
word less than 0.636, at any confidence); users' words mostly below 0.45 (median 0.26). A "pause"
said over the narration in CI came back at confidence 0.32-0.48 and likeness 0.15-0.43, three
times, and was refused each time."""


SLIP_LOOKBACK_FRAMES = 100
"""A phrase decided within 1 s of a slip of the echo path may be our own voice leaking through
the canceller (measured: those decided 0.4-0.7 s after; the slip is found 0.3-0.5 s late).
Counted back from the decision, not from where the utterance began: an utterance can begin
seconds earlier, and a real "pause" was refused for a slip 5 s before it."""


def over_our_voice_refusal(intent: str | None, confidence: float, likeness: float | None,
                           residue_only: bool, slipped: bool) -> str | None:
    """Why a phrase heard while we talk is not taken (None: it is). `likeness`: how closely its
    last WORD_FRAMES moved with what we played (None: not known); `residue_only`: whether
    nothing in it stood above our echo's residue; `slipped`: whether the echo path slipped
    just before it."""
    if intent not in SAFETY_COMMANDS:
        # Our own voice can come back as any phrase; an echo taken as "no" to a safety
        # question would be a false all-clear. So while we talk only the commands that
        # make things safer cut in; answers and the rest count once we are quiet.
        return "not stop, pause or pain, while speaking"
    if likeness is not None and likeness >= OUR_VOICE_LIKENESS:
        return "moves with our voice"
    if confidence < _confidence_floor(likeness):
        return "unsure, over our voice"
    if residue_only:
        return "echo residue"
    if slipped:
        return "echo slipped"
    return None


def _confidence_floor(likeness: float | None) -> float:
    """How sure a safety word heard over our voice must be, by how little it moves with it."""
    if likeness is None:
        return OVER_OUR_VOICE_MIN_CONFIDENCE
    if likeness < PLAINLY_NOT_OUR_VOICE:
        return 0.0
    return UNLIKE_MIN_CONFIDENCE if likeness < UNLIKE_OUR_VOICE else OVER_OUR_VOICE_MIN_CONFIDENCE


class LiveError(Exception):
    """The live session cannot go on (the recogniser failed to start, a device vanished)."""


@dataclass(frozen=True)
class _Failed:
    message: str


class LiveSession:
    """One spoken session on real devices, from greeting to goodbye."""

    def __init__(
        self,
        protocol: Protocol,
        player: Player,
        mic: Microphone,
        cache: SpeechCache,
        voice: Voice,
        recognizer: RecognizerProcess,
        adaptation: Adaptation | None = None,
        observers: tuple[Observer, ...] = (),
        notice: Notice | None = None,
        echo_cancel: bool = True,
        record_to: str | None = None,
    ) -> None:
        self.protocol = protocol
        self.session = Session(protocol, adaptation)
        self.player = player
        self.mic = mic
        self.observers = observers
        self._notice = notice or (lambda t, kind, fields: None)
        self.recognizer = recognizer
        self._events: queue.Queue[Event | _Failed] = queue.Queue()
        self._timers: dict[str, float] = {}
        self._grammar = "narration"
        self._closing = threading.Event()
        self._t0 = time.monotonic()
        self._quiet_since = 0.0
        self._end_reason: str | None = None
        self.guard = SelfEchoGuard()
        reference = ReferenceBuffer(player.rate) if echo_cancel else None
        player.tap = reference.tap if reference is not None else None
        player.on_clip = self.guard.played
        player.on_idle = self._player_idle
        self.echo = EchoSuppressor(mic.rate, reference)
        self.user_voice = UserVoice()
        self.speaker = Speaker(player, cache, voice, on_finished=lambda: self._events.put(SpeechFinished()),
                               user_talking=lambda: self.user_voice.talking)
        player.set_volume(self.session.volume)  # the remembered volume, when memory gave one
        self._record = _open_wav(record_to) if record_to else None
        self._canceller = threading.Thread(target=self._cancel_echo, name="echo", daemon=True)
        self._listener = threading.Thread(target=self._listen, name="listener", daemon=True)

    # --- the dialogue thread ---------------------------------------------------------

    def now(self) -> float:
        return time.monotonic() - self._t0

    def run(self) -> str | None:
        """Run until the session has ended and its last words are spoken; the end reason."""
        self.player.start()
        self.mic.start()
        self._canceller.start()
        self._listener.start()
        self._act(self.session.start(self.now()))
        while not (self.session.ended and not self.speaker.busy):
            due = min(self._timers.values(), default=None)
            timeout = 0.25 if due is None else max(0.0, min(0.25, due - self.now()))
            try:
                event = self._events.get(timeout=timeout)
            except queue.Empty:
                event = None
            if isinstance(event, _Failed):
                raise LiveError(event.message)
            if event is not None:
                self._feed(event)
            for name, at in sorted(self._timers.items(), key=lambda kv: kv[1]):
                if at <= self.now():
                    del self._timers[name]
                    self._feed(TimerFired(name))
        return self._end_reason

    def close(self) -> None:
        """Silence at once and release the devices (also after Ctrl-C)."""
        self._closing.set()
        self.player.cut()
        self.speaker.close()
        for device in (self.mic, self.player):
            try:
                device.close()
            except Exception:  # closing a stream that failed to start: nothing left to free
                pass
        for thread in (self._canceller, self._listener):
            if thread.is_alive():
                thread.join(timeout=2)
        self.recognizer.close()
        if self._record is not None:
            self._record.close()

    def _feed(self, event: Event) -> None:
        if self.session.ended:
            return
        self._observe(event)
        self._act(self.session.handle(event, self.now()))

    def _act(self, actions: list[Action]) -> None:
        for action in actions:
            self._observe(action)
            self._do(action)

    def _observe(self, item: Event | Action) -> None:
        t = self.now()
        for observer in self.observers:
            observer(t, item)

    def _do(self, action: Action) -> None:
        if isinstance(action, Say):
            self.speaker.say(action.text)
        elif isinstance(action, StopSpeaking):
            self.speaker.stop()
            self.guard.cut(self.player.now())
        elif isinstance(action, Listen):
            if action.grammar != self._grammar:
                self.recognizer.set_grammar(action.grammar)
            self._grammar = action.grammar
        elif isinstance(action, StartTimer):
            self._timers[action.name] = self.now() + action.seconds
        elif isinstance(action, CancelTimer):
            self._timers.pop(action.name, None)
        elif isinstance(action, SetVoice):
            self.speaker.set_voice(action.rate_wpm, action.volume)
        elif isinstance(action, SessionEnded):
            self._end_reason = action.reason

    def _player_idle(self) -> None:
        self._quiet_since = time.monotonic()
        self.speaker.player_idle()

    # --- the listener thread ---------------------------------------------------------

    def _cancel_echo(self) -> None:
        """Microphone -> clean 16 kHz audio -> recogniser, always in time."""
        chunk: list[bytes] = []
        while not self._closing.is_set():
            try:
                block, when = self.mic.blocks.get(timeout=0.2)
            except queue.Empty:
                continue
            last_slip = self.echo.slips[-1] if self.echo.slips else None
            for frame in self.echo.process(block, when):
                pcm = frame.tobytes()
                if self._record is not None:
                    self._record.writeframes(pcm)
                chunk.append(pcm)
                self.user_voice.feed(pcm)
            if self.echo.slips and self.echo.slips[-1] != last_slip:
                self._notice(self.now(), "echo slip", {"frame": self.echo.slips[-1]})
            if len(chunk) >= CHUNK_FRAMES:
                self.recognizer.accept(b"".join(chunk))
                chunk = []

    def _listen(self) -> None:
        """Results from the recogniser's process -> Heard events."""
        while not self._closing.is_set():
            result = self.recognizer.poll(timeout=0.2)
            if result is None:
                continue
            kind, payload = result
            if kind == "error":
                self._events.put(_Failed(payload))
                return
            if kind == "lagging":
                self._notice(self.now(), "lagging", {"dropped_s": payload})
            elif kind == "heard":
                self._heard(payload)

    def _over_our_voice(self, hyp) -> bool:
        """Whether the utterance may hold our own voice: it began while we were talking, or
        within the echo's tail. An answer given the moment we fall silent is the user's."""
        if self.echo.cancelling:
            return self.echo.played_during(hyp.began_frame, hyp.frame)
        return self.speaker.busy or time.monotonic() - self._quiet_since < QUIET_AFTER_SPEECH_S

    def _heard(self, hyp) -> None:
        speaking = self._over_our_voice(hyp)
        evidence = self._evidence(hyp)
        why = self._refusal(hyp, evidence.get("likeness")) if speaking else None
        if why is None and self.guard.is_own(hyp.text, self.player.now()):
            why = "own voice"
        if why is not None:
            self._notice(self.now(), "ignored", {"text": hyp.text, "intent": hyp.intent, "why": why,
                                                 "confidence": hyp.confidence, **evidence})
            return
        if speaking:
            self._notice(self.now(), "over our voice", {"text": hyp.text, "confidence": hyp.confidence, **evidence})
        self._events.put(Heard(hyp.text, hyp.intent, hyp.confidence, began_at=self._began_at(hyp)))

    def _began_at(self, hyp) -> float:
        """When the utterance began, in session time (10 ms frames back from the latest heard)."""
        return self.now() - (self.echo.frames_heard - hyp.began_frame) / 100

    def _refusal(self, hyp, likeness: float | None) -> str | None:
        """Why a phrase heard over our own voice is not taken (None: it is)."""
        return over_our_voice_refusal(
            hyp.intent, hyp.confidence, likeness,
            residue_only=self.echo.only_own_voice(hyp.frame),
            slipped=self.echo.slipped_during(hyp.frame - SLIP_LOOKBACK_FRAMES, hyp.frame))

    def _evidence(self, hyp) -> dict:
        """How far the utterance stood above our echo, and how its last word moved with our voice."""
        if not self.echo.cancelling:
            return {}
        return {"near_frames": self.echo.near_frames(hyp.began_frame, hyp.frame + 1),
                "frames": hyp.frame + 1 - hyp.began_frame, "playing": self.guard.recent(self.player.now()),
                "likeness": self.echo.echo_likeness(max(hyp.began_frame, hyp.frame - WORD_FRAMES), hyp.frame + 1)}


def _open_wav(path: str) -> wave.Wave_write:
    """What the recogniser hears (after echo cancellation), for diagnosis."""
    w = wave.open(path, "wb")
    w.setnchannels(1)
    w.setsampwidth(2)
    w.setframerate(16000)
    return w
