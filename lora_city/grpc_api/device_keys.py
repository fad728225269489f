"""DeviceService keys and activation.

Keys are write-only in lora_city (encrypted at rest, never returned; design guide "Secrets"). So:
- ``GetKeys`` answers NOT_FOUND when the device has no root keys (as ChirpStack does) and PERMISSION_DENIED
  when it has some: a script can still tell "has keys" from "has none", but never reads them;
- ``GetActivation`` returns DevAddr and frame counters with the four session-key fields empty, and names them
  in the trailing metadata ``x-lora-city-withheld-fields``.

ChirpStack's field conventions for LoRaWAN 1.0.x are kept: ``nwk_key`` holds the 1.0.x AppKey, and an ABP
activation's ``nwk_s_enc_key`` holds the 1.0.x NwkSKey. ``Deactivate`` also disables the device in lora_city
(its frames are dropped until it is re-enabled or re-activated).
"""

from __future__ import annotations

from chirpstack_api.api import device_pb2 as pb
from google.protobuf.empty_pb2 import Empty
from sqlalchemy import select

from lora_city.errors import AlreadyExists, NotFound, PermissionDenied
from lora_city.grpc_api.call import Call, Handler, rpc
from lora_city.grpc_api.convert import eui_id
from lora_city.grpc_api.mapping import abp_activation, root_keys
from lora_city.services import activation
from lora_city.services.devices import find_device, get_device, update_device
from lora_city.services.principal import Perm
from lora_city.storage.models import Device, DeviceKeys, DeviceProfile, DeviceSession
from lora_city.uplink.dev_addr import allocate_dev_addr

_SESSION_KEYS = ("app_s_key", "nwk_s_enc_key", "s_nwk_s_int_key", "f_nwk_s_int_key")


def mac_version_of(call: Call, device: Device) -> str:
    profile = call.session.get(DeviceProfile, device.device_profile_id) if device.device_profile_id else None
    return profile.mac_version if profile is not None else "1.0.3"


def _has_keys(call: Call, device: Device) -> bool:
    return call.session.get(DeviceKeys, device.dev_eui) is not None


class DeviceKeysMixin(Handler):
    @rpc
    def CreateKeys(self, call: Call, request: pb.CreateDeviceKeysRequest) -> Empty:
        dev_eui = eui_id(request.device_keys.dev_eui, "device_keys.dev_eui")
        device = get_device(call.session, call.principal, dev_eui).device
        if _has_keys(call, device):
            raise AlreadyExists("device-keys already exist")
        update_device(call.session, call.principal, call.deps.vault, device.dev_eui,
                      root_keys(mac_version_of(call, device), request.device_keys, call.ignored), now=call.now)
        return Empty()

    @rpc
    def UpdateKeys(self, call: Call, request: pb.UpdateDeviceKeysRequest) -> Empty:
        dev_eui = eui_id(request.device_keys.dev_eui, "device_keys.dev_eui")
        device = get_device(call.session, call.principal, dev_eui).device
        if not _has_keys(call, device):
            raise NotFound("device-keys not found")
        update_device(call.session, call.principal, call.deps.vault, device.dev_eui,
                      root_keys(mac_version_of(call, device), request.device_keys, call.ignored), now=call.now)
        return Empty()

    @rpc
    def GetKeys(self, call: Call, request: pb.GetDeviceKeysRequest) -> pb.GetDeviceKeysResponse:
        device = get_device(call.session, call.principal, eui_id(request.dev_eui)).device
        if not _has_keys(call, device):
            raise NotFound("device-keys not found")
        raise PermissionDenied("lora_city keys are write-only: they are stored encrypted and never returned "
                               "(use UpdateKeys to replace them)")

    @rpc
    def DeleteKeys(self, call: Call, request: pb.DeleteDeviceKeysRequest) -> Empty:
        call.principal.require(Perm.DEVICES_WRITE)
        device = find_device(call.session, call.principal, eui_id(request.dev_eui))
        keys = call.session.get(DeviceKeys, device.dev_eui)
        if keys is None:
            raise NotFound("device-keys not found")
        call.session.delete(keys)
        call.session.commit()
        return Empty()

    @rpc
    def Activate(self, call: Call, request: pb.ActivateDeviceRequest) -> Empty:
        a = request.device_activation
        device = get_device(call.session, call.principal, eui_id(a.dev_eui, "device_activation.dev_eui")).device
        data = abp_activation(mac_version_of(call, device), a, call.ignored)
        activation.activate_abp(call.session, call.principal, call.deps.vault, device.dev_eui, data, now=call.now)
        return Empty()

    @rpc
    def GetRandomDevAddr(self, call: Call, request: pb.GetRandomDevAddrRequest) -> pb.GetRandomDevAddrResponse:
        """A DevAddr for an ABP activation, under the network's NetID (ChirpStack uses the tenant's prefixes)."""
        get_device(call.session, call.principal, eui_id(request.dev_eui))
        return pb.GetRandomDevAddrResponse(dev_addr=allocate_dev_addr(call.deps.net_id))

    @rpc
    def Deactivate(self, call: Call, request: pb.DeactivateDeviceRequest) -> Empty:
        activation.deactivate(call.session, call.principal, eui_id(request.dev_eui))
        return Empty()

    @rpc
    def GetActivation(self, call: Call, request: pb.GetDeviceActivationRequest) -> pb.GetDeviceActivationResponse:
        device = get_device(call.session, call.principal, eui_id(request.dev_eui)).device
        active = call.session.scalar(
            select(DeviceSession).where(DeviceSession.dev_eui == device.dev_eui, DeviceSession.is_active.is_(True))
            .order_by(DeviceSession.created_at.desc()).limit(1)
        )
        if active is None:
            return pb.GetDeviceActivationResponse()  # ChirpStack: a device that is not activated has none
        call.withheld.extend(f"device_activation.{name}" for name in _SESSION_KEYS)
        return pb.GetDeviceActivationResponse(device_activation=pb.DeviceActivation(
            dev_eui=device.dev_eui, dev_addr=active.dev_addr, f_cnt_up=active.f_cnt_up,
            n_f_cnt_down=active.n_f_cnt_down, a_f_cnt_down=active.a_f_cnt_down,
        ))
