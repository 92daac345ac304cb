#!/usr/bin/env bash
# Installs what reluviz needs on a Debian/Ubuntu machine, only what is missing:
#   system libraries Qt loads (apt, via sudo when not root), Python >= 3.11 with venv,
#   and a virtual environment .venv with reluviz installed in editable mode (plus test tools).
# Usage: scripts/setup.sh [app|test]   (app also installs the X11 libraries a real window needs)
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-test}"

say() { printf 'reluviz setup: %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        say "need root to run: $*"; exit 1; fi
}

apt_updated=0
apt_install() {
    [ "$#" -gt 0 ] || return 0
    if ! command -v apt-get >/dev/null; then
        say "please install these system packages with your package manager: $*"; return 0
    fi
    if [ "$apt_updated" = 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
    say "installing system packages: $*"
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# --- system libraries: library file -> Debian package that ships it
libs=(
    "libglib-2.0.so.0 libglib2.0-0" "libEGL.so.1 libegl1" "libGL.so.1 libgl1"
    "libxkbcommon.so.0 libxkbcommon0" "libfontconfig.so.1 libfontconfig1" "libdbus-1.so.3 libdbus-1-3"
)
if [ "$mode" = app ]; then
    libs+=(
        "libxkbcommon-x11.so.0 libxkbcommon-x11-0" "libxcb-cursor.so.0 libxcb-cursor0"
        "libxcb-icccm.so.4 libxcb-icccm4" "libxcb-keysyms.so.1 libxcb-keysyms1" "libxcb-image.so.0 libxcb-image0"
        "libxcb-render-util.so.0 libxcb-render-util0" "libxcb-shape.so.0 libxcb-shape0"
        "libxcb-xinerama.so.0 libxcb-xinerama0" "libxcb-randr.so.0 libxcb-randr0"
    )
fi
missing=()
for entry in "${libs[@]}"; do
    set -- $entry
    ldconfig -p 2>/dev/null | grep -q "$1" || missing+=("$2")
done
apt_install "${missing[@]}"

# --- Python >= 3.11 with venv
py=""
for cand in python3 python3.13 python3.12 python3.11; do
    if command -v "$cand" >/dev/null && "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        py="$cand"; break
    fi
done
if [ -z "$py" ]; then
    apt_install python3.11 python3.11-venv
    py=python3.11
fi
if [ ! -x .venv/bin/python ]; then
    if ! "$py" -c 'import ensurepip, venv' 2>/dev/null; then
        ver=$("$py" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
        apt_install "python${ver}-venv"
    fi
    say "creating .venv with $("$py" --version)"
    "$py" -m venv .venv
fi

# --- reluviz and its Python dependencies (skipped when pyproject.toml has not changed)
stamp=.venv/.reluviz-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    say "installing reluviz and its Python dependencies into .venv"
    .venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
    log=.venv/pip-install.log
    if ! .venv/bin/python -m pip install -e ".[test]" >"$log" 2>&1; then
        tail -n 30 "$log" >&2
        say "pip install failed (full log: $log)"; exit 1
    fi
    echo "$want" > "$stamp"
fi
