"""Leasing the network: plans with caps and daily allowances, tenant lifecycle, live quotas, tenant-admin API.

Builds on the core (``lora_city``) and plugs in through the core's ``QuotaPolicy``; the core never imports it.
"""

from pathlib import Path

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
