"""``lora-city serve --demo`` as a newcomer starts it: a real process on free loopback ports, its printed welcome
(portal address, one login per role) read from its output as a person would read it."""

from __future__ import annotations

import re
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

PORTAL = re.compile(r"^demo: portal\s+(http://\S+/portal/)\s*$")
LOGIN = re.compile(r"^\s+(city administrator|lessee administrator|technician)\s+(\S+@\S+)\s+(\S+)\s*$")
JOINED = re.compile(r"^demo: (\d+)/(\d+) devices joined")


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class DemoProcess:
    """The server process and what it printed; ``logins`` maps the role printed to (e-mail, password)."""

    proc: subprocess.Popen[str]
    log: Path
    lines: list[str] = field(default_factory=list)
    portal_url: str = ""
    logins: dict[str, tuple[str, str]] = field(default_factory=dict)
    joined: tuple[int, int] | None = None

    @classmethod
    def start(cls, argv: list[str], *, cwd: Path, env: dict[str, str], log: Path) -> DemoProcess:
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                bufsize=1)
        demo = cls(proc, log)
        threading.Thread(target=demo._read, name="demo-output", daemon=True).start()
        return demo

    def _read(self) -> None:
        assert self.proc.stdout is not None
        with self.log.open("w") as out:
            for line in self.proc.stdout:
                out.write(line)
                out.flush()
                line = line.rstrip("\n")
                self.lines.append(line)
                if m := PORTAL.match(line):
                    self.portal_url = m.group(1)
                elif m := LOGIN.match(line):
                    self.logins[m.group(1)] = (m.group(2), m.group(3))
                elif m := JOINED.match(line):
                    self.joined = (int(m.group(1)), int(m.group(2)))

    def wait_joined(self, timeout: float) -> None:
        """Until the demo says its devices joined (the welcome comes before): the portal has live data."""
        deadline = time.monotonic() + timeout
        while self.joined is None and time.monotonic() < deadline:
            if self.proc.poll() is not None:
                time.sleep(0.2)  # let the reader drain the last lines
                raise AssertionError(f"serve --demo exited with {self.proc.returncode}:\n" + "\n".join(self.lines[-40:]))
            time.sleep(0.1)
        if self.joined is None:
            raise AssertionError("serve --demo printed no 'devices joined' line:\n" + "\n".join(self.lines[-40:]))

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
