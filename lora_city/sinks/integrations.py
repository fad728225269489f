"""Tenant integrations as configured in the ``integrations`` table; webhook secrets encrypted with KeyVault."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select

from lora_city.storage.db import SessionFactory, transaction
from lora_city.storage.keys import KeyVault
from lora_city.storage.models import Integration, new_id


@dataclass(frozen=True, slots=True)
class Webhook:
    id: str
    tenant_id: str
    url: str
    secret: bytes

    @property
    def target(self) -> str:
        return f"webhook:{self.id}"


def _context(integration_id: str) -> bytes:
    # Binds the ciphertext to its row: a secret copied onto another integration does not decrypt.
    return b"integration:" + integration_id.encode()


class IntegrationStore:
    def __init__(self, session_factory: SessionFactory, vault: KeyVault) -> None:
        self._factory = session_factory
        self._vault = vault

    def add_webhook(self, tenant_id: str, url: str, secret: str | None = None) -> tuple[str, str]:
        """Returns (integration id, the secret): shown once to the tenant, then only kept encrypted."""
        secret = secret or secrets.token_urlsafe(32)
        integration_id = new_id()
        with transaction(self._factory) as s:
            s.add(Integration(
                id=integration_id, tenant_id=tenant_id, kind="webhook", url=url,
                secret=self._vault.encrypt(secret.encode(), context=_context(integration_id)), enabled=True,
            ))
        return integration_id, secret

    def set_enabled(self, integration_id: str, enabled: bool) -> None:
        with transaction(self._factory) as s:
            row = s.get(Integration, integration_id)
            if row is not None:
                row.enabled = enabled

    def webhooks(self) -> list[Webhook]:
        with self._factory() as s:
            rows = s.scalars(select(Integration).where(Integration.kind == "webhook", Integration.enabled))
            return [
                Webhook(r.id, r.tenant_id, r.url,
                        self._vault.decrypt(r.secret, context=_context(r.id)) if r.secret else b"")
                for r in rows
            ]
