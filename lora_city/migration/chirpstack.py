"""Import a ChirpStack v4 export (``source.Export``) into lora_city through lora_city's own services.

Safe to run twice: every object is first matched against what lora_city already holds — tenants by slug (made
from the name), applications and device profiles by name within their tenant, devices by DevEUI, gateways by
gateway id — and a match is left as it is. Two applications (or profiles) with one name in one ChirpStack
tenant are told apart by a suffix made from their ChirpStack id, so a re-run finds the same ones.

Dry run: the same matching and validation (service input models, EUIs, keys, codec scripts evaluated in
QuickJS), and nothing written — no database row, no codec folder.

Everything that cannot be carried over is in the report: unsupported fields, unsupported regions or MAC
versions (and the devices that use such a profile), codecs that do not load.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from chirpstack_api import api
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from lora_city.codec.js import JsLimits
from lora_city.errors import LoraCityError
from lora_city.grpc_api.convert import slugify, unsupported
from lora_city.grpc_api.mapping import (
    TENANT_FIELDS,
    abp_activation,
    device_fields,
    gateway_fields,
    profile_fields,
    root_keys,
    tenant_settings,
)
from lora_city.migration import codecs as codec_folders
from lora_city.migration.source import DeviceExport, Export, TenantExport
from lora_city.services import activation as activation_svc
from lora_city.services import applications as app_svc
from lora_city.services import devices as device_svc
from lora_city.services import gateways as gateway_svc
from lora_city.services import profiles as profile_svc
from lora_city.services import tenants as tenant_svc
from lora_city.services.common import hex_id, key_bytes
from lora_city.services.principal import Principal, Role
from lora_city.storage.db import SessionFactory
from lora_city.storage.keys import KeyVault
from lora_city.storage.models import Application, Device, DeviceProfile, Gateway, Tenant

log = logging.getLogger(__name__)
T = TypeVar("T")
# The operator runs the import with the database's own credentials: the built-in administrator's rights.
OPERATOR = Principal(Role.ADMIN, None)
# Not read at all: ChirpStack's API gives no password hashes, no API key secrets and no used DevNonces (an OTAA
# device's replay protection starts afresh), and lora_city has its own integrations (sinks) and no multicast.
NOT_READ = ("users", "API keys", "integrations", "multicast groups", "relays", "FUOTA deployments",
            "used DevNonces")


@dataclass
class Report:
    dry_run: bool
    created: Counter[str] = field(default_factory=Counter)
    matched: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    not_carried: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        verb = "would create" if self.dry_run else "created"
        kinds = ["tenant", "application", "device profile", "codec", "device", "activation", "gateway"]
        out = [f"{kind + 's':<16} {self.created[kind]:>6} {verb}, {self.matched[kind]:>6} already there"
               + (f", {self.updated[kind]} updated" if self.updated[kind] else "") for kind in kinds]
        out.append(f"not read from ChirpStack: {', '.join(NOT_READ)}")
        if self.not_carried:
            out.append("not carried over:")
            out.extend(f"  - {line}" for line in self.not_carried)
        return out


@dataclass
class _Profile:
    id: str
    mac_version: str


class ChirpStackImporter:
    def __init__(
        self, factory: SessionFactory, vault: KeyVault, *, codecs_dir: Path, now: datetime,
        js_limits: JsLimits | None = None, dry_run: bool = False,
    ) -> None:
        self._factory = factory
        self._vault = vault
        self._codecs_dir = codecs_dir
        self._now = now
        self._limits = js_limits or JsLimits()
        self._dry = dry_run
        self.report = Report(dry_run)

    def run(self, export: Export) -> Report:
        with self._factory() as session:
            for tenant in export.tenants:
                self._tenant(session, tenant)
        return self.report

    # -- helpers ---------------------------------------------------------------------------------------------
    def _lost(self, what: str, fields: list[str]) -> None:
        if fields:
            self.report.not_carried.append(f"{what}: {', '.join(f.split('.', 1)[1] for f in fields)}")

    def _attempt(self, session: Session, what: str, action: Callable[[], T]) -> T | None:
        """Run one creation; a refusal rolls back that object only and is reported."""
        try:
            return action()
        except (LoraCityError, ValidationError) as exc:
            session.rollback()
            reason = exc.message if isinstance(exc, LoraCityError) else _validation(exc)
            self.report.not_carried.append(f"{what}: {reason}")
            return None

    # -- tenants ---------------------------------------------------------------------------------------------
    def _tenant(self, session: Session, t: TenantExport) -> None:
        what = f"tenant {t.tenant.name!r}"
        self._lost(what, unsupported(t.tenant, TENANT_FIELDS, "tenant"))
        slug = slugify(t.tenant.name)
        row = session.scalar(select(Tenant).where(Tenant.slug == slug))
        tenant_id: str | None
        if row is not None:
            self.report.matched["tenant"] += 1
            tenant_id = row.id
        else:
            data = self._attempt(session, what, lambda: tenant_svc.TenantCreate(name=t.tenant.name, slug=slug,
                                                                                **tenant_settings(t.tenant)))
            tenant_id = None if self._dry or data is None else self._attempt(
                session, what, lambda: tenant_svc.create_tenant(session, OPERATOR, data).id)
            if data is None or (tenant_id is None and not self._dry):
                self.report.not_carried.append(
                    f"{what}: so neither its {len(t.applications)} applications, {len(t.profiles)} device profiles,"
                    f" {len(t.devices)} devices nor {len(t.gateways)} gateways")
                return
            self.report.created["tenant"] += 1
        apps = self._applications(session, tenant_id, t)
        profiles = self._profiles(session, tenant_id, t)
        for d in t.devices:
            self._device(session, tenant_id, d, apps, profiles)
        for g in t.gateways:
            self._gateway(session, tenant_id, t.tenant, g)

    # -- applications and profiles ---------------------------------------------------------------------------
    def _applications(self, session: Session, tenant_id: str | None, t: TenantExport) -> dict[str, str]:
        ids: dict[str, str] = {}
        names = _unique_names([(a.id, a.name) for a in t.applications])
        for a in t.applications:
            found = self._application(session, tenant_id, a, names[a.id])
            if found is not None:
                ids[a.id] = found
        return ids

    def _application(self, session: Session, tenant_id: str | None, a: api.Application, name: str) -> str | None:
        """The lora_city id (a placeholder in a dry run), or None when the application is not carried over."""
        what = f"application {name!r}"
        self._lost(what, unsupported(a, {"id", "name", "description", "tenant_id"}, "application"))
        row = None if tenant_id is None else session.scalar(
            select(Application).where(Application.tenant_id == tenant_id, Application.name == name))
        if row is not None:
            self.report.matched["application"] += 1
            return row.id
        data = self._attempt(session, what, lambda: app_svc.ApplicationCreate(
            name=name, description=a.description, tenant_id=tenant_id))
        if data is None:
            return None
        if self._dry:
            self.report.created["application"] += 1
            return f"dry-run:{a.id}"
        app = self._attempt(session, what, lambda: app_svc.create_application(session, OPERATOR, data))
        if app is None:
            return None
        self.report.created["application"] += 1
        return app.id

    def _profiles(self, session: Session, tenant_id: str | None, t: TenantExport) -> dict[str, _Profile]:
        out: dict[str, _Profile] = {}
        names = _unique_names([(p.id, p.name) for p in t.profiles])
        for p in t.profiles:
            found = self._profile(session, tenant_id, p, names[p.id])
            if found is not None:
                out[p.id] = found
        return out

    def _profile(self, session: Session, tenant_id: str | None, p: api.DeviceProfile, name: str) -> _Profile | None:
        what = f"device profile {name!r}"
        ignored: list[str] = []
        fields = self._attempt(session, what, lambda: profile_fields(p, ignored, None))
        if fields is None:
            return None
        fields["name"] = name
        if p.payload_codec_runtime == api.JS:
            ignored = [f for f in ignored if f != "device_profile.payload_codec_script"]
            fields["codec_id"] = self._codec(p, name)
        self._lost(what, ignored)
        row = None if tenant_id is None else session.scalar(
            select(DeviceProfile).where(DeviceProfile.tenant_id == tenant_id, DeviceProfile.name == name))
        if row is not None:
            self.report.matched["device profile"] += 1
            return _Profile(row.id, row.mac_version)
        data = self._attempt(session, what, lambda: profile_svc.ProfileCreate(tenant_id=tenant_id, **fields))
        if data is None:
            return None
        if self._dry:
            self.report.created["device profile"] += 1
            return _Profile(f"dry-run:{p.id}", data.mac_version or "1.0.3")
        created = self._attempt(session, what, lambda: profile_svc.create_profile(session, OPERATOR, data))
        if created is None:
            return None
        self.report.created["device profile"] += 1
        return _Profile(created.id, created.mac_version)

    def _codec(self, p: api.DeviceProfile, name: str) -> str | None:
        what = f"codec of device profile {name!r}"
        try:
            folder = codec_folders.prepare(p.id, p.name, p.payload_codec_script, self._limits)
            result = codec_folders.outcome(self._codecs_dir, folder)
            if not self._dry:
                result = codec_folders.write(self._codecs_dir, folder)
        except LoraCityError as exc:
            self.report.not_carried.append(f"{what} (the profile is imported without it): {exc.message}")
            return None
        if "variables" in p.payload_codec_script:
            # ChirpStack hands codecs the device variables (input.variables); lora_city has none to give.
            self.report.not_carried.append(f"{what}: it reads device variables, which lora_city does not pass")
        {"created": self.report.created, "updated": self.report.updated,
         "unchanged": self.report.matched}[result]["codec"] += 1
        return folder.codec_id

    # -- devices ---------------------------------------------------------------------------------------------
    def _device(self, session: Session, tenant_id: str | None, d: DeviceExport,
                apps: dict[str, str], profiles: dict[str, _Profile]) -> None:
        dev = d.device
        what = f"device {dev.dev_eui}"
        if dev.application_id not in apps:
            self.report.not_carried.append(f"{what}: its application was not carried over")
            return
        profile = profiles.get(dev.device_profile_id)
        if profile is None:
            self.report.not_carried.append(f"{what}: its device profile was not carried over")
            return
        ignored: list[str] = []
        data = self._attempt(session, what, lambda: self._device_input(d, tenant_id, apps, profile, ignored))
        if data is None:
            return
        create, abp = data
        self._lost(what, ignored)  # also for a device already there: the report is the same on every run
        existing = session.get(Device, hex_id(create.dev_eui, 8, "dev_eui"))
        if existing is not None:
            if tenant_id is not None and existing.tenant_id != tenant_id:
                self.report.not_carried.append(f"{what}: already registered in another lora_city tenant")
            else:
                self.report.matched["device"] += 1
            return
        if not self._dry:
            device = self._attempt(session, what, lambda: device_svc.register_device(
                session, OPERATOR, self._vault, create, now=self._now, commit=abp is None))
            if device is None:
                return
            if abp is not None:
                def activate() -> bool:
                    activation_svc.activate_abp(session, OPERATOR, self._vault, device.dev_eui, abp, now=self._now)
                    if dev.is_disabled:  # activating enables a device; ChirpStack's disabled flag wins
                        device_svc.update_device(session, OPERATOR, self._vault, device.dev_eui,
                                                 device_svc.DeviceFields(is_disabled=True), now=self._now)
                    return True

                # register_device did not commit: a refused activation rolls the device back with it.
                if self._attempt(session, what, activate) is None:
                    return
        self.report.created["device"] += 1
        self.report.created["activation"] += abp is not None

    def _device_input(
        self, d: DeviceExport, tenant_id: str | None, apps: dict[str, str], profile: _Profile,
        ignored: list[str],
    ) -> tuple[device_svc.DeviceCreate, activation_svc.AbpActivation | None]:
        fields: dict[str, Any] = device_fields(d.device, ignored)
        fields["device_profile_id"] = None if self._dry else profile.id
        if d.keys is not None:
            keys = root_keys(profile.mac_version, d.keys, ignored)
            fields.update(app_key=keys.app_key, nwk_key=keys.nwk_key)
        create = device_svc.DeviceCreate(dev_eui=d.device.dev_eui, tenant_id=tenant_id,
                                         application_id=None if self._dry else apps[d.device.application_id],
                                         **fields)
        hex_id(create.dev_eui, 8, "dev_eui")
        hex_id(create.join_eui or "", 8, "join_eui")
        for name in ("app_key", "nwk_key"):
            if (value := getattr(create, name)) is not None:
                key_bytes(value, name)
        abp = None
        if d.activation is not None and d.activation.dev_addr:
            abp = abp_activation(profile.mac_version, d.activation, ignored)
            hex_id(abp.dev_addr, 4, "dev_addr")
            for name in ("nwk_s_key", "f_nwk_s_int_key", "s_nwk_s_int_key", "nwk_s_enc_key", "app_s_key"):
                if (value := getattr(abp, name)) is not None:
                    key_bytes(value, name)
        return create, abp

    # -- gateways --------------------------------------------------------------------------------------------
    def _gateway(self, session: Session, tenant_id: str | None, tenant: api.Tenant, g: api.Gateway) -> None:
        what = f"gateway {g.gateway_id}"
        ignored: list[str] = []
        fields = self._attempt(session, what, lambda: gateway_fields(g, ignored))
        if fields is None:
            return
        self._lost(what, ignored)
        existing = session.get(Gateway, g.gateway_id.lower())
        if existing is not None:
            if tenant_id is not None and existing.tenant_id != tenant_id:
                self.report.not_carried.append(f"{what}: already registered in another lora_city tenant")
            else:
                self.report.matched["gateway"] += 1
            return
        # ChirpStack's private flags are the tenant's; lora_city keeps them on each gateway.
        data = self._attempt(session, what, lambda: gateway_svc.GatewayCreate(
            gateway_id=g.gateway_id, tenant_id=tenant_id, private_up=tenant.private_gateways_up,
            private_down=tenant.private_gateways_down, **fields))
        if data is None:
            return
        if not self._dry and self._attempt(
                session, what, lambda: gateway_svc.create_gateway(session, OPERATOR, data)) is None:
            return
        self.report.created["gateway"] += 1


def _unique_names(items: list[tuple[str, str]]) -> dict[str, str]:
    """ChirpStack allows one name twice in a tenant; lora_city matching by name would merge them."""
    count = Counter(name for _id, name in items)
    return {i: name if count[name] == 1 else f"{name} ({i.replace('-', '')[:8]})" for i, name in items}


def _validation(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg']}" for e in exc.errors())
