"""A ChirpStack v4 that serves a fixed export: the stock stubs' own servicer classes, answering List, Get,
GetKeys and GetActivation from the data below (with ChirpStack's paging, auth header and NOT_FOUND for a
device without keys)."""

from __future__ import annotations

from concurrent import futures
from typing import Any

import grpc
from chirpstack_api import api, common

TOKEN = "chirpstack-admin-api-key"
TENANT = "52f14cd4-c6f1-4fbd-8f87-4025e1d49242"
APP_LIGHTS = "aa000000-0000-4000-8000-000000000001"
APP_WATER = "aa000000-0000-4000-8000-000000000002"
PROFILE_JS = "bb000000-0000-4000-8000-000000000001"
PROFILE_LPP = "bb000000-0000-4000-8000-000000000002"
PROFILE_US = "bb000000-0000-4000-8000-000000000003"
PROFILE_BROKEN = "bb000000-0000-4000-8000-000000000004"
PROFILE_VARS = "bb000000-0000-4000-8000-000000000005"
OTAA_EUI = "24e124136b502217"
ABP_EUI = "a84041000181c061"
US_EUI = "0004a30b001c0530"
APP_KEY = "5572404c696e6b4c6f52613230313823"
NWK_S_KEY = "d6a4a5d0e6b2a0f2c7e3b6a1f0e9d8c7"
APP_S_KEY = "1f2e3d4c5b6a79880796a5b4c3d2e1f0"
GATEWAY = "0016c001ff10a235"

# A real TS013 codec in Milesight's style (channel id, channel type, little-endian values).
MILESIGHT_JS = """
function decodeUplink(input) {
  var bytes = input.bytes;
  var data = {};
  for (var i = 0; i < bytes.length; ) {
    var channel_id = bytes[i++];
    var channel_type = bytes[i++];
    if (channel_id === 0x01 && channel_type === 0x75) {
      data.battery = bytes[i];
      i += 1;
    } else if (channel_id === 0x03 && channel_type === 0x67) {
      data.temperature = readInt16LE(bytes.slice(i, i + 2)) / 10;
      i += 2;
    } else if (channel_id === 0x04 && channel_type === 0x68) {
      data.humidity = bytes[i] / 2;
      i += 1;
    } else {
      return { errors: ["unknown channel " + channel_id] };
    }
  }
  return { data: data };
}

function readUInt16LE(bytes) {
  var value = (bytes[1] << 8) + bytes[0];
  return value & 0xffff;
}

function readInt16LE(bytes) {
  var ref = readUInt16LE(bytes);
  return ref > 0x7fff ? ref - 0x10000 : ref;
}
"""

TENANTS = [api.Tenant(id=TENANT, name="Métropole de Lyon", can_have_gateways=True, max_device_count=500,
                      private_gateways_up=True)]
APPLICATIONS = [
    api.Application(id=APP_LIGHTS, tenant_id=TENANT, name="Éclairage public", description="lampadaires"),
    api.Application(id=APP_WATER, tenant_id=TENANT, name="Eau", tags={"service": "eau"}),
]
PROFILES = [
    api.DeviceProfile(id=PROFILE_JS, tenant_id=TENANT, name="Milesight EM300-TH", region=common.EU868,
                      mac_version=common.LORAWAN_1_0_3, reg_params_revision=common.RP002_1_0_3,
                      adr_algorithm_id="default", supports_otaa=True, uplink_interval=600,
                      payload_codec_runtime=api.JS, payload_codec_script=MILESIGHT_JS, device_status_req_interval=1),
    api.DeviceProfile(id=PROFILE_LPP, tenant_id=TENANT, name="Relais classe C", region=common.EU868,
                      mac_version=common.LORAWAN_1_0_4, reg_params_revision=common.RP002_1_0_3,
                      adr_algorithm_id="default", supports_otaa=False, supports_class_c=True,
                      payload_codec_runtime=api.CAYENNE_LPP),
    api.DeviceProfile(id=PROFILE_US, tenant_id=TENANT, name="US915 sensor", region=common.US915,
                      mac_version=common.LORAWAN_1_0_3, supports_otaa=True),
    api.DeviceProfile(id=PROFILE_BROKEN, tenant_id=TENANT, name="Broken codec", region=common.EU868,
                      mac_version=common.LORAWAN_1_0_3, payload_codec_runtime=api.JS,
                      payload_codec_script="function decodeUplink(input) { return {data: "),
    api.DeviceProfile(id=PROFILE_VARS, tenant_id=TENANT, name="Seuil", region=common.EU868,
                      mac_version=common.LORAWAN_1_0_3, payload_codec_runtime=api.JS,
                      payload_codec_script="function decodeUplink(input) {\n"
                                           "  return {data: {over: input.bytes[0] > input.variables.limit}};\n}\n"),
]
DEVICES = {
    OTAA_EUI: api.Device(dev_eui=OTAA_EUI, name="EM300 rue Garibaldi", description="armoire 12",
                         application_id=APP_WATER, device_profile_id=PROFILE_JS, join_eui="24e124c0002a0001",
                         tags={"quartier": "part-dieu"}, variables={"seuil": "30"}),
    ABP_EUI: api.Device(dev_eui=ABP_EUI, name="Relais pont Lafayette", application_id=APP_LIGHTS,
                        device_profile_id=PROFILE_LPP, join_eui="0000000000000000"),
    US_EUI: api.Device(dev_eui=US_EUI, name="importé des USA", application_id=APP_WATER,
                       device_profile_id=PROFILE_US),
}
KEYS = {OTAA_EUI: api.DeviceKeys(dev_eui=OTAA_EUI, nwk_key=APP_KEY, app_key="00000000000000000000000000000000")}
# ChirpStack fills the three 1.1 network session keys with the NwkSKey of a 1.0.x session.
ACTIVATIONS = {ABP_EUI: api.DeviceActivation(
    dev_eui=ABP_EUI, dev_addr="260b1c2d", app_s_key=APP_S_KEY, nwk_s_enc_key=NWK_S_KEY, s_nwk_s_int_key=NWK_S_KEY,
    f_nwk_s_int_key=NWK_S_KEY, f_cnt_up=1234, n_f_cnt_down=56)}
GATEWAYS = [api.Gateway(gateway_id=GATEWAY, tenant_id=TENANT, name="Hôtel de Ville", description="toit",
                        location=common.Location(latitude=45.7676, longitude=4.8344, altitude=180.0),
                        tags={"site": "hdv"}, stats_interval=30)]


def _check(context: grpc.ServicerContext) -> None:
    if dict(context.invocation_metadata()).get("authorization") != f"Bearer {TOKEN}":
        context.abort(grpc.StatusCode.UNAUTHENTICATED, "authorization missing or invalid")


def _page(rows: list[Any], request: Any) -> list[Any]:
    return rows[request.offset:request.offset + request.limit]


class Tenants(api.TenantServiceServicer):  # type: ignore[misc]
    listed = 0  # how many times List was called (a tenant key may not list tenants)

    def List(self, request: Any, context: grpc.ServicerContext) -> Any:
        _check(context)
        Tenants.listed += 1
        items = [api.TenantListItem(id=t.id, name=t.name) for t in TENANTS]
        return api.ListTenantsResponse(total_count=len(items), result=_page(items, request))

    def Get(self, request: Any, context: grpc.ServicerContext) -> Any:
        _check(context)
        for tenant in TENANTS:
            if tenant.id == request.id:
                return api.GetTenantResponse(tenant=tenant)
        context.abort(grpc.StatusCode.NOT_FOUND, "Object does not exist")


class Applications(api.ApplicationServiceServicer):  # type: ignore[misc]
    def List(self, request: Any, context: grpc.ServicerContext) -> Any:
        _check(context)
        items = [api.ApplicationListItem(id=a.id, name=a.name) for a in APPLICATIONS if a.tenant_id == request.tenant_id]
        return api.ListApplicationsResponse(total_count=len(items), result=_page(items, request))

    def Get(self, request: Any, context: grpc.ServicerContext) -> Any:
        _check(context)
        return api.GetApplicationResponse(application=next(a for a in APPLICATIONS if a.id == request.id))


class Profiles(api.DeviceProfileServiceServicer):  # type: ignore[misc]
    def List(self, request: Any, context: grpc.ServicerContext) -> Any:
        _check(context)
        items = [api.DeviceProfileListItem(id=p.id, name=p.name) for p in PROFILES if p.tenant_id == request.tenant_id]
        return api.ListDeviceProfilesResponse(total_count=len(items), result=_page(items, request))

    def Get(self, request: Any, context: grpc.ServicerContext) -> Any:
        _check(context)
        return api.GetDeviceProfileResponse(device_profile=next(p for p in PROFILES if p.id == request.id))


class Devices(api.DeviceServiceServicer):  # type: ignore[misc]
    def List(self, request: Any, context: grpc.ServicerContext) -> Any:
        _check(context)
        items = [api.DeviceListItem(dev_eui=d.dev_eui, name=d.name) for d in DEVICES.values()
                 if d.application_id == request.application_id]
        return api.ListDevicesResponse(total_count=len(items), result=_page(items, request))

    def Get(self, request: Any, context: grpc.ServicerContext) -> Any:
        _check(context)
        return api.GetDeviceResponse(device=DEVICES[request.dev_eui])

    def GetKeys(self, request: Any, context: grpc.ServicerContext) -> Any:
        _check(context)
        if request.dev_eui not in KEYS:
            context.abort(grpc.StatusCode.NOT_FOUND, "Object does not exist (id: ...)")
        return api.GetDeviceKeysResponse(device_keys=KEYS[request.dev_eui])

    def GetActivation(self, request: Any, context: grpc.ServicerContext) -> Any:
        _check(context)
        if request.dev_eui not in ACTIVATIONS:
            return api.GetDeviceActivationResponse()
        return api.GetDeviceActivationResponse(device_activation=ACTIVATIONS[request.dev_eui])


class Gateways(api.GatewayServiceServicer):  # type: ignore[misc]
    def List(self, request: Any, context: grpc.ServicerContext) -> Any:
        _check(context)
        items = [api.GatewayListItem(gateway_id=g.gateway_id, name=g.name) for g in GATEWAYS
                 if g.tenant_id == request.tenant_id]
        return api.ListGatewaysResponse(total_count=len(items), result=_page(items, request))

    def Get(self, request: Any, context: grpc.ServicerContext) -> Any:
        _check(context)
        return api.GetGatewayResponse(gateway=next(g for g in GATEWAYS if g.gateway_id == request.gateway_id))


def serve() -> tuple[grpc.Server, int]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    api.add_TenantServiceServicer_to_server(Tenants(), server)
    api.add_ApplicationServiceServicer_to_server(Applications(), server)
    api.add_DeviceProfileServiceServicer_to_server(Profiles(), server)
    api.add_DeviceServiceServicer_to_server(Devices(), server)
    api.add_GatewayServiceServicer_to_server(Gateways(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, port
