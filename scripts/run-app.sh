#!/usr/bin/env bash
# Installs what is missing, then launches the reluviz app. Extra arguments go to `reluviz`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh app
exec .venv/bin/reluviz "$@"
