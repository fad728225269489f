"""``Idempotency-Key``: a write retried with the same key and the same body gets the stored answer instead of
running twice; the same key with another body is an error (``idempotency_mismatch``), as in the IETF draft
"The Idempotency-Key HTTP Header Field". Keys are per principal, so two installers cannot collide.

The operation and the stored answer are committed in one transaction: a retry sees both or neither.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lora_city.errors import Conflict, InvalidInput
from lora_city.services.principal import Principal
from lora_city.storage.models import IdempotencyKey


@dataclass(frozen=True, slots=True)
class IdempotencyRequest:
    principal: str
    key: str
    method_path: str
    request_hash: str

    @classmethod
    def of(cls, principal: Principal, key: str, method: str, path: str, body: bytes) -> IdempotencyRequest:
        return cls(principal.identity, key.strip(), f"{method} {path}"[:300], hashlib.sha256(body).hexdigest())


@dataclass(frozen=True, slots=True)
class Outcome:
    status: int
    body: dict[str, Any]
    replayed: bool = False


def run(
    session: Session, idem: IdempotencyRequest | None, operation: Callable[[], Outcome], *, now: datetime,
) -> Outcome:
    """Run ``operation`` (which flushes but does not commit) once per key; commit it with its stored answer."""
    if idem is not None:
        stored = session.get(IdempotencyKey, (idem.principal, idem.key))
        if stored is not None:
            if stored.method_path != idem.method_path or stored.request_hash != idem.request_hash:
                raise InvalidInput("this Idempotency-Key was used with another request",
                                   code="idempotency_mismatch")
            return Outcome(stored.status, stored.response, replayed=True)
    try:
        outcome = operation()
        if idem is not None:
            session.add(IdempotencyKey(
                principal=idem.principal, key=idem.key, method_path=idem.method_path,
                request_hash=idem.request_hash, status=outcome.status, response=outcome.body, created_at=now,
            ))
        session.commit()
    except IntegrityError as exc:
        # Two retries racing: the loser's transaction is rolled back; it may retry and will be replayed.
        session.rollback()
        raise Conflict("a concurrent request with this Idempotency-Key is in progress; retry",
                       code="idempotency_in_progress") from exc
    except BaseException:
        session.rollback()
        raise
    return outcome
