"""Bulk import of devices from CSV: every problem of every line reported (a line with a bad DevEUI and an
unknown codec shows both), and nothing imported unless every line is good (one transaction).

Files as people save them: the separator is found from the header line (``,`` ``;`` or tab: a French Excel
writes ``;``), UTF-8 (with or without a byte-order mark), UTF-16 with its mark (Excel's "Unicode text") or
Windows-1252 (Excel's default "CSV" on a French Windows); the usual French and English column names are accepted
(``DevEUI``, ``AppKey``, ``Nom``, ``Classe``, ``Décodeur`` ...) and the mapping is part of the answer, so a dry
run shows which column became which field before anything is written.

Fields (``FIELDS``): ``dev_eui``, ``name`` (required), ``join_eui``, ``app_key``, ``nwk_key``, ``codec``,
``device_class`` (A, B or C), ``application_id``, ``device_profile_id`` (the profile's id or name), ``latitude``,
``longitude``,
``description``, ``tenant`` (tenant id or slug, the rule of the JSON API; default: the caller's tenant, else
the city's).

Speed: rows are validated in Python, existing DevEUIs looked up in chunks and rows written with executemany
inserts, so 10,000 rows take about a second instead of 10,000 ORM round trips.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from lora_city.codec.registry import CodecRegistry
from lora_city.errors import InvalidInput
from lora_city.services.common import hex_id, key_bytes, target_tenant
from lora_city.services.principal import Perm, Principal
from lora_city.storage.keys import KeyVault
from lora_city.storage.models import Application, Device, DeviceKeys, DeviceProfile, Tenant

FIELDS = ("dev_eui", "name", "join_eui", "app_key", "nwk_key", "codec", "device_class", "application_id",
          "device_profile_id", "latitude", "longitude", "description", "tenant")
COLUMNS = FIELDS  # the canonical column names (older name of this tuple)
# Column names people write, normalised (lowercase, no accent, no space, dash, underscore or dot) -> field.
ALIASES: dict[str, str] = {
    **{f.replace("_", ""): f for f in FIELDS},
    "eui": "dev_eui", "deviceeui": "dev_eui", "euidevice": "dev_eui", "euiducapteur": "dev_eui",
    "nom": "name", "devicename": "name", "nomducapteur": "name", "libelle": "name", "designation": "name",
    "label": "name", "appeui": "join_eui", "applicationeui": "join_eui", "joinappeui": "join_eui",
    "cleapplicative": "app_key", "applicationkey": "app_key", "networkkey": "nwk_key", "decodeur": "codec",
    "decoder": "codec", "payloadcodec": "codec", "class": "device_class", "classe": "device_class",
    "lorawanclass": "device_class", "application": "application_id", "profile": "device_profile_id",
    "profil": "device_profile_id", "deviceprofile": "device_profile_id", "profileid": "device_profile_id",
    "lat": "latitude", "lon": "longitude", "lng": "longitude", "long": "longitude", "commentaire": "description",
    "comment": "description", "remarque": "description", "locataire": "tenant", "tenantid": "tenant",
    "tenantslug": "tenant", "client": "tenant",
}
SEPARATORS = (",", ";", "\t")
CHUNK = 1000
Progress = Callable[[str, int, int], None]  # (phase, done, total)


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    reason: str  # in English, for the API and the CLI
    field: str = ""  # the field it concerns, when one does
    code: str = ""  # what went wrong, for a page to say it in its language (with ``params``)
    params: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Mapping:
    """How the file was read: its separator, and each column's field (None: not recognised)."""

    separator: str
    columns: list[tuple[str, str | None]] = field(default_factory=list)

    def as_dict(self) -> dict[str, str | None]:
        return dict(self.columns)

    @property
    def separator_name(self) -> str:
        return {",": "comma", ";": "semicolon", "\t": "tab"}.get(self.separator, "comma")


class ImportRejected(InvalidInput):
    """At least one line is bad; nothing was imported. ``details`` lists every problem of every line."""

    code = "import_rejected"

    def __init__(self, errors: list[RowError], mapping: Mapping | None = None) -> None:
        lines = len({e.line for e in errors})
        super().__init__(f"{len(errors)} problem(s) on {lines} line(s); nothing imported")
        self.errors = errors
        self.mapping = mapping
        self.details = [{"line": e.line, "field": e.field, "reason": e.reason} for e in errors]


@dataclass(frozen=True, slots=True)
class ImportResult:
    imported: int
    dry_run: bool
    mapping: Mapping | None = None


def normalise_column(name: str) -> str:
    text = unicodedata.normalize("NFKD", name.strip().lower())
    return "".join(c for c in text if c.isalnum())


def read_mapping(header: list[str], separator: str) -> Mapping:
    return Mapping(separator, [(h.strip(), ALIASES.get(normalise_column(h))) for h in header])


def sniff_separator(first_line: str) -> str:
    """The separator of the header line: the one of ``,`` ``;`` and tab that occurs most outside quotes."""
    counts = {sep: 0 for sep in SEPARATORS}
    quoted = False
    for char in first_line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(SEPARATORS, key=lambda sep: counts[sep])
    return best if counts[best] else ","


class _Lookups:
    """Everything a row may refer to, loaded once (not once per row)."""

    def __init__(self, session: Session, principal: Principal) -> None:
        self.session, self.principal = session, principal
        tenants = [t for t in session.scalars(select(Tenant)) if principal.sees(t.id)]
        self.by_id = {t.id: t.id for t in tenants}
        self.by_slug = {t.slug: t.id for t in tenants}
        self.apps: dict[str, str] = {a: t for a, t in session.execute(select(Application.id, Application.tenant_id))}
        self.profiles: dict[str, str] = {}
        self.profile_names: dict[tuple[str, str], str] = {}
        for pid, tid, name in session.execute(select(DeviceProfile.id, DeviceProfile.tenant_id, DeviceProfile.name)):
            self.profiles[pid] = tid
            self.profile_names.setdefault((tid, name.strip().lower()), pid)  # the oldest of a name wins

    def profile(self, ref: str, tenant: str) -> str | None:
        """A profile of the device's tenant, by id or by name (people write the name in a spreadsheet)."""
        if self.profiles.get(ref) == tenant:
            return ref
        return self.profile_names.get((tenant, ref.strip().lower()))

    def tenant(self, ref: str) -> str | None:
        """By id or slug, as ``services.common.resolve_tenant`` (the JSON API's rule), without a query per row."""
        return self.by_id.get(ref) or self.by_slug.get(ref.lower())


def _number(value: str, low: float, high: float, name: str, problems: list[RowError], line: int) -> float | None:
    if not value:
        return None
    try:
        number = float(value.replace(",", "."))  # 45,764 as a French spreadsheet writes it
    except ValueError:
        problems.append(RowError(line, f"{name} is not a number", name, "not_number"))
        return None
    if not low <= number <= high:
        problems.append(RowError(line, f"{name} out of range [{low}, {high}]", name, "out_of_range",
                                 (("low", f"{low:g}"), ("high", f"{high:g}"))))
        return None
    return number


def _hex(value: str, n_bytes: int, name: str, problems: list[RowError], line: int) -> str | None:
    try:
        return hex_id(value, n_bytes, name)
    except InvalidInput as exc:
        problems.append(RowError(line, exc.message, name, "hex", (("digits", str(2 * n_bytes)),)))
        return None


def _row(
    raw: dict[str, str], line: int, lookups: _Lookups, default_tenant: str, codecs: CodecRegistry | None,
    vault: KeyVault, now: datetime,
) -> tuple[dict[str, Any] | None, dict[str, Any] | None, list[RowError]]:
    """The device and its keys, or every problem of the line (each field checked, not just the first)."""
    problems: list[RowError] = []

    def get(name: str) -> str:
        return (raw.get(name) or "").strip()

    def bad(name: str, reason: str, code: str, **params: str) -> None:
        problems.append(RowError(line, reason, name, code, tuple(params.items())))

    dev_eui = _hex(get("dev_eui"), 8, "dev_eui", problems, line)
    name = get("name")
    if not name or len(name) > 200:
        bad("name", "name is required (at most 200 characters)", "name")
    tenant = default_tenant
    if get("tenant"):
        found = lookups.tenant(get("tenant"))
        if found is None:
            bad("tenant", f"unknown tenant {get('tenant')!r}", "unknown_tenant", value=get("tenant"))
        else:
            tenant = found
    codec = get("codec") or None
    if codec is not None and codecs is not None and codec not in codecs:
        bad("codec", f"unknown codec {codec!r}", "unknown_codec", value=codec)
    device_class = get("device_class").upper() or None
    if device_class not in (None, "A", "B", "C"):
        bad("device_class", "device_class must be A, B or C", "device_class")
    app_id = get("application_id") or None
    if app_id is not None and (app_id not in lookups.apps or lookups.apps[app_id] != tenant):
        bad("application_id", f"application {app_id!r} not found in the device's tenant", "unknown_application",
            value=app_id)
    profile_ref = get("device_profile_id") or None
    profile_id = lookups.profile(profile_ref, tenant) if profile_ref is not None else None
    if profile_ref is not None and profile_id is None:
        bad("device_profile_id", f"device profile {profile_ref!r} not found in the device's tenant",
            "unknown_profile", value=profile_ref)
    join_eui = _hex(get("join_eui") or "0" * 16, 8, "join_eui", problems, line)
    latitude = _number(get("latitude"), -90, 90, "latitude", problems, line)
    longitude = _number(get("longitude"), -180, 180, "longitude", problems, line)
    app_key = _hex(get("app_key"), 16, "app_key", problems, line) if get("app_key") else None
    nwk_key = _hex(get("nwk_key"), 16, "nwk_key", problems, line) if get("nwk_key") else None
    if get("nwk_key") and not get("app_key"):
        bad("nwk_key", "nwk_key needs app_key", "nwk_needs_app")
    if problems or dev_eui is None or join_eui is None:
        return None, None, problems
    device: dict[str, Any] = {
        "dev_eui": dev_eui, "tenant_id": tenant, "name": name, "description": get("description")[:1000],
        "join_eui": join_eui, "codec_id": codec, "device_class": device_class, "application_id": app_id,
        "device_profile_id": profile_id, "latitude": latitude, "longitude": longitude, "is_disabled": False,
        "tags": {}, "created_at": now,
    }
    keys: dict[str, Any] | None = None
    if app_key is not None:
        ctx = dev_eui.encode()
        keys = {
            "dev_eui": dev_eui, "updated_at": now,
            "app_key_enc": vault.encrypt(key_bytes(app_key, "app_key"), context=ctx),
            "nwk_key_enc": vault.encrypt(key_bytes(nwk_key, "nwk_key"), context=ctx) if nwk_key else None,
        }
    return device, keys, []


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
    rows = iter(lines)
    first = next(rows, "")
    separator = sniff_separator(first)
    reader = csv.reader(_chain(first, rows), delimiter=separator)
    header = next(reader, [])
    mapping = read_mapping(header, separator)
    fields = [f for _col, f in mapping.columns]
    problems: list[str] = []
    missing = [f for f in ("dev_eui", "name") if f not in fields]
    if missing:
        problems.append(f"missing column(s) {missing}")
    unknown = [col for col, f in mapping.columns if f is None]
    if unknown:
        problems.append(f"unknown column(s) {unknown} (known: {', '.join(FIELDS)})")
    twice = sorted({f for f in fields if f is not None and fields.count(f) > 1})
    if twice:
        problems.append(f"several columns for {twice}")
    if problems:
        raise ImportRejected([RowError(1, "; ".join(problems), "", "header",
                                       (("missing", ", ".join(missing)), ("unknown", ", ".join(unknown)),
                                        ("twice", ", ".join(twice))))], mapping)
    lookups = _Lookups(session, principal)
    errors: list[RowError] = []
    devices: list[dict[str, Any]] = []
    keys: list[dict[str, Any]] = []
    first_line: dict[str, int] = {}
    for n, values in enumerate(reader):
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue  # a blank line (spreadsheets leave some at the end)
        if len(values) > len(header):
            errors.append(RowError(line, "more fields than columns", "", "more_fields"))
            continue
        raw = {f: v for f, v in zip(fields, values, strict=False) if f is not None}
        device, key, row_errors = _row(raw, line, lookups, default_tenant, codecs, vault, now)
        if device is None:
            errors.extend(row_errors)
            continue
        if device["dev_eui"] in first_line:
            errors.append(RowError(line, f"dev_eui {device['dev_eui']} repeats line {first_line[device['dev_eui']]}",
                                   "dev_eui", "repeats", (("line", str(first_line[device["dev_eui"]])),)))
            continue
        first_line[device["dev_eui"]] = line
        devices.append(device)
        if key is not None:
            keys.append(key)
        if progress is not None and n % 500 == 0:
            progress("checking", n, total)
    for dev_eui in sorted(_existing(session, list(first_line)), key=first_line.__getitem__):
        errors.append(RowError(first_line[dev_eui], f"dev_eui {dev_eui} is already registered", "dev_eui",
                               "registered", (("value", dev_eui),)))
    if not devices and not errors:
        errors.append(RowError(1, "no rows", "", "no_rows"))
    if errors:
        raise ImportRejected(sorted(errors, key=lambda e: e.line), mapping)
    if dry_run:
        return ImportResult(len(devices), dry_run=True, mapping=mapping)
    for i in range(0, len(devices), CHUNK):
        session.execute(insert(Device), devices[i:i + CHUNK])
        if progress is not None:
            progress("writing", min(i + CHUNK, len(devices)), len(devices))
    for i in range(0, len(keys), CHUNK):
        session.execute(insert(DeviceKeys), keys[i:i + CHUNK])
    session.commit()
    return ImportResult(len(devices), dry_run=False, mapping=mapping)


def _chain(first: str, rest: Iterable[str]) -> Iterable[str]:
    yield first
    yield from rest


def import_text(text: str) -> io.StringIO:
    """CSV text as the line iterable ``import_devices`` reads (a leading byte-order mark is dropped)."""
    return io.StringIO(text.removeprefix("\ufeff"), newline="")


def decode_csv(data: bytes) -> str:
    """The file's text: UTF-16 when it starts with its byte-order mark (Excel's "Unicode text"), else UTF-8, else
    Windows-1252 (what Excel writes for "CSV" on a French Windows: "Nom;Réf." in bytes that are not UTF-8)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    else:
        for encoding in ("utf-8", "cp1252"):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                continue
    raise InvalidInput("the CSV file is neither UTF-8, UTF-16 nor Windows-1252 text", code="invalid_encoding")
