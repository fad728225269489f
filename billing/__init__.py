"""Metering, rating and invoicing of the leased network.

The meter is a core ``Sink``; invoices are numbered without gaps in the transaction that finalises them.
"""

from pathlib import Path

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
