"""Small builders for device events used by the alert tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

from lora_city.sinks.events import DeviceInfo, GatewayRx, UplinkEvent

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
_ids = count()


def device(dev_eui: str = "0000000000000001", family: str = "flood", tenant: str = "city",
           **tags: str) -> DeviceInfo:
    return DeviceInfo(dev_eui=dev_eui, tenant_id=tenant, family=family, device_name=f"dev-{dev_eui[-4:]}",
                      tags=dict(tags))


def uplink(dev: DeviceInfo, at: datetime | float, **measurements: float | bool) -> UplinkEvent:
    when = at if isinstance(at, datetime) else T0 + timedelta(seconds=at)
    units = {"water_level": "m", "distance": "m", "volume": "m³"}
    return UplinkEvent(
        uplink_id=f"u{next(_ids)}", time=when, device=dev, dev_addr="01020304", f_cnt=next(_ids), f_port=1,
        confirmed=False, adr=True, payload=b"", data={},
        measurements={k: (v, units.get(k)) for k, v in measurements.items()},
        codec_errors=[], codec_warnings=[], rx=[GatewayRx("aa00000000000001", -90.0, 5.0)],
        frequency=868100000, spreading_factor=7, bandwidth=125000, dr=5, airtime_ms=41.2, phy_size=20, copies=1,
    )
