#!/usr/bin/env bash
# The whole test suite: lint, types, layer contracts, then pytest (GUI/pixel tests under Xvfb).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  echo "test: .venv missing; run 'bash scripts/setup.sh' first" >&2
  exit 1
fi
command -v Xvfb >/dev/null || { echo "test: Xvfb missing; run 'bash scripts/setup.sh' first" >&2; exit 1; }
.venv/bin/ruff check app tests tools
.venv/bin/mypy
.venv/bin/lint-imports
.venv/bin/pytest "$@"
