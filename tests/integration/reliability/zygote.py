"""Starts ``lora-city serve`` processes quickly, for tests that kill the server twenty times.

Importing the server costs seconds of CPU; twenty fresh interpreters would make the kill loop last minutes.
This process imports ``lora_city.main`` once and, for every ``start <log file>`` line on stdin, forks a child
that runs what ``lora-city serve`` runs (``main.serve(Settings.load())``, settings from the environment) and
answers with the child's pid. The test SIGKILLs that pid: a real, separate server process dies at a random
moment. ``exit`` ends the zygote; children are reaped as they die.
"""

from __future__ import annotations

import asyncio
import os
import sys
import traceback


def _serve(log_path: str) -> None:
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    sys.stdin.close()
    from lora_city.main import serve
    from lora_city.observability.logs import configure_logging
    from lora_city.settings import Settings

    settings = Settings.load()  # as `lora-city serve` reads them: a config file if any, then LORA_CITY_*
    configure_logging(settings.log_level, json_lines=False)
    asyncio.run(serve(settings))


def main() -> None:
    import lora_city.main  # noqa: F401  (the point of this process: import once, fork many)

    print("ready", flush=True)
    for line in sys.stdin:
        command = line.split()
        while True:  # reap the children killed since the last command
            try:
                pid, _status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
        if not command:
            continue
        if command[0] == "exit":
            return
        if command[0] == "start":
            pid = os.fork()
            if pid == 0:
                code = 0
                try:
                    _serve(command[1])
                except BaseException:
                    traceback.print_exc()
                    code = 1
                finally:
                    os._exit(code)
            print(pid, flush=True)


if __name__ == "__main__":
    main()
