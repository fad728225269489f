"""The schemathesis command line, as an outside tester runs it, against a real ``lora-city serve`` process over
HTTP (uvicorn, the middleware stack, the routes as serve mounts them): every check, on every operation (fuzzing,
positive and negative), then stateful sequences along the links schemathesis infers between operations (a
created tenant, device or asset's id fed to the routes that take it). The in-process run
(test_schemathesis.py) covers more examples per operation.

The operations whose schema-valid input may still get a documented 422 (rules beyond a JSON Schema, listed
with their reasons in test_schemathesis.BEYOND_THE_SCHEMA) are configured out of the "schema-valid request
accepted" check, and only of that check."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest

from tests.integration.api.test_schemathesis import beyond_the_schema
from tests.support.serve import ADMIN, ServerProcesses

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def config_file(path: Path, spec: dict[str, Any]) -> Path:
    # ignored_auth sends wrong keys on purpose: the guessing throttle (services/auth_throttle.py) then delays and
    # locks the test's one address, as it must, and every later request is a 429. Refused keys are tested in
    # test_rate_limits.py and in the in-process run (one app, its own throttle).
    lines = ["[checks.ignored_auth]", "enabled = false", ""]
    for route, operations in spec["paths"].items():
        for method, op in operations.items():
            if beyond_the_schema({**op, "method": method, "path": route}):
                lines += ["[[operations]]", f"include-name = {json.dumps(f'{method.upper()} {route}')}",
                          "checks.positive_data_acceptance.enabled = false", ""]
    # A new asset has no photo until one is uploaded: the link schemathesis infers from POST /assets to
    # GET /assets/{asset_id}/photo expects one, and the 404 no_photo is the documented answer.
    lines += ["[[operations]]", 'include-name = "POST /api/v1/assets"',
              "checks.ensure_resource_availability.enabled = false", ""]
    path.write_text("\n".join(lines))
    return path


def failures(report_dir: Path) -> list[str]:
    """One line per failure of the JUnit report: the request that failed, the check, the error code."""
    lines = []
    for report in report_dir.glob("junit-*.xml"):
        for case in ElementTree.parse(report).iter("testcase"):
            for failure in case.iter("failure"):
                text = failure.text or failure.get("message") or ""
                request = re.search(r"curl -X (\w+) .*?https?://[^/]+(/\S*)", text)
                check = re.search(r"(ST\d+ [^\n]+)", text)
                code = re.search(r'"code":"([^"]+)"', text)
                lines.append(f"{request.group(1) if request else '?'} {request.group(2)[:80] if request else '?'}: "
                             f"{check.group(1) if check else text[:80]} ({code.group(1) if code else '-'})")
    return lines


@pytest.mark.timeout(900)  # a few hundred operations over HTTP: minutes on a loaded 2-core machine
def test_schemathesis_cli_against_a_running_serve(tmp_path: Path, sqlite_template: Path) -> None:
    shutil.copyfile(sqlite_template, tmp_path / "served.db")
    server = ServerProcesses.build(tmp_path, f"sqlite:///{tmp_path / 'served.db'}", udp_listen="")
    server.start_cli()
    try:
        server.wait_ready()
        cli = Path(sys.executable).parent / "schemathesis"
        spec = httpx.get(f"{server.api}/api/v1/openapi.json", timeout=30).json()
        run = subprocess.run(
            [str(cli), "--config-file", str(config_file(tmp_path / "schemathesis.toml", spec)), "run",
             f"{server.api}/api/v1/openapi.json", "--header", f"Authorization: Bearer {ADMIN}",
             "--phases", "fuzzing,stateful", "--max-examples", "5", "--seed", "19",  # every check by default
             "--no-shrink", "--workers", "1", "--suppress-health-check", "filter_too_much", "--max-failures", "20",
             "--report", "junit", "--report-dir", str(tmp_path / "report")],
            capture_output=True, text=True, timeout=900, cwd=tmp_path,
        )
        server.stop()
    finally:
        server.close()
    out = run.stdout + run.stderr
    print(out[-6000:])
    assert "Traceback" not in server.log_text(), server.log_text()[-4000:]
    assert run.returncode == 0, "\n".join(failures(tmp_path / "report")) + "\n" + out[-6000:]
    assert "Stateful" in out or "stateful" in out  # the links were found and followed
