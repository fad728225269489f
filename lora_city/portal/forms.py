"""HTML forms to the services' input models, with every problem shown next to its field in the page's language.

A form posts text. ``read_form`` turns each field into the type the service's (strict) pydantic model wants,
following a small spec (``{"latitude": FLOAT, "name": TEXT, ...}``); a value that does not convert is an error of
that field. ``validate`` then runs the model and maps each pydantic error to its field; ``field_error`` turns a
product error (``InvalidInput`` with a ``code``) into a field's error by a table the page gives. The page renders
``errors[field]`` under the field (``_form.html``'s macros), with ``aria-invalid`` and ``aria-describedby`` so a
screen reader announces it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from pydantic import BaseModel, ValidationError

from lora_city.errors import LoraCityError

M = TypeVar("M", bound=BaseModel)
Translate = Callable[..., str]


class Kind(Enum):
    TEXT = "text"  # stripped; empty -> absent (the model's default)
    REQUIRED_TEXT = "required_text"  # stripped; empty -> "" (the model says it is too short)
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"  # a checkbox: present -> True, absent -> False
    EUROS = "euros"  # "12,50" or "12.50" -> 1250 (integer cents)
    EUROS_MILLI = "euros_milli"  # a unit price with up to five decimals -> integer millicents
    PERCENT_BP = "percent_bp"  # "20" or "5,5" (%) -> 2000 / 550 basis points


TEXT, REQUIRED_TEXT, INT, FLOAT, BOOL = Kind.TEXT, Kind.REQUIRED_TEXT, Kind.INT, Kind.FLOAT, Kind.BOOL
EUROS, EUROS_MILLI, PERCENT_BP = Kind.EUROS, Kind.EUROS_MILLI, Kind.PERCENT_BP


@dataclass
class FormResult:
    """What the person typed (to show it again), the converted data and the errors by field."""

    values: dict[str, str] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def _decimal(text: str) -> Decimal:
    # French writes 12,50 and may group thousands with a (narrow) space: 1 234,50
    cleaned = text.replace("\u202f", "").replace("\xa0", "").replace(" ", "").replace(",", ".")
    value = Decimal(cleaned)
    if not value.is_finite():
        raise InvalidOperation(text)
    return value


def _scaled(text: str, factor: int, places: int) -> int:
    value = _decimal(text)
    scaled = value * factor
    if scaled != scaled.to_integral_value() or value.as_tuple().exponent < -places:  # type: ignore[operator]
        raise InvalidOperation(text)
    return int(scaled)


def read_form(raw: Mapping[str, str], spec: Mapping[str, Kind], t: Translate) -> FormResult:
    """Convert the posted fields of ``spec``; empty optional fields are left out (the model's default)."""
    result = FormResult()
    for name, kind in spec.items():
        text = str(raw.get(name, "") or "").strip()
        result.values[name] = text
        if kind is BOOL:
            result.data[name] = text not in ("", "false", "0", "off")
            continue
        if kind is REQUIRED_TEXT:
            result.data[name] = text
            continue
        if not text:
            continue
        try:
            if kind is TEXT:
                result.data[name] = text
            elif kind is INT:
                result.data[name] = int(text.replace(" ", ""))
            elif kind is FLOAT:
                result.data[name] = float(_decimal(text))
            elif kind is EUROS:
                result.data[name] = _scaled(text, 100, 2)
            elif kind is EUROS_MILLI:
                result.data[name] = _scaled(text, 100_000, 5)
            elif kind is PERCENT_BP:
                result.data[name] = _scaled(text, 100, 2)
        except (ValueError, InvalidOperation):
            key = {INT: "form.integer", EUROS: "form.amount", EUROS_MILLI: "form.unit_price",
                   PERCENT_BP: "form.percent"}.get(kind, "form.number")
            result.errors[name] = t(key)
    return result


def pydantic_message(error: Mapping[str, Any], t: Translate) -> str:
    """One pydantic error in the page's language (the common kinds; the rest fall back to a generic text)."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    own = t(f"form.{kind}", **ctx)  # a model's own error kind (PydanticCustomError) with its catalogue text
    if own != f"form.{kind}":
        return own
    if kind == "missing":
        return t("form.required")
    if kind == "string_too_short":
        return t("form.required") if ctx.get("min_length", 1) <= 1 else t("form.too_short", n=ctx.get("min_length"))
    if kind == "string_too_long":
        return t("form.too_long", n=ctx.get("max_length"))
    if kind in ("greater_than_equal", "greater_than"):
        return t("form.min", n=ctx.get("ge", ctx.get("gt")))
    if kind in ("less_than_equal", "less_than"):
        return t("form.max", n=ctx.get("le", ctx.get("lt")))
    if kind in ("string_pattern_mismatch", "literal_error", "enum"):
        return t("form.invalid_choice") if kind != "string_pattern_mismatch" else t("form.pattern")
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return t("form.integer")
    if kind in ("float_type", "float_parsing"):
        return t("form.number")
    return t("form.invalid", detail=str(error.get("msg", "")))


# A field with a fixed format (an EUI, a SIRET) explains the format rather than a length or "invalid format"
FORMAT_ERRORS = {"string_pattern_mismatch", "string_too_short", "string_too_long"}


def validate(model: type[M], form: FormResult, t: Translate, *, extra: Mapping[str, Any] | None = None,
             where: Callable[[tuple[Any, ...]], str] | None = None,
             formats: Mapping[str, str] | None = None) -> M | None:
    """``model`` built from the form's data (plus ``extra``), or None with ``form.errors`` filled. ``formats``
    names, per field, the catalogue text that explains its expected format (shown for a pattern mismatch).

    Runs even when some fields failed to convert, so every problem of the form is shown at once; those fields
    keep their conversion error."""
    try:
        built = model.model_validate({**form.data, **(extra or {})})
        return built if form.ok else None
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(error.get("loc", ()))
            name = where(loc) if where is not None else (str(loc[0]) if loc else "_form")
            if formats and name in formats and error.get("type") in FORMAT_ERRORS:
                form.errors.setdefault(name, t(formats[name]))  # "14 digits" says more than "invalid format"
            form.errors.setdefault(name, pydantic_message(error, t))
        return None


def field_error(form: FormResult, exc: LoraCityError, fields_by_code: Mapping[str, str], t: Translate,
                messages: Mapping[str, str] | None = None) -> None:
    """A product error shown beside the field it concerns (by its code), else at the top of the form.
    ``messages`` maps a code to a catalogue key for a translated text; otherwise the service's message."""
    name = fields_by_code.get(exc.code, "_form")
    key = (messages or {}).get(exc.code) or f"error.{exc.code}"
    text = t(key)
    form.errors[name] = exc.message if text == key else text  # the catalogue's, else the service's words


async def posted(request: Request) -> dict[str, str]:
    """Every text field of the posted form (files left out), for pages whose fields are not known in advance
    (tier rows, a codec's downlink fields). FastAPI parses the body once; ``Form()`` parameters still work."""
    form = await request.form()
    return {key: value for key, value in form.multi_items() if isinstance(value, str)}


PostedDep = Annotated[dict[str, str], Depends(posted)]
