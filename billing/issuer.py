"""The issuer printed on every invoice (the city: legal identity, VAT rate, payment terms and instructions): one
model for the console's form, the API and ``lora-city billing config``. Issued invoices keep the copy they got."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError
from sqlalchemy.orm import Session

from billing.models import BillingConfig

_IBAN = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")


def iban_ok(iban: str) -> bool:
    """ISO 13616: move the first four characters to the end, letters to numbers (A=10 … Z=35), mod 97 == 1."""
    if not _IBAN.match(iban):
        return False
    moved = iban[4:] + iban[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


class IssuerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    legal_name: str = Field(min_length=1, max_length=200)
    address: str = Field(min_length=1, max_length=500)
    siret: str = Field(pattern=r"^\d{14}$")
    vat_number: str = Field(min_length=1, max_length=20)
    email: str = Field(default="", max_length=200)
    vat_rate_bp: int = Field(default=2000, ge=0, le=10_000)
    payment_days: int = Field(default=30, ge=0, le=60)  # L441-10: at most 60 days after the invoice date
    late_penalty: str = Field(default="3 fois le taux d'intérêt légal", min_length=1, max_length=200)
    payment_method: Literal["transfer", "public_accountant"] = "transfer"
    # An invoice must tell the customer how to pay: a bank account, or the public accountant to pay.
    iban: str = Field(default="", max_length=42, validate_default=True)
    bic: str = Field(default="", max_length=11)
    payment_details: str = Field(default="", max_length=500, validate_default=True)

    @field_validator("iban")
    @classmethod
    def _iban(cls, value: str, info: ValidationInfo) -> str:
        compact = value.replace(" ", "").upper()
        if compact and not iban_ok(compact):
            raise PydanticCustomError("iban_invalid", "not a valid IBAN (ISO 13616 check digits)")
        if not compact and info.data.get("payment_method") == "transfer":
            raise PydanticCustomError("iban_required", "a bank transfer needs the IBAN")
        return compact

    @field_validator("payment_details")
    @classmethod
    def _details(cls, value: str, info: ValidationInfo) -> str:
        if not value.strip() and info.data.get("payment_method") == "public_accountant":
            raise PydanticCustomError("payment_details_required", "name the public accountant and how to pay")
        return value.strip()

    @field_validator("bic")
    @classmethod
    def _bic(cls, value: str) -> str:
        compact = value.replace(" ", "").upper()
        if compact and not re.match(r"^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$", compact):
            raise PydanticCustomError("bic_invalid", "a BIC has 8 or 11 letters and digits (ISO 9362)")
        return compact


FIELDS = tuple(IssuerIn.model_fields)


def save_issuer(session: Session, data: IssuerIn) -> BillingConfig:
    row = session.get(BillingConfig, 1) or BillingConfig(id=1)
    for name in FIELDS:
        setattr(row, name, getattr(data, name))
    session.add(row)
    session.flush()
    return row
