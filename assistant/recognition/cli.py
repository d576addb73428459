"""`footcare recognize` and `footcare models`: recognition from the command line."""

from __future__ import annotations

import argparse
import json

from assistant.cli import UserError
from assistant.intents import GrammarError, Grammars
from assistant.recognition import ENGINES, RecognizerError, open_recognizer
from assistant.recognition.audio import AudioError
from assistant.recognition.files import recognize_file
from assistant.recognition.models import MODELS_DIR, VOSK_EN, ModelError, download, find_vosk_model


def register(subparsers: argparse._SubParsersAction) -> None:
    rec = subparsers.add_parser("recognize", help="recognise commands in WAV files")
    rec.add_argument("wavs", nargs="+", metavar="WAV")
    rec.add_argument("--engine", choices=ENGINES, help="default: vosk if an English model is installed")
    rec.add_argument("--model", help="Vosk model folder (default: $FOOTCARE_VOSK_MODEL, models/, vosk cache)")
    rec.add_argument("--grammar", default="narration", help="named grammar (default: narration)")
    rec.add_argument("--json", action="store_true", help="one JSON line per file")
    rec.add_argument("--whole-utterances", action="store_true",
                     help="PocketSphinx: decode each utterance in one pass with batch CMN (measured: "
                          "higher recall, but more false accepts on near-miss words and noise)")
    rec.set_defaults(func=run_recognize)

    models = subparsers.add_parser("models", help="speech models: download, status")
    msub = models.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    dl = msub.add_parser("download", help=f"fetch {VOSK_EN.name} into models/ (needs internet)")
    dl.add_argument("--url", help="another address of the same archive (checksum still checked)")
    dl.set_defaults(func=run_download)
    st = msub.add_parser("status", help="which engine and model would be used")
    st.set_defaults(func=run_status)


def run_recognize(args: argparse.Namespace) -> int:
    try:
        grammars = Grammars()
        grammars.intent_names(args.grammar)
        recognizer = open_recognizer(args.engine, args.model, grammars,
                                     whole_utterances=args.whole_utterances)
        recognizer.set_grammar(args.grammar)
    except (GrammarError, RecognizerError) as exc:
        raise UserError(str(exc)) from None
    failed = 0
    for wav in args.wavs:
        try:
            result = recognize_file(recognizer, wav)
        except AudioError as exc:
            if args.json:
                print(json.dumps({"file": wav, "text": "", "intent": None, "confidence": 0.0,
                                  "decode_ms": 0.0, "error": str(exc)}), flush=True)
            else:
                print(f"footcare: {exc}", flush=True)
            failed += 1
            continue
        if args.json:
            print(json.dumps(result.as_json(), ensure_ascii=False), flush=True)
        else:
            h = result.hypothesis
            heard = f"{h.intent}  ({h.text!r}, confidence {h.confidence:.2f})" if h else "-  (rejected)"
            print(f"{wav}: {heard}", flush=True)
    if failed == len(args.wavs):
        raise UserError("none of the files could be read")
    return 1 if failed else 0


def run_download(args: argparse.Namespace) -> int:
    try:
        path = download(VOSK_EN, MODELS_DIR, url=args.url)
    except ModelError as exc:
        raise UserError(str(exc)) from None
    print(f"{VOSK_EN.name} is ready in {path}")
    return 0


def run_status(args: argparse.Namespace) -> int:
    try:
        found = find_vosk_model()
    except ModelError as exc:
        raise UserError(str(exc)) from None
    if found:
        print(f"engine: vosk\nmodel: {found}")
    else:
        print("engine: pocketsphinx (built in)\nno English Vosk model; `footcare models download` fetches one")
    return 0
