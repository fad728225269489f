"""Portal user accounts: created by the city (``lora-city user create``), authenticated with a password."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lora_city.errors import AlreadyExists, InvalidInput, NotFound
from lora_city.portal.i18n import LANGUAGES
from lora_city.services.passwords import hash_password, verify_password
from lora_city.services.principal import Role
from lora_city.storage.models import Tenant, User


def normalise_email(email: str) -> str:
    return email.strip().lower()


def create_user(
    session: Session, *, email: str, password: str, role: Role, tenant_slug: str, now: datetime,
    display_name: str = "", language: str = "fr",
) -> User:
    address = normalise_email(email)
    if "@" not in address:
        raise InvalidInput("not an e-mail address", code="invalid_email")
    if language not in LANGUAGES:
        raise InvalidInput(f"language must be one of {', '.join(LANGUAGES)}", code="invalid_language")
    tenant = session.scalar(select(Tenant).where(Tenant.slug == tenant_slug))
    if tenant is None:
        raise NotFound(f"tenant {tenant_slug!r} not found", code="tenant_not_found")
    if session.scalar(select(User.id).where(User.email == address)) is not None:
        raise AlreadyExists(f"user {address} already exists")
    try:
        password_hash = hash_password(password)
    except ValueError as exc:
        raise InvalidInput(str(exc), code="weak_password") from exc
    user = User(tenant_id=tenant.id, email=address, display_name=display_name or address, role=role.value,
                password_hash=password_hash, language=language, created_at=now)
    session.add(user)
    session.commit()
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this e-mail and password, else None (one answer for every failure)."""
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.is_active:
        return None
    return user


def end_sessions(session: Session, user_id: str) -> None:
    """Every portal session of the user ends at once: its cookies carry the old session version."""
    user = session.get(User, user_id)
    if user is not None:
        user.session_version += 1
        session.commit()


def set_active(session: Session, email: str, active: bool) -> User:
    """Disable (or enable again) an account; disabling ends its sessions at once."""
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise NotFound(f"user {normalise_email(email)} not found", code="user_not_found")
    user.is_active = active
    if not active:
        user.session_version += 1
    session.commit()
    return user


def set_language(session: Session, user_id: str, language: str) -> None:
    if language not in LANGUAGES:
        raise InvalidInput("unsupported language", code="invalid_language")
    user = session.get(User, user_id)
    if user is not None:
        user.language = language
        session.commit()
