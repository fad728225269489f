"""A catalogue codec at run time: up to three scripts (uplink decoder, downlink encoder, downlink decoder; often
one file, sometimes a vendor-wide downlink file), each run unmodified in its own QuickJS context, created on first
use so a server with hundreds of catalogue codecs pays only for the ones its devices use."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from lora_city.codec.js import JsCodec, JsLimits
from lora_city.codec.runtime import NotSupported

_WANTED = {"uplink": "uplink decoder", "downlink_encoder": "downlink encoder", "downlink_decoder": "downlink decoder"}


class CatalogueRuntime:
    """Implements ``CodecRuntime``. ``scripts`` maps a role to (name shown in errors, source)."""

    def __init__(self, scripts: dict[str, tuple[str, str]], limits: JsLimits) -> None:
        self._scripts = scripts
        self._limits = limits
        self._codecs: dict[str, JsCodec] = {}  # by source: roles sharing a file share its context
        self._lock = threading.Lock()

    def codec(self, role: str) -> JsCodec:
        """The role's script, evaluated (raises ConfigurationError if it does not load, NotSupported if absent)."""
        script = self._scripts.get(role)
        if script is None:
            raise NotSupported(f"this codec has no {_WANTED[role]}")
        name, source = script
        codec = self._codecs.get(source)
        if codec is None:
            with self._lock:
                codec = self._codecs.get(source)
                if codec is None:
                    codec = self._codecs[source] = JsCodec.from_source(source, name, self._limits)
        return codec

    def decode_uplink(self, f_port: int, payload: bytes, recv_time: datetime | None) -> Any:
        return self.codec("uplink").decode_uplink(f_port, payload, recv_time)

    def encode_downlink(self, data: dict[str, Any], f_port: int = 1) -> Any:
        return self.codec("downlink_encoder").encode_downlink(data, f_port)

    def decode_downlink(self, f_port: int, payload: bytes) -> Any:
        return self.codec("downlink_decoder").decode_downlink(f_port, payload)
