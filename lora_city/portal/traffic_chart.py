"""A gateway's uplinks and downlinks per hour over 7 days as an inline SVG bar chart drawn on the server: no
script, no CDN, the same picture offline, printed or with scripts off. The bars sit side by side in each hour's
slot (uplinks, then downlinks) on one scale; the days are marked at local midnight (Europe/Paris)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lora_city.portal.formatting import Formatter, local

SLOT = 6  # SVG units per hour: 168 hours -> 1008 units wide, scaled to the page's width
HEIGHT = 120
TOP = 14  # room for the day labels


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    width: float
    y: float
    height: float
    label: str  # the <title> read out and shown on hover


@dataclass(frozen=True, slots=True)
class DayMark:
    x: float
    label: str


@dataclass(frozen=True, slots=True)
class TrafficChart:
    width: int
    height: int
    up: list[Bar]
    down: list[Bar]
    days: list[DayMark]
    peak: int


def traffic_chart(hours: list[tuple[datetime, int, int]], fmt: Formatter, up_word: str, down_word: str
                  ) -> TrafficChart:
    peak = max((max(up, down) for _, up, down in hours), default=0)
    scale = (HEIGHT - TOP) / peak if peak else 0.0
    up_bars, down_bars, days = [], [], []
    for i, (start, up, down) in enumerate(hours):
        x = i * SLOT
        when = fmt.when(start)
        if up:
            h = max(up * scale, 1.0)
            up_bars.append(Bar(x + 0.5, SLOT / 2 - 0.5, HEIGHT - h, h, f"{when}: {fmt.number(up)} {up_word}"))
        if down:
            h = max(down * scale, 1.0)
            down_bars.append(Bar(x + SLOT / 2, SLOT / 2 - 0.5, HEIGHT - h, h, f"{when}: {fmt.number(down)} {down_word}"))
        if local(start).hour == 0:
            days.append(DayMark(x, fmt.day(start)[:5] if fmt.french else fmt.day(start).rsplit(" ", 1)[0]))
    return TrafficChart(len(hours) * SLOT, HEIGHT, up_bars, down_bars, days, peak)
