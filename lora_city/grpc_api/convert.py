"""Translations between ChirpStack's protobuf enums and lora_city's values; timestamps; paging.

Only what lora_city supports maps; anything else is refused (INVALID_ARGUMENT) rather than misread: a US915
profile stored as EU868 would be silently wrong on air.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar

from chirpstack_api import common
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from lora_city.errors import InvalidInput
from lora_city.services.common import as_utc

T = TypeVar("T")

MAC_VERSIONS: dict[int, str] = {
    common.LORAWAN_1_0_2: "1.0.2",
    common.LORAWAN_1_0_3: "1.0.3",
    common.LORAWAN_1_0_4: "1.0.4",
    common.LORAWAN_1_1_0: "1.1.0",
}
MAC_VERSION_ENUM = {text: value for value, text in MAC_VERSIONS.items()}
REGIONS: dict[int, str] = {common.EU868: "EU868"}
REGION_ENUM = {text: value for value, text in REGIONS.items()}
# lora_city runs RP002-1.0.3 regional parameters; older revisions describe the same EU868 plan.
REG_PARAMS_REVISION = common.RP002_1_0_3


def mac_version(value: int) -> str:
    try:
        return MAC_VERSIONS[value]
    except KeyError:
        name = common.MacVersion.Name(value) if value in common.MacVersion.values() else str(value)
        raise InvalidInput(f"mac_version {name} is not supported (1.0.2, 1.0.3, 1.0.4, 1.1.0 are)",
                           code="unsupported_mac_version") from None


def region(value: int) -> str:
    try:
        return REGIONS[value]
    except KeyError:
        name = common.Region.Name(value) if value in common.Region.values() else str(value)
        raise InvalidInput(f"region {name} is not supported (EU868 is)", code="unsupported_region") from None


def uuid_id(value: str, field: str = "id") -> str:
    """A ChirpStack UUID argument, canonical; a malformed one is INVALID_ARGUMENT (not NOT_FOUND), as ChirpStack."""
    try:
        return str(uuid.UUID(value.strip()))
    except (ValueError, AttributeError):
        raise InvalidInput(f"{field} is not a UUID: {value!r}", code="invalid_id") from None


def optional_uuid(value: str, field: str) -> str | None:
    return uuid_id(value, field) if value else None


def eui_id(value: str, field: str = "dev_eui") -> str:
    """An EUI-64 argument (DevEUI, gateway id): 16 hex digits, lowercase; else INVALID_ARGUMENT."""
    text = value.strip().lower()
    if len(text) != 16 or any(c not in "0123456789abcdef" for c in text):
        raise InvalidInput(f"{field} must be 16 hex digits: {value!r}", code="invalid_id")
    return text


def timestamp(value: datetime | None) -> Timestamp | None:
    utc = as_utc(value)
    if utc is None:
        return None
    ts = Timestamp()
    ts.FromDatetime(utc)
    return ts


def window(items: Sequence[T], offset: int, limit: int) -> list[T]:
    """ChirpStack's offset/limit paging over an already filtered list (limit 0 means none: ChirpStack
    returns no rows then, only the total count)."""
    return list(items[offset:offset + limit])


def walk(fetch: Callable[[str | None], Sequence[T]], key: Callable[[T], str], page: int = 1000) -> list[T]:
    """Every row of a keyset-paged service listing (the services page by key, ChirpStack by offset)."""
    rows: list[T] = []
    after: str | None = None
    while True:
        chunk = fetch(after)
        rows.extend(chunk)
        if len(chunk) < page:
            return rows
        after = key(chunk[-1])


def matches(search: str, *texts: str) -> bool:
    needle = search.strip().lower()
    return not needle or any(needle in text.lower() for text in texts)


def unsupported(message: Message, supported: set[str] | frozenset[str], prefix: str) -> list[str]:
    """The fields set in ``message`` (proto3: set means non-default) that are not in ``supported``."""
    return [f"{prefix}.{desc.name}" for desc, _value in message.ListFields() if desc.name not in supported]


def slugify(name: str) -> str:
    """A lora_city tenant slug from a ChirpStack tenant name (ChirpStack has no slug)."""
    # "Métropole" -> "metropole": accents dropped rather than turned into separators.
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:63].strip("-")
    return slug or "tenant"
