#!/usr/bin/env bash
# One entry point that does all set-up on a fresh Debian 12 machine, then runs a job.
#   bash scripts/dev.sh demo   - the county demo on embedded defaults (no server to install by hand)
#   bash scripts/dev.sh test   - the whole test suite (extra arguments go to pytest)
#   bash scripts/dev.sh setup  - set-up only
# Set-up is idempotent: Debian packages and the virtual environment are installed only when missing or stale.
set -euo pipefail
cd "$(dirname "$0")/.."

SYSTEM_PACKAGES=(python3-venv python3-dev gcc libc6-dev mosquitto mosquitto-clients libzbar0 chromium)
VENV=.venv

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

install_system_packages() {
  local missing=()
  for pkg in "${SYSTEM_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "dev.sh: installing Debian packages: ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
}

install_python_packages() {
  local stamp="$VENV/.drugtrace-installed" want
  want=$(cat setup.cfg pyproject.toml | sha256sum | cut -d' ' -f1)
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "dev.sh: installing the project and its Python packages into $VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q -e ".[test]"
    echo "$want" > "$stamp"
  fi
}

setup() {
  install_system_packages
  install_python_packages
}

job=${1:-help}
shift || true
case "$job" in
  setup) setup ;;
  demo) setup; exec "$VENV/bin/drugtrace-collector" demo "$@" ;;
  test) setup; exec "$VENV/bin/python" -m pytest "$@" ;;
  *) sed -n '2,6p' "$0"; exit 2 ;;
esac
