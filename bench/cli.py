"""Start-up time of the command line: the median of 10 cold starts (a new process each) of the commands people
type most, beside the interpreter alone and the interpreter importing typer, measured in the same run.

    python3 bench/cli.py            (uses the lora-city beside this interpreter, e.g. .venv/bin/lora-city)

Target (issue 15): ``--help``, ``codec decode`` and ``frame decode`` under 0.3 s. Not part of the test run: a
shared machine's load moves these figures; the floor lines show how much of a figure is the interpreter's own.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

RUNS = 10
TARGET_S = 0.3
ROOT = Path(__file__).resolve().parent.parent
# An uplink from the LoRaWAN 1.0.x examples in tests/fixtures (unconfirmed data up) and a Dragino LDDS75 report
# (battery 2885 mV, distance 500 mm, 25.4 °C) from the vendor's decoder documentation.
FRAME = "40f17dbe4900020001954378762b11ff0d"
LDDS75 = "0b4501f40000fe01"


def lora_city() -> str:
    beside = Path(sys.executable).with_name("lora-city")
    found = str(beside) if beside.exists() else shutil.which("lora-city")
    if not found:
        sys.exit("lora-city is not installed beside this interpreter nor on PATH (bash scripts/install.sh)")
    return found


def cold_start(argv: list[str]) -> tuple[float, float]:
    """Wall-clock seconds and CPU seconds (user + system, from the child's own rusage) of one run."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}  # .pyc files exist already; do not rewrite them
    started = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=ROOT)
    assert child.stderr is not None
    errors = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.perf_counter() - started
    if child.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed ({child.returncode}): {errors.decode()[-500:]}")
    return elapsed, usage.ru_utime + usage.ru_stime


def median(argv: list[str]) -> tuple[float, float]:
    cold_start(argv)  # first run warms the page cache, like a second command typed in a shell
    runs = [cold_start(argv) for _ in range(RUNS)]
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def main() -> None:
    exe = lora_city()
    floors = [
        ("python -c pass (floor)", [sys.executable, "-c", "pass"]),
        ("python -c 'import typer' (floor)", [sys.executable, "-c", "import typer"]),
    ]
    commands = [
        ("lora-city --help", [exe, "--help"]),
        ("lora-city frame decode HEX", [exe, "frame", "decode", FRAME]),
        ("lora-city codec decode dragino-ldds75", [exe, "codec", "decode", "dragino-ldds75", "--f-port", "2", LDDS75]),
    ]
    print(f"median of {RUNS} cold starts; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores "
          "(on a loaded machine the CPU time is the steadier figure)")
    print(f"  {'':<42} {'wall':>7}    {'CPU':>7}")
    for name, argv in floors:
        wall, cpu = median(argv)
        print(f"  {name:<42} {wall * 1000:7.0f} ms {cpu * 1000:7.0f} ms")
    for name, argv in commands:
        wall, cpu = median(argv)
        verdict = "met" if wall < TARGET_S else "NOT met"
        print(f"  {name:<42} {wall * 1000:7.0f} ms {cpu * 1000:7.0f} ms   target < {TARGET_S * 1000:.0f} ms "
              f"wall: {verdict}")


if __name__ == "__main__":
    main()
