"""Everything the portal's pages need, built once by ``mount_portal`` and kept on ``app.state.portal``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import jinja2

from lora_city.alerts.service import AlertService
from lora_city.codec.registry import CodecRegistry
from lora_city.portal.cookies import SessionSigner
from lora_city.portal.extras import PortalExtras
from lora_city.services.queue import DownlinkNotifier
from lora_city.settings import Settings
from lora_city.storage.db import SessionFactory
from lora_city.storage.keys import KeyVault


@dataclass(frozen=True, slots=True)
class PortalContext:
    settings: Settings
    session_factory: SessionFactory
    vault: KeyVault
    alerts: AlertService
    codecs: CodecRegistry | None
    notifier: DownlinkNotifier | None
    extras: PortalExtras
    clock: Callable[[], datetime]
    signer: SessionSigner
    templates: jinja2.Environment
    prefix: str  # where the pages live, e.g. "/portal"
    secure_cookies: bool
