"""Gateway health: online/offline rules with an injected clock, and per-gateway counters."""

from __future__ import annotations

import asyncio

from lora_city.gateway.frames import DownlinkTxAck, GatewayConnState, GatewayStats, Transport
from lora_city.gateway.health import GatewayHealth
from lora_city.metrics import Metrics

GW = "0102030405060708"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _gauge(metrics: Metrics) -> float:
    value = metrics.registry.get_sample_value("lora_city_gateways_online")
    assert value is not None
    return value


def test_udp_gateway_goes_offline_after_silence_and_back_on_keepalive() -> None:
    clock, metrics, changes = Clock(), Metrics(), []
    health = GatewayHealth(metrics, clock=clock, offline_after_s=30, on_change=lambda g, o: changes.append((g, o)))
    health.on_keepalive(GW)
    assert health.is_online(GW) and _gauge(metrics) == 1
    clock.now += 25
    assert health.check() == [] and health.is_online(GW)
    clock.now += 10
    assert health.check() == [GW]
    assert not health.is_online(GW) and _gauge(metrics) == 0
    health.on_keepalive(GW)
    assert health.is_online(GW) and _gauge(metrics) == 1
    assert changes == [(GW, True), (GW, False), (GW, True)]
    status = health.status(GW)
    assert status is not None and status.keepalives == 2 and status.last_seen_at == clock.now


def test_conn_state_is_authoritative_until_new_traffic() -> None:
    clock = Clock()
    health = GatewayHealth(clock=clock, offline_after_s=30)
    health.on_conn_state(GatewayConnState(GW, True), Transport.MQTT_PROTOBUF)
    clock.now += 3600  # an idle MQTT gateway stays online while its bridge says so
    health.check()
    assert health.is_online(GW)
    health.on_conn_state(GatewayConnState(GW, False), Transport.MQTT_PROTOBUF)
    assert not health.is_online(GW) and health.online_count() == 0
    clock.now += 1
    health.on_stats(GatewayStats(GW, None, rx_packets_received=5), Transport.MQTT_PROTOBUF)
    assert health.is_online(GW)
    clock.now += 31
    assert health.check() == [GW]


def test_counters_per_gateway() -> None:
    health = GatewayHealth(clock=Clock())
    health.on_uplink(GW, Transport.UDP)
    health.on_uplink(GW, Transport.UDP)
    health.on_bad_frame(GW)
    health.on_bad_frame(None)  # no gateway known: nothing to attribute
    health.on_downlink(GW)
    health.on_tx_ack(DownlinkTxAck(GW, 1, ("TOO_LATE", "OK")))
    health.on_tx_ack(DownlinkTxAck(GW, 2, ("OK", "IGNORED")))
    stats = GatewayStats(GW, None, rx_packets_received=10, rx_packets_received_ok=8)
    health.on_stats(stats, Transport.UDP)
    s = health.status(GW)
    assert s is not None
    assert (s.uplinks, s.bad_frames, s.downlinks, s.stats_received) == (2, 1, 1, 1)
    assert s.tx_acks == {"TOO_LATE": 1, "OK": 2, "IGNORED": 1}
    assert s.last_stats == stats and s.transport is Transport.UDP
    assert [x.gateway_id for x in health.statuses()] == [GW]
    assert health.status("ffffffffffffffff") is None and not health.is_online("ffffffffffffffff")


def test_bad_frames_do_not_count_as_being_seen() -> None:
    health = GatewayHealth(clock=Clock())
    health.on_bad_frame(GW)
    assert not health.is_online(GW)


def test_watch_applies_the_silence_rule_periodically() -> None:
    async def run() -> None:
        clock = Clock()
        health = GatewayHealth(clock=clock, offline_after_s=30)
        health.on_keepalive(GW)
        task = asyncio.create_task(health.watch(interval_s=0.01))
        clock.now += 31
        for _ in range(100):
            await asyncio.sleep(0.01)
            if not health.is_online(GW) and health.online_count() == 0:
                break
        task.cancel()
        status = health.status(GW)
        assert status is not None and not status.online

    asyncio.run(run())
