"""The HTTP API (FastAPI) under /api/v1. Build it with ``lora_city.api.app.create_app``."""

from lora_city.api.app import create_app

__all__ = ["create_app"]
