"""InternalService: Login, API keys (CreateApiKey, DeleteApiKey, ListApiKeys), GetVersion, Settings and the
live streams (StreamDeviceEvents, StreamGatewayFrames: grpc_api/streams.py).

Login: ChirpStack answers a JWT. lora_city answers, in the same ``jwt`` field, a short-lived lora_city API key
(``LOGIN_TTL``) bound to the user (role and tenant of the user's account). It is used exactly like ChirpStack's
JWT (``authorization: Bearer <jwt>``), is accepted by the HTTP API too, and is revocable like any key. Login
keys are not listed by ListApiKeys (ChirpStack does not list its JWT sessions either).

API keys: ChirpStack's admin key is a lora_city ``admin`` key; a tenant key is ``tenant_admin``, or
``tenant_viewer`` when read-only. A read-only admin key has no lora_city role and is refused rather than
granted more than was asked. DeleteApiKey revokes (lora_city keeps revoked keys for audit; they are not listed).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import grpc
from chirpstack_api.api import internal_pb2 as pb
from chirpstack_api.api import internal_pb2_grpc as pb_grpc
from google.protobuf.empty_pb2 import Empty
from sqlalchemy import select

from lora_city import __version__
from lora_city.errors import Conflict, InvalidInput, Unauthenticated
from lora_city.grpc_api.call import Call, Handler, LiveState, public_rpc, rpc, stream_rpc
from lora_city.grpc_api.convert import eui_id, window
from lora_city.services import api_keys as svc
from lora_city.services.auth_throttle import ACCOUNT, ADDRESS, Subject
from lora_city.services.devices import find_device
from lora_city.services.gateways import get_gateway
from lora_city.services.passwords import verify_password
from lora_city.services.principal import Principal, Role
from lora_city.storage.models import ApiKey, User

LOGIN_TTL = timedelta(hours=12)
# Login is its own authority: a checked password may hand its owner a key of the owner's role, even a role
# (technician, viewer) that may not create keys itself.
_LOGIN_AUTHORITY = Principal(Role.ADMIN, None)


def _role(key: pb.ApiKey) -> Role:
    if key.is_admin:
        if key.is_read_only:
            raise InvalidInput("read-only admin keys do not exist in lora_city", code="invalid_role")
        return Role.ADMIN
    if not key.tenant_id:
        raise InvalidInput("tenant_id is required for a non-admin key", code="invalid_tenant")
    return Role.TENANT_VIEWER if key.is_read_only else Role.TENANT_ADMIN


def _message(row: ApiKey) -> pb.ApiKey:
    return pb.ApiKey(id=row.id, name=row.name, is_admin=row.role == Role.ADMIN.value, tenant_id=row.tenant_id,
                     is_read_only=row.role == Role.TENANT_VIEWER.value)


class InternalService(Handler, pb_grpc.InternalServiceServicer):  # type: ignore[misc]
    @public_rpc
    def Login(self, call: Call, request: pb.LoginRequest) -> pb.LoginResponse:
        email = request.email.strip().lower()
        # Guessing is slowed per account and per client address, as on the portal (services/auth_throttle.py):
        # while throttled the password is not even checked, so a guess made then tells nothing.
        throttle = call.deps.throttle
        subjects: list[Subject] = [(ACCOUNT, email), (ADDRESS, call.address)]
        if throttle is not None:
            throttle.check(subjects)
        user = call.session.scalar(select(User).where(User.email == email))
        ok = verify_password(user.password_hash if user else None, request.password)
        if user is None or not ok or not user.is_active:
            if throttle is not None:
                throttle.failed("grpc_login", subjects, "wrong e-mail or password")
            raise Unauthenticated("invalid e-mail or password")
        if throttle is not None:
            throttle.succeeded((ACCOUNT, email))
        new = svc.create_key(call.session, _LOGIN_AUTHORITY, name=f"login {email}", role=Role(user.role),
                             tenant_id=user.tenant_id, expires_at=call.now + LOGIN_TTL, now=call.now)
        new.row.user_id = user.id
        call.session.commit()
        return pb.LoginResponse(jwt=new.secret)

    @rpc
    def CreateApiKey(self, call: Call, request: pb.CreateApiKeyRequest) -> pb.CreateApiKeyResponse:
        key = request.api_key
        call.ignore(key, {"name", "is_admin", "tenant_id", "is_read_only"}, "api_key")
        if not key.name.strip():
            raise InvalidInput("name is required", code="invalid_name")
        new = svc.create_key(call.session, call.principal, name=key.name, role=_role(key),
                             tenant_id=None if key.is_admin else key.tenant_id, now=call.now)
        return pb.CreateApiKeyResponse(id=new.row.id, token=new.secret)

    @rpc
    def DeleteApiKey(self, call: Call, request: pb.DeleteApiKeyRequest) -> Empty:
        svc.revoke_key(call.session, call.principal, request.id, now=call.now)
        return Empty()

    @rpc
    def ListApiKeys(self, call: Call, request: pb.ListApiKeysRequest) -> pb.ListApiKeysResponse:
        rows = [
            k for k in svc.list_keys(call.session, call.principal)
            if k.revoked_at is None and k.user_id is None
            and (k.role == Role.ADMIN.value if request.is_admin else k.role != Role.ADMIN.value)
            and (request.is_admin or not request.tenant_id or k.tenant_id == request.tenant_id)
        ]
        items: list[Any] = [_message(k) for k in window(rows, request.offset, request.limit)]
        return pb.ListApiKeysResponse(total_count=len(rows), result=items)

    @rpc
    def GetVersion(self, call: Call, request: Empty) -> pb.GetVersionResponse:
        call.principal  # noqa: B018 - any authenticated caller may ask, as ChirpStack
        return pb.GetVersionResponse(version=f"lora_city {__version__}")

    @rpc
    def Settings(self, call: Call, request: Empty) -> pb.SettingsResponse:
        """No OpenID Connect or OAuth2 login (lora_city's users log in with a password); the portal's map tiles."""
        call.principal  # noqa: B018
        return pb.SettingsResponse(
            openid_connect=pb.OpenIdConnect(enabled=False), oauth2=pb.OAuth2(enabled=False),
            tileserver_url=call.deps.map_tile_url or "",
            map_attribution="© OpenStreetMap contributors" if call.deps.map_tile_url else "",
        )

    @stream_rpc
    def StreamDeviceEvents(self, call: Call, request: pb.StreamDeviceEventsRequest) -> Iterator[pb.LogItem]:
        """The device's events as they happen (this process's network server), until the client goes away."""
        device = find_device(call.session, call.principal, eui_id(request.dev_eui))
        live = _live(call)
        return live.stream_events(device.dev_eui, _context(call))

    @stream_rpc
    def StreamGatewayFrames(self, call: Call, request: pb.StreamGatewayFramesRequest) -> Iterator[pb.LogItem]:
        """The gateway's uplink copies and downlinks as they pass (this process), until the client goes away."""
        gateway = get_gateway(call.session, call.principal, eui_id(request.gateway_id, "gateway_id"))
        live = _live(call)
        return live.stream_frames(gateway.gateway_id, _context(call))


def _live(call: Call) -> LiveState:
    if call.deps.live is None:
        raise Conflict("no network server runs in this process to stream from", code="no_live_stream")
    return call.deps.live


def _context(call: Call) -> grpc.ServicerContext:
    assert call.context is not None
    return call.context
