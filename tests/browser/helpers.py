"""What every journey test does besides clicking: screenshots of a page at desktop and phone width (with a check
that the phone layout needs no sideways scrolling), and filling a form with the keyboard alone (Tab to each
field, type, Space for a checkbox, arrows for a select, Enter on the submit button)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Locator, Page

WIDTHS = ((1366, 900), (390, 844))


def shots(page: Page, folder: Path, name: str) -> None:
    """``name-1366.png`` and ``name-390.png``; the page must fit a 390 px phone without a sideways scroll (wide
    tables scroll inside their own box)."""
    before = page.viewport_size
    for width, height in WIDTHS:
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=folder / f"{name}-{width}.png", full_page=True)
        overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
        if overflow > 1:
            culprits = page.evaluate("""w => [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > w + 1 && !(e.parentElement && e.parentElement.closest('.table-wrap')))
                .slice(0, 5).map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))""",
                                     width)
            raise AssertionError(f"{name}: the page is {overflow} px wider than a {width} px screen: {culprits}")
    if before is not None:
        page.set_viewport_size(before)


def tab_to(page: Page, target: Locator, max_tabs: int = 250) -> None:
    """Press Tab until ``target`` has the focus (keyboard users reach every control in document order)."""
    for _ in range(max_tabs):
        if target.evaluate("el => el === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{target} cannot be reached with the Tab key")


def type_into(page: Page, target: Locator, value: str | bool) -> None:
    tab_to(page, target)
    kind = target.evaluate("el => el.tagName === 'SELECT' ? 'select' : (el.type || '')")
    if kind == "checkbox":
        if target.is_checked() != bool(value):
            page.keyboard.press("Space")
        return
    if kind == "select":
        wanted = target.evaluate("(el, v) => [...el.options].findIndex(o => o.value === v || o.text === v)", value)
        assert wanted >= 0, f"no option {value!r}"
        current = target.evaluate("el => el.selectedIndex")
        key = "ArrowDown" if wanted > current else "ArrowUp"
        for _ in range(abs(wanted - current)):
            page.keyboard.press(key)
        assert target.evaluate("el => el.selectedIndex") == wanted
        return
    if kind in ("month", "date", "datetime-local"):
        # Chromium's date fields take typed digits segment by segment in the locale's order (October 2026 in
        # en-GB, 10/2026 in fr-FR): reached with Tab like any field, then given the ISO value.
        target.fill(str(value))
        return
    page.keyboard.press("Control+A")
    if value == "":
        page.keyboard.press("Backspace")
    else:
        page.keyboard.type(str(value))


def keyboard_fill(page: Page, fields: list[tuple[Locator, str | bool]], submit: Locator | None = None) -> None:
    """Fill ``fields`` (in document order) from where the focus is, then press Enter on ``submit``."""
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); }")
    for target, value in fields:
        type_into(page, target, value)
    if submit is not None:
        tab_to(page, submit)
        page.keyboard.press("Enter")
