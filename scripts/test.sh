#!/usr/bin/env bash
# Run every test (slow and audio ones included), setting up first what they need.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test --quiet
exec .venv/bin/python -m pytest "$@"
