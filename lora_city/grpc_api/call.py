"""One gRPC call: bearer authentication, a database session, the error table and the ignored-fields report.

Every servicer method is written as ``def Method(self, call: Call, request) -> Response`` and wrapped by
``rpc``: the wrapper is the boundary that catches, maps the product's error tree to gRPC status codes (the
same codes ChirpStack uses) and logs once with the method name.
"""

from __future__ import annotations

import functools
import hmac
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar

import grpc
from google.protobuf.message import Message
from pydantic import ValidationError
from sqlalchemy.orm import Session

from lora_city import errors
from lora_city.codec.registry import CodecRegistry
from lora_city.grpc_api.convert import unsupported
from lora_city.services.api_keys import authenticate, prefix_of
from lora_city.services.auth_throttle import API_ADDRESS, API_KEY, AuthThrottle, Subject
from lora_city.services.common import Clock
from lora_city.services.principal import Principal
from lora_city.services.queue import DownlinkNotifier
from lora_city.storage.db import SessionFactory
from lora_city.storage.keys import KeyVault

log = logging.getLogger(__name__)

IGNORED_HEADER = "x-lora-city-ignored-fields"
PUSHBACK_HEADER = "grpc-retry-pushback-ms"  # gRFC A6: the client waits this long before a retry
WITHHELD_HEADER = "x-lora-city-withheld-fields"

STATUS: dict[type[errors.LoraCityError], grpc.StatusCode] = {
    errors.NotFound: grpc.StatusCode.NOT_FOUND,
    errors.AlreadyExists: grpc.StatusCode.ALREADY_EXISTS,
    errors.InvalidInput: grpc.StatusCode.INVALID_ARGUMENT,
    errors.Unauthenticated: grpc.StatusCode.UNAUTHENTICATED,
    errors.PermissionDenied: grpc.StatusCode.PERMISSION_DENIED,
    errors.QuotaExceeded: grpc.StatusCode.RESOURCE_EXHAUSTED,
    errors.TooManyRequests: grpc.StatusCode.RESOURCE_EXHAUSTED,
    errors.Conflict: grpc.StatusCode.FAILED_PRECONDITION,
    errors.ConfigurationError: grpc.StatusCode.INTERNAL,
}


def status_for(exc: errors.LoraCityError) -> grpc.StatusCode:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return grpc.StatusCode.INVALID_ARGUMENT


@dataclass(frozen=True, slots=True)
class Deps:
    """What every handler needs; built once by ``start_grpc_server``."""

    factory: SessionFactory
    vault: KeyVault
    admin_token: str | None
    clock: Clock
    codecs: CodecRegistry | None = None
    notifier: DownlinkNotifier | None = None
    net_id: str = "000000"  # DevAddrs handed out by GetRandomDevAddr carry this NetID's prefix
    on_gateway_change: Callable[[str], None] | None = None  # the network server reloads that gateway at once
    on_device_change: Callable[[str], None] | None = None  # the network server forgets the device's cache
    live: LiveState | None = None  # the network server's in-memory state (frame counters, duty cycle, streams)
    map_tile_url: str | None = None  # InternalService.Settings' tile server
    group_notifier: Callable[[str], None] | None = None  # the network server sends a group's new item at once
    throttle: AuthThrottle | None = None  # password and key guessing, shared with the HTTP API and the portal


class LiveState(Protocol):
    """What the running network server can tell the API that the database does not (yet) hold."""

    def next_f_cnt_down(self, dev_eui: str) -> int | None:
        """The frame counter the device's next application downlink will carry; None: no live session."""

    def duty_cycle(self, gateway_id: str) -> list[tuple[str, float, float, float]]:
        """Per sub-band of the region: (name, duty-cycle limit, airtime used in the last hour s, budget s)."""

    def stream_events(self, dev_eui: str, context: grpc.ServicerContext) -> Iterator[Any]: ...

    def stream_frames(self, gateway_id: str, context: grpc.ServicerContext) -> Iterator[Any]: ...


@dataclass(slots=True)
class Call:
    session: Session
    caller: Principal | None  # None only inside an unauthenticated call (Login)
    deps: Deps
    now: datetime
    ignored: list[str] = field(default_factory=list)
    withheld: list[str] = field(default_factory=list)
    context: grpc.ServicerContext | None = None  # for the streams, which follow the client's lifetime
    address: str = "unknown"  # the client's IP address (the guessing throttle counts per address)

    @property
    def principal(self) -> Principal:
        if self.caller is None:
            raise errors.Unauthenticated("authorization metadata with a bearer token is required")
        return self.caller

    def ignore(self, message: Message, supported: Iterable[str], prefix: str) -> None:
        """Record every field the caller set that lora_city does not carry (proto3: set = non-default)."""
        self.ignored.extend(unsupported(message, set(supported), prefix))


def bearer(context: grpc.ServicerContext) -> str:
    for key, value in context.invocation_metadata() or ():
        if key == "authorization" and isinstance(value, str):
            scheme, _, token = value.partition(" ")
            if hmac.compare_digest(scheme.lower().encode(), b"bearer") and token.strip():
                return token.strip()
    raise errors.Unauthenticated("authorization metadata with a bearer token is required")


def peer_address(context: grpc.ServicerContext) -> str:
    """The client's IP address from gRPC's peer string (``ipv4:127.0.0.1:50051``, ``ipv6:[::1]:50051``)."""
    peer = context.peer() or ""
    kind, _, rest = peer.partition(":")
    if kind in ("ipv4", "ipv6"):
        return rest.rsplit(":", 1)[0].strip("[]")
    return peer or "unknown"


def _authenticate(deps: Deps, session: Session, context: grpc.ServicerContext, address: str,
                  now: datetime) -> Principal:
    """The bearer token, within the same guessing throttle as the HTTP API (services/auth_throttle.py): per key
    prefix and per client address, RESOURCE_EXHAUSTED while throttled, every failure audited."""
    token = bearer(context)
    if deps.throttle is None:
        return authenticate(session, token, admin_token=deps.admin_token, now=now)
    subjects: list[Subject] = [(API_ADDRESS, address)]
    prefix = prefix_of(token)
    if prefix is not None:
        subjects.append((API_KEY, prefix))
    deps.throttle.check(subjects)
    try:
        return authenticate(session, token, admin_token=deps.admin_token, now=now)
    except errors.Unauthenticated as exc:
        if exc.code != "tenant_suspended":  # a valid key of a suspended tenant is no guess
            deps.throttle.failed("api_key", subjects, exc.message)
        raise


def _validation_message(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or 'request'}: {err['msg']}" for err in exc.errors()
    )


Self = TypeVar("Self", bound="Handler")
Req = TypeVar("Req")
Resp = TypeVar("Resp")


class Handler:
    """Base of every servicer: holds the dependencies its handlers reach through ``Call.deps``."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps


def _run(deps: Deps, name: str, context: grpc.ServicerContext, body: Callable[[Call], Any], auth: bool) -> Any:
    try:
        with deps.factory() as session:
            now = deps.clock()
            principal = None
            address = peer_address(context)
            if auth:
                principal = _authenticate(deps, session, context, address, now)
            call = Call(session, principal, deps, now, context=context, address=address)
            response = body(call)
            trailers = []
            if call.ignored:
                log.warning("grpc %s: fields not supported by lora_city were ignored: %s", name,
                            ", ".join(call.ignored))
                trailers.append((IGNORED_HEADER, ",".join(call.ignored)))
            if call.withheld:
                trailers.append((WITHHELD_HEADER, ",".join(call.withheld)))
            if trailers:
                context.set_trailing_metadata(tuple(trailers))
            return response
    except errors.LoraCityError as exc:
        code = status_for(exc)
        if isinstance(exc, errors.TooManyRequests):  # gRFC A6 server pushback: when a retry may succeed
            context.set_trailing_metadata(((PUSHBACK_HEADER, str(max(1, round(exc.retry_after_s * 1000)))),))
        if code is grpc.StatusCode.INTERNAL:
            log.error("grpc %s failed: %s", name, exc.message)
        context.abort(code, exc.message)
    except ValidationError as exc:
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, _validation_message(exc))
    except Exception:
        log.exception("grpc %s failed", name)
        context.abort(grpc.StatusCode.INTERNAL, "internal error")


def rpc(fn: Callable[[Self, Call, Req], Resp]) -> Callable[[Self, Req, grpc.ServicerContext], Resp]:
    @functools.wraps(fn)
    def method(self: Self, request: Req, context: grpc.ServicerContext) -> Resp:
        result: Resp = _run(self.deps, fn.__qualname__, context, lambda call: fn(self, call, request), True)
        return result

    return method


def stream_rpc(fn: Callable[[Self, Call, Req], Iterator[Resp]]
               ) -> Callable[[Self, Req, grpc.ServicerContext], Iterator[Resp]]:
    """A server-streaming method: authenticated and checked like ``rpc`` (its database session closed before the
    first item), then the items of the generator it returns."""

    @functools.wraps(fn)
    def method(self: Self, request: Req, context: grpc.ServicerContext) -> Iterator[Resp]:
        items: Iterator[Resp] = _run(self.deps, fn.__qualname__, context, lambda call: fn(self, call, request), True)
        yield from items

    return method


def quiet_unimplemented(servicer: type[Any]) -> type[Any]:
    """Every method of ChirpStack's service that lora_city does not offer answers UNIMPLEMENTED through
    ``context.abort``: the generated servicer's default raises NotImplementedError, which grpcio logs as an
    ERROR with a traceback for every call."""
    for base in servicer.__mro__:
        if base.__module__.startswith("chirpstack_api") and base.__name__.endswith("Servicer"):
            for name, fn in vars(base).items():
                if callable(fn) and not name.startswith("_") and getattr(servicer, name) is fn:
                    setattr(servicer, name, _unimplemented(f"{base.__name__.removesuffix('Servicer')}.{name}"))
    return servicer


def _unimplemented(name: str) -> Callable[[Any, Any, grpc.ServicerContext], Any]:
    def method(_self: Any, _request: Any, context: grpc.ServicerContext) -> Any:
        context.abort(grpc.StatusCode.UNIMPLEMENTED, f"{name} is not offered by lora_city")

    return method


def public_rpc(fn: Callable[[Self, Call, Req], Resp]) -> Callable[[Self, Req, grpc.ServicerContext], Resp]:
    """Like ``rpc`` without authentication (Login: the caller has no token yet)."""

    @functools.wraps(fn)
    def method(self: Self, request: Req, context: grpc.ServicerContext) -> Resp:
        result: Resp = _run(self.deps, fn.__qualname__, context, lambda call: fn(self, call, request), False)
        return result

    return method
