"""Roles never grant more than they have; cursors are opaque and refuse tampering."""

from __future__ import annotations

import pytest

from lora_city.errors import InvalidInput, NotFound, PermissionDenied
from lora_city.services.common import decode_cursor, encode_cursor, hex_id
from lora_city.services.principal import GRANTABLE, ROLE_PERMISSIONS, Perm, Principal, Role


def test_a_role_grants_only_roles_with_fewer_or_equal_permissions() -> None:
    for granter, roles in GRANTABLE.items():
        for role in roles:
            assert ROLE_PERMISSIONS[role] <= ROLE_PERMISSIONS[granter], (granter, role)


def test_other_tenants_objects_are_not_found_not_forbidden() -> None:
    p = Principal(Role.TENANT_ADMIN, "a")
    p.check_visible("a", "device")
    with pytest.raises(NotFound):
        p.check_visible("b", "device")
    with pytest.raises(PermissionDenied):
        Principal(Role.TENANT_VIEWER, "a").require(Perm.DEVICES_WRITE)
    assert Principal(Role.TECHNICIAN, "city").sees("b") and Principal(Role.OPERATOR, "city").tenant_filter() is None


def test_cursor_round_trip_and_garbage() -> None:
    assert decode_cursor(encode_cursor(["2026-01-01T00:00:00+00:00", 5]), 2) == ["2026-01-01T00:00:00+00:00", 5]
    for bad in ("", "!!!", encode_cursor([1]), encode_cursor({"a": 1})):  # type: ignore[arg-type]
        with pytest.raises(InvalidInput):
            decode_cursor(bad, 2)


@pytest.mark.parametrize(("text", "out"), [("70B3D57ED0000001", "70b3d57ed0000001"),
                                            ("70-b3-d5-7e-d0-00-00-01", "70b3d57ed0000001")])
def test_hex_ids_are_normalised(text: str, out: str) -> None:
    assert hex_id(text, 8, "dev_eui") == out


def test_bad_hex_ids() -> None:
    for bad in ("70b3", "zzb3d57ed0000001", "70b3d57ed000000100"):
        with pytest.raises(InvalidInput):
            hex_id(bad, 8, "dev_eui")
