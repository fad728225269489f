"""Amounts as people read them on a page, in the page's language: 1 234,56 € / €1,234.56; and back to the text
a form shows for editing (the form reads both "12,5" and "12.5")."""

from __future__ import annotations


def _grouped(whole: int, language: str) -> str:
    return f"{whole:,}".replace(",", "\u202f" if language != "en" else ",")


def money(cents: int, language: str) -> str:
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    if language == "en":
        return f"{sign}€{_grouped(whole, language)}.{frac:02d}"
    return f"{sign}{_grouped(whole, language)},{frac:02d}\u00a0€"


def unit_money(millicents: int, language: str) -> str:
    """A unit price, which may hold fractions of a cent: at least two decimals, up to five."""
    sign = "-" if millicents < 0 else ""
    whole, frac = divmod(abs(millicents), 100_000)
    decimals = f"{frac:05d}".rstrip("0").ljust(2, "0")
    if language == "en":
        return f"{sign}€{_grouped(whole, language)}.{decimals}"
    return f"{sign}{_grouped(whole, language)},{decimals}\u00a0€"


def edit_cents(cents: int | None, language: str) -> str:
    if cents is None:
        return ""
    text = f"{cents / 100:.2f}"
    return text if language == "en" else text.replace(".", ",")


def edit_millicents(millicents: int | None, language: str) -> str:
    if millicents is None:
        return ""
    whole, frac = divmod(millicents, 100_000)
    text = f"{whole}.{f'{frac:05d}'.rstrip('0').ljust(2, '0')}"
    return text if language == "en" else text.replace(".", ",")


def edit_percent(basis_points: int | None, language: str) -> str:
    if basis_points is None:
        return ""
    text = f"{basis_points / 100:.2f}".rstrip("0").rstrip(".")
    return text if language == "en" else text.replace(".", ",")
