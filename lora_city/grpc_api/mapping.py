"""ChirpStack messages -> lora_city service inputs, shared by the gRPC API and the importer (one mapping).

Each function appends to ``ignored`` the fields lora_city does not carry, and raises InvalidInput for values it
cannot represent (a region other than EU868 would be silently wrong on air).

ChirpStack's LoRaWAN 1.0.x conventions: a device's ``nwk_key`` holds the 1.0.x AppKey, and an activation's
``nwk_s_enc_key`` holds the 1.0.x NwkSKey.
"""

from __future__ import annotations

from typing import Any

from chirpstack_api.api import device_pb2, device_profile_pb2, gateway_pb2, tenant_pb2

from lora_city.codec.registry import CodecRegistry
from lora_city.errors import InvalidInput
from lora_city.grpc_api.convert import REG_PARAMS_REVISION, mac_version, region, unsupported
from lora_city.services.activation import AbpActivation
from lora_city.services.devices import DeviceFields

# ChirpStack's CAYENNE_LPP runtime: lora_city's Cayenne LPP codec in ChirpStack's object shape
# (codecs/cayenne-lpp-chirpstack). The other one (cayenne-lpp: one field per channel) reads back as CAYENNE_LPP.
CAYENNE = "cayenne-lpp-chirpstack"
CAYENNE_CODECS = frozenset({CAYENNE, "cayenne-lpp"})
CODEC_TAG = "lora_city_codec"
_PROFILE = {"id", "tenant_id", "name", "region", "mac_version", "supports_otaa", "supports_class_c",
            "uplink_interval", "payload_codec_runtime"}
_DEVICE = {"dev_eui", "name", "description", "application_id", "device_profile_id", "is_disabled", "tags",
           "join_eui"}
_GATEWAY = {"gateway_id", "name", "description", "location", "tenant_id"}


TENANT_FIELDS = frozenset({"id", "name", "description", "can_have_gateways", "max_gateway_count", "max_device_count",
                           "private_gateways_up", "private_gateways_down", "tags"})


def tenant_settings(t: tenant_pb2.Tenant) -> dict[str, Any]:
    """TenantCreate/TenantFields values of ChirpStack's tenant settings (kept and enforced by lora_city)."""
    return {"description": t.description, "can_have_gateways": t.can_have_gateways,
            "max_gateway_count": t.max_gateway_count, "max_device_count": t.max_device_count,
            "private_gateways_up": t.private_gateways_up, "private_gateways_down": t.private_gateways_down,
            "tags": dict(t.tags)}


def profile_fields(p: device_profile_pb2.DeviceProfile, ignored: list[str],
                   codecs: CodecRegistry | None, *, accept_script: bool = False) -> dict[str, Any]:
    """ProfileFields values. A JavaScript script (``payload_codec_script``) is the caller's to store
    (``accept_script``: the gRPC API stores it with the profile, services/profile_codecs.py); otherwise it is
    reported as ignored (the importer writes it as a codec folder instead)."""
    supported = set(_PROFILE)
    if accept_script and p.payload_codec_runtime == device_profile_pb2.JS:
        supported.add("payload_codec_script")
    if p.reg_params_revision == REG_PARAMS_REVISION:
        supported.add("reg_params_revision")
    if p.adr_algorithm_id == "default":
        supported.add("adr_algorithm_id")
    ignored.extend(unsupported(p, supported, "device_profile"))
    ignored.extend(f"device_profile.tags.{k}" for k in p.tags if k != CODEC_TAG)
    fields: dict[str, Any] = {
        "name": p.name, "region": region(p.region), "mac_version": mac_version(p.mac_version),
        "device_class": "C" if p.supports_class_c else "A", "supports_otaa": p.supports_otaa,
        "codec_id": _codec(p, codecs),
    }
    if p.uplink_interval:
        fields["uplink_interval_s"] = p.uplink_interval
    return fields


def _codec(p: device_profile_pb2.DeviceProfile, codecs: CodecRegistry | None) -> str | None:
    if CODEC_TAG in p.tags:
        codec = str(p.tags[CODEC_TAG])
        if codecs is not None and codec not in codecs:
            raise InvalidInput(f"no codec {codec!r}", code="unknown_codec")
        return codec
    if p.payload_codec_runtime == device_profile_pb2.CAYENNE_LPP:
        return CAYENNE
    return None


def device_fields(d: device_pb2.Device, ignored: list[str]) -> dict[str, Any]:
    """DeviceFields values but application_id (ChirpStack never moves a device between applications)."""
    ignored.extend(unsupported(d, _DEVICE, "device"))
    return {
        "name": d.name, "description": d.description,
        "join_eui": d.join_eui or "0" * 16,  # ChirpStack: an empty JoinEUI means all zeros
        "device_profile_id": d.device_profile_id or None, "is_disabled": d.is_disabled, "tags": dict(d.tags),
    }


def root_keys(version: str, k: device_pb2.DeviceKeys, ignored: list[str]) -> DeviceFields:
    ignored.extend(unsupported(k, {"dev_eui", "nwk_key", "app_key"}, "device_keys"))
    if version == "1.1.0":
        return DeviceFields(app_key=k.app_key or None, nwk_key=k.nwk_key or None)
    if not k.nwk_key:
        raise InvalidInput("for LoRaWAN 1.0.x the AppKey goes in nwk_key (ChirpStack's convention)",
                           code="invalid_app_key")
    if k.app_key and k.app_key.lower() != k.nwk_key.lower():
        ignored.append("device_keys.app_key")  # a 1.1-only key: a 1.0.x device has no second root key
    return DeviceFields(app_key=k.nwk_key)


def abp_activation(version: str, a: device_pb2.DeviceActivation, ignored: list[str]) -> AbpActivation:
    common = {"dev_addr": a.dev_addr, "mac_version": version, "app_s_key": a.app_s_key,
              "f_cnt_up": a.f_cnt_up, "n_f_cnt_down": a.n_f_cnt_down, "a_f_cnt_down": a.a_f_cnt_down}
    supported = {"dev_eui", "dev_addr", "app_s_key", "nwk_s_enc_key", "f_cnt_up", "n_f_cnt_down", "a_f_cnt_down"}
    if version == "1.1.0":
        ignored.extend(unsupported(a, supported | {"s_nwk_s_int_key", "f_nwk_s_int_key"}, "device_activation"))
        return AbpActivation(nwk_s_enc_key=a.nwk_s_enc_key or None, s_nwk_s_int_key=a.s_nwk_s_int_key or None,
                             f_nwk_s_int_key=a.f_nwk_s_int_key or None, **common)
    if not a.nwk_s_enc_key:
        raise InvalidInput("for LoRaWAN 1.0.x the NwkSKey goes in nwk_s_enc_key (ChirpStack's convention)",
                           code="missing_session_keys")
    # ChirpStack fills all three 1.1 fields with the NwkSKey for a 1.0.x session: equal copies are not lost data.
    copies = {"s_nwk_s_int_key", "f_nwk_s_int_key"}
    same = {n for n in copies if getattr(a, n).lower() == a.nwk_s_enc_key.lower()}
    ignored.extend(unsupported(a, supported | same, "device_activation"))
    return AbpActivation(nwk_s_key=a.nwk_s_enc_key, **common)


def gateway_fields(g: gateway_pb2.Gateway, ignored: list[str]) -> dict[str, Any]:
    ignored.extend(unsupported(g, _GATEWAY, "gateway"))
    fields: dict[str, Any] = {"name": g.name, "description": g.description}
    if g.HasField("location"):
        ignored.extend(unsupported(g.location, {"latitude", "longitude", "altitude"}, "gateway.location"))
        fields.update(latitude=g.location.latitude, longitude=g.location.longitude, altitude=g.location.altitude)
    return fields
