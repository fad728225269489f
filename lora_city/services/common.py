"""Small helpers every service uses: tenant resolution, hex identifiers, UTC times, opaque page cursors."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVarTuple

from pydantic import BeforeValidator, ConfigDict, Field, Strict
from pydantic.json_schema import SkipJsonSchema
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from lora_city.errors import InvalidInput, NotFound
from lora_city.services.principal import Principal
from lora_city.storage.bootstrap import ensure_city_tenant
from lora_city.storage.models import Tenant

MAX_PAGE = 1000
# The largest value of an sa.Integer column on every supported database (PostgreSQL's INTEGER is 4 bytes):
# the bound of an integer field of the API that is stored in one, so the schema refuses what the database would.
DB_INT_MAX = 2**31 - 1
# Input models are strict: a schema says "boolean" or "number", so 0 is not false and false is not 0.0.
INPUT_CONFIG = ConfigDict(extra="forbid", strict=True)
# ``T | NotNull`` on a PATCH field: may be left out, but null is no value for it. The published schema says so
# (no "null" in it), and the service refuses a null with a 422, as the schema then promises.
NotNull = SkipJsonSchema[None]
Clock = Callable[[], datetime]
_HEX = re.compile(r"^[0-9a-fA-F]*$")
_Columns = TypeVarTuple("_Columns")


def hex_pattern(n_bytes: int) -> str:
    """What ``hex_id`` takes, as a schema pattern: the hex digits, with spaces, tabs, colons or hyphens between
    them (as key sheets print them). Explicit characters rather than ``\\s``: JSON Schema, Python and pydantic's
    regex engines do not agree on what whitespace is."""
    return rf"^[ \t]*[0-9A-Fa-f](?:[ \t:-]*[0-9A-Fa-f]){{{2 * n_bytes - 1}}}[ \t]*$"


def hex_field(n_bytes: int, **kw: Any) -> Any:
    """A ``Field`` for an EUI (8), DevAddr (4) or key (16) whose published schema says exactly what is accepted."""
    return Field(min_length=2 * n_bytes, max_length=4 * n_bytes, pattern=hex_pattern(n_bytes), **kw)


def hex_id(value: str, n_bytes: int, field: str) -> str:
    """An EUI, DevAddr or key as lowercase MSB-first hex of exactly ``n_bytes`` bytes. Spaces, colons and hyphens
    between the digits are ignored: key sheets and labels print them in groups."""
    text = "".join(value.split()).replace("-", "").replace(":", "")
    if len(text) != 2 * n_bytes or not _HEX.match(text):
        raise InvalidInput(f"{field} must be {2 * n_bytes} hex digits", code="invalid_" + field)
    return text.lower()


def key_bytes(value: str, field: str) -> bytes:
    return bytes.fromhex(hex_id(value, 16, field))


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite gives back naive datetimes (stored as UTC); PostgreSQL gives aware ones. Return aware UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def resolve_tenant(session: Session, principal: Principal, ref: str) -> str:
    """The id of the tenant ``ref`` names: its id or its slug, the one rule of the JSON API, the CSV import and
    the portal's forms. Another tenant's is NotFound, as an unknown one (naming it is not an existence oracle)."""
    text = ref.strip()
    tenant = session.get(Tenant, text)
    if tenant is None:
        tenant = session.scalar(select(Tenant).where(Tenant.slug == text.lower()))
    if tenant is None or not principal.sees(tenant.id):
        raise NotFound(f"tenant {text!r} not found", code="tenant_not_found")
    return tenant.id


def target_tenant(session: Session, principal: Principal, tenant_id: str | None) -> str:
    """The tenant a new object belongs to: the one asked for, by id or slug (if the caller may act there), else
    the caller's own, else the city's (the built-in administrator has no tenant)."""
    if tenant_id is None:
        return principal.tenant_id or ensure_city_tenant(session).id
    return resolve_tenant(session, principal, tenant_id)


def require_same_tenant(obj_tenant: str, tenant_id: str, what: str) -> None:
    if obj_tenant != tenant_id:
        raise InvalidInput(f"{what} belongs to another tenant than the device", code="tenant_mismatch")


def visible_only(stmt: Select[*_Columns], principal: Principal, tenant_column: Any,
                 tenant_id: str | None = None) -> Select[*_Columns]:
    """``stmt`` restricted to what the principal may see (its own tenant, unless it sees every tenant) and, when
    ``tenant_id`` is given, to that tenant: every listing filters this way, so isolation lives in one place."""
    if (only := principal.tenant_filter()) is not None:
        stmt = stmt.where(tenant_column == only)
    if tenant_id is not None:
        stmt = stmt.where(tenant_column == tenant_id)
    return stmt


def page_limit(limit: int) -> int:
    if limit < 1 or limit > MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}", code="invalid_limit")
    return limit


def encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, default=str).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, n: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidInput("cursor is not one this API gave out", code="invalid_cursor") from exc
    if not isinstance(values, list) or len(values) != n:
        raise InvalidInput("cursor is not one this API gave out", code="invalid_cursor")
    return values


def parse_time(value: Any) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise InvalidInput("cursor is not one this API gave out", code="invalid_cursor") from exc
    result = as_utc(parsed)
    assert result is not None
    return result


def db_time(session: Session, value: datetime) -> datetime:
    """A bound for comparisons with stored times: SQLite stores naive UTC text, PostgreSQL timestamptz."""
    utc = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    if session.get_bind().dialect.name == "sqlite":
        return utc.replace(tzinfo=None)
    return utc



def _iso_text(value: Any) -> Any:
    # pydantic alone would also take 0 or "3" as seconds since 1970: the schema promises an ISO 8601 date-time.
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and "T" in value.upper():
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed
    raise ValueError("expected an RFC 3339 date-time with a UTC offset, e.g. 2026-12-31T23:00:00Z")


# A date-time given as ISO 8601 text (strict models would refuse text; lax ones would take 0 as 1970).
IsoTime = Annotated[datetime, Strict(False), BeforeValidator(_iso_text)]
