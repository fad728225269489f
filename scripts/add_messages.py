"""Add or update portal messages in both catalogues at once: ``python scripts/add_messages.py FILE.json`` where
FILE holds ``{"key": ["français", "English"], ...}``. Keeps the catalogues' format (sorted keys, one space
indent), so two people adding keys rarely touch the same lines."""

from __future__ import annotations

import json
import sys
from pathlib import Path

CATALOGUES = Path(__file__).resolve().parents[1] / "lora_city" / "portal" / "messages"


def main(path: str) -> None:
    new: dict[str, list[str]] = json.loads(Path(path).read_text(encoding="utf-8"))
    for index, language in enumerate(("fr", "en")):
        file = CATALOGUES / f"{language}.json"
        data = json.loads(file.read_text(encoding="utf-8"))
        for key, texts in new.items():
            data[key] = texts[index]
        file.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1])
