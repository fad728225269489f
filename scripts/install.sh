#!/usr/bin/env bash
# Install lora-city from the lock file into its own virtual environment (default: .venv of this checkout).
#   bash scripts/install.sh          the server (requirements/runtime.txt)
#   bash scripts/install.sh --dev    the server and every test and development tool (requirements/dev.txt)
# Works with Debian's own python3 (PEP 668: nothing is installed into the system Python; when the venv module
# is missing, python3-venv is installed with apt-get as root) and with any other Python >= 3.11 first on PATH.
# LORA_CITY_VENV chooses another place; PYTHON another interpreter.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${LORA_CITY_VENV:-.venv}"
python="${PYTHON:-python3}"
lock=requirements/runtime.txt
[ "${1:-}" = "--dev" ] && lock=requirements/dev.txt

if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "lora-city needs Python >= 3.11; $("$python" --version 2>&1) found at $(command -v "$python")" >&2
  exit 1
fi
if [ ! -x "$venv/bin/python" ]; then
  if ! "$python" -m venv "$venv" >/dev/null 2>&1; then
    rm -rf "$venv"
    # Debian ships the venv module (and the pip it bootstraps) as a separate package.
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
      echo "installing Debian's python3-venv (the venv module of $("$python" --version 2>&1))"
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq
      apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
      "$python" -m venv "$venv"
    else
      echo "'$python -m venv' failed: install your system's venv package (Debian: apt-get install python3-venv)" >&2
      exit 1
    fi
  fi
fi
pip=("$venv/bin/python" -m pip --disable-pip-version-check -q)
"${pip[@]}" install --require-hashes -r "$lock"
# lora-city itself, editable, built by the locked setuptools (no build isolation: nothing outside the lock).
"${pip[@]}" install --no-deps --no-build-isolation -e .
bin="$(cd "$venv/bin" && pwd)"
echo "lora-city installed in $bin (from $lock): run $bin/lora-city, or put $bin on PATH"
