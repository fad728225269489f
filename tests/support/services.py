"""Start real services (mosquitto, PostgreSQL, victoria-metrics, redis) on free loopback ports in temp dirs.

Each ``start_*`` returns a running ``Service`` whose ``stop()`` kills it and removes its directory. When the
binary is missing, ``ServiceUnavailable`` is raised; the pytest fixtures turn it into a skip locally and a
failure in CI (``CI=true``), as the brief demands.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


class ServiceUnavailable(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout: float = 20.0, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise ServiceUnavailable(f"process exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise ServiceUnavailable(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


def _binary(*candidates: str) -> str:
    for c in candidates:
        found = shutil.which(c) or (c if os.path.isfile(c) and os.access(c, os.X_OK) else None)
        if found:
            return found
    raise ServiceUnavailable(f"none of {candidates} is installed")


def mosquitto_binary() -> str:
    """Debian installs the broker in /usr/sbin, which is not on PATH when Debian's python is run with
    PATH=/usr/bin:/bin (the README's fresh-machine case)."""
    return _binary("mosquitto", "/usr/sbin/mosquitto")


@dataclass
class Service:
    name: str
    port: int
    url: str
    workdir: Path
    proc: subprocess.Popen[bytes] | None = None
    _stop_extra: Callable[[], None] | None = None
    env: dict[str, str] = field(default_factory=dict)

    def stop(self) -> None:
        if self._stop_extra is not None:
            self._stop_extra()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        shutil.rmtree(self.workdir, ignore_errors=True)

    def kill(self) -> None:
        """Stop the process but keep its data directory (for outage tests); ``restart()`` brings it back."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

    restart: Callable[[], None] = lambda: None


def _spawn(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    fh = open(log, "ab")  # noqa: SIM115 - the child owns it
    return subprocess.Popen(args, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)


def start_mosquitto(*, allow_anonymous: bool = True, listener: str = "", extra: str = "",
                    files: dict[str, str | bytes] | None = None, persistence: bool = False) -> Service:
    """``listener``: lines for the listener (TLS files…); ``extra``: global lines (password_file, acl_file,
    plugin…); ``files``: written into the work directory first, names relative to it ("{workdir}" in the
    configuration lines is replaced by its path)."""
    binary = mosquitto_binary()
    workdir = Path(tempfile.mkdtemp(prefix="lc-mosquitto-"))
    for name, content in (files or {}).items():
        path = workdir / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    if os.geteuid() == 0 and files:  # as root, mosquitto drops to its own user, which must read the files
        try:
            pw = pwd.getpwnam("mosquitto")
        except KeyError:
            pass
        else:
            for path in (workdir, *(workdir / name for name in files)):
                os.chown(path, pw.pw_uid, pw.pw_gid)
    port = free_port()
    conf = workdir / "mosquitto.conf"
    conf.write_text((
        f"per_listener_settings false\nlistener {port} 127.0.0.1\n{listener}\n"
        f"allow_anonymous {'true' if allow_anonymous else 'false'}\n"
        + (f"persistence true\npersistence_location {workdir}/\n" if persistence else "persistence false\n")
        + f"max_queued_messages 100000\nmax_inflight_messages 0\n{extra}\n"
    ).replace("{workdir}", str(workdir)))
    svc = Service("mosquitto", port, f"mqtt://127.0.0.1:{port}", workdir)

    def run() -> None:
        svc.proc = _spawn([binary, "-c", str(conf)], workdir / "log.txt")
        wait_for_port(port, proc=svc.proc)

    run()
    svc.restart = run
    return svc


def start_redis() -> Service:
    binary = _binary("redis-server")
    workdir = Path(tempfile.mkdtemp(prefix="lc-redis-"))
    port = free_port()
    svc = Service("redis", port, f"redis://127.0.0.1:{port}/0", workdir)

    def run() -> None:
        svc.proc = _spawn(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(workdir)],
            workdir / "log.txt",
        )
        wait_for_port(port, proc=svc.proc)

    run()
    svc.restart = run
    return svc


def start_victoria_metrics() -> Service:
    binary = _binary("victoria-metrics", "victoria-metrics-prod")
    workdir = Path(tempfile.mkdtemp(prefix="lc-vm-"))
    port = free_port()
    svc = Service("victoria-metrics", port, f"http://127.0.0.1:{port}", workdir)

    def run() -> None:
        svc.proc = _spawn(
            [binary, f"-httpListenAddr=127.0.0.1:{port}", f"-storageDataPath={workdir / 'data'}",
             "-retentionPeriod=100y", "-search.disableCache", "-loggerLevel=ERROR"],
            workdir / "log.txt",
        )
        wait_for_port(port, proc=svc.proc)

    run()
    svc.restart = run
    return svc


def _pg_bin(name: str) -> str:
    for base in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (base / name).exists():
            return str(base / name)
    return _binary(name)


def start_postgres() -> Service:
    initdb, postgres = _pg_bin("initdb"), _pg_bin("postgres")
    workdir = Path(tempfile.mkdtemp(prefix="lc-pg-"))
    port = free_port()
    data = workdir / "data"
    run_as: list[str] = []
    if os.geteuid() == 0:  # postgres refuses to run as root
        pw = pwd.getpwnam("postgres")
        os.chown(workdir, pw.pw_uid, pw.pw_gid)
        run_as = [_binary("runuser", "/usr/sbin/runuser", "/sbin/runuser"), "-u", "postgres", "--"]  # sbin: not on a PATH of /usr/bin:/bin
    subprocess.run(
        [*run_as, initdb, "-D", str(data), "-U", "lora", "--auth=trust", "-E", "UTF8", "--no-sync"],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    svc = Service("postgresql", port, f"postgresql+psycopg://lora@127.0.0.1:{port}/postgres", workdir)

    def run() -> None:
        svc.proc = _spawn(
            [*run_as, postgres, "-D", str(data), "-p", str(port), "-h", "127.0.0.1", "-k", str(workdir),
             "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
             "-c", "max_connections=200"],
            workdir / "log.txt",
        )
        wait_for_port(port, proc=svc.proc)
        # the port opens slightly before the server accepts logins
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            ok = subprocess.run(
                [_pg_bin("pg_isready"), "-h", "127.0.0.1", "-p", str(port)], capture_output=True
            ).returncode == 0
            if ok:
                return
            time.sleep(0.1)
        raise ServiceUnavailable("postgres did not become ready")

    run()
    svc.restart = run
    return svc


_db_counter = 0


def create_pg_database(svc: Service, template: str | None = None) -> str:
    """A fresh database on the running server (empty, or a copy of ``template``); returns its SQLAlchemy URL."""
    global _db_counter
    _db_counter += 1
    name = f"t{os.getpid()}_{_db_counter}"
    extra = ["-T", template] if template else []
    subprocess.run(
        [_pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(svc.port), "-U", "lora", *extra, name],
        check=True, capture_output=True,
    )
    return f"postgresql+psycopg://lora@127.0.0.1:{svc.port}/{name}"


def chromium_path() -> str:
    return _binary("chromium", "/usr/bin/chromium", "chromium-browser")
