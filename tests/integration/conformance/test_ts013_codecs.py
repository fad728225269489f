"""TS013 (payload codec API) where codecs meet the server: a device's uplink, sent by the independent emulator
through the UDP connector, is stored decoded exactly as the vendor documents it (decodeUplink), and a downlink
queued as an object reaches the device as the vendor's encodeDownlink bytes, on the vendor's FPort.

The examples are the vendors' own (tests/fixtures/codec_uplinks.json, codec_downlinks.json: TheThingsNetwork/
lorawan-devices at the commit each names); examples the vendor's own codec does not reproduce are left out."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conformance.network import network
from tests.support.emulator.device import Device
from tests.support.services import Service

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
CODEC_OF = {("milesight-iot", "em300-di"): "milesight-em300-di", ("dragino", "lt22222-l"): "dragino-lt22222-l",
            ("decentlab", "dl-dlr2-002"): "decentlab-dl-dlr2-002", ("netvox", "r718h"): "netvox-r718h",
            ("milesight-iot", "ws558"): "milesight-ws558", ("aquascope", "aqs"): "aquascope-aqs"}


def _first_examples(name: str, kind: str | None = None) -> list[Any]:
    seen: set[str] = set()
    out = []
    for e in json.loads((FIXTURES / name).read_text())["examples"]:
        codec = CODEC_OF.get((e["vendor"], e["device"]))
        if codec is None or codec in seen or (kind and e.get("kind") != kind):
            continue
        if e.get("vendor_js_reproduces_example") is False or e.get("expected_errors"):
            continue
        seen.add(codec)
        out.append(pytest.param(codec, e, id=f"{codec}"))
    return out


@pytest.mark.slow
@pytest.mark.parametrize(("codec", "example"), _first_examples("codec_uplinks.json"))
def test_decode_uplink_through_the_server(codec: str, example: dict[str, Any], sqlite_url: str,
                                          mosquitto: Service) -> None:
    async def run() -> None:
        async with network(sqlite_url, mosquitto.url) as net:
            await net.udp_gateway()
            dev = Device.generate("1.0.4")
            await net.activate_abp(dev, "26011301", codec=codec)
            net.send(dev.uplink(example["fPort"], bytes.fromhex(example["bytes_hex"])))
            [reading] = await net.wait_readings(dev.dev_eui, 1)
            assert reading["data"] == example["expected_data"]

    asyncio.run(run())


@pytest.mark.slow
@pytest.mark.parametrize(("codec", "example"), _first_examples("codec_downlinks.json", "downlinkEncoder"))
def test_encode_downlink_through_the_server(codec: str, example: dict[str, Any], sqlite_url: str,
                                            mosquitto: Service) -> None:
    async def run() -> None:
        async with network(sqlite_url, mosquitto.url) as net:
            await net.udp_gateway()
            dev = Device.generate("1.0.4")
            await net.activate_abp(dev, "26011302", codec=codec)
            # the network's own first words (DevStatusReq, NewChannelReq) and the device's answers come first
            assert await net.exchange(dev, dev.uplink(2, b"\x00")) is not None
            assert await net.exchange(dev, dev.uplink(2, b"\x00"), timeout=1.0) is None
            r = await net.h.api.post(f"/api/v1/devices/{dev.dev_eui}/queue",
                                     json={"object": example["input"]["data"]})
            assert r.status_code == 201, r.text
            got = await net.exchange(dev, dev.uplink(2, b"\x00"))
            assert got is not None and got.downlink is not None
            out = example["output"]
            assert (got.downlink.f_port, list(got.downlink.payload)) == (out["fPort"], out["bytes"])

    asyncio.run(run())
