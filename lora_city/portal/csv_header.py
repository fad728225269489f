"""A downloaded CSV's header row in the reader's language. Exporters (the readings store's activity report,
billing's usage and invoice files) write machine column names, the ones the API and the CLI keep for scripts;
the portal hands people the same file with each known column named from the catalogue (``csv.<column>``). Only
the first row changes: the values, their order and the file's shape stay what the exporter wrote."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable


def localised(text: str, t: Callable[[str], str]) -> str:
    """``text`` with its header row's columns translated; an unknown column keeps its name."""
    first, newline, rest = text.partition("\n")
    if not first:
        return text
    ending = "\r\n" if first.endswith("\r") else "\n"
    columns = next(csv.reader([first.rstrip("\r")]))
    named = [_name(t, column) for column in columns]
    out = io.StringIO()
    csv.writer(out, lineterminator=ending).writerow(named)
    return out.getvalue() + rest if newline else out.getvalue().rstrip("\r\n")


def _name(t: Callable[[str], str], column: str) -> str:
    key = f"csv.{column}"
    text = t(key)
    return column if text == key else text
