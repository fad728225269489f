"""API keys: generated with ``secrets``, shown once, stored as a SHA-256 hash, found by a short prefix.

Why SHA-256 and not argon2: argon2 exists to slow down guessing of low-entropy passwords. These keys are 256
random bits; no amount of guessing finds one, so a fast hash is as safe and keeps authentication at a few
microseconds per request instead of tens of milliseconds.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from lora_city.errors import NotFound, PermissionDenied, Unauthenticated
from lora_city.services.common import as_utc, target_tenant, visible_only
from lora_city.services.principal import GRANTABLE, Perm, Principal, Role
from lora_city.storage.models import ApiKey, Tenant

KEY_MARK = "lck"  # "lora city key": lets secret scanners and people recognise a leaked key
# Writing last_used_at on every request would turn every read into a write; once a minute is precise enough.
LAST_USED_RESOLUTION = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class NewKey:
    row: ApiKey
    secret: str  # the full key: returned once, never stored


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(
    session: Session, principal: Principal, *, name: str, role: Role, tenant_id: str | None,
    expires_at: datetime | None = None, now: datetime,
) -> NewKey:
    principal.require(Perm.KEYS_WRITE)
    if role not in GRANTABLE[principal.role]:
        raise PermissionDenied(f"role {principal.role.value} may not create {role.value} keys")
    tenant = target_tenant(session, principal, tenant_id)
    prefix = secrets.token_hex(4)
    secret = f"{KEY_MARK}_{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiKey(
        tenant_id=tenant, name=name, prefix=prefix, key_hash=_hash(secret), role=role.value,
        expires_at=expires_at, created_at=now,
    )
    session.add(row)
    session.commit()
    return NewKey(row, secret)


def list_keys(session: Session, principal: Principal) -> list[ApiKey]:
    principal.require(Perm.KEYS_READ)
    stmt = select(ApiKey).order_by(ApiKey.created_at, ApiKey.id)
    stmt = visible_only(stmt, principal, ApiKey.tenant_id)
    return list(session.scalars(stmt))


def revoke_key(session: Session, principal: Principal, key_id: str, *, now: datetime) -> ApiKey:
    principal.require(Perm.KEYS_WRITE)
    row = session.get(ApiKey, key_id)
    if row is None or not principal.sees(row.tenant_id):
        raise NotFound("api key not found")
    if Role(row.role) not in GRANTABLE[principal.role]:
        raise PermissionDenied(f"role {principal.role.value} may not revoke {row.role} keys")
    if row.revoked_at is None:
        row.revoked_at = now
        session.commit()
    return row


def prefix_of(token: str) -> str | None:
    """The public prefix of something shaped like one of our keys (the throttle's account for it), else None."""
    parts = token.split("_", 2)
    if len(parts) == 3 and parts[0] == KEY_MARK and 0 < len(parts[1]) <= 16:
        return parts[1]
    return None


def authenticate(
    session: Session, token: str, *, admin_token: str | None, now: datetime,
) -> Principal:
    """The principal of a bearer token. Constant-time comparisons; one error for every kind of bad token."""
    if admin_token and hmac.compare_digest(token.encode(), admin_token.encode()):
        return Principal(Role.ADMIN, None)
    parts = token.split("_", 2)  # the random part may itself contain "_" (token_urlsafe)
    if len(parts) != 3 or parts[0] != KEY_MARK:
        raise Unauthenticated("invalid API key")
    digest = _hash(token)
    for row in session.scalars(select(ApiKey).where(ApiKey.prefix == parts[1])):
        if not hmac.compare_digest(row.key_hash, digest):
            continue
        expires = as_utc(row.expires_at)
        if row.revoked_at is not None or (expires is not None and expires <= now):
            raise Unauthenticated("API key revoked or expired")
        tenant = session.get(Tenant, row.tenant_id)
        if tenant is None or tenant.status != "active":  # a suspended tenant's keys are refused (issue 7)
            raise Unauthenticated("the tenant of this API key is suspended", code="tenant_suspended")
        last = as_utc(row.last_used_at)
        if last is None or now - last >= LAST_USED_RESOLUTION:
            row.last_used_at = now
            session.commit()
        return Principal(Role(row.role), row.tenant_id, row.id)
    raise Unauthenticated("invalid API key")
