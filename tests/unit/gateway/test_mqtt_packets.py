"""MQTT 3.1.1 framing: packets split across reads, long remaining lengths, PUBLISH decode."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as s

from lora_city.mqtt import packets as p


def test_publish_round_trip_qos0_and_qos1() -> None:
    for qos, pid in ((0, 0), (1, 513)):
        raw = p.encode_publish("a/b/ü", b"payload", qos=qos, retain=True, packet_id=pid)
        packets, used = p.split_packets(bytearray(raw))
        assert used == len(raw) and len(packets) == 1
        assert p.decode_publish(*packets[0]) == ("a/b/ü", b"payload", qos, True, pid)


def test_remaining_length_over_several_bytes() -> None:
    big = bytes(200_000)
    raw = p.encode_publish("t", big)
    assert raw[1] & 0x80 and raw[2] & 0x80  # three length bytes
    packets, used = p.split_packets(bytearray(raw))
    assert used == len(raw) and p.decode_publish(*packets[0])[1] == big


def test_incomplete_packets_wait_for_more_bytes() -> None:
    stream = p.encode_publish("x", b"1") + p.encode_publish("y", b"22") + p.PINGREQ_PACKET
    for cut in range(len(stream) + 1):
        buf = bytearray(stream[:cut])
        first, used = p.split_packets(buf)
        del buf[:used]
        buf += stream[cut:]
        rest, used2 = p.split_packets(buf)
        assert [b for b, _ in first + rest] == [0x30, 0x30, 0xC0]
        assert used2 == len(buf)


def test_overlong_length_is_a_protocol_error() -> None:
    with pytest.raises(p.MqttProtocolError):
        p.split_packets(bytearray(b"\x30\xff\xff\xff\xff\x01"))


def test_connect_and_subscribe_layout() -> None:
    raw = p.encode_connect("cid", keepalive_s=30, username="u", password="pw",
                           will=("w/t", b"bye", 1, True))
    assert raw[0] == 0x10
    body = raw[2:]
    assert body[:7] == b"\x00\x04MQTT\x04"
    assert body[7] == 0x80 | 0x40 | 0x20 | 0x08 | 0x04 | 0x02
    assert p.encode_subscribe(1, "a/#", 1) == b"\x82\x08\x00\x01\x00\x03a/#\x01"
    assert p.encode_puback(258) == b"\x40\x02\x01\x02"


@given(s.binary(max_size=300))
def test_split_never_overreads(raw: bytes) -> None:
    try:
        packets, used = p.split_packets(bytearray(raw))
    except p.MqttProtocolError:
        return
    assert used <= len(raw)
    assert sum(len(body) for _, body in packets) <= used
