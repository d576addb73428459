#!/usr/bin/env bash
# Set up footcare on a fresh Debian / Raspberry Pi OS machine, idempotently:
# system packages, a .venv in the project root, the speech recogniser's model where
# there is internet, and the speech cache. Options:
#   --test    also install what the tests need (pytest, hypothesis, the Korean Vosk model)
#   --quiet   less output
set -euo pipefail
cd "$(dirname "$0")/.."

TEST=0; QUIET=0
for arg in "$@"; do
  case "$arg" in
    --test) TEST=1 ;;
    --quiet) QUIET=1 ;;
    *) echo "setup: unknown option $arg (use --test, --quiet)" >&2; exit 2 ;;
  esac
done
say() { [ "$QUIET" = 1 ] || echo "setup: $*"; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: run as root or install sudo" >&2; exit 1; }
  SUDO="sudo"
fi

# espeak-ng speaks; PortAudio plays and records; PulseAudio (with ALSA's pulse plugin)
# mixes and gives the tests virtual devices; sox converts audio; speexdsp cancels echo.
APT_PACKAGES=(
  python3 python3-venv python3-pip python3-dev gcc
  espeak-ng libespeak-ng1
  libportaudio2 libasound2-plugins alsa-utils
  pulseaudio pulseaudio-utils
  sox libsox-fmt-all
  libspeexdsp1 libspeexdsp-dev
)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing system packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "setup: footcare needs Python 3.11 or newer; $PYTHON is $("$PYTHON" --version 2>&1)" >&2
  exit 1
fi
[ -x .venv/bin/python ] || { say "creating .venv"; "$PYTHON" -m venv .venv; }
PIP=(.venv/bin/python -m pip --disable-pip-version-check -q)
"${PIP[@]}" install --upgrade pip >/dev/null
if [ "$TEST" = 1 ]; then
  say "installing footcare with test tools"
  "${PIP[@]}" install -e '.[test]'
else
  say "installing footcare"
  "${PIP[@]}" install -e .
fi

# The Vosk English model is a download; without internet the built-in engine is used.
if [ "${FOOTCARE_SKIP_MODEL:-0}" != 1 ] && [ "${CI:-}" != "true" ]; then
  .venv/bin/footcare models download || say "no Vosk model (offline?): the built-in PocketSphinx engine will be used"
fi
say "preparing the speech cache"
.venv/bin/footcare prepare || say "speech cache not prepared; lines will be rendered as they are spoken"
say "done. Start with: .venv/bin/footcare run   (or try it in text: .venv/bin/footcare simulate)"
