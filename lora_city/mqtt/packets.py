"""MQTT 3.1.1 packet encoding and framing (OASIS MQTT 3.1.1, section 2 and 3). Pure: no I/O.

Only what a client needs: CONNECT, PUBLISH, PUBACK, SUBSCRIBE, UNSUBSCRIBE, PINGREQ, DISCONNECT out and
CONNACK, PUBLISH, PUBACK, SUBACK, UNSUBACK, PINGRESP in. QoS 2 is never requested, so its packets never arrive.
"""

from __future__ import annotations

import struct

CONNECT = 1
CONNACK = 2
PUBLISH = 3
PUBACK = 4
SUBSCRIBE = 8
SUBACK = 9
UNSUBSCRIBE = 10
UNSUBACK = 11
PINGREQ = 12
PINGRESP = 13
DISCONNECT = 14

PINGREQ_PACKET = b"\xc0\x00"
DISCONNECT_PACKET = b"\xe0\x00"

CONNACK_REASONS = {
    1: "unacceptable protocol version",
    2: "client identifier rejected",
    3: "server unavailable",
    4: "bad user name or password",
    5: "not authorized",
}

_MAX_REMAINING = 268_435_455  # 4-byte variable length integer ceiling (section 2.2.3)


class MqttProtocolError(Exception):
    """The peer sent bytes that are not MQTT 3.1.1."""


def _remaining_length(n: int) -> bytes:
    if n > _MAX_REMAINING:
        raise ValueError(f"packet too large: {n} bytes")
    out = bytearray()
    while True:
        digit = n & 0x7F
        n >>= 7
        if n:
            out.append(digit | 0x80)
        else:
            out.append(digit)
            return bytes(out)


def _string(s: str) -> bytes:
    b = s.encode()
    return struct.pack("!H", len(b)) + b


def _packet(first_byte: int, body: bytes) -> bytes:
    return bytes((first_byte,)) + _remaining_length(len(body)) + body


def encode_connect(
    client_id: str,
    *,
    keepalive_s: int,
    clean_session: bool = True,
    username: str | None = None,
    password: str | None = None,
    will: tuple[str, bytes, int, bool] | None = None,  # topic, payload, qos, retain
) -> bytes:
    flags = 0x02 if clean_session else 0
    payload = _string(client_id)
    if will is not None:
        topic, message, qos, retain = will
        flags |= 0x04 | (qos << 3) | (0x20 if retain else 0)
        payload += _string(topic) + struct.pack("!H", len(message)) + message
    if username is not None:
        flags |= 0x80
        payload += _string(username)
    if password is not None:
        flags |= 0x40
        payload += _string(password)
    body = _string("MQTT") + bytes((4, flags)) + struct.pack("!H", keepalive_s) + payload
    return _packet(CONNECT << 4, body)


def encode_publish(
    topic: str, payload: bytes, *, qos: int = 0, retain: bool = False, packet_id: int = 0, dup: bool = False
) -> bytes:
    first = (PUBLISH << 4) | (qos << 1) | (0x01 if retain else 0) | (0x08 if dup else 0)
    header = _string(topic)
    if qos:
        header += struct.pack("!H", packet_id)
    return _packet(first, header + payload)


def encode_puback(packet_id: int) -> bytes:
    return bytes((PUBACK << 4, 2)) + struct.pack("!H", packet_id)


def encode_subscribe(packet_id: int, topic_filter: str, qos: int) -> bytes:
    return _packet((SUBSCRIBE << 4) | 0x02, struct.pack("!H", packet_id) + _string(topic_filter) + bytes((qos,)))


def encode_unsubscribe(packet_id: int, topic_filter: str) -> bytes:
    return _packet((UNSUBSCRIBE << 4) | 0x02, struct.pack("!H", packet_id) + _string(topic_filter))


def split_packets(buf: bytearray) -> tuple[list[tuple[int, bytes]], int]:
    """Cut every complete packet off the front of ``buf``: ``([(first_byte, body), …], bytes consumed)``.

    Runs once per socket read, not once per packet, which keeps the inbound cost per message small.
    """
    packets: list[tuple[int, bytes]] = []
    pos = 0
    n = len(buf)
    while n - pos >= 2:
        i = pos + 1
        length = 0
        shift = 0
        while True:
            if i >= n:
                return packets, pos
            digit = buf[i]
            i += 1
            length |= (digit & 0x7F) << shift
            if digit < 0x80:
                break
            shift += 7
            if shift > 21:
                raise MqttProtocolError("remaining length longer than 4 bytes")
        end = i + length
        if end > n:
            break
        packets.append((buf[pos], bytes(buf[i:end])))
        pos = end
    return packets, pos


def decode_publish(first_byte: int, body: bytes) -> tuple[str, bytes, int, bool, int]:
    """``(topic, payload, qos, retain, packet_id)`` of a PUBLISH body (section 3.3)."""
    qos = (first_byte >> 1) & 0x03
    if qos == 3 or len(body) < 2:
        raise MqttProtocolError("malformed PUBLISH")
    topic_len = (body[0] << 8) | body[1]
    start = 2 + topic_len
    try:
        topic = body[2:start].decode()
    except UnicodeDecodeError as exc:
        raise MqttProtocolError("PUBLISH topic is not UTF-8") from exc
    packet_id = 0
    if qos:
        packet_id = (body[start] << 8) | body[start + 1]
        start += 2
    return topic, body[start:], qos, bool(first_byte & 0x01), packet_id
