"""The portal's message catalogue: French first, English available. One JSON file per language in messages/.

A page's language is, in order: the logged-in user's ``language``, the one chosen with the switch (kept in the
session cookie), the browser's ``Accept-Language``, then French (the city's language).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

LANGUAGES = ("fr", "en")
DEFAULT = "fr"
_DIR = Path(__file__).resolve().parent / "messages"


@cache
def catalogue(language: str) -> dict[str, str]:
    data: dict[str, str] = json.loads((_DIR / f"{language}.json").read_text(encoding="utf-8"))
    return data


def translate(language: str, key: str, **values: object) -> str:
    """The message in ``language``; the French one if missing; the key itself if missing everywhere (visible,
    so a forgotten translation is noticed instead of silently blank)."""
    text = catalogue(language).get(key) or catalogue(DEFAULT).get(key) or key
    return text.format(**values) if values else text


def from_accept_language(header: str | None) -> str | None:
    """The supported language with the highest q in an Accept-Language header (RFC 9110 §12.5.4)."""
    if not header:
        return None
    best: tuple[float, str] | None = None
    for part in header.split(","):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                continue
        base = tag.strip().lower().split("-")[0]
        if base in LANGUAGES and q > 0 and (best is None or q > best[0]):
            best = (q, base)
    return best[1] if best else None


def choose(user_language: str | None, session_language: str | None, accept_language: str | None) -> str:
    for candidate in (user_language, session_language, from_accept_language(accept_language)):
        if candidate in LANGUAGES:
            return candidate
    return DEFAULT


def error_text(language: str, code: str, fallback: str) -> str:
    """The message of an error code (``error.<code>`` in the catalogue), else ``fallback``."""
    key = f"error.{code}"
    text = translate(language, key)
    return fallback if text == key else text
