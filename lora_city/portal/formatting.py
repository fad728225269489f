"""Dates, times and numbers as the page's language writes them, in the city's time zone (Europe/Paris).

French: ``05/12/2026 14:03``, decimal comma, a narrow no-break space between thousands (Imprimerie nationale
usage, as CLDR's fr locale). English: ``5 Dec 2026, 14:03`` (day first and the month spelled out, so neither a
British nor an American reader misreads it), decimal point, comma between thousands. Both on a 24-hour clock: the
portal serves a French city's staff and its lessees, whose schedules are written that way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
NNBSP = "\u202f"  # narrow no-break space: French thousands separator and before units/percent in CLDR fr
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTHS_FR = ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc.")


def local(value: datetime) -> datetime:
    """An aware time in Europe/Paris (naive values are UTC, as SQLite stores them)."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(PARIS)


@dataclass(frozen=True, slots=True)
class Formatter:
    language: str

    @property
    def french(self) -> bool:
        return self.language != "en"

    def when(self, value: datetime | None, *, seconds: bool = False) -> str:
        if value is None:
            return "—"
        t = local(value)
        clock = t.strftime("%H:%M:%S" if seconds else "%H:%M")
        if self.french:
            return f"{t:%d/%m/%Y} {clock}"
        return f"{t.day} {_MONTHS_EN[t.month - 1]} {t.year}, {clock}"

    def day(self, value: date | datetime | None) -> str:
        if value is None:
            return "—"
        d = local(value) if isinstance(value, datetime) else value
        if self.french:
            return f"{d:%d/%m/%Y}"
        return f"{d.day} {_MONTHS_EN[d.month - 1]} {d.year}"

    def long_date(self, value: date | datetime) -> str:
        d = local(value) if isinstance(value, datetime) else value
        if self.french:
            return f"{d.day} {_MONTHS_FR[d.month - 1]} {d.year}"
        return f"{d.day} {_MONTHS_EN[d.month - 1]} {d.year}"

    def time(self, value: datetime | None, *, seconds: bool = True) -> str:
        if value is None:
            return "—"
        return local(value).strftime("%H:%M:%S" if seconds else "%H:%M")

    def number(self, value: float | int | None, digits: int | None = None) -> str:
        """``digits`` decimals (None: as many as the value needs, at most 3); booleans are not numbers here."""
        if value is None or isinstance(value, bool):
            return "—"
        if isinstance(value, float) and not math.isfinite(value):
            return "—"
        if digits is None:
            text = f"{value:,}" if isinstance(value, int) else f"{round(value, 3):,.3f}".rstrip("0").rstrip(".")
        else:
            text = f"{value:,.{digits}f}"
        if text in ("-0", "-0.0", "-0.00"):
            text = text[1:]
        if self.french:
            text = text.replace(",", NNBSP).replace(".", ",")
        return text

    def quantity(self, value: float | int | None, unit: str | None, digits: int | None = None) -> str:
        text = self.number(value, digits)
        if text == "—" or not unit:
            return text
        # CLDR fr puts a narrow no-break space before %; both languages put a space before other units.
        if unit == "%":
            return f"{text}{NNBSP}%" if self.french else f"{text}%"
        return f"{text}\u00a0{unit}"

    def money(self, cents: int) -> str:
        """Euros as CLDR writes them: ``1 234,56 €`` in French (narrow no-break space between thousands, no-break
        space before the sign), ``€1,234.56`` in English."""
        sign = "-" if cents < 0 else ""
        whole, frac = divmod(abs(cents), 100)
        if self.french:
            return f"{sign}{whole:,}".replace(",", NNBSP) + f",{frac:02d}\u00a0€"
        return f"{sign}€{whole:,}.{frac:02d}"

    def ago(self, value: datetime | None, now: datetime) -> str:
        """``il y a 12 s`` / ``12 s ago`` (minutes, hours and days beyond a minute)."""
        if value is None:
            return "—"
        seconds = max(0, int((local(now) - local(value)).total_seconds()))
        if seconds < 60:
            amount = f"{seconds}\u00a0s"
        elif seconds < 3600:
            amount = f"{seconds // 60}\u00a0min"
        elif seconds < 86400:
            amount = f"{seconds // 3600}\u00a0h"
        else:
            days = seconds // 86400
            amount = f"{days}\u00a0" + (("jour" if days == 1 else "jours") if self.french else
                                        ("day" if days == 1 else "days"))
        return f"il y a {amount}" if self.french else f"{amount} ago"
