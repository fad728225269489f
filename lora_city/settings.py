"""The one settings object. Built once (by the CLI or a test) and passed in; no other module reads the environment.

Server and command line read the same configuration (``Settings.load``): a TOML file, ``/etc/lora-city/lora-city.toml``
unless ``--config`` or ``LORA_CITY_CONFIG`` names another, with the ``LORA_CITY_*`` variables over it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from lora_city.config_file import (
    DEFAULT_CONFIG_FILE,
    JS_MEMORY_LIMIT_MB,
    JS_TIME_LIMIT_MS,
    default_codecs_path,
    locate,
    read_toml,
)
from lora_city.errors import ConfigurationError


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
    # Asked of the kernel for the gateway UDP socket (capped by net.core.rmem_max, logged when it is): room for
    # a burst while the server is busy. 8 MiB holds several thousand PUSH_DATA datagrams.
    udp_receive_buffer_bytes: int = 8 << 20
    # A stable MQTT client id for the gateway backend: with it the broker keeps a persistent session (QoS 1
    # subscriptions, clean session off), so what gateways publish at QoS 1 while the server is down or
    # crashing is delivered after it restarts. None: a random id and a clean session (nothing kept).
    mqtt_client_id: str | None = None
    # The broker at mqtt_url runs mosquitto's dynamic-security plugin and mqtt_url's account may use its $CONTROL
    # topic: each tenant's broker account and its role (its applications' topics only) are kept in step with the
    # database (sinks/broker_sync.py). Off: tenant broker credentials cannot be issued.
    broker_dynsec: bool = False
    # The broker address tenants are told to use with their credentials (e.g. mqtts://mqtt.ville.example:8883)
    broker_public_url: str | None = None

    # Crash journal of gateway copies (gateway/journal.py), relative to the working directory; empty disables it
    journal_dir: Path | None = Path("journal")
    journal_fsync_ms: float = 5.0  # fdatasync interval; 0 syncs on every write (slow, for the paranoid)
    journal_max_mb: int = 512

    # Security
    admin_token: str | None = None  # bearer token of the built-in administrator
    # API rate limits (token buckets, requests per second and burst), per API key and per tenant; a tenant's plan
    # may set its own. Generous: they stop a runaway script, not a busy integration.
    api_rate_per_key: float = 100.0
    api_burst_per_key: int = 500
    api_rate_per_tenant: float = 200.0
    api_burst_per_tenant: int = 1000
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
    # The radio plan every device is brought to (join-accept, then RXParamSetupReq / DutyCycleReq: issue 23):
    # RX1 data rate offset, RX2 data rate and frequency (None: the region's default), aggregated duty cycle
    # MaxDCycle (1/2^n, 0 = no limit).
    rx1_dr_offset: int = 0
    rx2_dr: int | None = None
    rx2_frequency_hz: int | None = None
    max_duty_cycle: int = 0
    # LoRaWAN 1.1 devices only (TS001-1.1 §5.11, §5.14; issue 23): ADR back-off ADR_ACK_LIMIT = 2^limit_exp and
    # ADR_ACK_DELAY = 2^delay_exp uplinks (None: RP002's 64 and 32, nothing sent); a periodic rejoin-request type 0
    # at least every 2^(count_n+4) uplinks and 2^(time_n+10) s (None: not asked; one of them alone: the other 15).
    adr_ack_limit_exp: int | None = Field(default=None, ge=0, le=15)
    adr_ack_delay_exp: int | None = Field(default=None, ge=0, le=15)
    rejoin_max_count_n: int | None = Field(default=None, ge=0, le=15)
    rejoin_max_time_n: int | None = Field(default=None, ge=0, le=15)
    # RX1 on another frequency than the uplink's channel (DlChannelReq, TS001-1.0.4 §5.10): channel index -> Hz,
    # e.g. LORA_CITY_DL_CHANNELS_HZ='{"3": 869100000}'; empty: RX1 on the uplink channel (RP002-1.0.4 §2.4.7).
    dl_channels_hz: dict[int, int] = Field(default_factory=dict)
    class_c_lock_ms: int = 0
    # Frames from gateways nobody registered are dropped and the gateways listed for the operator (GET
    # /api/v1/gateways/unknown); True accepts them (a community network). Issue 23, defect 11.
    allow_unknown_gateways: bool = False
    # Class B (issue 24): a ping-slot channel and beacon frequency other than the region's (EU868 869.525 MHz DR3);
    # the server then sends PingSlotChannelReq / BeaconFreqReq to class B devices until they accept.
    class_b_ping_slot_frequency_hz: int | None = None
    class_b_ping_slot_dr: int | None = None
    class_b_beacon_frequency_hz: int | None = None

    # Lighting schedules (issue 24): where the sun is computed for lamps and groups without a position of their own
    # (the city centre: Nîmes), and how often the scheduler looks at the clock
    lighting_latitude: float = 43.8367
    lighting_longitude: float = 4.3601
    lighting_tick_s: float = 15.0

    # Where a tenant's data export is written before the tenant is deleted (issue 7); relative to the working dir
    export_dir: Path = Path("exports")

    # Firmware updates over the air (lora_city/fuota)
    fuota_max_image_bytes: int = 1_048_576
    fuota_session_lead_s: float = 60.0  # from the last device set up to the multicast session's start
    fuota_tick_s: float = 1.0

    # Codecs
    codecs_path: Path = Field(default_factory=default_codecs_path)
    js_time_limit_ms: int = JS_TIME_LIMIT_MS
    js_memory_limit_mb: int = JS_MEMORY_LIMIT_MB

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

    @field_validator("journal_dir", mode="before")
    @classmethod
    def _empty_disables(cls, value: object) -> object:
        # LORA_CITY_JOURNAL_DIR= (empty) turns the journal off instead of journaling into the working directory
        return None if isinstance(value, str) and not value.strip() else value

    # The configuration file these settings were read from (None: environment and defaults only); set by load()
    config_file: Path | None = None

    @classmethod
    def load(cls, config: Path | None = None, *, default_file: Path = DEFAULT_CONFIG_FILE) -> Settings:
        """Settings as ``lora-city`` (server and every command) reads them: the config file, then the
        ``LORA_CITY_*`` variables over it. The file is ``config`` (``--config``), else ``$LORA_CITY_CONFIG``, else
        ``default_file`` when it exists. A file that was named but is missing, unreadable, not TOML, or holds an
        unknown key or a bad value is a ConfigurationError naming the file and the key."""
        path = locate(config, default_file)
        values = _read_config_file(path) if path is not None else {}
        try:
            from_env = cls()
            # The environment wins over the file, the file over the defaults.
            merged = {**values, **{k: getattr(from_env, k) for k in from_env.model_fields_set}}
            if path is not None:
                merged["config_file"] = path
            return cls(**merged)
        except ValidationError as exc:
            where = f" (from {path} or the LORA_CITY_ variables)" if path else " (from the LORA_CITY_ variables)"
            raise ConfigurationError(f"invalid setting{where}: {_first_error(exc)}") from None


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err.get("loc", ())) or "value"
    return f"{where}: {err.get('msg', 'invalid')}"


def _read_config_file(path: Path) -> dict[str, Any]:
    """The file's values (lora_city/config_file.py reads it); a key that is not a setting is an error naming it."""
    values = read_toml(path)
    known = set(Settings.model_fields) - {"config_file"}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigurationError(f"configuration file {path}: unknown setting {unknown[0]!r} "
                                 f"(known: {', '.join(sorted(known))})")
    return values
