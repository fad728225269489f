"""Dependencies of the routes, as ``Annotated`` aliases (full-stack-fastapi-template style): the application
context, a database session per request, the clock and the authenticated principal."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile as StarletteUploadFile

from lora_city.api.rate_limit import RateLimiter
from lora_city.codec.registry import CodecRegistry
from lora_city.errors import InvalidInput, Unauthenticated
from lora_city.metrics import Metrics
from lora_city.services import api_keys
from lora_city.services.auth_throttle import API_ADDRESS, API_KEY, AuthThrottle
from lora_city.services.idempotency import IdempotencyRequest
from lora_city.services.principal import Principal
from lora_city.services.queue import DownlinkNotifier
from lora_city.settings import Settings
from lora_city.storage.db import SessionFactory
from lora_city.storage.keys import KeyVault


@dataclass(frozen=True, slots=True)
class AppContext:
    settings: Settings
    session_factory: SessionFactory
    vault: KeyVault
    codecs: CodecRegistry | None
    notifier: DownlinkNotifier | None
    metrics: Metrics | None
    clock: Callable[[], datetime]
    # Told the DevEUI of a device whose keys, session, class or state the API changed, so the network server
    # drops its cached session and reloads it on the next frame (no stale keys after a re-activation).
    on_device_change: Callable[[str], None] | None = None
    # Told the id of a multicast group with a new queue item, so the network server sends it at once.
    group_notifier: Callable[[str], None] | None = None
    # Told the id of a gateway the API created, changed or deleted, so the network server applies its owner and
    # private flags (or its absence) to the next frame (issue 23, defect 1).
    on_gateway_change: Callable[[str], None] | None = None
    # Told when a firmware-update campaign was started, paused, resumed or cancelled: its orchestrator runs now.
    fuota_wake: Callable[[], None] | None = None

    def device_changed(self, dev_eui: str) -> None:
        if self.on_device_change is not None:
            self.on_device_change(dev_eui.lower())

    def gateway_changed(self, gateway_id: str) -> None:
        if self.on_gateway_change is not None:
            self.on_gateway_change(gateway_id.lower())


def get_context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.lora_city
    return ctx


ContextDep = Annotated[AppContext, Depends(get_context)]


def get_session(ctx: ContextDep) -> Iterator[Session]:
    with ctx.session_factory() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def get_now(ctx: ContextDep) -> datetime:
    return ctx.clock()


NowDep = Annotated[datetime, Depends(get_now)]

_bearer = HTTPBearer(auto_error=False, description="An API key, or the administrator token")


def client_address(request: Request) -> str:
    """The client's IP address as the HTTP server saw it (uvicorn's --forwarded-allow-ips behind a proxy)."""
    return request.client.host if request.client is not None else "unknown"


def get_principal(
    request: Request, ctx: ContextDep, session: SessionDep, now: NowDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """Authenticate the bearer token, within the guessing throttle (services/auth_throttle.py) and the rate
    limits (api/rate_limit.py)."""
    if credentials is None:
        raise Unauthenticated("missing bearer token (Authorization: Bearer <key>)")
    token = credentials.credentials
    throttle: AuthThrottle = request.app.state.auth_throttle
    subjects = [(API_ADDRESS, client_address(request))]
    prefix = api_keys.prefix_of(token)
    if prefix is not None:
        subjects.append((API_KEY, prefix))
    throttle.check(subjects)
    try:
        principal = api_keys.authenticate(session, token, admin_token=ctx.settings.admin_token, now=now)
    except Unauthenticated as exc:
        if exc.code != "tenant_suspended":  # a valid key of a suspended tenant is no guess
            throttle.failed("api_key", subjects, exc.message)
        raise
    limiter: RateLimiter = request.app.state.rate_limiter
    limiter.admit(principal)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


async def get_idempotency(
    request: Request, principal: CurrentPrincipal,
    idempotency_key: Annotated[str | None, Header(max_length=200, pattern=r"\S")] = None,  # not blank
) -> IdempotencyRequest | None:
    """The retry identity of an onboarding write: the key, the route and a hash of the exact request body."""
    if idempotency_key is None:
        return None
    if not idempotency_key.strip():
        raise InvalidInput("Idempotency-Key must not be blank", code="invalid_idempotency_key")
    return IdempotencyRequest.of(principal, idempotency_key, request.method, request.url.path,
                                 await canonical_body(request))


async def canonical_body(request: Request) -> bytes:
    """The request body as retries repeat it. A form is compared by its fields and file contents, not its raw
    bytes: a client picks a fresh multipart boundary on every retry (and FastAPI has consumed the stream)."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        return await request.body()
    parts: list[bytes] = []
    for name, value in (await request.form()).multi_items():
        if isinstance(value, StarletteUploadFile):
            content = await value.read()
            await value.seek(0)
            parts.append(f"{name}\0file\0{value.content_type}\0".encode() + content)
        else:
            parts.append(f"{name}\0{value}".encode())
    return b"\0\0".join(sorted(parts))


IdempotencyDep = Annotated[IdempotencyRequest | None, Depends(get_idempotency)]


def reject_repeated_query(request: Request) -> None:
    """No parameter of this API is a list: ``?after=a&after=b`` is an error, not a silent pick of the last."""
    seen: set[str] = set()
    for name, _ in request.query_params.multi_items():
        if name in seen:
            raise InvalidInput(f"query parameter {name!r} given more than once", code="repeated_parameter")
        seen.add(name)


SingleQueryValues = Depends(reject_repeated_query)
