"""The issuer's payment instructions: IBANs checked as ISO 13616 says (mod 97 of the rearranged number), with
the standard's published examples, and an invoice always says how to pay."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from billing.issuer import IssuerIn, iban_ok

BASE = {"legal_name": "Ville", "address": "1 place", "siret": "21990001200018", "vat_number": "FR41219900012"}


@pytest.mark.parametrize("iban", [
    "GB82WEST12345698765432",  # ISO 13616-1:2020 Annex / ECBS TR201 example
    "DE89370400440532013000",  # ECBS TR201 example for Germany
    "FR1420041010050500013M02606",  # ECBS TR201 example for France (letters inside the BBAN)
])
def test_published_ibans_pass(iban: str) -> None:
    assert iban_ok(iban)


@pytest.mark.parametrize("iban", ["GB82WEST12345698765433", "GB83WEST12345698765432", "FR14", "gb82west12345698765432"])
def test_altered_ibans_fail(iban: str) -> None:
    assert not iban_ok(iban)


def test_payment_instructions_are_required_and_normalised() -> None:
    assert IssuerIn.model_validate({**BASE, "iban": "gb82 west 1234 5698 7654 32"}).iban == "GB82WEST12345698765432"
    with pytest.raises(ValidationError) as missing:
        IssuerIn.model_validate(BASE)
    assert missing.value.errors()[0]["type"] == "iban_required"
    with pytest.raises(ValidationError) as accountant:
        IssuerIn.model_validate({**BASE, "payment_method": "public_accountant"})
    assert accountant.value.errors()[0]["loc"] == ("payment_details",)
    ok = IssuerIn.model_validate({**BASE, "payment_method": "public_accountant",
                                  "payment_details": "SGC de Rivebourg, 2 rue des Finances"})
    assert ok.iban == ""
