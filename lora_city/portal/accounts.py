"""Portal accounts managed from the portal: the city's staff and each tenant's people, invited by a link that
lets them choose their first password (nothing is e-mailed: whoever invites copies the link shown once), their
role changed, their access disabled and enabled again.

Who may manage whom follows the API keys' rule (``GRANTABLE``): an administrator any role, an operator every
role but administrator, a tenant administrator the people of its own tenant (tenant roles only). City roles
(admin, operator, technician) belong to the city's tenant; tenant roles to a lessee or a city service.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lora_city.errors import AlreadyExists, Conflict, InvalidInput, NotFound, PermissionDenied
from lora_city.portal.users import normalise_email
from lora_city.services.common import as_utc, db_time, resolve_tenant
from lora_city.services.passwords import hash_password
from lora_city.services.principal import GRANTABLE, Principal, Role
from lora_city.storage.bootstrap import CITY_SLUG
from lora_city.storage.models import Tenant, User, UserInvitation

INVITATION_TTL = timedelta(days=7)
NO_PASSWORD = "!invited"  # not an argon2 hash: no password verifies against it until the invitation is used
CITY_ROLES = frozenset({Role.ADMIN, Role.OPERATOR, Role.TECHNICIAN})
TENANT_ROLES = frozenset({Role.TENANT_ADMIN, Role.TENANT_VIEWER})


class InviteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=200, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    display_name: str = Field(default="", max_length=200)
    role: Role
    tenant: str | None = Field(default=None, max_length=64)  # id or slug; default: the inviter's
    language: str = Field(default="fr", pattern="^(fr|en)$")

    @field_validator("email")
    @classmethod
    def _lower(cls, value: str) -> str:
        return normalise_email(value)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def may_manage(principal: Principal, role: Role) -> bool:
    return role in GRANTABLE[principal.role]


def grantable(principal: Principal) -> list[Role]:
    return [r for r in Role if may_manage(principal, r)]


def _check_role(session: Session, principal: Principal, role: Role, tenant_id: str) -> None:
    if not may_manage(principal, role):
        raise PermissionDenied(f"role {principal.role.value} may not give the role {role.value}",
                               code="role_not_grantable")
    tenant = session.get(Tenant, tenant_id)
    is_city = tenant is not None and tenant.slug == CITY_SLUG
    if role in CITY_ROLES and not is_city:
        raise InvalidInput(f"the role {role.value} belongs to the city's staff", code="role_tenant_mismatch")
    if role in TENANT_ROLES and is_city:
        raise InvalidInput(f"the role {role.value} belongs to a tenant's people", code="role_tenant_mismatch")


MANAGERS = frozenset({Role.ADMIN, Role.OPERATOR, Role.TENANT_ADMIN})


def _require_manager(principal: Principal) -> None:
    if principal.role not in MANAGERS:
        raise PermissionDenied(f"role {principal.role.value} does not manage accounts")


def list_users(session: Session, principal: Principal, tenant_id: str | None = None) -> list[User]:
    _require_manager(principal)
    stmt = select(User).order_by(User.email)
    only = principal.tenant_filter()
    if only is not None:
        stmt = stmt.where(User.tenant_id == only)
    if tenant_id is not None:
        stmt = stmt.where(User.tenant_id == tenant_id)
    return list(session.scalars(stmt))


def get_user(session: Session, principal: Principal, user_id: str) -> User:
    user = session.get(User, user_id)
    if user is None or not principal.sees(user.tenant_id):
        raise NotFound("user not found")  # another tenant's account: 404 before any permission talk
    _require_manager(principal)
    return user


def pending(session: Session, user_ids: list[str], now: datetime) -> dict[str, datetime]:
    """Users still to choose their first password: their invitation's expiry."""
    rows = session.execute(select(UserInvitation.user_id, UserInvitation.expires_at).where(
        UserInvitation.user_id.in_(user_ids), UserInvitation.used_at.is_(None),
        UserInvitation.expires_at > db_time(session, now)))
    return {uid: as_utc(exp) for uid, exp in rows if exp is not None}  # type: ignore[misc]


def invite(session: Session, principal: Principal, data: InviteIn, *, actor: str, now: datetime
           ) -> tuple[User, str]:
    """A new account without a password, and the token of its invitation link (shown once)."""
    _require_manager(principal)
    tenant_id = resolve_tenant(session, principal, data.tenant) if data.tenant else (
        principal.tenant_id or _city(session))
    _check_role(session, principal, data.role, tenant_id)
    if session.scalar(select(User.id).where(User.email == data.email)) is not None:
        raise AlreadyExists(f"an account {data.email} already exists", code="email_taken")
    user = User(tenant_id=tenant_id, email=data.email, display_name=data.display_name.strip() or data.email,
                role=data.role.value, password_hash=NO_PASSWORD, language=data.language, created_at=now)
    session.add(user)
    session.flush()
    token = _new_invitation(session, user, actor, now)
    session.commit()
    return user, token


def reinvite(session: Session, principal: Principal, user_id: str, *, actor: str, now: datetime) -> str:
    """A fresh link (the earlier ones stop working): for an expired invitation or a forgotten password."""
    user = get_user(session, principal, user_id)
    _check_role(session, principal, Role(user.role), user.tenant_id)
    token = _new_invitation(session, user, actor, now)
    session.commit()
    return token


def _new_invitation(session: Session, user: User, actor: str, now: datetime) -> str:
    session.execute(update(UserInvitation).where(UserInvitation.user_id == user.id,
                                                 UserInvitation.used_at.is_(None)).values(used_at=now))
    token = secrets.token_urlsafe(32)
    session.add(UserInvitation(user_id=user.id, token_hash=_token_hash(token), created_by=actor, created_at=now,
                               expires_at=now + INVITATION_TTL))
    return token


def _city(session: Session) -> str:
    city = session.scalar(select(Tenant.id).where(Tenant.slug == CITY_SLUG))
    if city is None:
        raise NotFound("the city's tenant does not exist")
    return city


def invitation(session: Session, token: str, now: datetime) -> tuple[UserInvitation, User]:
    """The open invitation of this token; NotFound for an unknown, used or expired one (one answer for all)."""
    row = session.scalar(select(UserInvitation).where(UserInvitation.token_hash == _token_hash(token)))
    expires = as_utc(row.expires_at) if row is not None else None
    if row is None or row.used_at is not None or expires is None or expires <= now:
        raise NotFound("this invitation link is unknown, already used or expired", code="invitation_invalid")
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise NotFound("this invitation link is unknown, already used or expired", code="invitation_invalid")
    return row, user


def accept(session: Session, token: str, password: str, *, now: datetime) -> User:
    """Set the invited person's password (the link is then used up)."""
    row, user = invitation(session, token, now)
    try:
        user.password_hash = hash_password(password)
    except ValueError as exc:
        raise InvalidInput(str(exc), code="weak_password") from exc
    row.used_at = now
    session.commit()
    return user


def set_role(session: Session, principal: Principal, user_id: str, role: Role, *, acting_user: str) -> User:
    user = get_user(session, principal, user_id)
    _check_role(session, principal, Role(user.role), user.tenant_id)  # may the principal touch this account?
    _check_role(session, principal, role, user.tenant_id)
    if user.id == acting_user and role is not Role(user.role):
        raise Conflict("you cannot change your own role", code="own_account")
    user.role = role.value
    session.commit()
    return user


def set_active(session: Session, principal: Principal, user_id: str, active: bool, *, acting_user: str) -> User:
    """Disable (the next request of that person is refused: the session re-reads the account) or enable."""
    user = get_user(session, principal, user_id)
    _check_role(session, principal, Role(user.role), user.tenant_id)
    if user.id == acting_user and not active:
        raise Conflict("you cannot disable your own account", code="own_account")
    user.is_active = active
    if not active:  # its sessions end for good: enabling the account again does not revive a copied cookie
        user.session_version += 1
    session.commit()
    return user
