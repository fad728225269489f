"""A downloaded CSV's header row in the reader's language (lora_city/portal/csv_header.py), and euros written as
CLDR writes them (Formatter.money), checked against node's Intl (ICU's CLDR data), an outside reference."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from functools import partial

import pytest

from lora_city.portal.csv_header import localised
from lora_city.portal.formatting import Formatter
from lora_city.portal.i18n import translate


def test_only_the_header_row_is_renamed_and_unknown_columns_keep_their_name() -> None:
    text = 'day,dev_eui,name,uplinks,mystery\n2026-10-05,70b3d57ed0000b01,"Halle, nord",4,x\n'
    fr = localised(text, partial(translate, "fr"))
    assert fr.splitlines()[0] == "Jour,DevEUI,Nom,Messages montants,mystery"
    assert fr.partition("\n")[2] == text.partition("\n")[2]  # values (a quoted comma too) untouched
    en = localised(text, partial(translate, "en"))
    assert en.splitlines()[0] == "Day,DevEUI,Name,Uplinks,mystery"


def test_line_endings_and_quoting_of_translated_names_are_kept() -> None:
    text = "number,amount_eur\r\nF1,1.00\r\n"
    out = localised(text, lambda key: {"csv.number": "N°, pièce"}.get(key, key))
    assert out == '"N°, pièce",amount_eur\r\nF1,1.00\r\n'
    assert localised("", lambda key: key) == ""
    assert localised("dev_eui", partial(translate, "en")) == "DevEUI"  # a header without rows


@pytest.mark.parametrize("cents", [0, 5, 6250, 123456, 98765432, -6250])
@pytest.mark.parametrize("language,locale", [("fr", "fr-FR"), ("en", "en-GB")])
def test_money_as_intl_writes_it(cents: int, language: str, locale: str) -> None:
    node = shutil.which("node")
    if node is None:  # a missing reference fails in CI, as the services do (tests/conftest.py)
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail("node is not installed")
        pytest.skip("node is not installed")
    script = (f"process.stdout.write(JSON.stringify(new Intl.NumberFormat({json.dumps(locale)}, "
              f"{{style: 'currency', currency: 'EUR'}}).format({cents} / 100)))")
    expected = json.loads(subprocess.run([node, "-e", script], capture_output=True, text=True, check=True,
                                         timeout=60).stdout)
    assert Formatter(language).money(cents) == expected
