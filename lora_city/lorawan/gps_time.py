"""GPS time, the clock of LoRaWAN's time-related features (DeviceTimeAns TS001-1.0.4 §5.9, class B beacons
TS001-1.0.4 §13, TS003 AppTimeReq/Ans, TS005 session times): seconds since 1980-01-06T00:00:00Z, without the leap
seconds UTC inserted since. Pure arithmetic, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

GPS_EPOCH = datetime(1980, 1, 6, tzinfo=UTC)
# GPS - UTC since 2017-01-01 (IERS Bulletin C: no leap second announced since). A constant, not a table: every
# time this product handles is after 2017.
GPS_LEAP_SECONDS = 18


def gps_seconds(t: datetime) -> float:
    """GPS time of ``t`` (an aware datetime) in seconds."""
    return (t - GPS_EPOCH).total_seconds() + GPS_LEAP_SECONDS


def from_gps_seconds(seconds: float) -> datetime:
    """The UTC datetime of a GPS time in seconds."""
    return GPS_EPOCH + timedelta(seconds=seconds - GPS_LEAP_SECONDS)


def gps_seconds_mod32(t: datetime) -> int:
    """Whole GPS seconds modulo 2^32, as TS003's DeviceTime and TS005's SessionTime carry them."""
    return int(gps_seconds(t)) & 0xFFFFFFFF
