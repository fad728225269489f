"""Device events in ChirpStack v4's integration JSON (``integration.proto`` as JSON: camelCase names, base64
``data``, RFC 3339 times, enums by name), so MQTT and webhook consumers written for ChirpStack work unchanged.

Only fields that exist in ChirpStack's messages are emitted (the tests parse every body back into the
``chirpstack_api`` protobuf messages, which refuses unknown fields). A log code we have and ChirpStack has not
(e.g. ``QUOTA``) is sent as ``UNKNOWN`` with our code in ``context.code``.
"""

from __future__ import annotations

import base64
import json
import math
from datetime import UTC, datetime
from typing import Any

from lora_city.sinks.events import (
    AckEvent,
    DeviceEvent,
    DeviceInfo,
    DownlinkTx,
    GatewayRx,
    JoinEvent,
    LogEvent,
    StatusEvent,
    TxAckEvent,
    UplinkEvent,
)

CHIRPSTACK_LOG_CODES = frozenset({
    "UNKNOWN", "DOWNLINK_PAYLOAD_SIZE", "UPLINK_CODEC", "DOWNLINK_CODEC", "OTAA", "UPLINK_F_CNT_RESET",
    "UPLINK_MIC", "UPLINK_F_CNT_RETRANSMISSION", "DOWNLINK_GATEWAY", "RELAY_NEW_END_DEVICE", "F_CNT_DOWN",
    "EXPIRED",
})
LOG_LEVELS = frozenset({"INFO", "WARNING", "ERROR"})


def event_kind(event: DeviceEvent) -> str:
    """The last segment of ChirpStack's topic ``application/{id}/device/{dev_eui}/event/{kind}``."""
    match event:
        case UplinkEvent():
            return "up"
        case JoinEvent():
            return "join"
        case AckEvent():
            return "ack"
        case TxAckEvent():
            return "txack"
        case StatusEvent():
            return "status"
        case LogEvent():
            return "log"
    raise TypeError(f"not a device event: {type(event).__name__}")


def rfc3339(time: datetime) -> str:
    return time.astimezone(UTC).isoformat().replace("+00:00", "Z")


def device_info(device: DeviceInfo) -> dict[str, Any]:
    out: dict[str, Any] = {
        "deviceClassEnabled": f"CLASS_{device.device_class}" if device.device_class in ("A", "B", "C") else "CLASS_A",
        "tenantId": device.tenant_id,
        "tenantName": device.tenant_name,
        "applicationId": device.application_id or "",
        "applicationName": device.application_name,
        "deviceProfileId": device.device_profile_id or "",
        "deviceProfileName": device.device_profile_name,
        "deviceName": device.device_name,
        "devEui": device.dev_eui,
    }
    if device.tags:
        out["tags"] = dict(device.tags)
    return out


def _rx_info(rx: GatewayRx, region_config_id: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "gatewayId": rx.gateway_id,
        "uplinkId": rx.uplink_id,
        "rssi": round(rx.rssi),  # int32 in gw.UplinkRxInfo
        "snr": rx.snr,
        "channel": rx.channel,
        "rfChain": rx.rf_chain,
        "crcStatus": "CRC_OK" if rx.crc_ok else "BAD_CRC",
    }
    if rx.time is not None:
        out["gwTime"] = rfc3339(rx.time)
    if rx.ns_time is not None:
        out["nsTime"] = rfc3339(rx.ns_time)
    if rx.context:
        out["context"] = base64.b64encode(rx.context).decode()
    if rx.latitude is not None and rx.longitude is not None:
        out["location"] = {"latitude": rx.latitude, "longitude": rx.longitude}
        if rx.altitude is not None:
            out["location"]["altitude"] = rx.altitude
    if region_config_id:
        # As ChirpStack adds to each rxInfo (chirpstack/src/uplink/mod.rs): the region that handled the uplink.
        out["metadata"] = {"region_config_id": region_config_id, "region_common_name": region_config_id.upper()}
    return out


_CODE_RATES = {"4/5": "CR_4_5", "4/6": "CR_4_6", "4/7": "CR_4_7", "4/8": "CR_4_8"}


def _downlink_tx_info(tx: DownlinkTx) -> dict[str, Any]:
    timing: dict[str, Any]
    if tx.timing == "immediately":
        timing = {"immediately": {}}
    elif tx.timing == "gps_epoch" and tx.gps_time_s is not None:
        timing = {"gpsEpoch": {"timeSinceGpsEpoch": f"{tx.gps_time_s:.9f}".rstrip("0").rstrip(".") + "s"}}
    else:
        timing = {"delay": {"delay": f"{tx.delay_s}s"}}
    out: dict[str, Any] = {
        "frequency": tx.frequency,
        "power": tx.power,
        "modulation": {"lora": {
            "bandwidth": tx.bandwidth, "spreadingFactor": tx.spreading_factor,
            "codeRate": _CODE_RATES.get(tx.code_rate, "CR_4_5"), "polarizationInversion": tx.polarization_inversion,
        }},
        "timing": timing,
    }
    if tx.context:
        out["context"] = base64.b64encode(tx.context).decode()
    return out


def json_safe(value: Any) -> Any:
    """The codec's object as JSON (and a google.protobuf.Struct) can hold it: NaN/Inf become null, bytes become
    base64, other types their text."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if value is None or isinstance(value, str | int | float):
        return value
    return str(value)  # a datetime, a Decimal …: JSON has no such type


def to_chirpstack(event: DeviceEvent) -> dict[str, Any]:
    base: dict[str, Any] = {"time": rfc3339(event.time), "deviceInfo": device_info(event.device)}
    match event:
        case UplinkEvent():
            base.update(
                deduplicationId=event.uplink_id,
                regionConfigId=event.region_config_id,
                devAddr=event.dev_addr,
                adr=event.adr,
                dr=event.dr,
                fCnt=event.f_cnt,
                confirmed=event.confirmed,
                data=base64.b64encode(event.payload).decode(),
                rxInfo=[_rx_info(rx, event.region_config_id) for rx in event.rx],
                txInfo={
                    "frequency": event.frequency,
                    "modulation": {
                        "lora": {
                            "bandwidth": event.bandwidth,
                            "spreadingFactor": event.spreading_factor,
                            "codeRate": "CR_4_5",  # LoRaWAN regional parameters fix 4/5 for uplinks
                        }
                    },
                },
            )
            if event.f_port is not None:
                base["fPort"] = event.f_port
            if event.data is not None:
                base["object"] = json_safe(event.data)
        case JoinEvent():
            base.update(deduplicationId=event.deduplication_id, devAddr=event.dev_addr,
                        regionConfigId=event.region_config_id)
        case AckEvent():
            base.update(deduplicationId=event.deduplication_id, queueItemId=event.queue_item_id,
                        acknowledged=event.acknowledged, fCntDown=event.f_cnt_down)
        case TxAckEvent():
            base.update(downlinkId=event.downlink_id, fCntDown=event.f_cnt_down, gatewayId=event.gateway_id)
            if event.queue_item_id:
                base["queueItemId"] = event.queue_item_id
            if event.tx is not None:
                base["txInfo"] = _downlink_tx_info(event.tx)
        case StatusEvent():
            base.update(
                deduplicationId=event.deduplication_id,
                margin=event.margin,
                externalPowerSource=event.external_power,
                batteryLevelUnavailable=event.battery_level is None,
                batteryLevel=event.battery_level if event.battery_level is not None else 0.0,
            )
        case LogEvent():
            context = dict(event.context)
            code = event.code if event.code in CHIRPSTACK_LOG_CODES else "UNKNOWN"
            if code != event.code:
                context["code"] = event.code
            base.update(
                level=event.level if event.level in LOG_LEVELS else "INFO",
                code=code,
                description=event.description,
                context=context,
            )
    return base


def to_json_bytes(event: DeviceEvent) -> bytes:
    return json.dumps(to_chirpstack(event), separators=(",", ":")).encode()


def topic(event: DeviceEvent) -> str:
    """ChirpStack v4's MQTT topic; an event of a device without an application goes under ``_`` ."""
    app = event.device.application_id or "_"
    return f"application/{app}/device/{event.device.dev_eui}/event/{event_kind(event)}"


def _messages() -> dict[str, Any]:
    from chirpstack_api.integration import integration_pb2 as pb

    return {"up": pb.UplinkEvent, "join": pb.JoinEvent, "ack": pb.AckEvent, "txack": pb.TxAckEvent,
            "status": pb.StatusEvent, "log": pb.LogEvent}


def to_protobuf_bytes(event: DeviceEvent) -> bytes:
    """The event as ChirpStack's ``integration`` protobuf message (its "PROTOBUF" marshaler)."""
    from google.protobuf import json_format

    message = _messages()[event_kind(event)]()
    json_format.ParseDict(to_chirpstack(event), message)
    return bytes(message.SerializeToString())
