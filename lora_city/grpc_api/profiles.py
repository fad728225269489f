"""DeviceProfileService: create, get, update, delete, list.

Codecs: a JavaScript codec sent with a profile (runtime JS, ``payload_codec_script``) is stored with it and run
in QuickJS like every codec (services/profile_codecs.py): the next uplink of the profile's devices decodes with
it, and ``Get`` returns it. ChirpStack's CAYENNE_LPP runtime is lora_city's ChirpStack-shaped Cayenne LPP codec.
The tag ``lora_city_codec`` names any installed lora_city codec instead. A profile some devices use is not
deleted (FAILED_PRECONDITION with their number).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chirpstack_api.api import device_profile_pb2 as pb
from chirpstack_api.api import device_profile_pb2_grpc as pb_grpc
from google.protobuf.empty_pb2 import Empty
from sqlalchemy.orm import Session

from lora_city.codec.js import JsCodec
from lora_city.codec.registry import CodecRegistry
from lora_city.errors import ConfigurationError, InvalidInput
from lora_city.grpc_api.call import Call, Handler, rpc
from lora_city.grpc_api.convert import (
    MAC_VERSION_ENUM,
    REG_PARAMS_REVISION,
    REGION_ENUM,
    matches,
    optional_uuid,
    timestamp,
    uuid_id,
    window,
)
from lora_city.grpc_api.mapping import CAYENNE_CODECS, CODEC_TAG, profile_fields
from lora_city.services import profile_codecs
from lora_city.services import profiles as svc
from lora_city.storage.models import DeviceProfile, utcnow


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


def message(profile: DeviceProfile, codecs: CodecRegistry | None = None, session: Session | None = None
            ) -> pb.DeviceProfile:
    script: str | None
    if profile_codecs.is_profile_codec(profile.codec_id):
        script = profile_codecs.script_of(session, profile.codec_id) if session is not None else None
        tags: dict[str, str] = {}
    else:
        script = _js_source(codecs, profile.codec_id)
        tags = {CODEC_TAG: profile.codec_id} if profile.codec_id else {}
    runtime = pb.CAYENNE_LPP if profile.codec_id in CAYENNE_CODECS else pb.JS if script is not None else pb.NONE
    return pb.DeviceProfile(
        id=profile.id, tenant_id=profile.tenant_id, name=profile.name, region=REGION_ENUM[profile.region],
        mac_version=MAC_VERSION_ENUM[profile.mac_version], reg_params_revision=REG_PARAMS_REVISION,
        adr_algorithm_id="default", supports_otaa=profile.supports_otaa,
        supports_class_c=profile.device_class == "C", uplink_interval=profile.uplink_interval_s,
        payload_codec_runtime=runtime, payload_codec_script=script or "", tags=tags,
    )


def _script(p: pb.DeviceProfile) -> str | None:
    """The JavaScript codec to store, checked now (before anything is written): None when there is none."""
    if p.payload_codec_runtime != pb.JS or not p.payload_codec_script.strip():
        return None
    try:
        JsCodec.from_source(p.payload_codec_script, f"device profile {p.name!r}")
    except ConfigurationError as exc:
        raise InvalidInput(f"payload_codec_script does not load: {exc.message}",
                           code="invalid_codec_script") from None
    return str(p.payload_codec_script)


class DeviceProfileService(Handler, pb_grpc.DeviceProfileServiceServicer):  # type: ignore[misc]
    def _devices_changed(self, call: Call, profile_id: str) -> None:
        if self.deps.on_device_change is not None:  # cached identities carry the profile's codec
            for dev_eui in svc.devices_of(call.session, profile_id):
                self.deps.on_device_change(dev_eui)

    @rpc
    def Create(self, call: Call, request: pb.CreateDeviceProfileRequest) -> pb.CreateDeviceProfileResponse:
        p = request.device_profile
        script = _script(p)
        fields = profile_fields(p, call.ignored, call.deps.codecs, accept_script=True)
        data = svc.ProfileCreate(tenant_id=optional_uuid(p.tenant_id, "device_profile.tenant_id"), **fields)
        profile = svc.create_profile(call.session, call.principal, data)
        if script is not None:
            profile.codec_id = profile_codecs.store_script(call.session, profile.id, script)
            call.session.commit()
        return pb.CreateDeviceProfileResponse(id=profile.id)

    @rpc
    def Get(self, call: Call, request: pb.GetDeviceProfileRequest) -> pb.GetDeviceProfileResponse:
        profile = svc.get_profile(call.session, call.principal, uuid_id(request.id))
        return pb.GetDeviceProfileResponse(device_profile=message(profile, call.deps.codecs, call.session),
                                           created_at=timestamp(profile.created_at),
                                           updated_at=timestamp(profile.updated_at))

    @rpc
    def Update(self, call: Call, request: pb.UpdateDeviceProfileRequest) -> Empty:
        p = request.device_profile
        profile_id = uuid_id(p.id, "device_profile.id")
        script = _script(p)
        fields = profile_fields(p, call.ignored, call.deps.codecs, accept_script=True)
        profile = svc.update_profile(call.session, call.principal, profile_id, svc.ProfileFields(**fields))
        if script is not None:
            profile.codec_id = profile_codecs.store_script(call.session, profile.id, script)
            profile.updated_at = utcnow()
            call.session.commit()
        self._devices_changed(call, profile.id)
        return Empty()

    @rpc
    def Delete(self, call: Call, request: pb.DeleteDeviceProfileRequest) -> Empty:
        svc.delete_profile(call.session, call.principal, uuid_id(request.id))
        return Empty()

    @rpc
    def List(self, call: Call, request: pb.ListDeviceProfilesRequest) -> pb.ListDeviceProfilesResponse:
        call.ignore(request, {"limit", "offset", "search", "tenant_id", "tenant_only"}, "request")
        tenant_id = optional_uuid(request.tenant_id, "tenant_id")
        rows = [
            p for p in svc.list_profiles(call.session, call.principal)  # by name, as ChirpStack
            if (not tenant_id or p.tenant_id == tenant_id) and matches(request.search, p.name)
        ]
        items: list[Any] = [
            pb.DeviceProfileListItem(
                id=p.id, name=p.name, region=REGION_ENUM[p.region], mac_version=MAC_VERSION_ENUM[p.mac_version],
                reg_params_revision=REG_PARAMS_REVISION, supports_otaa=p.supports_otaa,
                supports_class_c=p.device_class == "C", created_at=timestamp(p.created_at),
                updated_at=timestamp(p.updated_at),
            )
            for p in window(rows, request.offset, request.limit)
        ]
        return pb.ListDeviceProfilesResponse(total_count=len(rows), result=items)
