"""Prometheus metrics, on a registry owned by the application (not prometheus_client's global one), so tests and
several servers in one process never share counters. Build one ``Metrics`` at the composition root and pass it in.
Add a metric here (one line, with help text) rather than creating collectors elsewhere.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        # gateway side
        self.gateway_frames = Counter(
            "lora_city_gateway_frames", "Frames received from gateways", ["transport", "kind"], registry=r
        )
        self.gateway_bad_input = Counter(
            "lora_city_gateway_bad_input", "Gateway messages rejected before parsing the LoRaWAN frame",
            ["transport", "reason"], registry=r,
        )
        self.gateways_online = Gauge("lora_city_gateways_online", "Gateways currently online", registry=r)
        # uplink pipeline
        self.uplinks = Counter("lora_city_uplinks", "Unique uplinks handled", ["kind"], registry=r)
        self.uplink_drops = Counter(
            "lora_city_uplink_drops", "Uplinks dropped, by reason", ["reason"], registry=r
        )
        self.dedup_copies = Counter(
            "lora_city_dedup_copies", "Gateway copies received for an uplink (incl. the first)", registry=r
        )
        self.uplink_latency = Histogram(
            "lora_city_uplink_latency_seconds", "Time from the first gateway copy to the end of handling",
            buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.2, 0.25, 0.3, 0.5, 1.0, 2.5), registry=r,
        )
        # downlinks
        self.downlinks = Counter("lora_city_downlinks", "Downlinks sent", ["kind"], registry=r)
        self.downlink_refused = Counter(
            "lora_city_downlink_refused", "Downlinks refused, by reason", ["reason"], registry=r
        )
        # sinks
        self.sink_queue_depth = Gauge(
            "lora_city_sink_queue_depth", "Items waiting in a sink's queue", ["sink"], registry=r
        )
        self.outbox_size = Gauge("lora_city_outbox_size", "Rows in the durable outbox", ["sink"], registry=r)
        self.sink_errors = Counter("lora_city_sink_errors", "Sink write failures", ["sink"], registry=r)
        # quotas
        self.quota_hits = Counter(
            "lora_city_quota_hits", "Quota thresholds reached", ["kind", "action"], registry=r
        )
        # codecs
        self.codec_errors = Counter("lora_city_codec_errors", "Codec calls that gave errors", ["codec"], registry=r)
        # crash journal of gateway copies (gateway/journal.py)
        self.journal_records = Counter("lora_city_journal_records", "Gateway copies written to the journal", registry=r)
        self.journal_bytes = Gauge("lora_city_journal_bytes", "Bytes of journal segments on disk", registry=r)
        self.journal_pending = Gauge(
            "lora_city_journal_pending", "Journaled copies not yet handled by the server", registry=r
        )
        self.journal_overflow = Counter(
            "lora_city_journal_overflow", "Copies whose journal records were deleted unhandled (journal over its bound)",
            registry=r,
        )
        self.journal_replayed = Counter(
            "lora_city_journal_replayed", "Copies replayed from the journal at start", registry=r
        )
        # losses outside the process: the kernel's UDP receive queue, the MQTT broker's queues
        self.udp_receive_drops = Counter(
            "lora_city_udp_receive_drops", "Datagrams the kernel dropped for the gateway socket (receive buffer full)",
            registry=r,
        )
        self.udp_receive_buffer = Gauge(
            "lora_city_udp_receive_buffer_bytes", "The gateway UDP socket's receive buffer as the kernel granted it",
            registry=r,
        )
        self.udp_receive_queue = Gauge(
            "lora_city_udp_receive_queue_bytes", "Bytes waiting in the gateway UDP socket's receive queue", registry=r
        )
        self.mqtt_broker_dropped = Gauge(
            "lora_city_mqtt_broker_dropped", "Messages the MQTT broker reports it dropped ($SYS, all clients)",
            registry=r,
        )
