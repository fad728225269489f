#!/usr/bin/env bash
# Refresh the Python lock files from pyproject.toml and requirements/build.in. This is the only way locked
# versions change: run it, run the whole suite (bash scripts/test.sh), and commit the lock on its own.
#   requirements/dev.txt      everything: runtime, dev tools, build backend (what scripts/test.sh installs)
#   requirements/runtime.txt  the server alone, same versions (what scripts/install.sh installs)
# Both are universal (every platform's wheels hashed) for Python >= 3.11, installed with --require-hashes.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install -q --disable-pip-version-check --require-hashes -r requirements/uv.txt
uv="$tmp/venv/bin/uv"
fp=$(python3 scripts/lock_fingerprint.py)
# uv keeps the versions of an existing output file unless asked to upgrade: start from the current lock so a
# change of one input moves only what it must (LORA_CITY_LOCK_UPGRADE=1 re-resolves everything to the newest)
if [ -z "${LORA_CITY_LOCK_UPGRADE:-}" ]; then
  cp requirements/dev.txt "$tmp/dev.txt"
  cp requirements/runtime.txt "$tmp/runtime.txt"
fi
common=(--universal --python-version 3.11 --generate-hashes --no-header --quiet
        --index-url "${LORA_CITY_LOCK_INDEX:-https://pypi.org/simple}")
"$uv" pip compile "${common[@]}" pyproject.toml requirements/build.in --extra dev -o "$tmp/dev.txt"
"$uv" pip compile "${common[@]}" pyproject.toml requirements/build.in -c "$tmp/dev.txt" -o "$tmp/runtime.txt"
for name in dev runtime; do
  {
    echo "# Locked by scripts/lock.sh ($("$uv" --version)); do not edit by hand."
    echo "# inputs-sha256: $fp"
    cat "$tmp/$name.txt"
  } > "requirements/$name.txt"
done
echo "requirements/dev.txt: $(grep -c '^[a-zA-Z]' requirements/dev.txt) packages," \
     "requirements/runtime.txt: $(grep -c '^[a-zA-Z]' requirements/runtime.txt)"
