"""Whatever bytes a gateway sends, the parsers either produce a frame or reject it with a counted reason."""

from __future__ import annotations

import json
import logging

import pytest
from chirpstack_api.gw import gw_pb2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as s

from lora_city.gateway import chirpstack as cs
from lora_city.gateway import semtech as st
from lora_city.gateway.bad_input import BadGatewayInput
from lora_city.gateway.frames import Transport
from lora_city.gateway.udp_backend import UdpGatewayBackend
from lora_city.metrics import Metrics
from lora_city.settings import Settings

GW = "0102030405060708"
_MESSAGES = [gw_pb2.UplinkFrame, gw_pb2.GatewayStats, gw_pb2.DownlinkTxAck, gw_pb2.ConnState]


@given(s.binary(max_size=200), s.booleans())
def test_any_uplink_payload_converts_or_is_rejected(payload: bytes, as_json: bool) -> None:
    try:
        frame = cs.uplink_from_pb(cs.decode(payload, gw_pb2.UplinkFrame, as_json=as_json), GW,
                                  Transport.MQTT_PROTOBUF, 0.0)
    except BadGatewayInput as exc:
        assert exc.reason
        return
    assert frame.phy_payload and frame.rx_info.gateway_id == GW


@given(s.recursive(s.none() | s.booleans() | s.integers() | s.floats() | s.text(max_size=8),
                   lambda inner: s.lists(inner, max_size=3) | s.dictionaries(
                       s.sampled_from(["phyPayload", "txInfo", "rxInfo", "gatewayId", "items", "state", "status",
                                       "modulation", "lora", "context", "gwTime", "time", "frequency"]),
                       inner, max_size=4),
                   max_leaves=12),
       s.sampled_from(_MESSAGES))
def test_any_json_document_is_parsed_or_rejected(doc: object, message_type: type) -> None:
    try:
        payload = json.dumps({"rxInfo": doc, "gatewayId": doc} if not isinstance(doc, dict) else doc).encode()
    except ValueError:
        return
    try:
        msg = cs.decode(payload, message_type, as_json=True)
    except BadGatewayInput as exc:
        assert exc.reason == "bad_json"
        return
    assert isinstance(msg, message_type)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=300)
@given(s.one_of(
    s.binary(max_size=120),
    s.builds(lambda kind, body: st.build(2, 1, kind, GW, body), s.sampled_from([0, 2, 5]), s.binary(max_size=80)),
    s.builds(lambda body: st.build(2, 1, st.PUSH_DATA, GW, body),
             s.sampled_from([b'{"rxpk":[1]}', b'{"rxpk":{}}', b'{"stat":[]}', b'{"stat":{"rxnb":"x"}}', b"[]",
                             b'{"rxpk":[{"stat":1}]}', b'{"txpk_ack":5}', b"null"])),
))
def test_udp_backend_never_fails_on_a_datagram(caplog: pytest.LogCaptureFixture, data: bytes) -> None:
    backend = UdpGatewayBackend(Settings(udp_listen="127.0.0.1:0"), Metrics())
    with caplog.at_level(logging.WARNING):
        caplog.clear()
        backend.datagram_received(data, ("127.0.0.1", 1700))
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
