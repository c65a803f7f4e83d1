#!/usr/bin/env bash
# One-command set-up for a fresh Debian/Ubuntu machine, then the main job.
#   bash scripts/setup.sh            # set up, build the asset pack, open the HipFlex window
#   bash scripts/setup.sh --no-run   # set up only (used by .ci/run)
# Environment: HIPFLEX_SOURCES (mirror dir or https base), HIPFLEX_CACHE (pack location).
set -euo pipefail
cd "$(dirname "$0")/.."
run_main=1
[ "${1:-}" = "--no-run" ] && run_main=0

say() { printf '\n== %s\n' "$*"; }

# 1. System libraries (Qt, OpenGL/EGL, Xvfb) where missing.
apt_pkgs="libglib2.0-0 libxkbcommon0 libgl1 libegl1 libfontconfig1 libfreetype6 libdbus-1-3
libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-render-util0
libxcb-render0 libxcb-shape0 libxcb-util1 libxcb-xkb1 libgl1-mesa-dri libegl-mesa0 xvfb xauth
poppler-utils"
if command -v dpkg-query >/dev/null 2>&1; then
  missing=""
  for p in $apt_pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
  done
  if [ -n "$missing" ]; then
    say "installing system packages:$missing"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
  fi
fi

# 2. Virtual environment with the package and its dependencies.
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  "$PY" -m venv .venv
fi
say "installing hipflex into .venv"
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[dev]'

# 3. The asset pack, from the offline mirror when it is there.
src="${HIPFLEX_SOURCES:-}"
if [ -z "$src" ] && [ -d ../shared/anatomy-sources ]; then src="$(cd ../shared/anatomy-sources && pwd)"; fi
if [ -z "$src" ] && [ "${CI:-}" = "true" ]; then
  echo "setup: CI needs the offline mirror ../shared/anatomy-sources (or HIPFLEX_SOURCES); not found" >&2
  exit 1
fi
say "building the asset pack (rebuilt only when sources or pipeline change)"
if [ -n "$src" ]; then .venv/bin/hipflex assets build --source "$src"; else .venv/bin/hipflex assets build; fi
.venv/bin/hipflex assets verify

# 4. The main job: open the explorer window. Without a display `hipflex gui` says so in one line
# and suggests `hipflex render` or `xvfb-run`; setup still succeeds.
if [ "$run_main" = 1 ]; then
  say "opening the HipFlex window"
  .venv/bin/hipflex gui || true
fi
