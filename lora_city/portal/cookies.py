"""The portal's session cookie: a small JSON payload signed with HMAC-SHA256 under a key derived from
``Settings.secret_key``.

Why not itsdangerous: it is not one of the product's declared dependencies, and the whole need is one HMAC, a
timestamp and a constant-time comparison. The cookie carries the user's session version: logging out or
disabling the user bumps it, so every session issued before (a copied cookie too) ends at once; every request
re-reads the user anyway, so a deactivated account loses access at once.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, replace
from typing import Any

COOKIE_NAME = "lora_city_session"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True, slots=True)
class PortalSession:
    """What the cookie carries. ``user_id`` is None before login (the CSRF token of the login form lives here)."""

    csrf: str
    issued_at: float
    user_id: str | None = None
    language: str | None = None
    version: int = 0  # the user's session_version at login: a bumped version (logout, disable) ends this session

    @classmethod
    def anonymous(cls, now: float, language: str | None = None) -> PortalSession:
        return cls(csrf=secrets.token_urlsafe(32), issued_at=now, language=language)

    def logged_in(self, user_id: str, now: float, version: int = 0) -> PortalSession:
        # A fresh CSRF token at login: a token seen before authentication must not stay valid after it.
        return PortalSession(csrf=secrets.token_urlsafe(32), issued_at=now, user_id=user_id, language=self.language,
                             version=version)

    def with_language(self, language: str) -> PortalSession:
        return replace(self, language=language)


class SessionSigner:
    def __init__(self, secret_key: str, max_age_s: float) -> None:
        # A key of its own, derived from the master secret, so a portal cookie signature is never also valid
        # for another use of the same secret.
        self._key = hashlib.sha256(b"lora_city portal session\x00" + secret_key.encode()).digest()
        self.max_age_s = max_age_s

    def dumps(self, session: PortalSession) -> str:
        body: dict[str, Any] = {"c": session.csrf, "t": session.issued_at, "u": session.user_id, "l": session.language,
                                "v": session.version}
        payload = _b64(json.dumps(body, separators=(",", ":")).encode())
        return f"{payload}.{self._sign(payload)}"

    def loads(self, cookie: str | None, now: float) -> PortalSession | None:
        """The session, or None when the cookie is missing, forged, malformed or older than ``max_age_s``."""
        if not cookie or "." not in cookie:
            return None
        payload, signature = cookie.rsplit(".", 1)
        if not hmac.compare_digest(signature, self._sign(payload)):
            return None
        try:
            body = json.loads(_unb64(payload))
            session = PortalSession(csrf=str(body["c"]), issued_at=float(body["t"]), user_id=body["u"],
                                    language=body["l"], version=int(body.get("v", 0)))
        except (ValueError, KeyError, TypeError, binascii.Error):
            return None
        if now - session.issued_at > self.max_age_s or session.issued_at > now + 60:
            return None
        return session

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest())
