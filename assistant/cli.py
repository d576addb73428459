"""The `footcare` command. Each subcommand lives in its own module with a `register`."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
"""Before numpy loads: its BLAS threads spin after each small product (the word check's), which
doubled its CPU time (61 against 31 ms per utterance) for no gain; the audio needs that core."""

# Modules that each define `register(subparsers) -> None`, adding one or more subcommands
# whose parsers set `func=callable(args) -> int`.
SUBCOMMAND_MODULES: tuple[str, ...] = (
    "assistant.simulate",
    "assistant.recognition.cli",
    "assistant.memory.cli",
    "assistant.live_cli",
)


class UserError(Exception):
    """A problem the user can fix: printed as one clear message, never a traceback."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="footcare",
        description="A spoken guide for a safe, gentle foot massage (peripheral neuropathy).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        print(f"footcare: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nfootcare: stopped.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
