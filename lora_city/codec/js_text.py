"""Text a JavaScript codec hands back that Unicode cannot carry.

A JavaScript string is UTF-16 and may hold a lone surrogate (``"\\ud800"``, often from ``String.fromCharCode`` over
raw bytes). JSON.stringify writes it as the escape ``\\ud800`` and Python's json reads it back as a lone surrogate
``str``, which UTF-8 cannot encode: printing it, storing it in PostgreSQL, publishing it over MQTT or writing it
with orjson fails far from the codec (``lora-city codec decode`` used to crash with a traceback). Like The Things
Stack (whose JavaScript engine hands Go strings back), each lone surrogate becomes U+FFFD REPLACEMENT CHARACTER
and the answer carries a warning saying where, so the reading is kept and the oddity is visible.
"""

from __future__ import annotations

from typing import Any

REPLACEMENT = "\ufffd"


def may_hold_surrogates(json_text: str) -> bool:
    """Cheap test on the JSON text: a lone surrogate can only arrive as a ``\\udXXX`` escape (both engines write
    valid pairs as the character itself). A literal backslash-u-d in a string also matches, harmlessly."""
    return "\\ud" in json_text or "\\uD" in json_text


def _fix(text: str) -> str:
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _bad(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def well_formed(value: Any, where: str, found: list[str]) -> Any:
    """``value`` with every lone surrogate (in strings and keys) replaced by U+FFFD; ``found`` gets each path."""
    if isinstance(value, str):
        if _bad(value):
            found.append(where)
            return _fix(value)
        return value
    if isinstance(value, list):
        return [well_formed(item, f"{where}[{i}]", found) for i, item in enumerate(value)]
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            fixed_key = key
            if _bad(key):
                fixed_key = _fix(key)
                found.append(f"{where} key {fixed_key!r}")
            out[fixed_key] = well_formed(item, f"{where}.{fixed_key}", found)
        return out
    return value


def surrogate_warning(paths: list[str]) -> str:
    shown = ", ".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")
    return f"codec returned text with lone UTF-16 surrogates, replaced by U+FFFD: {shown}"
