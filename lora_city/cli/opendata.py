"""``lora-city opendata export``: the daily open-data files (CSV and GeoJSON) for the city's portal."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import typer

from lora_city.cli.config import load_settings, open_database
from lora_city.opendata.export import build_rows, to_csv, to_geojson
from lora_city.storage.db import make_session_factory

opendata_app = typer.Typer(help="Open-data exports (aggregated, non-personal).", no_args_is_help=True)


@opendata_app.command("export")
def export(
    ctx: typer.Context,
    day: str = typer.Option("", "--date", help="Local day YYYY-MM-DD (default: yesterday, Europe/Paris)"),
    out: Path = typer.Option(Path("."), "--out", help="Folder for the CSV and GeoJSON files"),
) -> None:
    """Write opendata-<date>.csv and opendata-<date>.geojson."""
    when = date.fromisoformat(day) if day else datetime.now(ZoneInfo("Europe/Paris")).date() - timedelta(days=1)
    engine = open_database(load_settings(ctx))
    try:
        rows = build_rows(make_session_factory(engine), when)
    finally:
        engine.dispose()
    out.mkdir(parents=True, exist_ok=True)
    (out / f"opendata-{when}.csv").write_text(to_csv(rows))
    (out / f"opendata-{when}.geojson").write_text(to_geojson(rows))
    typer.echo(f"{len(rows)} rows written to {out}")
