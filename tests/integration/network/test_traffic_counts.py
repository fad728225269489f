"""Network health counters (issue 21 item 3) through the real Semtech UDP connector: the independent emulator's
packet forwarders (PROTOCOL.TXT v2) and OTAA devices (TS001-1.0.4) talk to the embedded server; the rows of
``traffic_counts`` must say what went over the air — each gateway's copies per channel and data rate, its
downlinks and the TX_ACK statuses it sent back, the network's joins, data uplinks and drops by reason."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from lora_city.services import network_health
from lora_city.storage.models import TrafficCount
from tests.integration.conformance.network import Network, network, wait_until
from tests.support.emulator.device import DATA_RATES, Device
from tests.support.services import Service


def rows(net: Network, gateway_id: str) -> dict[tuple[str, str], int]:
    """(kind, key) -> count summed over the hours (a run may straddle an hour)."""
    out: Counter[tuple[str, str]] = Counter()
    with net.h.factory() as s:
        for kind, key, count in s.execute(select(TrafficCount.kind, TrafficCount.key, TrafficCount.count)
                                          .where(TrafficCount.gateway_id == gateway_id)):
            out[kind, key] += count
    return dict(out)


def acks(net: Network) -> float:
    return net.h.counter("lora_city_gateway_frames_total", transport="udp", kind="ack")


@pytest.mark.slow
def test_udp_traffic_is_counted_per_gateway_channel_dr_and_network(database_url: str, mosquitto: Service) -> None:
    async def run() -> None:
        async with network(database_url, mosquitto.url) as net:
            gw = await net.udp_gateway()
            late = await net.udp_gateway(tx_ack_errors=["TOO_LATE"])  # refuses its first transmission
            dev = Device.generate(rng=random.Random(21))
            await net.register(dev)
            join_request = dev.join_request(dr=0)
            accepted = await net.air.receive(dev, net.air.send(join_request, via=[gw], join=True), timeout=10)
            assert accepted is not None and accepted.accepted  # opened by the emulated device: a real join
            # three data uplinks on known channels and data rates (RP002-1.0.4 §2.4.2 default channels)
            sent = [dev.uplink(1, b"\x01", channel=0, dr=5), dev.uplink(1, b"\x02", channel=1, dr=5),
                    dev.uplink(1, b"\x03", channel=2, dr=3)]
            for up in sent:
                net.send(up, via=[gw])
                await asyncio.sleep(0.3)
            bad = dev.uplink(1, b"\x04", channel=1, dr=5)  # MIC broken by one bit: counted as a MIC failure
            net.send(type(bad)(bad.phy[:-1] + bytes((bad.phy[-1] ^ 1,)), bad.frequency, bad.dr, bad.f_cnt,
                               bad.tx_ch), via=[gw])
            await wait_until(lambda: net.h.counter("lora_city_uplinks_total", kind="data") == 3
                             and net.drops("bad_mic") == 1, timeout=30)
            # a join-request heard by the second gateway alone: its RX1 is refused (TOO_LATE), RX2 goes out
            other = Device.generate(rng=random.Random(22))
            await net.register(other)
            late.send(other.join_request(dr=0))
            await wait_until(lambda: net.h.counter("lora_city_uplinks_total", kind="join") == 2, timeout=30)
            # every downlink the server handed to the forwarders has its TX_ACK back before the counts are read
            await asyncio.sleep(2.5)  # class A answers of the data uplinks go out 1-2 s after them
            await wait_until(lambda: acks(net) == gw.downlinks.qsize() + late.downlinks.qsize() + 1, timeout=30)
            await net.h.server.flush_traffic()

            got = rows(net, gw.gateway_id)
            ups = {key: n for (kind, key), n in got.items() if kind == "up"}
            expected = Counter([f"{join_request.frequency}:0"]
                               + [f"{u.frequency}:{u.dr}" for u in [*sent, bad]])
            assert ups == dict(expected)
            downs = sum(n for (kind, _), n in got.items() if kind == "down")
            assert downs == 1 + gw.downlinks.qsize()  # the join-accept (consumed by the device) and the rest
            assert got[("down", f"{join_request.frequency}:0")] >= 1  # the accept in RX1: uplink's channel and DR
            assert {k: n for (kind, k), n in got.items() if kind == "tx_ack"} == {"OK": downs}

            other_rows = rows(net, late.gateway_id)
            assert other_rows[("tx_ack", "TOO_LATE")] == 1 and other_rows[("tx_ack", "OK")] == 1
            assert sum(n for (kind, _), n in other_rows.items() if kind == "down") == 1  # one frame, two attempts

            network_rows = rows(net, "")
            assert network_rows[("join", "")] == 2 and network_rows[("uplink", "")] == 3
            assert network_rows[("drop", "bad_mic")] == 1

            # what the console reads: the same numbers per channel, per DR, per hour, and the network's windows
            now = datetime.now(UTC)
            with net.h.factory() as s:
                traffic = network_health.gateway_traffic(s, gw.gateway_id, now)
                counters = network_health.network_counters(s, now)
            assert traffic.uplinks == 5 and len(traffic.hours) == 7 * 24
            assert {c.value: c.uplinks for c in traffic.channels} == dict(Counter(
                [join_request.frequency] + [u.frequency for u in [*sent, bad]]))
            assert {r.value: r.uplinks for r in traffic.data_rates} == {0: 1, 5: 3, 3: 1}
            assert traffic.tx_acks == [("OK", downs)]
            assert (counters.day.joins, counters.day.mic_failures, counters.week.uplinks) == (2, 1, 3)
            assert DATA_RATES[5] == (7, 125_000)  # the emulator's DR5 is RP002's SF7BW125

            # the same through the JSON API: the gateway's traffic to anyone who sees the gateway, the
            # network-wide counts to the operator only
            api = net.h.api
            r = await api.get(f"/api/v1/gateways/{gw.gateway_id}/traffic")
            assert r.status_code == 200, r.text
            body = r.json()
            assert (body["uplinks"], body["downlinks"], body["tx_acks"]) == (5, downs, {"OK": downs})
            assert len(body["hours"]) == 168 and sum(h["uplinks"] for h in body["hours"]) == 5
            assert {d["value"]: d["uplinks"] for d in body["data_rates"]} == {0: 1, 5: 3, 3: 1}
            r = await api.get("/api/v1/overview/network")
            assert r.status_code == 200, r.text
            day = r.json()["day"]
            assert (day["joins"], day["mic_failures"], day["uplinks"], day["drops"]["bad_mic"]) == (2, 1, 3, 1)
            tenant = (await api.post("/api/v1/tenants", json={"name": "Parkings", "slug": "parkings"})).json()["id"]
            key = (await api.post("/api/v1/api-keys", json={"name": "lessee", "role": "tenant_admin",
                                                            "tenant_id": tenant})).json()["key"]
            lessee = {"Authorization": f"Bearer {key}"}
            assert (await api.get("/api/v1/overview/network", headers=lessee)).status_code == 403
            assert (await api.get(f"/api/v1/gateways/{gw.gateway_id}/traffic", headers=lessee)).status_code == 404

    asyncio.run(run())
