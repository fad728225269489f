"""InternalService: Login and API keys (CreateApiKey, DeleteApiKey, ListApiKeys).

Login: ChirpStack answers a JWT. lora_city answers, in the same ``jwt`` field, a short-lived lora_city API key
(``LOGIN_TTL``) bound to the user (role and tenant of the user's account). It is used exactly like ChirpStack's
JWT (``authorization: Bearer <jwt>``), is accepted by the HTTP API too, and is revocable like any key. Login
keys are not listed by ListApiKeys (ChirpStack does not list its JWT sessions either).

API keys: ChirpStack's admin key is a lora_city ``admin`` key; a tenant key is ``tenant_admin``, or
``tenant_viewer`` when read-only. A read-only admin key has no lora_city role and is refused rather than
granted more than was asked. DeleteApiKey revokes (lora_city keeps revoked keys for audit; they are not listed).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from chirpstack_api.api import internal_pb2 as pb
from chirpstack_api.api import internal_pb2_grpc as pb_grpc
from google.protobuf.empty_pb2 import Empty
from sqlalchemy import select

from lora_city.errors import InvalidInput, Unauthenticated
from lora_city.grpc_api.call import Call, Handler, public_rpc, rpc
from lora_city.grpc_api.convert import window
from lora_city.services import api_keys as svc
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
        user = call.session.scalar(select(User).where(User.email == email))
        ok = verify_password(user.password_hash if user else None, request.password)
        if user is None or not ok or not user.is_active:
            raise Unauthenticated("invalid e-mail or password")
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
