"""The one settings object. Built once (by the CLI or a test) and passed in; no other module reads the environment."""

from __future__ import annotations

import sys
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_codecs_path() -> Path:
    # In a source checkout (and an editable install) codecs/ sits beside the lora_city package; a regular install
    # copies it to <prefix>/share/lora_city/codecs (pyproject's data-files).
    beside = Path(__file__).resolve().parent.parent / "codecs"
    return beside if beside.is_dir() else Path(sys.prefix) / "share" / "lora_city" / "codecs"


class Settings(BaseSettings):
    """Every tunable of the product. Environment variables use the prefix ``LORA_CITY_``."""

    model_config = SettingsConfigDict(env_prefix="LORA_CITY_", env_file=None, extra="ignore")

    # Storage
    database_url: str = "sqlite:///lora_city.db"

    # Listeners
    http_listen: str = "127.0.0.1:8000"
    udp_listen: str = "0.0.0.0:1700"  # empty string disables the Semtech UDP listener
    mqtt_url: str | None = None  # e.g. mqtt://127.0.0.1:1883; None disables the MQTT gateway backend
    mqtt_topic_prefix: str = "eu868"
    mqtt_share_group: str | None = None  # set to use $share/<group>/... subscriptions (scale-out)
    grpc_listen: str = ""  # ChirpStack-compatible gRPC API; empty disables

    # Security
    admin_token: str | None = None  # bearer token of the built-in administrator
    secret_key: str = "insecure-development-key-change-me"  # master key for keys at rest

    # InfluxDB sink (absent URL: embedded store only)
    influx_url: str | None = None
    influx_token: str = ""
    influx_org: str = "lora_city"
    influx_bucket: str = "lora_city"

    # Network server
    region: str = "EU868"
    net_id: str = "000000"  # 24-bit NetID, MSB-first hex
    dedup_window_ms: int = 200
    rx1_delay_s: int = 1
    class_c_lock_ms: int = 0

    # Where a tenant's data export is written before the tenant is deleted (issue 7); relative to the working dir
    export_dir: Path = Path("exports")

    # Codecs
    codecs_path: Path = Field(default_factory=_default_codecs_path)
    js_time_limit_ms: int = 100
    js_memory_limit_mb: int = 32

    # Redis (scale-out); None keeps all shared state in process
    redis_url: str | None = None
    # Scale-out: this process's id in a cluster of servers sharing the gateways (with mqtt_share_group and
    # redis_url); each member owns a share of the devices (lora_city/cluster). None: a single server.
    cluster_member_id: str | None = None

    # Web portal map: tile URL template (e.g. an OpenStreetMap server); None draws gateways on a plain background
    map_tile_url: str | None = None

    # Logging
    log_level: str = "INFO"
    log_json: bool = False
