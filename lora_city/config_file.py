"""Where the configuration comes from, without building Settings: which file is read, its TOML, and the defaults
Settings and the quick commands share.

``Settings`` (lora_city/settings.py) stays the one settings object; it reads its file through this module. The
module imports no pydantic so that ``lora-city codec decode`` can find its three values (the codec folder and the
JavaScript limits) in a few milliseconds (issue 15 §5: pydantic and pydantic-settings cost ~150 ms of start-up,
more than the decode). ``codec_values`` answers only when the answer is plain (defaults, or plain values in the
file); anything else -- a LORA_CITY_ variable for one of them, a value of the wrong type, a file that cannot be
read -- returns None and the caller builds Settings, whose validation and error messages apply as for every
other command.
"""

from __future__ import annotations

import os
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_CONFIG_FILE = Path("/etc/lora-city/lora-city.toml")
CONFIG_ENV = "LORA_CITY_CONFIG"
ENV_PREFIX = "LORA_CITY_"

# Defaults Settings uses for these fields (one definition for both readers)
JS_TIME_LIMIT_MS = 100
JS_MEMORY_LIMIT_MB = 32
# Settings keys whose relative values in a file are relative to the file's own folder
PATH_KEYS = ("export_dir", "codecs_path", "journal_dir")


def default_codecs_path() -> Path:
    # In a source checkout (and an editable install) codecs/ sits beside the lora_city package; a regular install
    # copies it to <prefix>/share/lora_city/codecs (pyproject's data-files).
    beside = Path(__file__).resolve().parent.parent / "codecs"
    return beside if beside.is_dir() else Path(sys.prefix) / "share" / "lora_city" / "codecs"


def locate(config: Path | None, default_file: Path = DEFAULT_CONFIG_FILE) -> Path | None:
    """The file to read: ``config`` (``--config``), else ``$LORA_CITY_CONFIG``, else ``default_file`` when it
    exists; None: environment and defaults only."""
    named = config or (Path(os.environ[CONFIG_ENV]) if os.environ.get(CONFIG_ENV) else None)
    path = named or (default_file if default_file.is_file() else None)
    return path.resolve() if path is not None else None


def read_toml(path: Path) -> dict[str, Any]:
    """The file's keys (the settings' names), relative SQLite paths and folders made relative to the file's own
    folder, so every process reading it, from whatever working directory, opens the same database. Raises
    ConfigurationError naming the file when it is missing, unreadable or not TOML."""
    from lora_city.errors import ConfigurationError

    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigurationError(f"configuration file {path} does not exist") from None
    except OSError as exc:
        raise ConfigurationError(f"configuration file {path} cannot be read: {exc.strerror}") from None
    try:
        values = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"configuration file {path} is not valid TOML: {exc}") from None
    base = path.parent
    url = values.get("database_url")
    if isinstance(url, str):
        values["database_url"] = absolute_sqlite_url(url, base)
    for key in PATH_KEYS:
        if isinstance(values.get(key), str) and values[key].strip() and not Path(values[key]).is_absolute():
            values[key] = str(base / values[key])
    return values


def absolute_sqlite_url(url: str, base: Path) -> str:
    """``sqlite:///relative.db`` made absolute against ``base``; other URLs unchanged."""
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        return url
    path = url[len(prefix):]
    if not path or path.startswith("/") or path.startswith(":memory:"):
        return url
    return prefix + str((base / path).resolve())


@dataclass(frozen=True, slots=True)
class CodecValues:
    """What running a folder codec needs: where the codec folders are and the JavaScript limits."""

    codecs_path: Path
    js_time_limit_ms: int
    js_memory_limit_mb: int


def codec_values(config: Path | None, default_file: Path = DEFAULT_CONFIG_FILE) -> CodecValues | None:
    """The codec values as Settings would give them, when that answer is plain; None: build Settings."""
    names = {f"{ENV_PREFIX}{key}".lower() for key in ("codecs_path", "js_time_limit_ms", "js_memory_limit_mb")}
    if any(variable.lower() in names for variable in os.environ):  # pydantic-settings matches them in any case
        return None
    from lora_city.errors import ConfigurationError

    path = locate(config, default_file)
    try:
        values = read_toml(path) if path is not None else {}
    except ConfigurationError:
        return None  # Settings reports it, the same way for every command
    codecs_path = values.get("codecs_path", None)
    limits = [values.get("js_time_limit_ms", JS_TIME_LIMIT_MS), values.get("js_memory_limit_mb", JS_MEMORY_LIMIT_MB)]
    if not all(type(v) is int for v in limits) or not (codecs_path is None or isinstance(codecs_path, str)):
        return None
    return CodecValues(Path(codecs_path) if codecs_path is not None else default_codecs_path(), *limits)
