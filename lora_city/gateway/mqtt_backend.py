"""The ChirpStack MQTT gateway backend: gateway events in, ``command/down`` out.

Topics (``{prefix}`` defaults to ``eu868``): ``{prefix}/gateway/{id}/event/up|stats|ack`` and the retained
``{prefix}/gateway/{id}/state/conn`` in, ``{prefix}/gateway/{id}/command/down`` out. Each gateway's encoding
(protobuf or proto3 JSON) is learned from what it sends and used for what we send it.

With ``Settings.mqtt_share_group`` the event subscriptions go through ``$share/<group>/`` so several servers
split the load; ``state/conn`` stays a plain subscription because brokers do not deliver retained messages
to shared subscriptions and every server needs every gateway's connection state.

Crash safety: every uplink copy is written to the copy journal (gateway/journal.py) before its PUBACK; with
``Settings.mqtt_client_id`` the session is persistent and the event subscriptions QoS 1, so a copy the broker
sent while we crashed (or before we acknowledged it) comes again.

Losses at the broker: a consumer too slow for its queue limits (mosquitto's ``max_inflight_messages`` +
``max_queued_messages`` per client, for messages delivered at QoS 1, i.e. published and subscribed at QoS 1;
QoS 0 deliveries wait in the broker's socket buffers instead) makes mosquitto drop messages and count them in
``$SYS/broker/publish/messages/dropped``. That count is read into ``lora_city_mqtt_broker_dropped`` and a warning
is logged when it rises (at most once per ``$SYS`` report, ``sys_interval``, 10 s by default: rate-limited by the
broker). It is read on a connection of its own: on the gateway connection the report would queue behind the very
backlog it reports, and arrive only once the consumer has caught up.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable

from chirpstack_api.gw import gw_pb2

from lora_city.gateway import chirpstack as cs
from lora_city.gateway.bad_input import BadGatewayInput, BadInputReporter
from lora_city.gateway.frames import DownlinkFrame, GatewayEvents, Transport
from lora_city.gateway.health import GatewayHealth
from lora_city.gateway.journal import CopyJournal
from lora_city.gateway.validate import check_uplink
from lora_city.lorawan.region import region_named
from lora_city.metrics import Metrics
from lora_city.mqtt import MqttClient, MqttMessage
from lora_city.settings import Settings

log = logging.getLogger(__name__)

_GATEWAY_ID = re.compile(r"[0-9a-f]{16}")
BROKER_DROPPED = "$SYS/broker/publish/messages/dropped"  # mosquitto's count of messages dropped at its limits


class MqttGatewayBackend:
    def __init__(
        self,
        settings: Settings,
        metrics: Metrics,
        *,
        health: GatewayHealth | None = None,
        clock: Callable[[], float] = time.monotonic,
        client_id: str | None = None,
        command_qos: int = 0,
        journal: CopyJournal | None = None,
    ) -> None:
        if not settings.mqtt_url:
            raise ValueError("MqttGatewayBackend needs Settings.mqtt_url")
        self._url = settings.mqtt_url
        self._region = region_named(settings.region)
        self._prefix = settings.mqtt_topic_prefix.strip("/")
        self._share_group = settings.mqtt_share_group
        self._head = f"{self._prefix}/gateway/"
        self._metrics = metrics
        self._health = health
        self._clock = clock
        self._client_id = client_id or settings.mqtt_client_id
        self._persistent = self._client_id is not None and settings.mqtt_client_id is not None
        self._command_qos = command_qos
        self._journal = journal
        self._broker_dropped: int | None = None
        self._bad = BadInputReporter(metrics, "mqtt", on_bad=health.on_bad_frame if health else None, clock=clock)
        self._json: dict[str, bool] = {}  # gateway id -> speaks JSON; presence means "heard from it"
        self._frames = {
            (t, k): metrics.gateway_frames.labels(t.value, k)
            for t in (Transport.MQTT_PROTOBUF, Transport.MQTT_JSON) for k in ("up", "stats", "ack", "conn")
        }
        self._client: MqttClient | None = None
        self._sys_client: MqttClient | None = None  # the broker's drop counter, beside the gateway traffic
        self._events: GatewayEvents | None = None

    # --- GatewayBackend ----------------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """Whether the broker connection is up (the /readyz check)."""
        return self._client is not None and self._client.connected

    async def start(self, events: GatewayEvents) -> None:
        self._events = events
        self._client = MqttClient(self._url, client_id=self._client_id, on_message=self._on_message,
                                  clean_session=not self._persistent, before_ack=self._write_journal)
        # A broker that is down is not fatal: the client keeps trying with backoff, the subscriptions below go
        # out once it is up (with it up now, they are acknowledged before start returns), and /readyz reports
        # "mqtt" not ready until then.
        up = await self._client.start()
        share = f"$share/{self._share_group}/" if self._share_group else ""
        qos = 1 if self._persistent else 0
        for kind in ("up", "stats", "ack"):
            await self._client.subscribe(f"{share}{self._head}+/event/{kind}", qos)
        await self._client.subscribe(f"{self._head}+/state/conn")
        await self._watch_broker_drops()
        safe_url = re.sub(r"://([^:/@]*):[^@]*@", r"://\1:***@", self._url)  # never the password in a log
        if up:
            log.info("MQTT gateway backend subscribed to %s+/… on %s (%s session)", self._head, safe_url,
                     "persistent" if self._persistent else "clean")
        else:
            log.warning("MQTT broker %s not reachable: the gateway backend keeps trying (not ready until then)",
                        safe_url)

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None
        if self._sys_client is not None:
            await self._sys_client.close()
            self._sys_client = None

    async def _watch_broker_drops(self) -> None:
        client_id = f"{self._client_id}-sys" if self._client_id else None
        self._sys_client = MqttClient(self._url, client_id=client_id, on_message=self._on_sys_message)
        await self._sys_client.start()  # a broker that is down: subscribed once it is up, as the gateway side
        try:
            await self._sys_client.subscribe(BROKER_DROPPED)
        except ConnectionError as exc:  # a broker whose ACL hides $SYS: its drops cannot be watched from here
            log.info("MQTT broker drop counter not readable (%s): %s", BROKER_DROPPED, exc)

    async def _on_sys_message(self, msg: MqttMessage) -> None:
        if msg.topic == BROKER_DROPPED:
            self._on_broker_dropped(msg.payload)

    def knows(self, gateway_id: str) -> bool:
        return gateway_id in self._json

    def transport_of(self, gateway_id: str) -> Transport | None:
        """How the gateway talks to us, or None before we heard from it."""
        as_json = self._json.get(gateway_id)
        if as_json is None:
            return None
        return Transport.MQTT_JSON if as_json else Transport.MQTT_PROTOBUF

    async def send_downlink(self, frame: DownlinkFrame) -> None:
        """Publish on ``command/down`` in the gateway's own encoding. Raises ``ConnectionError`` while the
        broker is unreachable (the caller decides whether to retry or give up the RX window)."""
        if self._client is None:
            raise ConnectionError("MQTT gateway backend is not started")
        payload = cs.encode(cs.downlink_to_pb(frame), as_json=self._json.get(frame.gateway_id, False))
        await self._client.publish(
            f"{self._head}{frame.gateway_id}/command/down", payload, qos=self._command_qos
        )
        if self._health is not None:
            self._health.on_downlink(frame.gateway_id)

    # --- inbound -----------------------------------------------------------------------------------------

    def _write_journal(self) -> None:
        if self._journal is not None:
            try:
                self._journal.write()
            except OSError:  # a full disk must not stop the radio side: handle the copies, say it loudly
                log.exception("copy journal write failed; these copies are not protected against a crash")

    def _on_broker_dropped(self, payload: bytes) -> None:
        try:
            dropped = int(payload.decode().strip())
        except (UnicodeDecodeError, ValueError):
            return
        self._metrics.mqtt_broker_dropped.set(dropped)
        if self._broker_dropped is not None and dropped > self._broker_dropped:
            log.warning("the MQTT broker dropped %d message(s) since its last report (queue limits: a consumer too "
                        "slow, ours or another); gateway copies may be among them", dropped - self._broker_dropped)
        self._broker_dropped = dropped

    async def _on_message(self, msg: MqttMessage) -> None:
        topic = msg.topic
        gateway_id: str | None = None
        try:
            if not topic.startswith(self._head):
                raise BadGatewayInput("bad_topic")
            parts = topic[len(self._head):].split("/")
            if len(parts) != 3:
                raise BadGatewayInput("bad_topic")
            gateway_id, group, name = parts
            if not _GATEWAY_ID.fullmatch(gateway_id):
                raise BadGatewayInput("bad_gateway_id")
            await self._dispatch(gateway_id, group, name, msg.payload)
        except BadGatewayInput as exc:
            if gateway_id is not None and not _GATEWAY_ID.fullmatch(gateway_id):
                gateway_id = None  # never attribute garbage to a made-up gateway in the health counters
            self._bad.report(exc.reason, f"topic={topic[:200]} {exc.detail}", gateway_id)
        except Exception:  # the callback boundary: one log line with context, then the next message
            log.exception("MQTT gateway message failed: gateway_id=%s topic=%s", gateway_id, topic[:200])

    async def _dispatch(self, gateway_id: str, group: str, name: str, payload: bytes) -> None:
        events = self._events
        assert events is not None, "start() sets the event sink before subscribing"
        health = self._health
        if not payload:
            if (group, name) == ("state", "conn"):
                return  # a cleared retained state: nothing to report
            raise BadGatewayInput("empty_payload")
        as_json = cs.is_json(payload)
        transport = Transport.MQTT_JSON if as_json else Transport.MQTT_PROTOBUF
        if group == "event" and name == "up":
            frame = cs.uplink_from_pb(
                cs.decode(payload, gw_pb2.UplinkFrame, as_json=as_json), gateway_id, transport, self._clock()
            )
            check_uplink(frame, self._region)
            self._json[gateway_id] = as_json
            self._frames[transport, "up"].inc()
            if health is not None:
                health.on_uplink(gateway_id, transport)
            if self._journal is not None:
                self._journal.append(frame)  # written before this message's PUBACK (MqttClient.before_ack)
            await events.on_uplink(frame)
        elif group == "event" and name == "stats":
            stats = cs.stats_from_pb(cs.decode(payload, gw_pb2.GatewayStats, as_json=as_json), gateway_id)
            self._json[gateway_id] = as_json
            self._frames[transport, "stats"].inc()
            if health is not None:
                health.on_stats(stats, transport)
            await events.on_stats(stats)
        elif group == "event" and name == "ack":
            ack = cs.tx_ack_from_pb(cs.decode(payload, gw_pb2.DownlinkTxAck, as_json=as_json), gateway_id)
            self._json[gateway_id] = as_json
            self._frames[transport, "ack"].inc()
            if health is not None:
                health.on_tx_ack(ack)
            await events.on_tx_ack(ack)
        elif group == "state" and name == "conn":
            state = cs.conn_state_from_pb(cs.decode(payload, gw_pb2.ConnState, as_json=as_json), gateway_id)
            self._json[gateway_id] = as_json
            self._frames[transport, "conn"].inc()
            if health is not None:
                health.on_conn_state(state, transport)
            await events.on_conn_state(state)
        else:
            raise BadGatewayInput("bad_topic", f"{group}/{name}")
