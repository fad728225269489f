"""Device events for sink tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lora_city.sinks.events import DeviceInfo, GatewayRx, UplinkEvent

T0 = datetime(2026, 11, 1, 12, 0, 0, 123456, tzinfo=UTC)


def device(dev_eui: str = "70b3d57ed0000001", tenant_id: str = "tenant-a", family: str | None = "water",
           application_id: str | None = "app-1") -> DeviceInfo:
    return DeviceInfo(
        dev_eui=dev_eui, tenant_id=tenant_id, tenant_name="Tenant A", application_id=application_id,
        application_name="Water meters", device_name="meter 1", codec_id="netvox-r718h", family=family,
    )


def uplink(n: int = 0, dev: DeviceInfo | None = None, *, time: datetime | None = None,
           measurements: dict[str, tuple[float | bool, str | None]] | None = None) -> UplinkEvent:
    return UplinkEvent(
        uplink_id=f"00000000-0000-4000-8000-{n:012d}",
        time=time or T0 + timedelta(seconds=n),
        device=dev or device(),
        dev_addr="01020304",
        f_cnt=n,
        f_port=6,
        confirmed=False,
        adr=True,
        payload=bytes([1, 2, n % 256]),
        data={"volume": 12.5 + n},
        measurements=measurements if measurements is not None else {"volume": (12.5 + n, "m3"), "leak": (False, None)},
        codec_errors=[],
        codec_warnings=[],
        rx=[GatewayRx("0016c001ff10a235", -97.0, 4.5), GatewayRx("0016c001ff10a236", -110.0, -2.25)],
        frequency=868_100_000,
        spreading_factor=9,
        bandwidth=125_000,
        dr=3,
        airtime_ms=185.3,
        phy_size=24,
        copies=2,
    )
