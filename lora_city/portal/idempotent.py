"""Writes from the technician's phone survive a lost network: the page's script sends each form with an
``Idempotency-Key`` and, offline, keeps it and sends it again with the same key when the network returns. The
portal honours the key exactly as the API does (``services.idempotency``): the retry gets the stored answer,
the write happens once."""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import Depends, Header, Request

from lora_city.api.deps import canonical_body
from lora_city.errors import InvalidInput
from lora_city.portal.web import UserDep
from lora_city.services.idempotency import IdempotencyRequest


async def portal_idempotency(
    request: Request, user: UserDep, idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> IdempotencyRequest | None:
    if idempotency_key is None:
        return None  # a plain form post (no script): the browser's own resubmission rules apply
    if not idempotency_key.strip():
        raise InvalidInput("Idempotency-Key must not be blank", code="invalid_idempotency_key")
    return IdempotencyRequest.of(user.principal, f"portal:{idempotency_key}", request.method, request.url.path,
                                 await canonical_body(request))


PortalIdemDep = Annotated[IdempotencyRequest | None, Depends(portal_idempotency)]


def derived(idem: IdempotencyRequest | None, step: str, body: bytes) -> IdempotencyRequest | None:
    """The key of a second write made by the same form (the photo sent with a binding)."""
    if idem is None:
        return None
    return IdempotencyRequest(idem.principal, f"{idem.key}:{step}"[:200], f"{idem.method_path} {step}"[:300],
                              hashlib.sha256(body).hexdigest())
