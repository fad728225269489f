#!/usr/bin/env bash
# Install everything a fresh Debian machine needs (system services, Python and npm packages), then run the
# whole test suite. This is the README's test command and exactly what CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

# --- system packages: services the integration and browser tests start themselves -----------------------
missing=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v victoria-metrics >/dev/null 2>&1 || missing+=(victoria-metrics)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing+=(postgresql)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- Python packages: exactly the locked versions, in .venv (scripts/install.sh) ---------------------------
bash scripts/install.sh --dev
python=.venv/bin/python
[ -n "${LORA_CITY_VENV:-}" ] && python="$LORA_CITY_VENV/bin/python"

# --- npm packages used by differential tests and benchmarks (an independent LoRaWAN implementation) ------
if [ -f tests/js/package.json ]; then
  (cd tests/js && npm ci --no-audit --no-fund --silent >/dev/null)
fi

# --- what the tests run against: the Debian packages of the services (README, "Tested with") --------------
mkdir -p test-artifacts
{
  echo "# services the tests started, $(date -u +%Y-%m-%dT%H:%M:%SZ), Debian $(cat /etc/debian_version 2>/dev/null)"
  for pkg in mosquitto 'postgresql-[0-9]*' redis-server victoria-metrics chromium nodejs python3; do
    # installed packages only; for PostgreSQL the server package (postgresql-15), not its extensions
    dpkg-query -W -f='${db:Status-Abbrev} ${Package} ${Version}\n' "$pkg" 2>/dev/null |
      awk '$1 == "ii" && $2 !~ /^postgresql-.*-/ {print $2, $3; found = 1} END {exit !found}' ||
      echo "$pkg (not an installed Debian package here)"
  done
  echo "node $(node --version 2>/dev/null) npm $(npm --version 2>/dev/null)"
  echo "lock: python $("$python" -c 'import platform; print(platform.python_version())') in ${python%/bin/python}"
} | tee test-artifacts/service-versions.txt

# --- the suite -------------------------------------------------------------------------------------------
export CI="${CI:-}"
set +e
# Two workers (pytest-xdist): the CI machine has two cores; every fixture starts its services on free ports in
# temporary directories, so workers never share state. LORA_CITY_TEST_WORKERS=0 runs in one process. The tests
# marked slow run first (tests/conftest.py) and an idle worker steals from the other's queue, so both finish
# together. The 30 slowest tests are listed at the end, to keep the suite under its 15-minute budget.
"$python" -m pytest -n "${LORA_CITY_TEST_WORKERS:-2}" --dist worksteal --durations=30 "$@"
rc=$?
set -e
if [ $rc -eq 5 ]; then
  echo "no tests were collected" >&2
  exit 1
fi
exit $rc
