"""``mount_portal``: the one function the composition root calls to serve the web portal beside the API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import jinja2
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from lora_city.alerts.service import AlertService
from lora_city.codec.registry import CodecRegistry
from lora_city.portal import alert_text, measures
from lora_city.portal.context import PortalContext
from lora_city.portal.cookies import SessionSigner
from lora_city.portal.extras import PortalExtras
from lora_city.portal.routes import (
    accounts,
    alert_rules,
    auth,
    catalogue,
    console,
    console_fuota,
    console_gateways,
    console_lighting,
    console_lighting_groups,
    console_lighting_schedules,
    console_locks,
    console_opendata,
    console_profiles,
    console_tenants,
    device_admin,
    device_downlinks,
    devices,
    integrations,
    keys,
    lessee,
    live,
    not_found,
    technician,
    technician_assets,
)
from lora_city.services.queue import DownlinkNotifier
from lora_city.settings import Settings
from lora_city.storage.db import SessionFactory
from lora_city.storage.keys import KeyVault

HERE = Path(__file__).resolve().parent
SESSION_MAX_AGE_S = 8 * 3600  # a working day: a lost phone's session does not outlive the shift


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _templates(extra_dirs: tuple[Path, ...] = ()) -> jinja2.Environment:
    # The core's templates first: a plugin's page extends base.html and imports _form.html from here.
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([HERE / "templates", *extra_dirs]), autoescape=True,
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
    )
    env.globals["measure_label"] = measures.label
    env.globals["measure_value"] = measures.value
    return env


def mount_portal(
    app: FastAPI,
    *,
    settings: Settings,
    session_factory: SessionFactory,
    vault: KeyVault,
    alerts: AlertService | None = None,
    codecs: CodecRegistry | None = None,
    notifier: DownlinkNotifier | None = None,
    extras: PortalExtras = PortalExtras(),
    clock: Callable[[], datetime] = _utcnow,
    prefix: str = "/portal",
    secure_cookies: bool = True,
    session_max_age_s: float = SESSION_MAX_AGE_S,
) -> None:
    """Add the portal's pages under ``prefix`` and its static files under ``{prefix}/static``.

    ``app`` is normally the API's (``lora_city.api.create_app``), so one server answers both. ``extras`` carries
    billing/ and tenants/ functions (invoices, quota gauges, usage export, plans, billing runs) adapted by the
    composition root; every one is optional. ``secure_cookies=False`` only for plain-HTTP development.
    """
    if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
        raise ValueError("prefix must start with '/' and not end with it")
    app.state.portal = PortalContext(
        settings=settings, session_factory=session_factory, vault=vault,
        alerts=alerts or AlertService(session_factory, clock), codecs=codecs, notifier=notifier,
        extras=extras, clock=clock, signer=SessionSigner(settings.secret_key, session_max_age_s),
        templates=_templates(tuple(extras.template_dirs)), prefix=prefix, secure_cookies=secure_cookies,
    )
    app.state.portal.templates.globals["alert_message"] = alert_text.jinja_global(session_factory)
    # Static files first, the catch-all 404 page last: routes are matched in the order they were added.
    app.mount(f"{prefix}/static", StaticFiles(directory=HERE / "static"), name="portal-static")
    # technician_assets before technician: /install/assets/... must not be taken for /install/{dev_eui}/...
    # device_admin before devices: /devices/new and /devices/import are not device pages
    for module in (auth, accounts, alert_rules, lessee, device_admin, device_downlinks, devices, live, keys,
                   integrations, console, console_gateways, console_lighting, console_lighting_groups,
                   console_lighting_schedules, console_locks, console_opendata, console_profiles, console_tenants,
                   catalogue, console_fuota, technician_assets, technician):
        app.include_router(module.router, prefix=prefix, include_in_schema=False)
    for router in extras.routers:  # plugins' pages, before the catch-all
        app.include_router(router, prefix=prefix, include_in_schema=False)
    app.include_router(not_found.router, prefix=prefix, include_in_schema=False)
