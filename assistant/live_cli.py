"""`footcare run`, `footcare prepare` and `footcare devices`."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from dataclasses import asdict, replace
from typing import Any

from assistant.events import Heard, Say, SessionEnded, to_dict
from assistant.memory import add_db_argument
from assistant.simulate import console_line

CONSOLE_KINDS = {Say: "say", Heard: "heard", SessionEnded: "end"}
"""What `run` shows on the console, as the event kinds `simulate` prints."""

DEFAULT_VOICE = "gmw/en"
"""espeak-ng's British English voice: lower-pitched than the others, easier with hearing loss."""


def _protocol(args: argparse.Namespace):
    from assistant.cli import UserError
    from assistant.protocol import ProtocolError, load_protocol

    try:
        protocol = load_protocol(args.protocol)
    except ProtocolError as exc:
        raise UserError(str(exc)) from exc
    voice = protocol.voice
    if args.rate is not None:
        voice = replace(voice, rate_wpm=min(max(args.rate, voice.rate_min), voice.rate_max))
    if args.volume is not None:
        voice = replace(voice, volume=min(max(args.volume, voice.volume_min), voice.volume_max))
    return replace(protocol, voice=voice)


def _speech(args: argparse.Namespace, protocol):
    """The cache and the voice lines are spoken in."""
    from pathlib import Path

    from assistant.cli import UserError
    from assistant.speech.cache import SpeechCache
    from assistant.speech.tts import Renderer, SpeechError, Voice

    try:
        renderer = Renderer()
    except SpeechError as exc:
        raise UserError(str(exc)) from exc
    voice = Voice(args.voice, protocol.voice.rate_wpm, protocol.voice.sentence_pause_s)
    return SpeechCache(renderer, Path(args.cache) if args.cache else None), voice


def run_prepare(args: argparse.Namespace) -> int:
    protocol = _protocol(args)
    cache, voice = _speech(args, protocol)
    rendered, present = cache.prepare(protocol.fixed_lines().values(), voice)
    print(f"speech cache {cache.directory}: {rendered} sentences rendered, {present} already there")
    return 0


def run_devices(args: argparse.Namespace) -> int:
    from assistant.audio.devices import DeviceError, describe_devices
    from assistant.cli import UserError

    try:
        print(describe_devices())
    except DeviceError as exc:
        raise UserError(str(exc)) from exc
    return 0


def _printer(as_json: bool):
    def show(t: float, item: Any) -> None:
        if as_json:
            print(json.dumps({"t": round(t, 3), **to_dict(item)}), flush=True)
            return
        kind = CONSOLE_KINDS.get(type(item))
        if kind:
            print(console_line({"t": t, "kind": kind, **asdict(item)}), flush=True)

    return show


def _notice_printer(as_json: bool):
    def show(t: float, kind: str, fields: dict) -> None:
        if as_json:
            print(json.dumps({"t": round(t, 3), "type": kind, **fields}), flush=True)

    return show


class _Terminated(Exception):
    pass


def _on_sigterm(signum: int, frame: Any) -> None:
    raise _Terminated()


def run_live(args: argparse.Namespace) -> int:
    from assistant.audio.devices import DeviceError, find_device
    from assistant.audio.mic import Microphone
    from assistant.cli import UserError
    from assistant.live import LiveError, LiveSession
    from assistant.speech.player import Player

    protocol = _protocol(args)
    cache, voice = _speech(args, protocol)
    try:
        player = Player(find_device(args.output, "output"))
        mic = Microphone(find_device(args.input, "input"))
    except DeviceError as exc:
        raise UserError(str(exc)) from exc

    from assistant.audio.recognizer_process import RecognizerProcess
    from assistant.memory import open_memory
    from assistant.protocol import ProtocolError

    memory = open_memory(args.db)  # never raises: a broken history is reported and left alone
    try:
        adaptation = memory.adaptation(protocol)
    except ProtocolError as exc:
        memory.close()
        raise UserError(str(exc)) from exc
    # A rate or volume given on the command line wins over the remembered one.
    adaptation = replace(
        adaptation,
        rate_wpm=args.rate if args.rate is not None else adaptation.rate_wpm,
        volume=args.volume if args.volume is not None else adaptation.volume,
    )
    live = LiveSession(
        protocol, player, mic, cache, voice, RecognizerProcess(args.engine, args.model),
        adaptation=adaptation,
        observers=(_printer(args.json), memory.begin("run", adaptation)),
        notice=_notice_printer(args.json),
        echo_cancel=not args.no_echo_cancel, record_to=args.record,
    )
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    # Ctrl-C ends the session also when a shell started us in the background, which ignores
    # SIGINT and so keeps Python from installing its handler (Ctrl-C then did nothing).
    previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        reason = live.run()
    except LiveError as exc:
        raise UserError(str(exc)) from exc
    except KeyboardInterrupt:
        print("\nfootcare: stopped.", file=sys.stderr)
        return 130
    except _Terminated:
        print("footcare: terminated.", file=sys.stderr)
        return 143
    finally:
        live.close()
        memory.close()  # an unfinished session is marked interrupted
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)
    if not args.json:
        print(f"footcare: session ended ({reason}).")
    return 0


def _voice_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--protocol", metavar="FILE", help="another protocol file (default: built in)")
    p.add_argument("--voice", default=DEFAULT_VOICE, help=f"espeak-ng voice (default {DEFAULT_VOICE})")
    p.add_argument("--rate", type=int, metavar="WPM", help="speaking rate in words a minute (default: protocol's)")
    p.add_argument("--volume", type=float, metavar="0..1", help="volume (default: protocol's)")
    p.add_argument("--cache", metavar="DIR", help="speech cache (default: $FOOTCARE_SPEECH_CACHE or ~/.cache/footcare/speech)")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="the live spoken session (microphone and speaker)",
                       description="Run a spoken session live. Without sound devices, try `footcare simulate`.")
    p.add_argument("--input", metavar="NAME|INDEX", help="microphone (see `footcare devices`)")
    p.add_argument("--output", metavar="NAME|INDEX", help="speaker (see `footcare devices`)")
    p.add_argument("--engine", choices=("vosk", "pocketsphinx"), help="recogniser (default: vosk if a model is installed)")
    p.add_argument("--model", metavar="PATH", help="recogniser model")
    p.add_argument("--json", action="store_true", help="print one JSON object per event and action")
    p.add_argument("--no-echo-cancel", action="store_true", help="do not cancel our own voice (for measurements)")
    p.add_argument("--record", metavar="WAV", help="save what the recogniser hears (16 kHz), for diagnosis")
    add_db_argument(p)
    _voice_options(p)
    p.set_defaults(func=run_live)

    p = sub.add_parser("prepare", help="render the protocol's fixed lines ahead into the speech cache",
                       description="Render every fixed line of the protocol, so speech starts at once.")
    _voice_options(p)
    p.set_defaults(func=run_prepare)

    p = sub.add_parser("devices", help="list microphones and speakers")
    p.set_defaults(func=run_devices)
