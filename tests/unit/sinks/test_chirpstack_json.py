"""Every body parses back into chirpstack_api's own protobuf messages, which refuse unknown fields."""

import base64
import json

import pytest
from chirpstack_api.integration import integration_pb2 as pb
from google.protobuf import json_format
from google.protobuf.message import Message

from lora_city.sinks.chirpstack_json import to_json_bytes, topic
from lora_city.sinks.events import AckEvent, DeviceEvent, JoinEvent, LogEvent, StatusEvent, TxAckEvent
from tests.unit.sinks.factories import T0, device, uplink

DEV = device()
CASES: list[tuple[DeviceEvent, type[Message], str]] = [
    (uplink(3), pb.UplinkEvent, "up"),
    (JoinEvent(T0, DEV, "01020304", []), pb.JoinEvent, "join"),
    (AckEvent(T0, DEV, "q-1", True, 4), pb.AckEvent, "ack"),
    (TxAckEvent(T0, DEV, 9, "0016c001ff10a235", "OK", 4, "q-1", 61.7, 14), pb.TxAckEvent, "txack"),
    (StatusEvent(T0, DEV, 7, None, True), pb.StatusEvent, "status"),
    (LogEvent(T0, DEV, "WARNING", "QUOTA", "over quota", {"limit": "100"}), pb.LogEvent, "log"),
]


@pytest.mark.parametrize(("event", "message", "kind"), CASES, ids=[c[2] for c in CASES])
def test_body_is_a_chirpstack_message(event: DeviceEvent, message: type[Message], kind: str) -> None:
    parsed = json_format.Parse(to_json_bytes(event), message())
    assert parsed.device_info.dev_eui == "70b3d57ed0000001"  # type: ignore[attr-defined]
    assert parsed.time.ToDatetime().isoformat() == event.time.replace(tzinfo=None).isoformat()  # type: ignore[attr-defined]
    assert topic(event) == f"application/app-1/device/70b3d57ed0000001/event/{kind}"


def test_uplink_fields() -> None:
    body = json.loads(to_json_bytes(uplink(3)))
    assert body["deduplicationId"] == uplink(3).uplink_id
    assert base64.b64decode(body["data"]) == bytes([1, 2, 3])
    assert body["object"] == {"volume": 15.5}
    assert body["fCnt"] == 3 and body["fPort"] == 6
    assert body["rxInfo"][0] == {"gatewayId": "0016c001ff10a235", "uplinkId": 0, "rssi": -97, "snr": 4.5,
                                 "channel": 0, "rfChain": 0, "crcStatus": "CRC_OK"}
    assert body["txInfo"]["modulation"]["lora"]["spreadingFactor"] == 9


def test_unknown_log_code_is_kept_in_context() -> None:
    body = json.loads(to_json_bytes(CASES[-1][0]))
    assert body["code"] == "UNKNOWN"
    assert body["context"] == {"limit": "100", "code": "QUOTA"}


def test_status_without_battery_says_unavailable() -> None:
    body = json.loads(to_json_bytes(StatusEvent(T0, DEV, 7, None, True)))
    assert body["batteryLevelUnavailable"] is True
