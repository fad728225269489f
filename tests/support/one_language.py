"""One language per page: the visible text of a page (text, and the attributes people read: placeholder, title,
aria-label, alt, labels, button values, and data-* phrases the page's scripts show) must hold none of the other
language's give-away words (lora_city/portal/messages/words.json, kept with the translations).

Text a page shows as data, not as its own words, is marked ``translate="no"`` (HTML's own attribute for it:
language names in the switch, for one) or sits in ``<code>``/``<pre>``/``<kbd>``/``<samp>``; it is not checked.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

WORDS_FILE = Path(__file__).resolve().parents[2] / "lora_city" / "portal" / "messages" / "words.json"
_SKIP = {"script", "style", "code", "pre", "kbd", "samp", "template"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
_READ_ATTRS = {"placeholder", "title", "aria-label", "alt", "label"}
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def give_away_words() -> dict[str, set[str]]:
    data = json.loads(WORDS_FILE.read_text(encoding="utf-8"))
    return {"fr": set(data["en"]), "en": set(data["fr"])}  # forbidden in a page of that language


class _Visible(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []  # (tag, skipped)
        self.parts: list[str] = []
        self.lang: str | None = None

    def _skipping(self) -> bool:
        return any(skipped for _, skipped in self.stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "html":
            self.lang = values.get("lang")
        skipped = tag in _SKIP or values.get("translate") == "no"
        if not skipped and not self._skipping():
            for name, value in attrs:
                if not value:
                    continue
                if name in _READ_ATTRS or (tag == "input" and name == "value"
                                           and values.get("type") in ("submit", "button", "reset")):
                    self.parts.append(value)
                elif name.startswith("data-") and " " in value.strip() and not name.endswith("url"):
                    self.parts.append(value)  # a phrase a script shows (messages, labels)
        if tag not in _VOID:
            self.stack.append((tag, skipped))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID and self.stack and self.stack[-1][0] == tag:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        if not self._skipping() and data.strip():
            self.parts.append(data)


def visible(html: str) -> tuple[str | None, list[str]]:
    parser = _Visible()
    parser.feed(html)
    parser.close()
    return parser.lang, parser.parts


def foreign_words(html: str, language: str, forbidden: dict[str, set[str]] | None = None) -> list[str]:
    """``word «context»`` for each give-away word of the other language in the page's visible text."""
    words = (forbidden or give_away_words())[language]
    found = []
    for part in visible(html)[1]:
        for word in _WORD.findall(part):
            if word.lower() in words:
                found.append(f"{word} «{' '.join(part.split())[:80]}»")
    return found
