#!/usr/bin/env bash
# Installs what is missing, then runs the whole test suite offscreen. Extra arguments go to pytest;
# -m "not slow" is the fast loop (the long walks marked slow left out: about 3 minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}"
exec .venv/bin/python -m pytest "$@"
