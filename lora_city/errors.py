"""The product's error tree. The API maps these to HTTP statuses in one table (lora_city/api/errors.py).

Protocol-level parse errors live in ``lora_city.lorawan.errors`` (pure layer, no dependency on this module).
"""

from __future__ import annotations

from typing import Any


class LoraCityError(Exception):
    """Base of every error the product raises on purpose."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if details is not None:  # machine-readable context the API returns as error.details (e.g. the asset)
            self.details = details


class NotFound(LoraCityError):
    code = "not_found"


class AlreadyExists(LoraCityError):
    code = "already_exists"


class InvalidInput(LoraCityError):
    code = "invalid_input"


class Unauthenticated(LoraCityError):
    code = "unauthenticated"


class PermissionDenied(LoraCityError):
    code = "permission_denied"


class QuotaExceeded(LoraCityError):
    code = "quota_exceeded"


class Conflict(LoraCityError):
    code = "conflict"


class TooManyRequests(LoraCityError):
    """Slow down: an API rate limit, or too many failed authentications. ``retry_after_s`` becomes the HTTP
    Retry-After header (RFC 9110 §10.2.3)."""

    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after_s: float, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after_s = retry_after_s


class ConfigurationError(LoraCityError):
    """A startup problem: bad manifest, duplicate codec id, unusable setting."""

    code = "configuration_error"


class DropFrame(Exception):
    """Drop this frame: nothing more to do. Counted by ``reason``, not logged as an error."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
