"""The README's quickstart on a fresh clone (issue 15 §2), with Debian's own python3 first on PATH
(``PATH=/usr/bin:/bin``: PEP 668 in force, so nothing may go into the system Python): ``bash scripts/install.sh``
makes its virtual environment from the lock, then ``lora-city serve --demo`` from it prints the portal's
address and three logins, and the address answers and each login opens its person's portal.

The environment goes to a temporary folder (LORA_CITY_VENV) instead of the clone's ``.venv``, and the server to
free ports, so the test runs beside the suite. PIP_NO_COMPILE saves the bytecode compilation of ~70 packages
(the server compiles what it imports)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.support.demo import DemoProcess, free_udp_port
from tests.support.services import free_port

ROOT = Path(__file__).resolve().parents[2]
DEBIAN_PYTHON = Path("/usr/bin/python3")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def readme_quickstart() -> tuple[list[str], list[str]]:
    """The two commands of the README's quickstart (its first ``sh`` block: ``INSTALL && SERVE``), so that this
    test runs what a newcomer copies, and fails when the README says something else."""
    block = re.search(r"^## Quickstart.*?^```sh\n(.*?)^```", (ROOT / "README.md").read_text(), re.S | re.M)
    assert block is not None, "the README has no quickstart command block"
    lines = [line for line in block.group(1).splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].count(" && ") == 1, f"expected one line 'INSTALL && SERVE': {lines}"
    install, serve = (part.split() for part in lines[0].split(" && "))
    return install, serve


def test_the_readme_quickstart_is_the_one_tested() -> None:
    install, serve = readme_quickstart()
    assert install == ["bash", "scripts/install.sh"]
    assert serve[0] == ".venv/bin/lora-city" and serve[1:] == ["serve", "--demo"]


def debian_environment(venv: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LORA_CITY_", "VIRTUAL_ENV", "PYTHON", "CONDA", "PYENV"))}
    env.update(PATH="/usr/bin:/bin", LORA_CITY_VENV=str(venv), PIP_NO_COMPILE="1")
    return env


def login(base: str, email: str, password: str) -> httpx.Response:
    """Log in through the portal's form as a browser would, and open the page it sends the person to. The
    session cookie is Secure: browsers keep it on a loopback address, Python's cookie jar does not, so it is
    carried by hand."""
    with httpx.Client(base_url=base, timeout=30) as web:
        form = web.get("/portal/login")
        assert form.status_code == 200 and "csrf_token" in form.text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert csrf is not None
        cookies = "; ".join(f"{k}={v}" for k, v in form.cookies.items())
        done = web.post("/portal/login", data={"csrf_token": csrf.group(1), "next": "", "email": email,
                                               "password": password}, headers={"Cookie": cookies})
        assert done.status_code == 303, done.text[:500]
        session = done.headers["set-cookie"].split(";", 1)[0]
        return web.get(done.headers["location"], headers={"Cookie": session})


@pytest.mark.slow
def test_readme_quickstart_on_a_fresh_clone_with_debians_python(tmp_path: Path) -> None:
    if not DEBIAN_PYTHON.exists() or shutil.which("git") is None:
        if IN_CI:
            pytest.fail("CI needs Debian's /usr/bin/python3 and git for the quickstart test")
        pytest.skip("not a Debian machine")
    clone, venv = tmp_path / "lora_city", tmp_path / "venv"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True, timeout=120)
    env = debian_environment(venv)
    install, serve = readme_quickstart()
    installed = subprocess.run(install, cwd=clone, env=env, capture_output=True, text=True,
                               timeout=1200)
    assert installed.returncode == 0, installed.stdout[-2000:] + installed.stderr[-4000:]
    assert f"lora-city installed in {venv}/bin" in installed.stdout  # it says where
    # the environment is Debian's python3 (not another one found on PATH), and the system Python is untouched
    base_prefix = subprocess.run([str(venv / "bin" / "python"), "-c", "import sys; print(sys.base_prefix)"],
                                 capture_output=True, text=True, check=True).stdout.strip()
    assert base_prefix == "/usr"
    assert subprocess.run([str(DEBIAN_PYTHON), "-c", "import lora_city"], env=env, cwd="/",
                          capture_output=True).returncode != 0

    env.update(LORA_CITY_HTTP_LISTEN=f"127.0.0.1:{free_port()}", LORA_CITY_UDP_LISTEN=f"127.0.0.1:{free_udp_port()}")
    # the README's .venv is LORA_CITY_VENV here (a temporary folder, so the clone's checkout stays as cloned)
    demo = DemoProcess.start([serve[0].replace(".venv", str(venv), 1), *serve[1:]], cwd=clone, env=env,
                             log=tmp_path / "serve.log")
    try:
        demo.wait_joined(timeout=240)
        assert demo.portal_url, "no portal address printed"
        base = demo.portal_url.removesuffix("/portal/")
        assert httpx.get(demo.portal_url, follow_redirects=True, timeout=30).status_code == 200
        landing = {"city administrator": "/portal/console", "lessee administrator": "/portal/dashboard",
                   "technician": "/portal/install"}
        assert set(demo.logins) == set(landing)
        for who, (email, password) in demo.logins.items():
            page = login(base, email, password)
            assert page.status_code == 200, f"{who}: {page.status_code}"
            assert str(page.url.path).startswith(landing[who]), f"{who} landed on {page.url}"
            assert 'action="/portal/logout"' in page.text  # logged in, not sent back to the form
    finally:
        demo.stop()
    assert (clone / "lora_city.db").is_file()  # the quickstart's database: in the directory it was started from
