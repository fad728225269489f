"""Bulk import of devices from CSV: every bad row reported with its line and reason, and nothing imported unless
every row is good (one transaction).

Columns (header row required, order free): ``dev_eui``, ``name`` (required), ``join_eui``, ``app_key``,
``nwk_key``, ``codec``, ``device_class`` (A or C), ``application_id``, ``device_profile_id``, ``latitude``,
``longitude``, ``description``, ``tenant`` (tenant id or slug; default: the caller's tenant, else the city's).

Speed: rows are validated in Python, existing DevEUIs looked up in chunks and rows written with executemany
inserts, so 10,000 rows take about a second instead of 10,000 ORM round trips.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from lora_city.codec.registry import CodecRegistry
from lora_city.errors import InvalidInput, LoraCityError
from lora_city.services.common import hex_id, key_bytes, target_tenant
from lora_city.services.principal import Perm, Principal
from lora_city.storage.keys import KeyVault
from lora_city.storage.models import Application, Device, DeviceKeys, DeviceProfile, Tenant

COLUMNS = ("dev_eui", "name", "join_eui", "app_key", "nwk_key", "codec", "device_class", "application_id",
           "device_profile_id", "latitude", "longitude", "description", "tenant")
CHUNK = 1000
Progress = Callable[[str, int, int], None]  # (phase, done, total)


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    reason: str


class ImportRejected(InvalidInput):
    """At least one row is bad; nothing was imported. ``details`` lists every bad row."""

    code = "import_rejected"

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(f"{len(errors)} bad row(s); nothing imported")
        self.details = [{"line": e.line, "reason": e.reason} for e in errors]


@dataclass(frozen=True, slots=True)
class ImportResult:
    imported: int
    dry_run: bool


class _Lookups:
    """Everything a row may refer to, loaded once (not once per row)."""

    def __init__(self, session: Session, principal: Principal) -> None:
        self.session, self.principal = session, principal
        tenants = list(session.scalars(select(Tenant)))
        self.tenants = {t.id: t.id for t in tenants if principal.sees(t.id)}
        self.tenants.update({t.slug: t.id for t in tenants if principal.sees(t.id)})
        self.apps: dict[str, str] = {a: t for a, t in session.execute(select(Application.id, Application.tenant_id))}
        self.profiles: dict[str, str] = {
            p: t for p, t in session.execute(select(DeviceProfile.id, DeviceProfile.tenant_id))}


def _optional_float(value: str, low: float, high: float, field: str) -> float | None:
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        raise InvalidInput(f"{field} is not a number") from None
    if not low <= number <= high:
        raise InvalidInput(f"{field} out of range [{low}, {high}]")
    return number


def _row(
    raw: dict[str, str], lookups: _Lookups, default_tenant: str, codecs: CodecRegistry | None, vault: KeyVault,
    now: datetime,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    def get(name: str) -> str:
        return (raw.get(name) or "").strip()

    dev_eui = hex_id(get("dev_eui"), 8, "dev_eui")
    name = get("name")
    if not name or len(name) > 200:
        raise InvalidInput("name is required (at most 200 characters)")
    tenant = default_tenant
    if get("tenant"):
        if get("tenant") not in lookups.tenants:
            raise InvalidInput(f"unknown tenant {get('tenant')!r}")
        tenant = lookups.tenants[get("tenant")]
    codec = get("codec") or None
    if codec is not None and codecs is not None and codec not in codecs:
        raise InvalidInput(f"unknown codec {codec!r}")
    device_class = get("device_class").upper() or None
    if device_class not in (None, "A", "C"):
        raise InvalidInput("device_class must be A or C")
    app_id = get("application_id") or None
    if app_id is not None and (app_id not in lookups.apps or lookups.apps[app_id] != tenant):
        raise InvalidInput(f"application {app_id!r} not found in the device's tenant")
    profile_id = get("device_profile_id") or None
    if profile_id is not None and (profile_id not in lookups.profiles or lookups.profiles[profile_id] != tenant):
        raise InvalidInput(f"device profile {profile_id!r} not found in the device's tenant")
    device: dict[str, Any] = {
        "dev_eui": dev_eui, "tenant_id": tenant, "name": name, "description": get("description")[:1000],
        "join_eui": hex_id(get("join_eui") or "0" * 16, 8, "join_eui"), "codec_id": codec,
        "device_class": device_class, "application_id": app_id, "device_profile_id": profile_id,
        "latitude": _optional_float(get("latitude"), -90, 90, "latitude"),
        "longitude": _optional_float(get("longitude"), -180, 180, "longitude"),
        "is_disabled": False, "tags": {}, "created_at": now,
    }
    keys: dict[str, Any] | None = None
    if get("app_key"):
        ctx = dev_eui.encode()
        keys = {
            "dev_eui": dev_eui, "updated_at": now,
            "app_key_enc": vault.encrypt(key_bytes(get("app_key"), "app_key"), context=ctx),
            "nwk_key_enc": vault.encrypt(key_bytes(get("nwk_key"), "nwk_key"), context=ctx)
            if get("nwk_key") else None,
        }
    elif get("nwk_key"):
        raise InvalidInput("nwk_key needs app_key")
    return device, keys


def _existing(session: Session, dev_euis: list[str]) -> set[str]:
    found: set[str] = set()
    for i in range(0, len(dev_euis), CHUNK):
        found.update(session.scalars(select(Device.dev_eui).where(Device.dev_eui.in_(dev_euis[i:i + CHUNK]))))
    return found


def import_devices(
    session: Session, principal: Principal, vault: KeyVault, lines: Iterable[str], *,
    codecs: CodecRegistry | None = None, tenant_id: str | None = None, dry_run: bool = False, now: datetime,
    progress: Progress | None = None, total: int = 0,
) -> ImportResult:
    principal.require(Perm.DEVICES_WRITE)
    default_tenant = target_tenant(session, principal, tenant_id)
    reader = csv.DictReader(lines)
    header = [h.strip() for h in reader.fieldnames or []]
    missing = {"dev_eui", "name"} - set(header)
    unknown = set(header) - set(COLUMNS)
    if missing or unknown:
        problems = [f"missing column(s) {sorted(missing)}"] if missing else []
        problems += [f"unknown column(s) {sorted(unknown)}"] if unknown else []
        raise ImportRejected([RowError(1, "; ".join(problems))])
    reader.fieldnames = header
    lookups = _Lookups(session, principal)
    errors: list[RowError] = []
    devices: list[dict[str, Any]] = []
    keys: list[dict[str, Any]] = []
    first_line: dict[str, int] = {}
    for n, raw in enumerate(reader):
        line = reader.line_num
        if None in raw:
            errors.append(RowError(line, "more fields than columns"))
            continue
        try:
            device, key = _row(raw, lookups, default_tenant, codecs, vault, now)
        except LoraCityError as exc:
            errors.append(RowError(line, exc.message))
            continue
        if device["dev_eui"] in first_line:
            errors.append(RowError(line, f"dev_eui {device['dev_eui']} repeats line {first_line[device['dev_eui']]}"))
            continue
        first_line[device["dev_eui"]] = line
        devices.append(device)
        if key is not None:
            keys.append(key)
        if progress is not None and n % 500 == 0:
            progress("checking", n, total)
    for dev_eui in sorted(_existing(session, list(first_line)), key=first_line.__getitem__):
        errors.append(RowError(first_line[dev_eui], f"dev_eui {dev_eui} is already registered"))
    if not devices and not errors:
        errors.append(RowError(1, "no rows"))
    if errors:
        raise ImportRejected(sorted(errors, key=lambda e: e.line))
    if dry_run:
        return ImportResult(len(devices), dry_run=True)
    for i in range(0, len(devices), CHUNK):
        session.execute(insert(Device), devices[i:i + CHUNK])
        if progress is not None:
            progress("writing", min(i + CHUNK, len(devices)), len(devices))
    for i in range(0, len(keys), CHUNK):
        session.execute(insert(DeviceKeys), keys[i:i + CHUNK])
    session.commit()
    return ImportResult(len(devices), dry_run=False)


def import_text(text: str) -> io.StringIO:
    """CSV text as the line iterable ``import_devices`` reads (a leading byte-order mark is dropped)."""
    return io.StringIO(text.removeprefix("\ufeff"), newline="")


def decode_csv(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("the CSV file is not UTF-8", code="invalid_encoding") from None
