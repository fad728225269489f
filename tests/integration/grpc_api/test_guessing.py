"""Password and API-key guessing through the gRPC API is slowed like on the portal and the HTTP API (issue 19,
item 3; services/auth_throttle.py): per account 3 free failures, then a delay that doubles, during which even
the right credentials are refused with RESOURCE_EXHAUSTED and a gRFC A6 ``grpc-retry-pushback-ms`` trailer;
every failure is in the audit log, and the throttle is a lock an administrator sees."""

from __future__ import annotations

from datetime import timedelta

import grpc
import pytest
from chirpstack_api import api
from sqlalchemy import select

from lora_city.services.passwords import hash_password
from lora_city.storage.models import AuthFailure, AuthLock, User
from tests.integration.grpc_api.conftest import Grpc, auth, code_of

PASSWORD = "correct horse battery"
PUSHBACK = "grpc-retry-pushback-ms"


def _login(cs: Grpc, password: str) -> grpc.RpcError | str:
    try:
        return str(cs.internal.Login(api.LoginRequest(email="agent@voirie.example", password=password)).jwt)
    except grpc.RpcError as exc:
        return exc


def _pushback_ms(exc: grpc.RpcError) -> int:
    for key, value in exc.trailing_metadata() or ():  # type: ignore[attr-defined]
        if key == PUSHBACK:
            return int(value)
    raise AssertionError(f"no {PUSHBACK} trailer on {exc}")


def test_login_guessing_is_delayed_and_the_right_password_waits_too(cs: Grpc) -> None:
    tenant = cs.tenant("Voirie")
    with cs.factory() as s:
        s.add(User(tenant_id=tenant, email="agent@voirie.example", password_hash=hash_password(PASSWORD),
                   role="tenant_viewer"))
        s.commit()
    for _ in range(3):  # the free tries
        failed = _login(cs, "wrong guess!")
        assert isinstance(failed, grpc.RpcError) and failed.code() == grpc.StatusCode.UNAUTHENTICATED  # type: ignore[attr-defined]
    throttled = _login(cs, PASSWORD)  # the 4th attempt comes during the delay: refused unchecked
    assert isinstance(throttled, grpc.RpcError)
    assert throttled.code() == grpc.StatusCode.RESOURCE_EXHAUSTED  # type: ignore[attr-defined]
    assert 0 < _pushback_ms(throttled) <= 1000  # 1 s after the 3rd failure (2^0)
    with cs.factory() as s:
        audit = s.scalars(select(AuthFailure).where(AuthFailure.kind == "grpc_login")).all()
        assert [a.account for a in audit] == ["agent@voirie.example"] * 3
        assert all(a.address == "127.0.0.1" for a in audit)
        lock = s.scalar(select(AuthLock).where(AuthLock.scope == "account"))
        assert lock is not None and lock.subject == "agent@voirie.example" and lock.failures == 3
    cs.clock.now += timedelta(seconds=2)  # the delay is over: the right password works and resets the account
    assert isinstance(_login(cs, PASSWORD), str)
    with cs.factory() as s:
        assert s.scalar(select(AuthLock).where(AuthLock.scope == "account")) is None


def test_api_key_guessing_is_throttled_per_key_prefix(cs: Grpc) -> None:
    tenant = cs.tenant("Parcs")
    key = cs.key(tenant)
    mark, prefix, secret = key.split("_", 2)
    forged = f"{mark}_{prefix}_{'x' * len(secret)}"  # the right key's public prefix, a guessed secret
    req = api.ListTenantsRequest(limit=10)
    for _ in range(3):
        with pytest.raises(grpc.RpcError) as err:
            cs.tenants.List(req, metadata=auth(forged))
        assert code_of(err) == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.RpcError) as err:
        cs.tenants.List(req, metadata=auth(key))  # the real key waits out the delay too
    assert code_of(err) == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert _pushback_ms(err.value) > 0
    with cs.factory() as s:
        audit = s.scalars(select(AuthFailure).where(AuthFailure.kind == "api_key")).all()
        assert len(audit) == 3 and {a.account for a in audit} == {prefix}
    cs.clock.now += timedelta(seconds=2)
    assert [t.id for t in cs.tenants.List(req, metadata=auth(key)).result] == [tenant]
