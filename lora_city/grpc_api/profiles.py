"""DeviceProfileService: create, get, update, delete, list.

Codecs: ChirpStack's CAYENNE_LPP runtime is lora_city's ``cayenne-lpp`` codec. A JavaScript codec script sent
through this API is NOT registered (codecs are folders loaded at startup; ``lora-city import chirpstack``
writes them): it is reported as ignored. The tag ``lora_city_codec`` names any lora_city codec instead, and
``Get`` returns the profile's codec in that tag (with the script, runtime JS, for a JavaScript codec folder).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chirpstack_api.api import device_profile_pb2 as pb
from chirpstack_api.api import device_profile_pb2_grpc as pb_grpc
from google.protobuf.empty_pb2 import Empty

from lora_city.codec.registry import CodecRegistry
from lora_city.grpc_api.call import Call, Handler, rpc
from lora_city.grpc_api.convert import (
    MAC_VERSION_ENUM,
    REG_PARAMS_REVISION,
    REGION_ENUM,
    matches,
    timestamp,
    window,
)
from lora_city.grpc_api.mapping import CAYENNE, CODEC_TAG, profile_fields
from lora_city.services import profiles as svc
from lora_city.storage.models import DeviceProfile


def _js_source(codecs: CodecRegistry | None, codec_id: str | None) -> str | None:
    """The script of a JavaScript codec folder, so ChirpStack tools see the codec a profile runs."""
    if codecs is None or codec_id is None or codec_id not in codecs:
        return None
    info = codecs.get(codec_id)
    folder = Path(info.source)
    if info.manifest.runtime != "javascript" or not folder.is_dir():
        return None  # a Python codec, or one from an entry point: no script to show
    try:
        return (folder / (info.manifest.entry or "codec.js")).read_text(encoding="utf-8")
    except OSError:
        return None


def message(profile: DeviceProfile, codecs: CodecRegistry | None = None) -> pb.DeviceProfile:
    tags = {CODEC_TAG: profile.codec_id} if profile.codec_id else {}
    script = _js_source(codecs, profile.codec_id)
    runtime = pb.CAYENNE_LPP if profile.codec_id == CAYENNE else pb.JS if script is not None else pb.NONE
    return pb.DeviceProfile(
        id=profile.id, tenant_id=profile.tenant_id, name=profile.name, region=REGION_ENUM[profile.region],
        mac_version=MAC_VERSION_ENUM[profile.mac_version], reg_params_revision=REG_PARAMS_REVISION,
        adr_algorithm_id="default", supports_otaa=profile.supports_otaa,
        supports_class_c=profile.device_class == "C", uplink_interval=profile.uplink_interval_s,
        payload_codec_runtime=runtime, payload_codec_script=script or "", tags=tags,
    )


class DeviceProfileService(Handler, pb_grpc.DeviceProfileServiceServicer):  # type: ignore[misc]
    @rpc
    def Create(self, call: Call, request: pb.CreateDeviceProfileRequest) -> pb.CreateDeviceProfileResponse:
        p = request.device_profile
        fields = profile_fields(p, call.ignored, call.deps.codecs)
        data = svc.ProfileCreate(tenant_id=p.tenant_id or None, **fields)
        return pb.CreateDeviceProfileResponse(id=svc.create_profile(call.session, call.principal, data).id)

    @rpc
    def Get(self, call: Call, request: pb.GetDeviceProfileRequest) -> pb.GetDeviceProfileResponse:
        profile = svc.get_profile(call.session, call.principal, request.id)
        created = timestamp(profile.created_at)
        return pb.GetDeviceProfileResponse(device_profile=message(profile, call.deps.codecs), created_at=created, updated_at=created)

    @rpc
    def Update(self, call: Call, request: pb.UpdateDeviceProfileRequest) -> Empty:
        p = request.device_profile
        fields = profile_fields(p, call.ignored, call.deps.codecs)
        svc.update_profile(call.session, call.principal, p.id, svc.ProfileFields(**fields))
        return Empty()

    @rpc
    def Delete(self, call: Call, request: pb.DeleteDeviceProfileRequest) -> Empty:
        svc.delete_profile(call.session, call.principal, request.id)
        return Empty()

    @rpc
    def List(self, call: Call, request: pb.ListDeviceProfilesRequest) -> pb.ListDeviceProfilesResponse:
        call.ignore(request, {"limit", "offset", "search", "tenant_id", "tenant_only"}, "request")
        rows = [
            p for p in svc.list_profiles(call.session, call.principal)
            if (not request.tenant_id or p.tenant_id == request.tenant_id) and matches(request.search, p.name)
        ]
        items: list[Any] = [
            pb.DeviceProfileListItem(
                id=p.id, name=p.name, region=REGION_ENUM[p.region], mac_version=MAC_VERSION_ENUM[p.mac_version],
                reg_params_revision=REG_PARAMS_REVISION, supports_otaa=p.supports_otaa,
                supports_class_c=p.device_class == "C", created_at=timestamp(p.created_at),
                updated_at=timestamp(p.created_at),
            )
            for p in window(rows, request.offset, request.limit)
        ]
        return pb.ListDeviceProfilesResponse(total_count=len(rows), result=items)
