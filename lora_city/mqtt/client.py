"""A lean asyncio MQTT 3.1.1 client, our one adapter to MQTT brokers.

Why our own and not paho: the gateway backend must take ~15,000 frames/s on one core. bench/mqtt_client.py
measures paho's threaded loop, paho driven from asyncio (add_reader/add_writer) and this client against a
real mosquitto; this one costs a fraction of either per received message because it splits every packet of a
socket read in one pass and hands messages to the handler without crossing threads.

Scope: CONNECT (clean or persistent session, optional will and credentials), SUBSCRIBE/UNSUBSCRIBE, PUBLISH QoS 0/1 in and
out, PUBACK, PINGREQ keep-alive, reconnect with exponential backoff, resubscribe and resend of unacknowledged
QoS 1 publishes after a reconnect. Nothing of a third-party MQTT library leaks out: callers see ``MqttMessage``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from lora_city.mqtt import packets as p

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MqttMessage:
    topic: str
    payload: bytes
    retain: bool = False
    qos: int = 0


MessageHandler = Callable[[MqttMessage], Awaitable[None]]


class MqttNotConnected(ConnectionError):
    """The client has no broker connection right now (a QoS 0 publish cannot be delivered)."""


class MqttConnectError(ConnectionError):
    """The broker refused the connection or the first connection attempt failed."""


@dataclass(frozen=True, slots=True)
class _Endpoint:
    host: str
    port: int
    tls: bool
    username: str | None
    password: str | None


def _parse_url(url: str) -> _Endpoint:
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
        raise ValueError(f"unsupported MQTT URL scheme in {url!r} (use mqtt:// or mqtts://)")
    tls = parts.scheme in ("mqtts", "ssl")
    return _Endpoint(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or (8883 if tls else 1883),
        tls=tls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


class MqttClient:
    """Connect, subscribe, publish, close. Received messages go to ``on_message`` (awaited in order, on the
    reader task, so a slow handler applies backpressure) or, without a handler, to ``messages()``.

    Because the handler runs on the reader task, it must not await anything this client only finishes when a
    reply is read (a QoS 1 publish, a subscribe): that would wait forever. QoS 0 publishes are fine.

    QoS 1 messages are acknowledged after their handler, once per socket read: ``before_ack`` runs first after
    every read that delivered messages (the gateway backend writes its copy journal there), then every PUBACK of
    the read goes out in one write. With
    ``clean_session=False`` and a stable ``client_id`` the broker keeps the subscriptions and the messages not
    yet acknowledged while we are away, and sends them again when we reconnect.
    """

    def __init__(
        self,
        url: str,
        *,
        client_id: str | None = None,
        on_message: MessageHandler | None = None,
        keepalive_s: int = 30,
        will: MqttMessage | None = None,
        reconnect_min_s: float = 0.2,
        reconnect_max_s: float = 30.0,
        connect_timeout_s: float = 10.0,
        queue_size: int = 10_000,
        clean_session: bool = True,
        before_ack: Callable[[], None] | None = None,
    ) -> None:
        self._endpoint = _parse_url(url)
        self.client_id = client_id or f"lora-city-{uuid.uuid4().hex[:12]}"
        self._on_message = on_message
        self._clean_session = clean_session
        self._before_ack = before_ack
        self._keepalive_s = keepalive_s
        self._will = will
        self._reconnect_min_s = reconnect_min_s
        self._reconnect_max_s = reconnect_max_s
        self._connect_timeout_s = connect_timeout_s
        self._queue: asyncio.Queue[MqttMessage | None] = asyncio.Queue(queue_size)
        self._subscriptions: dict[str, int] = {}  # filter -> qos, replayed after every reconnect
        self._pending: dict[int, asyncio.Future[bytes]] = {}  # packet id -> PUBACK/SUBACK/UNSUBACK body
        self._inflight: dict[int, bytes] = {}  # unacknowledged QoS 1 publishes, resent with DUP on reconnect
        self._next_id = 0
        self._writer: asyncio.StreamWriter | None = None
        self._last_rx = 0.0  # loop time of the last bytes from the broker
        self._connected = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None
        self._closing = False

    @property
    def connected(self) -> bool:
        return self._writer is not None

    async def wait_connected(self) -> None:
        await self._connected.wait()

    # --- lifecycle ---------------------------------------------------------------------------------------

    async def connect(self) -> None:
        """Open the first connection (raises ``MqttConnectError`` when it fails); later losses reconnect."""
        if self._runner is not None:
            raise RuntimeError("connect() called twice")
        first: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._runner = asyncio.create_task(self._run(first), name=f"mqtt-{self.client_id}")
        await first

    async def start(self) -> bool:
        """Like connect(), but a broker that is down is not an error: the first attempt's outcome is returned
        (True: connected) and, when it failed, the client keeps trying with the same exponential backoff as
        after a lost connection, so a server can start (and report itself not ready) before its broker.
        Subscriptions made meanwhile are sent once connected; ``connected`` / ``wait_connected`` tell when."""
        if self._runner is not None:
            raise RuntimeError("start() or connect() called twice")
        first: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._runner = asyncio.create_task(self._run(first, keep_trying=True), name=f"mqtt-{self.client_id}")
        try:
            await first
        except MqttConnectError:
            return False
        return True

    async def close(self) -> None:
        self._closing = True
        writer = self._writer
        if writer is not None:
            with contextlib.suppress(ConnectionError, OSError):
                writer.write(p.DISCONNECT_PACKET)
                await writer.drain()
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
        self._fail_pending()
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(None)  # ends messages()

    async def messages(self) -> AsyncIterator[MqttMessage]:
        while True:
            msg = await self._queue.get()
            if msg is None:
                return
            yield msg

    # --- operations --------------------------------------------------------------------------------------

    async def subscribe(self, topic_filter: str, qos: int = 0) -> None:
        qos = min(qos, 1)  # QoS 2 is out of scope; the broker downgrades deliveries to what we asked
        self._subscriptions[topic_filter] = qos
        if self._writer is None:
            return  # sent on (re)connect
        pid, fut = self._new_request()
        self._write(p.encode_subscribe(pid, topic_filter, qos))
        body = await fut
        if len(body) < 3 or body[2] == 0x80:
            self._subscriptions.pop(topic_filter, None)
            raise MqttConnectError(f"broker refused subscription to {topic_filter!r}")

    async def unsubscribe(self, topic_filter: str) -> None:
        self._subscriptions.pop(topic_filter, None)
        if self._writer is None:
            return
        pid, fut = self._new_request()
        self._write(p.encode_unsubscribe(pid, topic_filter))
        await fut

    async def publish(self, topic: str, payload: bytes, *, qos: int = 0, retain: bool = False) -> None:
        """QoS 0: written now (``MqttNotConnected`` while disconnected). QoS 1: returns after the PUBACK,
        resent after a reconnect until then."""
        if qos == 0:
            writer = self._writer
            if writer is None:
                raise MqttNotConnected(f"not connected to {self._endpoint.host}:{self._endpoint.port}")
            writer.write(p.encode_publish(topic, payload, retain=retain))
            await writer.drain()
            return
        pid, fut = self._new_request()
        packet = p.encode_publish(topic, payload, qos=1, retain=retain, packet_id=pid)
        self._inflight[pid] = packet
        if self._writer is not None:
            self._write(packet)
        try:
            await fut
        finally:
            self._inflight.pop(pid, None)

    # --- internals ---------------------------------------------------------------------------------------

    def _new_request(self) -> tuple[int, asyncio.Future[bytes]]:
        for _ in range(65535):
            self._next_id = self._next_id % 65535 + 1
            if self._next_id not in self._pending:
                fut: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
                self._pending[self._next_id] = fut
                return self._next_id, fut
        raise RuntimeError("all 65535 MQTT packet identifiers are in use")

    def _write(self, data: bytes) -> None:
        if self._writer is not None:
            self._writer.write(data)

    def _fail_pending(self) -> None:
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(MqttNotConnected("client closed"))
        self._pending.clear()

    def _fail_requests_on_loss(self) -> None:
        # QoS 1 publishes keep their packet id and wait for the resend; a (un)subscribe in flight fails now and
        # is replayed from self._subscriptions on reconnect.
        for pid in [pid for pid in self._pending if pid not in self._inflight]:
            fut = self._pending.pop(pid)
            if not fut.done():
                fut.set_exception(MqttNotConnected("connection lost"))

    async def _run(self, first: asyncio.Future[None], *, keep_trying: bool = False) -> None:
        """``first`` resolves with the first attempt; when it failed, the client ends unless ``keep_trying``."""
        backoff = self._reconnect_min_s
        ever_connected = False
        while not self._closing:
            try:
                reader, writer = await asyncio.wait_for(self._open(), self._connect_timeout_s)
            except (OSError, TimeoutError, EOFError, MqttConnectError, p.MqttProtocolError) as exc:
                if not first.done():
                    first.set_exception(MqttConnectError(f"cannot connect to MQTT broker: {exc}"))
                    if not keep_trying:
                        return
                log.warning("MQTT %s to %s:%s failed (%s); retrying in %.1f s",
                            "reconnect" if ever_connected else "connection", self._endpoint.host,
                            self._endpoint.port, exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._reconnect_max_s)
                continue
            backoff = self._reconnect_min_s
            self._on_connected(writer)
            if not ever_connected and keep_trying and first.done():
                log.info("MQTT connected to %s:%s", self._endpoint.host, self._endpoint.port)
            ever_connected = True
            if not first.done():
                first.set_result(None)
            pinger = asyncio.create_task(self._keepalive(writer))
            try:
                await self._read_loop(reader, writer)
            except (OSError, EOFError, p.MqttProtocolError) as exc:
                if not self._closing:
                    log.warning("MQTT connection to %s:%s lost: %s", self._endpoint.host, self._endpoint.port, exc)
            except Exception:  # a bug must cost one connection, not the client: log it and reconnect
                log.exception("MQTT reader for %s:%s failed", self._endpoint.host, self._endpoint.port)
            finally:
                pinger.cancel()
                self._writer = None
                self._connected.clear()
                writer.close()
                self._fail_requests_on_loss()
            if not self._closing:
                await asyncio.sleep(backoff)

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        ep = self._endpoint
        ctx = ssl.create_default_context() if ep.tls else None
        reader, writer = await asyncio.open_connection(ep.host, ep.port, ssl=ctx, limit=1 << 20)
        try:
            return await self._handshake(reader, writer)
        except BaseException:  # refused, timed out (cancelled by wait_for) or broken: do not leak the socket
            writer.close()
            raise

    async def _handshake(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
                         ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        ep = self._endpoint
        will = (self._will.topic, self._will.payload, self._will.qos, self._will.retain) if self._will else None
        writer.write(p.encode_connect(self.client_id, keepalive_s=self._keepalive_s, username=ep.username,
                                      password=ep.password, will=will, clean_session=self._clean_session))
        # CONNACK is always 4 bytes (section 3.2); the broker sends nothing else before it.
        connack = await reader.readexactly(4)
        if connack[0] >> 4 != p.CONNACK or connack[1] != 2:
            raise p.MqttProtocolError("expected CONNACK")
        if connack[3] != 0:
            raise MqttConnectError(f"broker refused: {p.CONNACK_REASONS.get(connack[3], connack[3])}")
        return reader, writer

    def _on_connected(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer
        self._connected.set()
        for topic_filter, qos in self._subscriptions.items():
            pid, fut = self._new_request()
            fut.add_done_callback(self._check_resubscribe(topic_filter))
            writer.write(p.encode_subscribe(pid, topic_filter, qos))
        for packet in self._inflight.values():
            writer.write(bytes((packet[0] | 0x08,)) + packet[1:])  # DUP flag: this is a resend

    @staticmethod
    def _check_resubscribe(topic_filter: str) -> Callable[[asyncio.Future[bytes]], None]:
        def done(fut: asyncio.Future[bytes]) -> None:
            if fut.cancelled() or fut.exception() is not None:
                return
            body = fut.result()
            if len(body) < 3 or body[2] == 0x80:
                log.error("broker refused resubscription to %r", topic_filter)

        return done

    async def _keepalive(self, writer: asyncio.StreamWriter) -> None:
        # PINGREQ at half the keep-alive keeps the broker from dropping us (section 3.1.2.10). A broker that
        # went silent for 1.5 keep-alives (half-open TCP, no RST ever comes) is dropped so we reconnect.
        loop = asyncio.get_running_loop()
        self._last_rx = loop.time()
        while True:
            await asyncio.sleep(self._keepalive_s / 2)
            if loop.time() - self._last_rx > self._keepalive_s * 1.5:
                log.warning("MQTT broker %s:%s silent for %.0f s; reconnecting",
                            self._endpoint.host, self._endpoint.port, loop.time() - self._last_rx)
                writer.transport.abort()
                return
            writer.write(p.PINGREQ_PACKET)

    async def _read_loop(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handler = self._on_message
        loop = asyncio.get_running_loop()
        buf = bytearray()
        while True:
            data = await reader.read(262144)
            if not data:
                raise ConnectionResetError("broker closed the connection")
            self._last_rx = loop.time()
            buf += data
            packets, used = p.split_packets(buf)
            del buf[:used]
            acks: list[bytes] = []
            delivered = False
            for first_byte, body in packets:
                kind = first_byte >> 4
                if kind == p.PUBLISH:
                    topic, payload, qos, retain, pid = p.decode_publish(first_byte, body)
                    msg = MqttMessage(topic, payload, retain, qos)
                    delivered = True
                    if handler is not None:
                        try:
                            await handler(msg)
                        except Exception:  # the callback boundary: log once, keep reading
                            log.exception("MQTT message handler failed on topic %s", topic)
                    else:
                        await self._queue.put(msg)
                    if qos:
                        acks.append(p.encode_puback(pid))  # after handling: at-least-once
                elif kind in (p.PUBACK, p.SUBACK, p.UNSUBACK):
                    pid = (body[0] << 8) | body[1] if len(body) >= 2 else 0
                    fut = self._pending.pop(pid, None)
                    if fut is not None and not fut.done():
                        fut.set_result(body)
                elif kind != p.PINGRESP:
                    raise p.MqttProtocolError(f"unexpected packet type {kind}")
            if delivered and self._before_ack is not None:
                self._before_ack()  # raising here drops the connection unacknowledged: the broker resends
            if acks:
                writer.write(b"".join(acks))
